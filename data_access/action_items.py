"""督办事项: action items of the weekly meeting — create, carry over, mark done — with a history of every change.

The only writer of ``action_items`` / ``action_item_history``. Callers pass a writer engine
(``make_engine(url, read_only=False)``) used for these tables only; the reads take any engine. Every value reaches
the database as a bound parameter; inputs are validated first and rejected with ``ActionItemError``, which carries a
code, the field and the values of the message (the page words it from its catalog, ``weekly.po`` ``err_<code>``).

Nothing stored here is prose in a language: the default recorder is the code ``WHO_MEETING`` (周例会), the carry job
records ``WHO_SYSTEM`` with the note ``CARRY_NOTE``, and an edit's note is JSON of what changed; screens word them
at display time (``reports.weekly.item_history``). Rows written before this are shown as they were stored.

Carry-over is a query, not a copy: an item belongs to every week from its ``created_week`` until the week it was
closed (``items_for_week``). ``record_carry`` notes, once per item and week, that a later week's meeting showed it
still open (history action ``carry``); the worker runs it (``reports.weekly.carry_over_action_items``), never a page.
"""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import Engine, and_, exc, exists, insert, literal, or_, select, update

from core.periods import monday_of
from data_access.engine import GridscopeDBError, fetch_frame, translate_error
from data_access.schema import ActionItem, ActionItemHistory, Case, Department
from data_access.weekly_queries import week_bounds

MAX_TEXT = 500
MAX_NOTE = 500
MAX_WHO = 64
MAX_LINKED = 20
MAX_DUE_DAYS = 366  # a commitment further than a year ahead is not a meeting follow-up
FLAG_REF = re.compile(r"^[a-z_]{1,16}:[A-Za-z0-9_.\-]{1,40}:[A-D]$")  # unit_type:unit_id:family, e.g. street:3:A
CASE_NO = re.compile(r"^[A-Za-z0-9_\-]{1,32}$")
# Case numbers may be separated by commas, semicolons, white space, and the full-width ，、； of Chinese typing.
_SEPARATORS = re.compile("[\\s,;" + "".join(map(chr, (0xFF0C, 0x3001, 0xFF1B))) + "]+")
WHO_MEETING = "@meeting"  # recorder when none was given: the meeting itself (周例会)
WHO_SYSTEM = "@system"  # the carry-over job
CARRY_NOTE = "carried"  # note of a ``carry`` row: still open when a later week's meeting came
# Fields an error can name (``weekly.po`` ``field_<name>``).
FIELDS = ("text", "who", "note", "due_date", "department", "case_numbers", "flag_ref", "item")


class ActionItemError(GridscopeDBError):
    """An action item input was rejected: ``code`` says why (``empty_field``, ``too_long``, ``control_chars``,
    ``bad_case_no``, ``too_many_cases``, ``unknown_cases``, ``bad_due_date``, ``due_out_of_range``, ``due_too_far``,
    ``no_department``, ``unknown_department``, ``bad_flag_ref``, ``missing_or_done``), ``field`` which input (one
    of ``FIELDS``), ``values`` the message's placeholders (``limit``, ``value``, ``start``). ``str()`` is an English
    line for logs; screens word it from their catalog."""

    def __init__(self, code: str, field: str, **values):
        self.code, self.field, self.values = code, field, values
        details = ", ".join(f"{k}={v}" for k, v in values.items())
        super().__init__(f"action item rejected: {code} ({field}{': ' + details if details else ''})")


@contextmanager
def _writing(writer: Engine):
    """A write transaction whose driver errors become Gridscope's plain errors (e.g. "read-only: set
    db_write_url" when the dashboard points at a read replica)."""
    try:
        with writer.begin() as conn:
            yield conn
    except exc.DBAPIError as err:
        raise translate_error(err, writer) from err


def _clean(value: str | None, limit: int, field: str, *, required: bool) -> str | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise ActionItemError("empty_field", field)
        return None
    if len(value) > limit:
        raise ActionItemError("too_long", field, limit=limit)
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in value):
        raise ActionItemError("control_chars", field)
    return value


def parse_case_numbers(raw: str | None) -> list[str]:
    """Split a user's list of case numbers (commas, 、, ；, spaces or new lines) into unique, well-formed numbers in
    the order given; raises ``ActionItemError`` on a malformed one or more than ``MAX_LINKED``."""
    parts = [p for p in _SEPARATORS.split(raw or "") if p]
    out: list[str] = []
    for p in parts:
        if not CASE_NO.match(p):
            raise ActionItemError("bad_case_no", "case_numbers", value=p[:40])
        if p not in out:
            out.append(p)
    if len(out) > MAX_LINKED:
        raise ActionItemError("too_many_cases", "case_numbers", limit=MAX_LINKED)
    return out


