"""督办事项: action items of the weekly meeting — create, carry over, mark done — with a history of every change.

The only writer of ``action_items`` / ``action_item_history``. Callers pass a writer engine
(``make_engine(url, read_only=False)``) used for these tables only; the reads take any engine. Every value reaches
the database as a bound parameter; inputs are validated first and rejected with ``ActionItemError`` (a plain
message the page shows).

Carry-over is a query, not a copy: an item belongs to every week from its ``created_week`` until the week it was
closed (``items_for_week``). ``record_carry`` notes, once per item and week, that a later week's meeting showed it
still open (history action ``carry``).
"""
from __future__ import annotations

import json
import re
from contextlib import contextmanager
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import Engine, and_, exc, exists, insert, literal, or_, select, update

from data_access.engine import GridscopeDBError, fetch_frame, translate_error
from data_access.schema import ActionItem, ActionItemHistory, Case, Department
from data_access.weekly_queries import monday_of, week_bounds

MAX_TEXT = 500
MAX_NOTE = 500
MAX_WHO = 64
MAX_LINKED = 20
MAX_DUE_DAYS = 366          # a commitment further than a year ahead is not a meeting follow-up
FLAG_REF = re.compile(r"^[a-z_]{1,16}:[A-Za-z0-9_.\-]{1,40}:[A-D]$")   # unit_type:unit_id:family, e.g. street:3:A
CASE_NO = re.compile(r"^[A-Za-z0-9_\-]{1,32}$")


class ActionItemError(GridscopeDBError):
    """An action item input was rejected (the message says why, in Chinese and English)."""


@contextmanager
def _writing(writer: Engine):
    """A write transaction whose driver errors become Gridscope's plain errors (e.g. "read-only: set
    db_write_url" when the dashboard points at a read replica)."""
    try:
        with writer.begin() as conn:
            yield conn
    except exc.DBAPIError as err:
        raise translate_error(err, writer) from err


def _clean(value: str | None, limit: int, what_zh: str, what_en: str, *, required: bool) -> str | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise ActionItemError(f"{what_zh}不能为空 / {what_en} is required")
        return None
    if len(value) > limit:
        raise ActionItemError(f"{what_zh}最多 {limit} 字 / {what_en}: at most {limit} characters")
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in value):
        raise ActionItemError(f"{what_zh}含有控制字符 / {what_en} contains control characters")
    return value


def parse_case_numbers(raw: str | None) -> list[str]:
    """Split a user's list of case numbers (commas, 、, ；, spaces or new lines) into unique, well-formed numbers in
    the order given; raises ``ActionItemError`` on a malformed one or more than ``MAX_LINKED``."""
    parts = [p for p in re.split(r"[\s,，、;；]+", raw or "") if p]
    out: list[str] = []
    for p in parts:
        if not CASE_NO.match(p):
            raise ActionItemError(f"案件编号格式不对：{p[:40]} / Not a case number: {p[:40]}")
        if p not in out:
            out.append(p)
    if len(out) > MAX_LINKED:
        raise ActionItemError(f"最多关联 {MAX_LINKED} 个案件 / At most {MAX_LINKED} linked cases")
    return out


def resolve_cases(engine: Engine, case_numbers: list[str]) -> list[int]:
    """The ``cases.id`` of each case number, in order; raises ``ActionItemError`` naming the unknown ones."""
    if not case_numbers:
        return []
    frame = fetch_frame(engine, select(Case.id, Case.case_no).where(Case.case_no.in_(case_numbers)),
                        row_cap=MAX_LINKED)
    found = dict(zip(frame["case_no"], frame["id"].astype(int)))
    missing = [n for n in case_numbers if n not in found]
    if missing:
        raise ActionItemError(f"找不到案件：{'、'.join(missing)} / Unknown case numbers: {', '.join(missing)}")
    return [found[n] for n in case_numbers]


def _department_exists(engine: Engine, department_id: int) -> bool:
    frame = fetch_frame(engine, select(Department.id).where(Department.id == int(department_id)), row_cap=1)
    return not frame.empty


