"""Department and street scorecards (部门考评 / 街镇考评): the aggregates, computed in the database. The indicators,
ranks and intervals built on them are ``reports.departments`` (which the departments page and the wall call).

Every query here follows the rules of ``data_access.queries``: small aggregate frames, SQLAlchemy Core on both
SQLite and PostgreSQL, ``fetch_frame`` (time limit, row cap), and a cost that grows with the window asked for (the
time-leading indexes on ``disposed_at``, ``closed_at``, ``parked_at``, ``registered_at``, ``reported_at`` and
``case_events.at``) or with the open backlog (the partial index over ``queries.is_open()``), never with history.

The definitions (docs/domain.md §2–§3, docs/indicators.md) in one place:

- 处置数 (``disposed``): cases of the unit with ``disposed_at`` in [start, end); 作废, 自行处置 and 挂账 excluded.
- 超期未处置数 (``overdue``): cases of the unit that, at ``as_of`` (the end of the period, or now if earlier), were past
  their effective deadline (含延期) and not yet disposed. Rebuilt for past periods from the open backlog plus the cases
  that were disposed, force-closed or parked after ``as_of`` (three window-bounded index ranges).
- 应处置数 (``due``) = 处置数 + 超期未处置数.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import Engine, and_, case, func, or_, select, union_all
from sqlalchemy.sql.expression import ColumnElement

from core.domain import PUBLIC_CHANNELS
from data_access.engine import fetch_frame
from data_access.queries import effective_deadline, is_open
from data_access.schema import Case, CaseEvent
from data_access.sql_functions import int_floor

# Citizen channels (市民诉求): the base of 监督举报率 and of the hotline 响应率/解决率.
CITIZEN_CHANNELS = ("hotline", "app")
# Statuses that leave the disposal KPIs entirely (docs/domain.md §2).
_NOT_DISPOSAL = ("cancelled", "self_handled")
# Histogram of disposal time: 1 working hour wide below this many hours, one working day (8 h) wide above.
HOURS_FINE_LIMIT = 40
HOURS_COARSE_WIDTH = 8


# --- building blocks ------------------------------------------------------------------------------------------------
def _keys(by: tuple[str, ...]):
    return [getattr(Case, k).label(k) for k in by]


def _known(column) -> ColumnElement[bool]:
    """``column IS NOT NULL`` in a form no planner answers from an index on ``column``: "not null" is most of the
    table, so it must never be picked over the time range or the open-case partial index."""
    return case((column.is_(None), 0), else_=1) == 1


def _scope(stmt, by: tuple[str, ...], street_id: int | None, department_id: int | None):
    """Keep rows whose grouping keys are known, inside the optional street / department filter."""
    for k in by:
        stmt = stmt.where(_known(getattr(Case, k)))
    if street_id is not None:
        stmt = stmt.where(Case.street_id == street_id)
    if department_id is not None:
        stmt = stmt.where(Case.department_id == department_id)
    return stmt


def _ontime(column=Case.disposed_at):
    """1 when disposed by the effective deadline (含延期); a case without any deadline had no limit: on time."""
    return case((effective_deadline().is_(None), 1), (column <= effective_deadline(), 1), else_=0)


def _ontime_original(column=Case.disposed_at):
    return case((Case.deadline_at.is_(None), 1), (column <= Case.deadline_at, 1), else_=0)


def _int_columns(frame: pd.DataFrame, columns) -> pd.DataFrame:
    for c in columns:
        frame[c] = pd.to_numeric(frame[c]).fillna(0).astype(int) if c in frame else 0
    return frame


def _disposed_filter(start: datetime, end: datetime):
    return and_(
        Case.disposed_at >= start,
        Case.disposed_at < end,
        Case.status.not_in(_NOT_DISPOSAL + ("parked",)),
        Case.duplicate_of.is_(None),
    )


# --- disposal in a window ---------------------------------------------------------------------------------------------
def disposed_counts(
    engine: Engine,
    start: datetime,
    end: datetime,
    by: tuple[str, ...] = ("department_id",),
    *,
    street_id: int | None = None,
    department_id: int | None = None,
) -> pd.DataFrame:
    """Cases disposed in [start, end) per ``by`` (cases columns). Returns the keys and ``disposed`` (处置数),
    ``ontime`` (按期, by the effective deadline), ``ontime_original`` (by the original deadline), ``rework``
    (cases with ≥ 1 返工), ``extended`` (cases with ≥ 1 approved 延期), ``hours_n`` (cases with a disposal time)."""
    stmt = (
        select(
            *_keys(by),
            func.count().label("disposed"),
            func.sum(_ontime()).label("ontime"),
            func.sum(_ontime_original()).label("ontime_original"),
            func.sum(case((Case.rework_count > 0, 1), else_=0)).label("rework"),
            func.sum(case((Case.extension_count > 0, 1), else_=0)).label("extended"),
            func.count(Case.disposal_work_hours).label("hours_n"),
        )
        .where(_disposed_filter(start, end))
        .group_by(*[getattr(Case, k) for k in by])
    )
    frame = fetch_frame(engine, _scope(stmt, by, street_id, department_id))
    return _int_columns(frame, ["disposed", "ontime", "ontime_original", "rework", "extended", "hours_n"])


def overdue_counts(
    engine: Engine,
    as_of: datetime,
    by: tuple[str, ...] = ("department_id",),
    *,
    street_id: int | None = None,
    department_id: int | None = None,
    now: datetime | None = None,
) -> pd.DataFrame:
    """超期未处置数 at ``as_of`` per ``by``: ``overdue`` (past the effective deadline and not disposed at ``as_of``)
    and ``overdue_extended`` (of which had an approved 延期).

    Four index ranges, so the cost is the open backlog plus what changed after ``as_of``:
    still open now (partial index) ∪ disposed after ``as_of`` ∪ force-closed without disposal after ``as_of`` ∪
    parked after ``as_of``. ``now`` bounds the "after" ranges (default: no bound). 作废 and 自行处置 never count.
    """
    deadline = effective_deadline()
    late = and_(deadline.is_not(None), deadline < as_of)

    def branch(*conditions):
        stmt = select(*_keys(by), case((Case.extension_count > 0, 1), else_=0).label("ext")).where(
            late, _known(Case.department_id), Case.duplicate_of.is_(None), *conditions
        )
        return _scope(stmt, by, street_id, department_id)

    upper = [] if now is None else [Case.disposed_at <= now]
    # "disposed_at IS NULL" written so no planner can answer it from the disposed_at index (that would read every
    # undisposed case in history instead of the closed_at / parked_at range after as_of)
    never_disposed = case((Case.disposed_at.is_(None), 1), else_=0) == 1
    parts = [
        # open now: in disposal (incl. rework after a failed check), or awaiting 核查 after a disposal after as_of
        branch(
            is_open(),
            or_(Case.status == "in_disposal", and_(Case.status == "pending_check", Case.disposed_at >= as_of)),
        ),
        # disposed after as_of and no longer open (a parked case only if it was parked after as_of too)
        branch(
            Case.disposed_at >= as_of,
            *upper,
            Case.status.in_(("closed", "force_closed", "parked")),
            or_(Case.parked_at.is_(None), Case.parked_at >= as_of),
        ),
        # force-closed after as_of without a disposal
        branch(Case.closed_at >= as_of, never_disposed, Case.status == "force_closed"),
        # parked (挂账) after as_of: it stayed in the denominators until then
        branch(Case.parked_at >= as_of, never_disposed, Case.status == "parked"),
    ]
    sub = union_all(*parts).subquery()
    cols = [sub.c[k] for k in by]
    stmt = select(*cols, func.count().label("overdue"), func.sum(sub.c.ext).label("overdue_extended")).group_by(*cols)
    return _int_columns(fetch_frame(engine, stmt), ["overdue", "overdue_extended"])


def disposal_hours_histogram(
    engine: Engine,
    start: datetime,
    end: datetime,
    by: str = "department_id",
    *,
    street_id: int | None = None,
    department_id: int | None = None,
) -> pd.DataFrame:
    """Histogram of ``disposal_work_hours`` of the cases disposed in [start, end) per ``by``: ``by``, ``lo`` (bin
    start, working hours), ``width`` and ``n``. Bins are 1 h wide below ``HOURS_FINE_LIMIT`` h and 8 h (one working
    day) wide above, so the result has at most a few hundred rows per unit whatever the volume."""
    hours = Case.disposal_work_hours
    coarse = HOURS_FINE_LIMIT + int_floor((hours - HOURS_FINE_LIMIT) / HOURS_COARSE_WIDTH) * HOURS_COARSE_WIDTH
    lo = case((hours < HOURS_FINE_LIMIT, int_floor(hours)), else_=coarse)
    stmt = (
        select(getattr(Case, by).label(by), lo.label("lo"), func.count().label("n"))
        .where(_disposed_filter(start, end), hours.is_not(None), hours >= 0)
        .group_by(getattr(Case, by), lo)
    )
    frame = fetch_frame(engine, _scope(stmt, (by,), street_id, department_id))
    frame = _int_columns(frame, ["lo", "n"])
    frame["width"] = np.where(frame["lo"] < HOURS_FINE_LIMIT, 1, HOURS_COARSE_WIDTH)
    return frame


def dispatch_return_counts(
    engine: Engine, start: datetime, end: datetime, *, street_id: int | None = None, department_id: int | None = None
) -> pd.DataFrame:
    """派遣数 and 回退数 per department from the event log in [start, end): ``department_id``, ``dispatched``
    (dispatch + redispatch events to the department), ``returned`` (return events by the department). Events of
    作废 and 自行处置 cases are left out."""
    stmt = (
        select(
            CaseEvent.department_id.label("department_id"),
            func.sum(case((CaseEvent.action.in_(("dispatch", "redispatch")), 1), else_=0)).label("dispatched"),
            func.sum(case((CaseEvent.action == "return", 1), else_=0)).label("returned"),
        )
        .select_from(CaseEvent)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(
            CaseEvent.at >= start,
            CaseEvent.at < end,
            CaseEvent.action.in_(("dispatch", "redispatch", "return")),
            _known(CaseEvent.department_id),
            Case.status.not_in(_NOT_DISPOSAL),
        )
        .group_by(CaseEvent.department_id)
    )
    if street_id is not None:
        stmt = stmt.where(Case.street_id == street_id)
    if department_id is not None:
        stmt = stmt.where(CaseEvent.department_id == department_id)
    return _int_columns(fetch_frame(engine, stmt), ["dispatched", "returned"])


def satisfaction_by(
    engine: Engine,
    start: datetime,
    end: datetime,
    by: str = "department_id",
    *,
    street_id: int | None = None,
    department_id: int | None = None,
) -> pd.DataFrame:
    """回访 answers of public-channel cases closed in [start, end) per ``by``: ``satisfied``, ``basic``,
    ``unsatisfied``, ``answered`` (the same base as ``queries.satisfaction_counts``)."""
    stmt = (
        select(
            getattr(Case, by).label(by),
            func.sum(case((Case.satisfaction == "satisfied", 1), else_=0)).label("satisfied"),
            func.sum(case((Case.satisfaction == "basic", 1), else_=0)).label("basic"),
            func.sum(case((Case.satisfaction == "unsatisfied", 1), else_=0)).label("unsatisfied"),
            func.count().label("answered"),
        )
        .where(
            Case.closed_at >= start,
            Case.closed_at < end,
            Case.satisfaction.is_not(None),
            Case.channel.in_(PUBLIC_CHANNELS),
            Case.status != "cancelled",
        )
        .group_by(getattr(Case, by))
    )
    frame = fetch_frame(engine, _scope(stmt, (by,), street_id, department_id))
    return _int_columns(frame, ["satisfied", "basic", "unsatisfied", "answered"])


# --- streets as areas -------------------------------------------------------------------------------------------------
def street_area_counts(
    engine: Engine, start: datetime, end: datetime, *, as_of: datetime | None = None, street_id: int | None = None
) -> pd.DataFrame:
    """Area counts per street in [start, end): ``registered`` (立案数), ``citizen_registered`` (立案 from 12345/APP),
    ``closed`` (结案数: of the cases disposed in the period — the 处置数 part of 应结案数 — those closed (结案 or
    强制结案) by ``as_of``, default ``end``), ``closed_ontime`` (of which disposed by the effective deadline),
    ``citizen_received`` / ``citizen_responded`` / ``citizen_resolved`` (12345/APP 诉求 reported in the window:
    all, 立案 (responded), 结案 or 自行处置 (resolved)). 作废 and duplicates excluded."""

    def scoped(stmt):
        return stmt if street_id is None else stmt.where(Case.street_id == street_id)

    citizen = Case.channel.in_(CITIZEN_CHANNELS)
    registered = scoped(
        select(
            Case.street_id.label("street_id"),
            func.count().label("registered"),
            func.sum(case((citizen, 1), else_=0)).label("citizen_registered"),
        )
        .where(
            Case.registered_at >= start,
            Case.registered_at < end,
            Case.status != "cancelled",
            Case.duplicate_of.is_(None),
        )
        .group_by(Case.street_id)
    )
    # counted inside the 应结案 set (disposed in the period), so 结案率 cannot pass 100 % because of cases disposed
    # in the previous period and closed in this one
    closed = scoped(
        select(
            Case.street_id.label("street_id"), func.count().label("closed"), func.sum(_ontime()).label("closed_ontime")
        )
        .where(
            _disposed_filter(start, end),
            Case.status.in_(("closed", "force_closed")),
            Case.closed_at < (end if as_of is None else as_of),
        )
        .group_by(Case.street_id)
    )
    citizen_q = scoped(
        select(
            Case.street_id.label("street_id"),
            func.count().label("citizen_received"),
            func.sum(case((Case.registered_at.is_not(None), 1), else_=0)).label("citizen_responded"),
            func.sum(case((Case.status.in_(("closed", "self_handled")), 1), else_=0)).label("citizen_resolved"),
        )
        .where(
            Case.reported_at >= start,
            Case.reported_at < end,
            citizen,
            Case.status != "cancelled",
            Case.duplicate_of.is_(None),
        )
        .group_by(Case.street_id)
    )
    frame = None
    for q in (registered, closed, citizen_q):
        part = fetch_frame(engine, q)
        part["street_id"] = part["street_id"].astype(int)
        frame = part if frame is None else frame.merge(part, on="street_id", how="outer")
    return _int_columns(
        frame,
        [
            "registered",
            "citizen_registered",
            "closed",
            "closed_ontime",
            "citizen_received",
            "citizen_responded",
            "citizen_resolved",
        ],
    )


# --- all aggregates of one period -------------------------------------------------------------------------------------
def _as_of(end: datetime, now: datetime | None) -> datetime:
    return end if now is None else min(end, now)


def _by_category(
    engine: Engine, start: datetime, end: datetime, by: tuple[str, str], now: datetime | None, **scope
) -> pd.DataFrame:
    """Disposal and overdue counts per unit × category (the base of the rates and of the O/E adjustment)."""
    disposed = disposed_counts(engine, start, end, by, **scope)
    overdue = overdue_counts(engine, _as_of(end, now), by, now=now, **scope)
    cats = disposed.merge(overdue, on=list(by), how="outer")
    cats = _int_columns(
        cats, ["disposed", "ontime", "ontime_original", "rework", "extended", "hours_n", "overdue", "overdue_extended"]
    )
    cats[list(by)] = cats[list(by)].astype(int)
    return cats


def department_counts(
    engine: Engine,
    start: datetime,
    end: datetime,
    *,
    now: datetime | None = None,
    street_id: int | None = None,
    department_id: int | None = None,
) -> dict[str, pd.DataFrame]:
    """All department aggregates for [start, end) (6 small queries): ``by_category`` (department × category:
    disposed, ontime, ontime_original, rework, extended, overdue, overdue_extended), ``events`` (dispatched,
    returned), ``satisfaction`` and ``hours`` (histogram) per department. ``now`` (default: no bound) caps the "as
    of" time of 超期未处置数 at the present for a running period."""
    kw = dict(street_id=street_id, department_id=department_id)
    return {
        "by_category": _by_category(engine, start, end, ("department_id", "category_id"), now, **kw),
        "events": dispatch_return_counts(engine, start, end, **kw),
        "satisfaction": satisfaction_by(engine, start, end, "department_id", **kw),
        "hours": disposal_hours_histogram(engine, start, end, "department_id", **kw),
    }


