"""The cases behind a flag (data_access.flag_queries.flag_cases) on both dialects, on a world built in code."""

from datetime import datetime, timedelta

import pytest

from data_access import flag_queries as fq
from tests.builders import add_case, make_reference

T0 = datetime(2024, 3, 4, 9, 0)
START, END = datetime(2024, 3, 1), datetime(2024, 4, 1)


@pytest.fixture
def world(writer):
    return make_reference(writer)


def test_family_a_lists_public_hard_problems_patrol_did_not_log(writer, reader, world):
    cat = world["categories"]
    missed = add_case(writer, reported_at=T0, channel="hotline", category_id=cat["building"], grid_id=11)
    seen = add_case(writer, reported_at=T0, channel="app", category_id=cat["manhole"], grid_id=12)
    add_case(writer, reported_at=T0 + timedelta(days=2), channel="patrol", category_id=cat["manhole"], grid_id=12)
    pid = add_case(
        writer, reported_at=T0 - timedelta(days=20), channel="patrol", category_id=cat["building"], grid_id=12
    )
    merged = add_case(
        writer,
        reported_at=T0,
        channel="hotline",
        category_id=cat["building"],
        grid_id=12,
        duplicate_of=pid,
        status="cancelled",
    )
    add_case(writer, reported_at=T0, channel="hotline", category_id=cat["garbage"], grid_id=11)  # simple
    add_case(writer, reported_at=T0, channel="hotline", category_id=cat["building"], grid_id=31)  # street 2
    add_case(writer, reported_at=datetime(2024, 2, 1), channel="hotline", category_id=cat["building"], grid_id=11)
    frame = fq.flag_cases(reader, "street", 1, "A", START, END)
    assert list(frame["id"]) == [missed]
    assert seen not in set(frame["id"]) and merged not in set(frame["id"])
    assert frame.iloc[0]["category"] == "私搭乱建"
    assert list(fq.flag_cases(reader, "community", 1.0, "A", START, END)["id"]) == [missed]


def test_family_b_period_end_and_deadline_cases(writer, reader, world):
    end_of_month = add_case(writer, reported_at=datetime(2024, 3, 29, 10), channel="patrol")
    add_case(writer, reported_at=T0, channel="patrol")
    assert list(fq.flag_cases(reader, "street", 1, "B", START, END, indicator="B1")["id"]) == [end_of_month]
    assert len(fq.flag_cases(reader, "street", 1, "B", START, END, indicator="B2")) == 2
    late = add_case(writer, reported_at=T0, disposed_at=T0 + timedelta(days=1), disposal_work_hours=3.8)  # of 4 h
    add_case(writer, reported_at=T0, disposed_at=T0 + timedelta(days=1), disposal_work_hours=1.0)
    assert list(fq.flag_cases(reader, "street", 1, "B", START, END, indicator="B3")["id"]) == [late]


def test_family_c_and_d_list_the_persons_cases(writer, reader, world):
    slow = add_case(
        writer,
        reported_at=T0,
        verifier_id="V1",
        disposed_at=T0 + timedelta(hours=1),
        verified_at=T0 + timedelta(hours=5),
    )
    fast = add_case(
        writer,
        reported_at=T0,
        verifier_id="V1",
        disposed_at=T0 + timedelta(hours=1),
        verified_at=T0 + timedelta(hours=1, minutes=2),
    )
    add_case(writer, reported_at=T0, verifier_id="V2", disposed_at=T0, verified_at=T0 + timedelta(minutes=1))
    frame = fq.flag_cases(reader, "verifier", "V1", "C", START, END)
    assert list(frame["id"]) == [fast, slow] and frame.iloc[0]["lag_min"] == pytest.approx(2, abs=0.01)
    mine = [add_case(writer, reported_at=T0 + timedelta(days=k), channel="app", reporter_id="A1'--") for k in range(3)]
    add_case(writer, reported_at=T0, channel="app", reporter_id="A2")
    assert sorted(fq.flag_cases(reader, "app_reporter", "A1'--", "D", START, END)["id"]) == mine
    assert len(fq.flag_cases(reader, "app_reporter", "A1'--", "D", START, END, limit=2)) == 2


def test_family_that_does_not_apply_is_refused(reader, world):
    with pytest.raises(ValueError):
        fq.flag_cases(reader, "verifier", "V1", "A", START, END)