def resolve_cases(engine: Engine, case_numbers: list[str]) -> list[int]:
    """The ``cases.id`` of each case number, in order; raises ``ActionItemError`` naming the unknown ones."""
    if not case_numbers:
        return []
    frame = fetch_frame(engine, select(Case.id, Case.case_no).where(Case.case_no.in_(case_numbers)), row_cap=MAX_LINKED)
    found = dict(zip(frame["case_no"], frame["id"].astype(int)))
    missing = [n for n in case_numbers if n not in found]
    if missing:
        raise ActionItemError("unknown_cases", "case_numbers", value=", ".join(missing))
    return [found[n] for n in case_numbers]


def _department_exists(engine: Engine, department_id: int) -> bool:
    frame = fetch_frame(engine, select(Department.id).where(Department.id == int(department_id)), row_cap=1)
    return not frame.empty


def create_item(
    writer: Engine,
    *,
    department_id: int,
    text: str,
    due_date: date,
    week: date,
    created_by: str | None = None,
    case_numbers: str | list[str] | None = None,
    flag_ref: str | None = None,
    now: datetime,
) -> int:
    """Validate and store a new open item of meeting week ``week`` (any day of it; stored as its Monday) plus its
    ``create`` history row, in one transaction; returns the new item's id.

    Rules: text 1–500 characters; due date from the meeting week's Monday to a year after ``now``; the department
    exists; linked case numbers (≤ 20) exist; the flag reference looks like ``street:3:A``."""
    body = _clean(text, MAX_TEXT, "text", required=True)
    who = _clean(created_by, MAX_WHO, "who", required=False) or WHO_MEETING
    monday = monday_of(week)
    if not isinstance(due_date, date):
        raise ActionItemError("bad_due_date", "due_date")
    if isinstance(due_date, datetime):
        due_date = due_date.date()
    if due_date < monday or due_date > now.date() + timedelta(days=MAX_DUE_DAYS):
        raise ActionItemError("due_out_of_range", "due_date", start=monday.isoformat())
    try:
        dept = int(department_id)
    except (TypeError, ValueError) as err:
        raise ActionItemError("no_department", "department") from err
    if not _department_exists(writer, dept):
        raise ActionItemError("unknown_department", "department", value=dept)
    numbers = (
        parse_case_numbers(case_numbers)
        if isinstance(case_numbers, (str, type(None)))
        else parse_case_numbers(" ".join(case_numbers))
    )
    case_ids = resolve_cases(writer, numbers)
    flag = _clean(flag_ref, 64, "flag_ref", required=False)
    if flag and not FLAG_REF.match(flag):
        raise ActionItemError("bad_flag_ref", "flag_ref", value=flag[:64])
    with _writing(writer) as conn:
        item_id = conn.execute(
            insert(ActionItem)
            .values(
                department_id=dept,
                text=body,
                due_date=due_date,
                created_week=monday,
                status="open",
                done_note=None,
                created_by=who,
                created_at=now,
                closed_at=None,
                linked_case_ids=json.dumps(case_ids),
                flag_ref=flag,
            )
            .returning(ActionItem.id)
        ).scalar_one()
        conn.execute(
            insert(ActionItemHistory).values(item_id=item_id, at=now, week=monday, action="create", note=body, who=who)
        )
    return int(item_id)


def mark_done(writer: Engine, item_id: int, *, note: str, week: date, who: str | None = None, now: datetime) -> None:
    """Close an open item with a note (required, ≤ 500 characters) and add a ``done`` history row; raises
    ``ActionItemError`` when the item does not exist or is already done."""
    body = _clean(note, MAX_NOTE, "note", required=True)
    actor = _clean(who, MAX_WHO, "who", required=False) or WHO_MEETING
    with _writing(writer) as conn:
        done = conn.execute(
            update(ActionItem)
            .where(ActionItem.id == int(item_id), ActionItem.status == "open")
            .values(status="done", done_note=body, closed_at=now)
        ).rowcount
        if done != 1:
            raise ActionItemError("missing_or_done", "item", value=int(item_id))
        conn.execute(
            insert(ActionItemHistory).values(
                item_id=int(item_id), at=now, week=monday_of(week), action="done", note=body, who=actor
            )
        )


