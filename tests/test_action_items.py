"""Action items (督办事项) on both dialects: create → carried into later weeks → done; validation; injection text."""
from __future__ import annotations

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
    item = ai.create_item(writer, department_id=1, text="清理甲路垃圾点并建立长效保洁",
                          due_date=W2 + timedelta(days=6), week=W1 + timedelta(days=2), created_by="指挥中心", case_numbers=world["case_no"],
                          flag_ref="street:1:A", now=NOW)
    first = ai.items_for_week(reader, W1)
    assert list(first["id"]) == [item]
    row = first.iloc[0]
    assert row["created_week"] == W1 and not row["carried"] and row["status_in_week"] == "open"
    assert row["linked_case_ids"] == [world["case_id"]] and row["flag_ref"] == "street:1:A"
    assert ai.items_for_week(reader, W1 - timedelta(days=7)).empty          # not before it was raised

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
    with pytest.raises(ai.ActionItemError):
        ai.mark_done(writer, item, note="again", week=W3, now=datetime(2026, 3, 17, 10))
    assert ai.record_carry(writer, W4, now=datetime(2026, 3, 23)) == 0       # done items are not carried


def test_edit_records_history(world, writer, reader):
    item = ai.create_item(writer, department_id=2, text="补种行道树", due_date=W3, week=W1, now=NOW)
    ai.edit_item(writer, item, text="补种行道树 12 株", due_date=W4, week=W2, now=NOW + timedelta(days=7))
    row = ai.items_for_week(reader, W2).iloc[0]
    assert row["text"] == "补种行道树 12 株" and row["due_date"] == W4
    assert list(ai.history(reader, [item])["action"]) == ["create", "edit"]


@pytest.mark.parametrize("kwargs, message", [
    (dict(text="   "), "不能为空"),
    (dict(text="x" * 501), "最多"),
    (dict(due_date=W1 - timedelta(days=1)), "完成期限"),
    (dict(due_date=date(2028, 1, 1)), "完成期限"),
    (dict(department_id=99), "部门不存在"),
    (dict(case_numbers="NOPE-1"), "找不到案件"),
    (dict(case_numbers="bad'no"), "格式"),
    (dict(case_numbers=" ".join(f"T{i}" for i in range(25))), "最多关联"),
    (dict(flag_ref="street;drop"), "预警编号"),
    (dict(text="a\x00b"), "控制字符"),
])
def test_validation(world, writer, reader, kwargs, message):
    args = dict(department_id=1, text="整改", due_date=W2, week=W1, now=NOW) | kwargs
    with pytest.raises(ai.ActionItemError, match=message):
        ai.create_item(writer, **args)
    assert ai.items_for_week(reader, W1).empty


def test_injection_strings_are_stored_as_text(world, writer, reader):
    nasty = "'); DROP TABLE action_items; -- <script>alert(1)</script> \" OR 1=1"
    item = ai.create_item(writer, department_id=1, text=nasty, due_date=W2, week=W1, created_by="x' OR '1'='1",
                          now=NOW)
    ai.mark_done(writer, item, note=nasty, week=W1, now=NOW)
    row = ai.items_for_week(reader, W1).iloc[0]
    assert row["text"] == nasty and row["done_note"] == nasty and row["created_by"] == "x' OR '1'='1"
    with reader.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ActionItem)).scalar_one() == 1


def test_reader_cannot_write(world, reader):
    # a read-only database (a replica, or the dashboard's read session) is named as such, with the setting to fix it
    with pytest.raises(ReadOnlyDatabase, match="db_write_url"):
        ai.create_item(reader, department_id=1, text="整改", due_date=W2, week=W1, now=NOW)