def street_counts(
    engine: Engine, start: datetime, end: datetime, *, now: datetime | None = None
) -> dict[str, pd.DataFrame]:
    """All street (as areas) aggregates for [start, end): ``by_category`` (street × category, as in
    ``department_counts``), ``area`` (``street_area_counts``) and ``satisfaction`` per street."""
    return {
        "by_category": _by_category(engine, start, end, ("street_id", "category_id"), now),
        "area": street_area_counts(engine, start, end, as_of=_as_of(end, now)),
        "satisfaction": satisfaction_by(engine, start, end, "street_id"),
    }


# --- a department's own cases (bounded lists for the department view) -------------------------------------------------
_CASE_COLUMNS = (
    Case.id,
    Case.case_no,
    Case.category_id,
    Case.street_id,
    Case.grid_id,
    Case.status,
    Case.reported_at,
    Case.dispatched_at,
    Case.disposed_at,
    Case.deadline_at,
    Case.extended_deadline_at,
    Case.return_count,
    Case.rework_count,
    Case.extension_count,
    Case.address,
)


def department_overdue_cases(engine: Engine, department_id: int, now: datetime, limit: int = 200) -> pd.DataFrame:
    """The department's open cases past their effective deadline at ``now`` (most overdue first, at most
    ``limit``), from the open-case partial index."""
    stmt = (
        select(*_CASE_COLUMNS)
        .where(is_open(), Case.department_id == department_id, Case.status == "in_disposal", effective_deadline() < now)
        .order_by(effective_deadline())
        .limit(limit)
    )
    return fetch_frame(engine, stmt, row_cap=limit)