def edit_item(
    writer: Engine,
    item_id: int,
    *,
    text: str | None = None,
    due_date: date | None = None,
    week: date,
    who: str | None = None,
    now: datetime,
) -> None:
    """Change the text and/or due date of an open item and add an ``edit`` history row whose note is JSON of what
    changed (``{"text": …, "due_date": "YYYY-MM-DD"}``)."""
    actor = _clean(who, MAX_WHO, "who", required=False) or WHO_MEETING
    values, changes = {}, {}
    if text is not None:
        values["text"] = changes["text"] = _clean(text, MAX_TEXT, "text", required=True)
    if due_date is not None:
        if due_date > now.date() + timedelta(days=MAX_DUE_DAYS):
            raise ActionItemError("due_too_far", "due_date")
        values["due_date"] = due_date
        changes["due_date"] = due_date.isoformat()
    if not values:
        return
    with _writing(writer) as conn:
        n = conn.execute(
            update(ActionItem).where(ActionItem.id == int(item_id), ActionItem.status == "open").values(**values)
        ).rowcount
        if n != 1:
            raise ActionItemError("missing_or_done", "item", value=int(item_id))
        conn.execute(
            insert(ActionItemHistory).values(
                item_id=int(item_id),
                at=now,
                week=monday_of(week),
                action="edit",
                note=json.dumps(changes, ensure_ascii=False),
                who=actor,
            )
        )


def _visible_in(week: date):
    """Items that belong to meeting week ``week``: created in or before it, and not closed before it started."""
    start, _ = week_bounds(week)
    return and_(ActionItem.created_week <= week, or_(ActionItem.closed_at.is_(None), ActionItem.closed_at >= start))


def items_for_week(engine: Engine, week: date) -> pd.DataFrame:
    """The action items of meeting week ``week`` (a Monday): open ones (new this week or carried from earlier weeks)
    and those closed during or after it (shown as they stood). Columns: ``id``, ``department_id``, ``text``,
    ``due_date``, ``created_week``, ``status`` (now), ``status_in_week`` (open | done: done only if closed before the
    week ended), ``carried`` (created in an earlier week), ``weeks_open`` (meetings it has been on, this one
    included), ``overdue`` (still open in the week after its due date), ``done_note``, ``created_by``,
    ``created_at``, ``closed_at``, ``linked_case_ids`` (list), ``flag_ref``. Open items first, oldest first."""
    _, end = week_bounds(week)
    stmt = (
        select(
            ActionItem.id,
            ActionItem.department_id,
            ActionItem.text,
            ActionItem.due_date,
            ActionItem.created_week,
            ActionItem.status,
            ActionItem.done_note,
            ActionItem.created_by,
            ActionItem.created_at,
            ActionItem.closed_at,
            ActionItem.linked_case_ids,
            ActionItem.flag_ref,
        )
        .where(_visible_in(week))
        .order_by(ActionItem.created_week, ActionItem.id)
    )
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
    return frame.assign(_o=order).sort_values(["_o", "created_week", "id"]).drop(columns="_o").reset_index(drop=True)


def record_carry(writer: Engine, week: date, *, now: datetime, who: str = WHO_SYSTEM) -> int:
    """Add a ``carry`` history row (note ``CARRY_NOTE``), once, for every item still open that a later meeting week
    ``week`` shows (created before it). Idempotent: a single INSERT … SELECT … WHERE NOT EXISTS; returns the rows
    added."""
    monday = monday_of(week)
    start, _ = week_bounds(monday)
    already = exists().where(
        ActionItemHistory.item_id == ActionItem.id,
        ActionItemHistory.week == monday,
        ActionItemHistory.action == "carry",
    )
    source = select(
        ActionItem.id, literal(now), literal(monday), literal("carry"), literal(CARRY_NOTE), literal(who)
    ).where(
        ActionItem.created_week < monday,
        or_(ActionItem.closed_at.is_(None), ActionItem.closed_at >= start),
        ActionItem.status == "open",
        ~already,
    )
    with _writing(writer) as conn:
        # RETURNING counts the rows on both dialects (rowcount of INSERT … SELECT is -1 under psycopg).
        added = conn.execute(
            insert(ActionItemHistory)
            .from_select(["item_id", "at", "week", "action", "note", "who"], source)
            .returning(ActionItemHistory.id)
        ).all()
    return len(added)


def history(engine: Engine, item_ids: list[int] | None = None, *, limit: int = 2000) -> pd.DataFrame:
    """History rows (``item_id``, ``at``, ``week``, ``action``, ``note``, ``who``) of the given items (all when
    None), oldest first."""
    stmt = select(
        ActionItemHistory.item_id,
        ActionItemHistory.at,
        ActionItemHistory.week,
        ActionItemHistory.action,
        ActionItemHistory.note,
        ActionItemHistory.who,
    ).order_by(ActionItemHistory.at, ActionItemHistory.id)
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