def create_item(writer: Engine, *, department_id: int, text: str, due_date: date, week: date,
                created_by: str | None = None, case_numbers: str | list[str] | None = None,
                flag_ref: str | None = None, now: datetime) -> int:
    """Validate and store a new open item of meeting week ``week`` (any day of it; stored as its Monday) plus its
    ``create`` history row, in one transaction; returns the new item's id.

    Rules: text 1–500 characters; due date from the meeting week's Monday to a year after ``now``; the department
    exists; linked case numbers (≤ 20) exist; the flag reference looks like ``street:3:A``."""
    body = _clean(text, MAX_TEXT, "督办内容", "Text", required=True)
    who = _clean(created_by, MAX_WHO, "记录人", "Recorded by", required=False) or "周例会"
    monday = monday_of(week)
    if not isinstance(due_date, date):
        raise ActionItemError("完成期限无效 / Invalid due date")
    if isinstance(due_date, datetime):
        due_date = due_date.date()
    if due_date < monday or due_date > now.date() + timedelta(days=MAX_DUE_DAYS):
        raise ActionItemError(f"完成期限须在 {monday} 至一年内 / Due date must be between {monday} and a year ahead")
    try:
        dept = int(department_id)
    except (TypeError, ValueError) as err:
        raise ActionItemError("请选择部门 / Pick a department") from err
    if not _department_exists(writer, dept):
        raise ActionItemError(f"部门不存在：{dept} / No such department: {dept}")
    numbers = parse_case_numbers(case_numbers) if isinstance(case_numbers, (str, type(None))) \
        else parse_case_numbers(" ".join(case_numbers))
    case_ids = resolve_cases(writer, numbers)
    flag = _clean(flag_ref, 64, "预警编号", "Flag reference", required=False)
    if flag and not FLAG_REF.match(flag):
        raise ActionItemError("预警编号格式应为 单位类型:编号:族，如 street:3:A / Flag reference must look like "
                              "street:3:A")
    with _writing(writer) as conn:
        item_id = conn.execute(insert(ActionItem).values(
            department_id=dept, text=body, due_date=due_date, created_week=monday, status="open", done_note=None,
            created_by=who, created_at=now, closed_at=None, linked_case_ids=json.dumps(case_ids),
            flag_ref=flag).returning(ActionItem.id)).scalar_one()
        conn.execute(insert(ActionItemHistory).values(item_id=item_id, at=now, week=monday, action="create",
                                                      note=body, who=who))
    return int(item_id)


def mark_done(writer: Engine, item_id: int, *, note: str, week: date, who: str | None = None,
              now: datetime) -> None:
    """Close an open item with a note (required, ≤ 500 characters) and add a ``done`` history row; raises
    ``ActionItemError`` when the item does not exist or is already done."""
    body = _clean(note, MAX_NOTE, "办结说明", "Note", required=True)
    actor = _clean(who, MAX_WHO, "记录人", "Recorded by", required=False) or "周例会"
    with _writing(writer) as conn:
        done = conn.execute(update(ActionItem).where(ActionItem.id == int(item_id), ActionItem.status == "open")
                            .values(status="done", done_note=body, closed_at=now)).rowcount
        if done != 1:
            raise ActionItemError(f"督办事项 {item_id} 不存在或已办结 / Item {item_id} is missing or already done")
        conn.execute(insert(ActionItemHistory).values(item_id=int(item_id), at=now, week=monday_of(week),
                                                      action="done", note=body, who=actor))


def edit_item(writer: Engine, item_id: int, *, text: str | None = None, due_date: date | None = None,
              week: date, who: str | None = None, now: datetime) -> None:
    """Change the text and/or due date of an open item and add an ``edit`` history row saying what changed."""
    actor = _clean(who, MAX_WHO, "记录人", "Recorded by", required=False) or "周例会"
    values, changes = {}, []
    if text is not None:
        values["text"] = _clean(text, MAX_TEXT, "督办内容", "Text", required=True)
        changes.append(f"内容: {values['text']}")
    if due_date is not None:
        if due_date > now.date() + timedelta(days=MAX_DUE_DAYS):
            raise ActionItemError("完成期限须在一年内 / Due date must be within a year")
        values["due_date"] = due_date
        changes.append(f"期限: {due_date}")
    if not values:
        return
    with _writing(writer) as conn:
        n = conn.execute(update(ActionItem).where(ActionItem.id == int(item_id), ActionItem.status == "open")
                         .values(**values)).rowcount
        if n != 1:
            raise ActionItemError(f"督办事项 {item_id} 不存在或已办结 / Item {item_id} is missing or already done")
        conn.execute(insert(ActionItemHistory).values(item_id=int(item_id), at=now, week=monday_of(week),
                                                      action="edit", note="；".join(changes), who=actor))


def _visible_in(week: date):
    """Items that belong to meeting week ``week``: created in or before it, and not closed before it started."""
    start, _ = week_bounds(week)
    return and_(ActionItem.created_week <= week,
                or_(ActionItem.closed_at.is_(None), ActionItem.closed_at >= start))


