"""Action items (督办事项) on both dialects: create → carried into later weeks → done; validation; injection text."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from data_access import action_items as ai
from data_access.engine import ReadOnlyDatabase
from data_access.schema import ActionItem, Case
from tests.builders import add_case, make_reference

W1 = date(2026, 3, 2)
W2, W3, W4 = (W1 + timedelta(days=7 * k) for k in (1, 2, 3))
NOW = datetime(2026, 3, 4, 10, 0)


@pytest.fixture
def world(writer):
    make_reference(writer)
    case_id = add_case(writer, reported_at=datetime(2026, 3, 1, 9, 0))
    with writer.connect() as conn:
        case_no = conn.execute(select(Case.case_no).where(Case.id == case_id)).scalar_one()
    return {"case_id": case_id, "case_no": case_no}


def test_create_carry_done(world, writer, reader):
    item = ai.create_item(
        writer,
        department_id=1,
        text="清理甲路垃圾点并建立长效保洁",
        due_date=W2 + timedelta(days=6),
        week=W1 + timedelta(days=2),
        created_by="指挥中心",
        case_numbers=world["case_no"],
        flag_ref="street:1:A",
        now=NOW,
    )
    first = ai.items_for_week(reader, W1)
    assert list(first["id"]) == [item]
    row = first.iloc[0]
    assert row["created_week"] == W1 and not row["carried"] and row["status_in_week"] == "open"
    assert row["linked_case_ids"] == [world["case_id"]] and row["flag_ref"] == "street:1:A"
    assert ai.items_for_week(reader, W1 - timedelta(days=7)).empty  # not before it was raised

    # carried into the next weeks by query (no copies), overdue once past its due date
    for week, n in ((W2, 2), (W3, 3)):
        later = ai.items_for_week(reader, week).iloc[0]
        assert later["carried"] and later["weeks_open"] == n and later["status_in_week"] == "open"
    assert not ai.items_for_week(reader, W2).iloc[0]["overdue"]
    assert ai.items_for_week(reader, W3).iloc[0]["overdue"]
    with writer.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ActionItem)).scalar_one() == 1

    # the meeting of W2 records the carry once, however often the page renders
    assert ai.record_carry(writer, W2, now=NOW + timedelta(days=7)) == 1
    assert ai.record_carry(writer, W2, now=NOW + timedelta(days=7, hours=1)) == 0

    # done in W3: shown as done in W3, still open in W2 (as it stood), gone from W4
    ai.mark_done(writer, item, note="已清理，已排班每日两次保洁", week=W3, who="城管", now=datetime(2026, 3, 17, 9))
    assert ai.items_for_week(reader, W3).iloc[0]["status_in_week"] == "done"
    assert ai.items_for_week(reader, W2).iloc[0]["status_in_week"] == "open"
    assert ai.items_for_week(reader, W4).empty
    hist = ai.history(reader, [item])
    assert list(hist["action"]) == ["create", "carry", "done"]
    assert hist.iloc[-1]["note"] == "已清理，已排班每日两次保洁" and hist.iloc[-1]["who"] == "城管"
    # what the application writes itself is a code, worded at display time (reports.weekly.item_history)
    assert (hist.iloc[1]["note"], hist.iloc[1]["who"]) == (ai.CARRY_NOTE, ai.WHO_SYSTEM)
    with pytest.raises(ai.ActionItemError) as again:
        ai.mark_done(writer, item, note="again", week=W3, now=datetime(2026, 3, 17, 10))
    assert (again.value.code, again.value.values) == ("missing_or_done", {"value": item})
    assert ai.record_carry(writer, W4, now=datetime(2026, 3, 23)) == 0  # done items are not carried


def test_edit_records_history(world, writer, reader):
    item = ai.create_item(writer, department_id=2, text="补种行道树", due_date=W3, week=W1, now=NOW)
    ai.edit_item(writer, item, text="补种行道树 12 株", due_date=W4, week=W2, now=NOW + timedelta(days=7))
    row = ai.items_for_week(reader, W2).iloc[0]
    assert row["text"] == "补种行道树 12 株" and row["due_date"] == W4
    hist = ai.history(reader, [item])
    assert list(hist["action"]) == ["create", "edit"] and list(hist["who"]) == [ai.WHO_MEETING] * 2
    assert json.loads(hist.iloc[1]["note"]) == {"text": "补种行道树 12 株", "due_date": W4.isoformat()}


@pytest.mark.parametrize(
    "kwargs, code, field, values",
    [
        (dict(text="   "), "empty_field", "text", {}),
        (dict(text="x" * 501), "too_long", "text", {"limit": 500}),
        (dict(created_by="y" * 65), "too_long", "who", {"limit": 64}),
        (dict(due_date="2026-03-09"), "bad_due_date", "due_date", {}),
        (dict(due_date=W1 - timedelta(days=1)), "due_out_of_range", "due_date", {"start": "2026-03-02"}),
        (dict(due_date=date(2028, 1, 1)), "due_out_of_range", "due_date", {"start": "2026-03-02"}),
        (dict(department_id=None), "no_department", "department", {}),
        (dict(department_id=99), "unknown_department", "department", {"value": 99}),
        (dict(case_numbers="NOPE-1"), "unknown_cases", "case_numbers", {"value": "NOPE-1"}),
        (dict(case_numbers="bad'no"), "bad_case_no", "case_numbers", {"value": "bad'no"}),
        (dict(case_numbers=" ".join(f"T{i}" for i in range(25))), "too_many_cases", "case_numbers", {"limit": 20}),
        (dict(flag_ref="street;drop"), "bad_flag_ref", "flag_ref", {"value": "street;drop"}),
        (dict(text="a\x00b"), "control_chars", "text", {}),
    ],
)
def test_validation(world, writer, reader, kwargs, code, field, values):
    args = dict(department_id=1, text="整改", due_date=W2, week=W1, now=NOW) | kwargs
    with pytest.raises(ai.ActionItemError) as caught:
        ai.create_item(writer, **args)
    assert (caught.value.code, caught.value.field, caught.value.values) == (code, field, values)
    assert code in str(caught.value)  # the log line names the code (in English)
    assert ai.items_for_week(reader, W1).empty


def test_every_error_is_worded_in_both_languages():
    """The page words an error from its code (weekly.po ``err_<code>``) and field (``field_<field>``)."""
    from core.i18n import translate

    codes = {
        "empty_field",
        "too_long",
        "control_chars",
        "bad_case_no",
        "too_many_cases",
        "unknown_cases",
        "bad_due_date",
        "due_out_of_range",
        "due_too_far",
        "no_department",
        "unknown_department",
        "bad_flag_ref",
        "missing_or_done",
    }
    for lang in ("zh", "en"):
        for field in ai.FIELDS:
            assert translate("weekly", f"field_{field}", lang)
        for code in codes:
            text = translate("weekly", f"err_{code}", lang, field="F", limit=9, value="V", start="S")
            assert text and "{" not in text
    err = ai.ActionItemError("unknown_cases", "case_numbers", value="NOPE-1")
    assert translate("weekly", f"err_{err.code}", "zh", field="", **err.values) == "找不到案件：NOPE-1"


def test_case_numbers_split_on_chinese_separators():
    assert ai.parse_case_numbers("A1，B2、C3；D4 E5,F6\nA1") == ["A1", "B2", "C3", "D4", "E5", "F6"]


def test_injection_strings_are_stored_as_text(world, writer, reader):
    nasty = "'); DROP TABLE action_items; -- <script>alert(1)</script> \" OR 1=1"
    item = ai.create_item(writer, department_id=1, text=nasty, due_date=W2, week=W1, created_by="x' OR '1'='1", now=NOW)
    ai.mark_done(writer, item, note=nasty, week=W1, now=NOW)
    row = ai.items_for_week(reader, W1).iloc[0]
    assert row["text"] == nasty and row["done_note"] == nasty and row["created_by"] == "x' OR '1'='1"
    with reader.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ActionItem)).scalar_one() == 1


def test_reader_cannot_write(world, reader):
    # a read-only database (a replica, or the dashboard's read session) is named as such, with the setting to fix it
    with pytest.raises(ReadOnlyDatabase, match="db_write_url"):
        ai.create_item(reader, department_id=1, text="整改", due_date=W2, week=W1, now=NOW)
