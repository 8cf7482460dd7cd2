"""Flag reviews (预警复核) on both dialects: write and read, validation, hostile text stored as text, read-only refusal."""

from datetime import datetime

import pytest
from sqlalchemy import func, select

from data_access import reviews
from data_access.engine import ReadOnlyDatabase
from data_access.schema import Case, FlagReview

PERIOD = datetime(2024, 6, 30)


def _review(**over):
    base = dict(
        unit_type="street",
        unit_id=3,
        family="A",
        indicator="A1",
        reason="A.A1.low",
        period_end=PERIOD,
        status="reviewed",
        note="已电话了解，下周现场核查",
        reviewer="张三",
    )
    base.update(over)
    return base


def test_write_and_read_back_newest_first(writer, reader):
    first = reviews.add_review(writer, now=datetime(2024, 7, 1, 9, 0), **_review())
    second = reviews.add_review(
        writer, now=datetime(2024, 7, 2, 9, 0), **_review(status="dismissed", note="专项整治导致")
    )
    reviews.add_review(writer, now=datetime(2024, 7, 2, 10, 0), **_review(unit_id=4))
    frame = reviews.reviews_for_unit(reader, "street", 3)
    assert list(frame["id"]) == [second, first]
    row = frame.iloc[0]
    assert row["status"] == "dismissed" and row["reviewer"] == "张三" and row["note"] == "专项整治导致"
    assert row["family"] == "A" and row["unit_id"] == "3" and row["reason"] == "A.A1.low"
    assert str(row["created_at"]).startswith("2024-07-02 09:00")
    # a unit id that arrives as a float from a DataFrame is the same unit
    assert len(reviews.reviews_for_unit(reader, "street", 3.0)) == 2


def test_latest_review_per_flag(writer, reader):
    reviews.add_review(writer, now=datetime(2024, 7, 1), **_review())
    reviews.add_review(writer, now=datetime(2024, 7, 3), **_review(status="confirmed"))
    reviews.add_review(writer, now=datetime(2024, 7, 2), **_review(family="B"))
    reviews.add_review(writer, now=datetime(2024, 7, 2), **_review(unit_type="verifier", unit_id="V00101", family="C"))
    latest = reviews.latest_reviews(reader)
    got = {(r.unit_type, r.unit_id, r.family): r.status for r in latest.itertuples()}
    assert got == {
        ("street", "3", "A"): "confirmed",
        ("street", "3", "B"): "reviewed",
        ("verifier", "V00101", "C"): "reviewed",
    }
    assert len(reviews.latest_reviews(reader, since=datetime(2024, 7, 2, 12))) == 1


@pytest.mark.parametrize(
    "field, value",
    [
        ("status", "approved"),
        ("status", "dismissed'; --"),
        ("unit_type", "grid"),
        ("family", "Z"),
        ("reviewer", "   "),
        ("reviewer", "x" * (reviews.REVIEWER_MAX + 1)),
        ("note", "长" * (reviews.NOTE_MAX + 1)),
        ("unit_id", ""),
        ("period_end", "2024-06-30"),
    ],
)
def test_invalid_reviews_are_refused(writer, reader, field, value):
    with pytest.raises(reviews.ReviewError):
        reviews.add_review(writer, **_review(**{field: value}))
    with reader.connect() as conn:
        assert conn.execute(select(func.count()).select_from(FlagReview)).scalar_one() == 0


def test_hostile_text_is_stored_as_text(writer, reader):
    nasty = "'); DROP TABLE cases; -- <script>alert(1)</script> %s %(x)s ${x}"
    reviews.add_review(
        writer,
        **_review(
            note=nasty,
            reviewer="Robert'); DROP TABLE flag_reviews;--",
            unit_type="app_reporter",
            unit_id="A1' OR '1'='1",
            family="D",
        ),
    )
    frame = reviews.reviews_for_unit(reader, "app_reporter", "A1' OR '1'='1")
    assert len(frame) == 1 and frame.iloc[0]["note"] == nasty
    assert frame.iloc[0]["reviewer"] == "Robert'); DROP TABLE flag_reviews;--"
    assert reviews.reviews_for_unit(reader, "app_reporter", "A1").empty
    with reader.connect() as conn:  # the other tables are still there
        assert conn.execute(select(func.count()).select_from(Case)).scalar_one() == 0


def test_control_characters_are_dropped_and_line_breaks_kept(writer, reader):
    reviews.add_review(writer, **_review(note="第一行\n第二行\x00\x1b[31m", reviewer=" 李四\u200b "))
    row = reviews.reviews_for_unit(reader, "street", 3).iloc[0]
    assert row["note"] == "第一行\n第二行[31m" and row["reviewer"] == "李四"


def test_the_read_only_engine_cannot_write(reader):
    with pytest.raises(ReadOnlyDatabase, match="db_write_url"):
        reviews.add_review(reader, **_review())


def test_database_refuses_an_unknown_status_even_without_the_validator(writer):
    from sqlalchemy import insert
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        with writer.begin() as conn:
            conn.execute(
                insert(FlagReview).values(
                    unit_type="street",
                    unit_id="1",
                    family="A",
                    period_end=PERIOD,
                    status="approved",
                    note="",
                    reviewer="x",
                    created_at=PERIOD,
                )
            )


def test_one_key_for_a_unit_and_a_flag():
    assert reviews.unit_key(3) == reviews.unit_key(3.0) == reviews.unit_key("3") == "3"
    assert reviews.unit_key("V00101") == "V00101" and reviews.unit_key(None) == ""
    assert reviews.flag_key("street", 3.0, "A") == ("street", "3", "A")