def items_for_week(engine: Engine, week: date) -> pd.DataFrame:
    """The action items of meeting week ``week`` (a Monday): open ones (new this week or carried from earlier weeks)
    and those closed during or after it (shown as they stood). Columns: ``id``, ``department_id``, ``text``,
    ``due_date``, ``created_week``, ``status`` (now), ``status_in_week`` (open | done: done only if closed before the
    week ended), ``carried`` (created in an earlier week), ``weeks_open`` (meetings it has been on, this one
    included), ``overdue`` (still open in the week after its due date), ``done_note``, ``created_by``,
    ``created_at``, ``closed_at``, ``linked_case_ids`` (list), ``flag_ref``. Open items first, oldest first."""
    _, end = week_bounds(week)
    stmt = select(ActionItem.id, ActionItem.department_id, ActionItem.text, ActionItem.due_date,
                  ActionItem.created_week, ActionItem.status, ActionItem.done_note, ActionItem.created_by,
                  ActionItem.created_at, ActionItem.closed_at, ActionItem.linked_case_ids, ActionItem.flag_ref) \
        .where(_visible_in(week)).order_by(ActionItem.created_week, ActionItem.id)
    frame = fetch_frame(engine, stmt, row_cap=5000)
    if frame.empty:
        return frame.assign(status_in_week=[], carried=[], weeks_open=[], overdue=[])
    frame["due_date"] = pd.to_datetime(frame["due_date"]).dt.date
    frame["created_week"] = pd.to_datetime(frame["created_week"]).dt.date
    closed = pd.to_datetime(frame["closed_at"])
    frame["status_in_week"] = (closed.notna() & (closed < pd.Timestamp(end))).map({True: "done", False: "open"})
    frame["carried"] = frame["created_week"] < week
    frame["weeks_open"] = frame["created_week"].map(lambda w: (week - w).days // 7 + 1)
    last_day = week + timedelta(days=6)
    frame["overdue"] = (frame["status_in_week"] == "open") & (frame["due_date"] < last_day)
    frame["linked_case_ids"] = frame["linked_case_ids"].map(lambda s: [int(i) for i in json.loads(s or "[]")])
    order = frame["status_in_week"].map({"open": 0, "done": 1})
    return frame.assign(_o=order).sort_values(["_o", "created_week", "id"]).drop(columns="_o") \
        .reset_index(drop=True)


def record_carry(writer: Engine, week: date, *, now: datetime, who: str = "system") -> int:
    """Add a ``carry`` history row, once, for every item still open that a later meeting week ``week`` shows
    (created before it). Idempotent: a single INSERT … SELECT … WHERE NOT EXISTS; returns the rows added."""
    monday = monday_of(week)
    start, _ = week_bounds(monday)
    already = exists().where(ActionItemHistory.item_id == ActionItem.id, ActionItemHistory.week == monday,
                             ActionItemHistory.action == "carry")
    source = select(ActionItem.id, literal(now), literal(monday), literal("carry"),
                    literal("转入本周（未办结）"), literal(who)) \
        .where(ActionItem.created_week < monday,
               or_(ActionItem.closed_at.is_(None), ActionItem.closed_at >= start),
               ActionItem.status == "open", ~already)
    with _writing(writer) as conn:
        # RETURNING counts the rows on both dialects (rowcount of INSERT … SELECT is -1 under psycopg).
        added = conn.execute(insert(ActionItemHistory).from_select(
            ["item_id", "at", "week", "action", "note", "who"], source).returning(ActionItemHistory.id)).all()
    return len(added)


def history(engine: Engine, item_ids: list[int] | None = None, *, limit: int = 2000) -> pd.DataFrame:
    """History rows (``item_id``, ``at``, ``week``, ``action``, ``note``, ``who``) of the given items (all when
    None), oldest first."""
    stmt = select(ActionItemHistory.item_id, ActionItemHistory.at, ActionItemHistory.week, ActionItemHistory.action,
                  ActionItemHistory.note, ActionItemHistory.who).order_by(ActionItemHistory.at, ActionItemHistory.id)
    if item_ids is not None:
        if not item_ids:
            return pd.DataFrame(columns=["item_id", "at", "week", "action", "note", "who"])
        stmt = stmt.where(ActionItemHistory.item_id.in_([int(i) for i in item_ids]))
    return fetch_frame(engine, stmt.limit(limit), row_cap=limit)


def case_numbers(engine: Engine, case_ids: list[int]) -> dict[int, str]:
    """``cases.id`` → ``case_no`` for the given ids (at most a few hundred)."""
    ids = sorted({int(i) for i in case_ids})
    if not ids:
        return {}
    frame = fetch_frame(engine, select(Case.id, Case.case_no).where(Case.id.in_(ids)), row_cap=len(ids))
    return dict(zip(frame["id"].astype(int), frame["case_no"]))