def department_reworked_cases(
    engine: Engine, department_id: int, start: datetime, end: datetime, limit: int = 200
) -> pd.DataFrame:
    """Cases of the department disposed in [start, end) after at least one 返工 (failed 核查), newest first."""
    stmt = (
        select(*_CASE_COLUMNS)
        .where(_disposed_filter(start, end), Case.department_id == department_id, Case.rework_count > 0)
        .order_by(Case.disposed_at.desc())
        .limit(limit)
    )
    return fetch_frame(engine, stmt, row_cap=limit)


def department_returned_cases(
    engine: Engine, department_id: int, start: datetime, end: datetime, limit: int = 200
) -> pd.DataFrame:
    """Cases the department returned (回退) in [start, end), from the event log: the case columns plus
    ``returned_at`` and ``note`` of the return, newest first."""
    stmt = (
        select(*_CASE_COLUMNS, CaseEvent.at.label("returned_at"), CaseEvent.note)
        .select_from(CaseEvent)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(
            CaseEvent.at >= start,
            CaseEvent.at < end,
            CaseEvent.action == "return",
            CaseEvent.department_id == department_id,
            Case.status != "cancelled",
        )
        .order_by(CaseEvent.at.desc())
        .limit(limit)
    )
    return fetch_frame(engine, stmt, row_cap=limit)


__all__ = [
    "CITIZEN_CHANNELS",
    "department_counts",
    "department_overdue_cases",
    "department_returned_cases",
    "department_reworked_cases",
    "disposal_hours_histogram",
    "dispatch_return_counts",
    "disposed_counts",
    "overdue_counts",
    "satisfaction_by",
    "street_area_counts",
    "street_counts",
]
