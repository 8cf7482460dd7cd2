"""Department and street scorecards (部门考评 / 街镇考评): aggregates computed in the database, plus the orchestrator
``department_scorecard`` / ``street_scorecard`` that the departments page and the wall both call.

Every query here follows the rules of ``data_access.queries``: small aggregate frames, SQLAlchemy Core on both
SQLite and PostgreSQL, ``fetch_frame`` (time limit, row cap), and a cost that grows with the window asked for (the
time-leading indexes on ``disposed_at``, ``closed_at``, ``parked_at``, ``registered_at``, ``reported_at`` and
``case_events.at``) or with the open backlog (the partial index over ``queries.is_open()``), never with history.

The definitions (DOMAIN.md §2–§3, docs/indicators.md) in one place:

- 处置数 (``disposed``): cases of the unit with ``disposed_at`` in [start, end); 作废, 自行处置 and 挂账 excluded.
- 超期未处置数 (``overdue``): cases of the unit that, at ``as_of`` (the end of the period, or now if earlier), were past
  their effective deadline (含延期) and not yet disposed. Rebuilt for past periods from the open backlog plus the cases
  that were disposed, force-closed or parked after ``as_of`` (three window-bounded index ranges).
- 应处置数 (``due``) = 处置数 + 超期未处置数.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Engine, and_, case, func, or_, select, union_all
from sqlalchemy.sql.expression import ColumnElement

from analytics import fairness, indicators
from data_access import settings
from data_access.domain import PUBLIC_CHANNELS
from data_access.engine import fetch_frame
from data_access.queries import categories as category_reference
from data_access.queries import departments as department_reference
from data_access.queries import effective_deadline, is_open
from data_access.queries import streets as street_reference
from data_access.schema import Case, CaseEvent
from data_access.sql_functions import int_floor

# Citizen channels (市民诉求): the base of 监督举报率 and of the hotline 响应率/解决率.
CITIZEN_CHANNELS = ("hotline", "app")
# Statuses that leave the disposal KPIs entirely (DOMAIN.md §2).
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
    return and_(Case.disposed_at >= start, Case.disposed_at < end,
                Case.status.not_in(_NOT_DISPOSAL + ("parked",)), Case.duplicate_of.is_(None))


# --- disposal in a window ---------------------------------------------------------------------------------------------
def disposed_counts(engine: Engine, start: datetime, end: datetime, by: tuple[str, ...] = ("department_id",), *,
                    street_id: int | None = None, department_id: int | None = None) -> pd.DataFrame:
    """Cases disposed in [start, end) per ``by`` (cases columns). Returns the keys and ``disposed`` (处置数),
    ``ontime`` (按期, by the effective deadline), ``ontime_original`` (by the original deadline), ``rework``
    (cases with ≥ 1 返工), ``extended`` (cases with ≥ 1 approved 延期), ``hours_n`` (cases with a disposal time)."""
    stmt = select(*_keys(by),
                  func.count().label("disposed"),
                  func.sum(_ontime()).label("ontime"),
                  func.sum(_ontime_original()).label("ontime_original"),
                  func.sum(case((Case.rework_count > 0, 1), else_=0)).label("rework"),
                  func.sum(case((Case.extension_count > 0, 1), else_=0)).label("extended"),
                  func.count(Case.disposal_work_hours).label("hours_n")) \
        .where(_disposed_filter(start, end)).group_by(*[getattr(Case, k) for k in by])
    frame = fetch_frame(engine, _scope(stmt, by, street_id, department_id))
    return _int_columns(frame, ["disposed", "ontime", "ontime_original", "rework", "extended", "hours_n"])


def overdue_counts(engine: Engine, as_of: datetime, by: tuple[str, ...] = ("department_id",), *,
                   street_id: int | None = None, department_id: int | None = None,
                   now: datetime | None = None) -> pd.DataFrame:
    """超期未处置数 at ``as_of`` per ``by``: ``overdue`` (past the effective deadline and not disposed at ``as_of``)
    and ``overdue_extended`` (of which had an approved 延期).

    Four index ranges, so the cost is the open backlog plus what changed after ``as_of``:
    still open now (partial index) ∪ disposed after ``as_of`` ∪ force-closed without disposal after ``as_of`` ∪
    parked after ``as_of``. ``now`` bounds the "after" ranges (default: no bound). 作废 and 自行处置 never count.
    """
    deadline = effective_deadline()
    late = and_(deadline.is_not(None), deadline < as_of)

    def branch(*conditions):
        stmt = select(*_keys(by), case((Case.extension_count > 0, 1), else_=0).label("ext")) \
            .where(late, _known(Case.department_id), Case.duplicate_of.is_(None), *conditions)
        return _scope(stmt, by, street_id, department_id)

    upper = [] if now is None else [Case.disposed_at <= now]
    # "disposed_at IS NULL" written so no planner can answer it from the disposed_at index (that would read every
    # undisposed case in history instead of the closed_at / parked_at range after as_of)
    never_disposed = case((Case.disposed_at.is_(None), 1), else_=0) == 1
    parts = [
        # open now: in disposal (incl. rework after a failed check), or awaiting 核查 after a disposal after as_of
        branch(is_open(), or_(Case.status == "in_disposal",
                              and_(Case.status == "pending_check", Case.disposed_at >= as_of))),
        # disposed after as_of and no longer open (a parked case only if it was parked after as_of too)
        branch(Case.disposed_at >= as_of, *upper, Case.status.in_(("closed", "force_closed", "parked")),
               or_(Case.parked_at.is_(None), Case.parked_at >= as_of)),
        # force-closed after as_of without a disposal
        branch(Case.closed_at >= as_of, never_disposed, Case.status == "force_closed"),
        # parked (挂账) after as_of: it stayed in the denominators until then
        branch(Case.parked_at >= as_of, never_disposed, Case.status == "parked"),
    ]
    sub = union_all(*parts).subquery()
    cols = [sub.c[k] for k in by]
    stmt = select(*cols, func.count().label("overdue"), func.sum(sub.c.ext).label("overdue_extended")) \
        .group_by(*cols)
    return _int_columns(fetch_frame(engine, stmt), ["overdue", "overdue_extended"])


def disposal_hours_histogram(engine: Engine, start: datetime, end: datetime, by: str = "department_id", *,
                             street_id: int | None = None, department_id: int | None = None) -> pd.DataFrame:
    """Histogram of ``disposal_work_hours`` of the cases disposed in [start, end) per ``by``: ``by``, ``lo`` (bin
    start, working hours), ``width`` and ``n``. Bins are 1 h wide below ``HOURS_FINE_LIMIT`` h and 8 h (one working
    day) wide above, so the result has at most a few hundred rows per unit whatever the volume."""
    hours = Case.disposal_work_hours
    coarse = HOURS_FINE_LIMIT + int_floor((hours - HOURS_FINE_LIMIT) / HOURS_COARSE_WIDTH) * HOURS_COARSE_WIDTH
    lo = case((hours < HOURS_FINE_LIMIT, int_floor(hours)), else_=coarse)
    stmt = select(getattr(Case, by).label(by), lo.label("lo"), func.count().label("n")) \
        .where(_disposed_filter(start, end), hours.is_not(None), hours >= 0) \
        .group_by(getattr(Case, by), lo)
    frame = fetch_frame(engine, _scope(stmt, (by,), street_id, department_id))
    frame = _int_columns(frame, ["lo", "n"])
    frame["width"] = np.where(frame["lo"] < HOURS_FINE_LIMIT, 1, HOURS_COARSE_WIDTH)
    return frame


def dispatch_return_counts(engine: Engine, start: datetime, end: datetime, *, street_id: int | None = None,
                           department_id: int | None = None) -> pd.DataFrame:
    """派遣数 and 回退数 per department from the event log in [start, end): ``department_id``, ``dispatched``
    (dispatch + redispatch events to the department), ``returned`` (return events by the department). Events of
    作废 and 自行处置 cases are left out."""
    stmt = select(CaseEvent.department_id.label("department_id"),
                  func.sum(case((CaseEvent.action.in_(("dispatch", "redispatch")), 1), else_=0)).label("dispatched"),
                  func.sum(case((CaseEvent.action == "return", 1), else_=0)).label("returned")) \
        .select_from(CaseEvent).join(Case, Case.id == CaseEvent.case_id) \
        .where(CaseEvent.at >= start, CaseEvent.at < end,
               CaseEvent.action.in_(("dispatch", "redispatch", "return")),
               _known(CaseEvent.department_id), Case.status.not_in(_NOT_DISPOSAL)) \
        .group_by(CaseEvent.department_id)
    if street_id is not None:
        stmt = stmt.where(Case.street_id == street_id)
    if department_id is not None:
        stmt = stmt.where(CaseEvent.department_id == department_id)
    return _int_columns(fetch_frame(engine, stmt), ["dispatched", "returned"])


def satisfaction_by(engine: Engine, start: datetime, end: datetime, by: str = "department_id", *,
                    street_id: int | None = None, department_id: int | None = None) -> pd.DataFrame:
    """回访 answers of public-channel cases closed in [start, end) per ``by``: ``satisfied``, ``basic``,
    ``unsatisfied``, ``answered`` (the same base as ``queries.satisfaction_counts``)."""
    stmt = select(getattr(Case, by).label(by),
                  func.sum(case((Case.satisfaction == "satisfied", 1), else_=0)).label("satisfied"),
                  func.sum(case((Case.satisfaction == "basic", 1), else_=0)).label("basic"),
                  func.sum(case((Case.satisfaction == "unsatisfied", 1), else_=0)).label("unsatisfied"),
                  func.count().label("answered")) \
        .where(Case.closed_at >= start, Case.closed_at < end, Case.satisfaction.is_not(None),
               Case.channel.in_(PUBLIC_CHANNELS), Case.status != "cancelled") \
        .group_by(getattr(Case, by))
    frame = fetch_frame(engine, _scope(stmt, (by,), street_id, department_id))
    return _int_columns(frame, ["satisfied", "basic", "unsatisfied", "answered"])


# --- streets as areas -------------------------------------------------------------------------------------------------
def street_area_counts(engine: Engine, start: datetime, end: datetime, *, as_of: datetime | None = None,
                       street_id: int | None = None) -> pd.DataFrame:
    """Area counts per street in [start, end): ``registered`` (立案数), ``citizen_registered`` (立案 from 12345/APP),
    ``closed`` (结案数: of the cases disposed in the period — the 处置数 part of 应结案数 — those closed (结案 or
    强制结案) by ``as_of``, default ``end``), ``closed_ontime`` (of which disposed by the effective deadline),
    ``citizen_received`` / ``citizen_responded`` / ``citizen_resolved`` (12345/APP 诉求 reported in the window:
    all, 立案 (responded), 结案 or 自行处置 (resolved)). 作废 and duplicates excluded."""
    def scoped(stmt):
        return stmt if street_id is None else stmt.where(Case.street_id == street_id)

    citizen = Case.channel.in_(CITIZEN_CHANNELS)
    registered = scoped(select(Case.street_id.label("street_id"), func.count().label("registered"),
                               func.sum(case((citizen, 1), else_=0)).label("citizen_registered"))
                        .where(Case.registered_at >= start, Case.registered_at < end, Case.status != "cancelled",
                               Case.duplicate_of.is_(None)).group_by(Case.street_id))
    # counted inside the 应结案 set (disposed in the period), so 结案率 cannot pass 100 % because of cases disposed
    # in the previous period and closed in this one
    closed = scoped(select(Case.street_id.label("street_id"), func.count().label("closed"),
                           func.sum(_ontime()).label("closed_ontime"))
                    .where(_disposed_filter(start, end), Case.status.in_(("closed", "force_closed")),
                           Case.closed_at < (end if as_of is None else as_of))
                    .group_by(Case.street_id))
    citizen_q = scoped(select(Case.street_id.label("street_id"), func.count().label("citizen_received"),
                              func.sum(case((Case.registered_at.is_not(None), 1), else_=0)).label("citizen_responded"),
                              func.sum(case((Case.status.in_(("closed", "self_handled")), 1), else_=0))
                              .label("citizen_resolved"))
                       .where(Case.reported_at >= start, Case.reported_at < end, citizen,
                              Case.status != "cancelled", Case.duplicate_of.is_(None)).group_by(Case.street_id))
    frame = None
    for q in (registered, closed, citizen_q):
        part = fetch_frame(engine, q)
        part["street_id"] = part["street_id"].astype(int)
        frame = part if frame is None else frame.merge(part, on="street_id", how="outer")
    return _int_columns(frame, ["registered", "citizen_registered", "closed", "closed_ontime", "citizen_received",
                                "citizen_responded", "citizen_resolved"])


# --- the orchestrators ------------------------------------------------------------------------------------------------
@dataclass
class Scorecard:
    """What a scorecard page needs, all small: ``table`` (one row per unit: counts, indicators, score, grade, O/E
    with interval, ranks with intervals, rank change), ``by_category`` (unit × category: due, on-time, district
    rate, expected), ``hours`` (the disposal-time histogram), and the period."""
    table: pd.DataFrame
    by_category: pd.DataFrame
    hours: pd.DataFrame
    start: datetime
    end: datetime
    as_of: datetime
    previous: tuple[datetime, datetime] | None = None
    settings_used: dict = field(default_factory=dict)
    previous_table: pd.DataFrame | None = None


def _as_of(end: datetime, now: datetime | None) -> datetime:
    return end if now is None else min(end, now)


def previous_period(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The period just before [start, end): the previous calendar month when [start, end) is a whole month, else
    the same length immediately before (a week → the week before)."""
    if start.day == 1 and end.day == 1 and start.time() == end.time() == datetime.min.time() \
            and (end.year * 12 + end.month) - (start.year * 12 + start.month) == 1:
        prev = (start.replace(day=1) - timedelta(days=1)).replace(day=1)
        return prev, start
    return start - (end - start), start


def department_counts(engine: Engine, start: datetime, end: datetime, *, now: datetime | None = None,
                      street_id: int | None = None, department_id: int | None = None) -> dict[str, pd.DataFrame]:
    """All department aggregates for [start, end) (6 small queries): ``by_category`` (department × category:
    disposed, ontime, ontime_original, rework, extended, overdue, overdue_extended), ``events`` (dispatched,
    returned), ``satisfaction`` and ``hours`` (histogram) per department."""
    as_of = _as_of(end, now)
    by = ("department_id", "category_id")
    kw = dict(street_id=street_id, department_id=department_id)
    disposed = disposed_counts(engine, start, end, by, **kw)
    overdue = overdue_counts(engine, as_of, by, now=now, **kw)
    cats = disposed.merge(overdue, on=list(by), how="outer")
    cats = _int_columns(cats, ["disposed", "ontime", "ontime_original", "rework", "extended", "hours_n", "overdue",
                               "overdue_extended"])
    cats[list(by)] = cats[list(by)].astype(int)
    return {"by_category": cats,
            "events": dispatch_return_counts(engine, start, end, **kw),
            "satisfaction": satisfaction_by(engine, start, end, "department_id", **kw),
            "hours": disposal_hours_histogram(engine, start, end, "department_id", **kw)}


def _difficulty(engine: Engine) -> dict[int, str]:
    """category_id → difficulty (simple | complex), the fallback reference class of the O/E adjustment."""
    ref = category_reference(engine)
    return dict(zip(ref["id"].astype(int), ref["difficulty"]))


def _rank_all(table: pd.DataFrame, min_volume: int, weights: dict, draws: int, seed: int) -> pd.DataFrame:
    """Score, O/E and their ranks with bootstrap intervals (pure; see analytics.fairness)."""
    rng = np.random.default_rng(seed)
    eligible = table["due"] >= min_volume
    score_samples = indicators.simulate_score(table, weights, draws, rng)
    table = fairness.rank_units(table, "score", score_samples, eligible, prefix="score", higher_is_better=True)
    oe_samples = fairness.simulate_oe(table, draws, rng)
    return fairness.rank_units(table, "oe", oe_samples, eligible, prefix="oe", higher_is_better=True)


def _score_and_grade(table: pd.DataFrame, weights: dict, thresholds: dict) -> pd.DataFrame:
    table["score"] = indicators.composite_score(table, weights)
    table["grade"] = indicators.grades(table["score"], thresholds)
    return table


def department_scorecard(engine: Engine, start: datetime, end: datetime, *, now: datetime | None = None,
                         street_id: int | None = None, with_previous: bool = True, min_volume: int | None = None,
                         weights: dict | None = None, thresholds: dict | None = None, draws: int = 1000,
                         seed: int = 20240601) -> Scorecard:
    """The department scorecard of [start, end) — what the page and the wall show.

    ``table`` has one row per department with cases in the period: id/code/name/name_en/kind, the counts
    (disposed, ontime, ontime_original, overdue, due, rework, extended, dispatched, returned, answered …), every
    indicator of ``analytics.indicators.DEPARTMENT_INDICATORS``, ``median_hours``/``p90_hours``, ``score``/``grade``,
    ``observed``/``expected``/``oe``/``oe_lo``/``oe_hi`` (case-mix adjusted on-time disposals), and for both
    ``score`` and ``oe``: ``<x>_rank``, ``<x>_rank_lo``/``<x>_rank_hi`` (95 % bootstrap interval),
    ``<x>_ranked`` (volume ≥ ``min_rank_volume``), ``<x>_tied`` (cannot be told apart from a neighbour),
    ``<x>_rank_change`` (previous period rank − this rank; positive = moved up). Sorted by ``oe_rank``.

    ``now`` (default: no bound) caps the "as of" time of 超期未处置数 at the present for a running period. The random
    seed is fixed so ranks do not flicker between refreshes.
    """
    weights = indicators.normalised_weights(weights or settings.get("score_weights"))
    thresholds = thresholds or settings.get("grade_thresholds")
    min_volume = int(settings.get("min_rank_volume") if min_volume is None else min_volume)

    difficulty = _difficulty(engine)

    def build(s, e):
        counts = department_counts(engine, s, e, now=now, street_id=street_id)
        table = indicators.department_table(counts["by_category"], counts["events"], counts["satisfaction"],
                                            counts["hours"])
        table = _score_and_grade(table, weights, thresholds)
        by_cat = fairness.expected_by_category(counts["by_category"], "department_id", difficulty=difficulty)
        table = table.merge(fairness.observed_expected(by_cat, "department_id"), on="department_id", how="left")
        return _rank_all(table, min_volume, weights, draws, seed), by_cat, counts["hours"]

    table, by_cat, hours = build(start, end)
    previous = prev_table = None
    if with_previous:
        previous = previous_period(start, end)
        prev_table, _, _ = build(*previous)
        for prefix in ("score", "oe"):
            table = fairness.rank_change(table, prev_table, "department_id", f"{prefix}_rank",
                                         f"{prefix}_ranked", out=f"{prefix}_rank_change")
    ref = department_reference(engine)[["id", "code", "name", "name_en", "kind"]] \
        .rename(columns={"id": "department_id"})
    table = ref.merge(table, on="department_id", how="inner")
    table = table.sort_values(["oe_rank", "score_rank", "code"], na_position="last", ignore_index=True)
    return Scorecard(table, by_cat, hours, start, end, _as_of(end, now), previous,
                     {"weights": weights, "thresholds": thresholds, "min_volume": min_volume, "draws": draws},
                     prev_table)


def street_scorecard(engine: Engine, start: datetime, end: datetime, *, now: datetime | None = None,
                     min_volume: int | None = None, draws: int = 1000, seed: int = 20240601) -> Scorecard:
    """The street (街镇, as areas) scorecard of [start, end). ``table`` has one row per street: id/code/name, the
    counts, 结案率, 按期结案率, 监督举报率, 响应率, 解决率, 满意率, 处置率/按期处置率 of the street's cases, and the
    case-mix adjusted ``oe`` with interval and rank (``oe_rank``, ``oe_rank_lo/hi``, ``oe_ranked``, ``oe_tied``,
    ``oe_rank_change``). Streets are ranked by O/E only (no composite weights are configured for areas)."""
    min_volume = int(settings.get("min_rank_volume") if min_volume is None else min_volume)
    difficulty = _difficulty(engine)

    def build(s, e):
        as_of = _as_of(e, now)
        by = ("street_id", "category_id")
        disposed = disposed_counts(engine, s, e, by)
        overdue = overdue_counts(engine, as_of, by, now=now)
        cats = disposed.merge(overdue, on=list(by), how="outer")
        cats = _int_columns(cats, ["disposed", "ontime", "ontime_original", "rework", "extended", "hours_n",
                                   "overdue", "overdue_extended"])
        cats[list(by)] = cats[list(by)].astype(int)
        area = street_area_counts(engine, s, e, as_of=as_of)
        sat = satisfaction_by(engine, s, e, "street_id")
        table = indicators.street_table(cats, area, sat)
        by_cat = fairness.expected_by_category(cats, "street_id", difficulty=difficulty)
        table = table.merge(fairness.observed_expected(by_cat, "street_id"), on="street_id", how="left")
        rng = np.random.default_rng(seed)
        table = fairness.rank_units(table, "oe", fairness.simulate_oe(table, draws, rng), table["due"] >= min_volume,
                                    prefix="oe", higher_is_better=True)
        return table, by_cat

    table, by_cat = build(start, end)
    previous = previous_period(start, end)
    prev_table, _ = build(*previous)
    table = fairness.rank_change(table, prev_table, "street_id", "oe_rank", "oe_ranked", out="oe_rank_change")
    ref = street_reference(engine)[["id", "code", "name", "kind"]].rename(columns={"id": "street_id"})
    table = ref.merge(table, on="street_id", how="inner")
    table = table.sort_values(["oe_rank", "code"], na_position="last", ignore_index=True)
    return Scorecard(table, by_cat, pd.DataFrame(), start, end, _as_of(end, now), previous,
                     {"min_volume": min_volume, "draws": draws}, prev_table)


# --- a department's own cases (bounded lists for the department view) -------------------------------------------------
_CASE_COLUMNS = (Case.id, Case.case_no, Case.category_id, Case.street_id, Case.grid_id, Case.status,
                 Case.reported_at, Case.dispatched_at, Case.disposed_at, Case.deadline_at,
                 Case.extended_deadline_at, Case.return_count, Case.rework_count, Case.extension_count, Case.address)


def department_overdue_cases(engine: Engine, department_id: int, now: datetime, limit: int = 200) -> pd.DataFrame:
    """The department's open cases past their effective deadline at ``now`` (most overdue first, at most
    ``limit``), from the open-case partial index."""
    stmt = select(*_CASE_COLUMNS).where(is_open(), Case.department_id == department_id,
                                        Case.status == "in_disposal", effective_deadline() < now) \
        .order_by(effective_deadline()).limit(limit)
    return fetch_frame(engine, stmt, row_cap=limit)


def department_reworked_cases(engine: Engine, department_id: int, start: datetime, end: datetime,
                              limit: int = 200) -> pd.DataFrame:
    """Cases of the department disposed in [start, end) after at least one 返工 (failed 核查), newest first."""
    stmt = select(*_CASE_COLUMNS).where(_disposed_filter(start, end), Case.department_id == department_id,
                                        Case.rework_count > 0) \
        .order_by(Case.disposed_at.desc()).limit(limit)
    return fetch_frame(engine, stmt, row_cap=limit)


def department_returned_cases(engine: Engine, department_id: int, start: datetime, end: datetime,
                              limit: int = 200) -> pd.DataFrame:
    """Cases the department returned (回退) in [start, end), from the event log: the case columns plus
    ``returned_at`` and ``note`` of the return, newest first."""
    stmt = select(*_CASE_COLUMNS, CaseEvent.at.label("returned_at"), CaseEvent.note) \
        .select_from(CaseEvent).join(Case, Case.id == CaseEvent.case_id) \
        .where(CaseEvent.at >= start, CaseEvent.at < end, CaseEvent.action == "return",
               CaseEvent.department_id == department_id, Case.status != "cancelled") \
        .order_by(CaseEvent.at.desc()).limit(limit)
    return fetch_frame(engine, stmt, row_cap=limit)


def department_trend(engine: Engine, department_id: int, periods: list[tuple[datetime, datetime]], *,
                     now: datetime | None = None, min_volume: int | None = None) -> pd.DataFrame:
    """One row per period (oldest first) for a department: ``start``, ``end``, ``due``, ``disposal_rate``,
    ``ontime_rate``, ``rework_rate``, ``oe``, ``score``, ``oe_rank``, ``n_ranked``. Each period is one full
    scorecard (without the previous-period pass), so ranks are the ones the ranking table showed."""
    rows = []
    for s, e in periods:
        card = department_scorecard(engine, s, e, now=now, with_previous=False, min_volume=min_volume, draws=200)
        t = card.table
        mine = t[t["department_id"] == department_id]
        row = {"start": s, "end": e, "n_ranked": int(t["oe_ranked"].sum()) if len(t) else 0}
        for col in ("due", "disposal_rate", "ontime_rate", "rework_rate", "oe", "score", "oe_rank"):
            row[col] = mine[col].iloc[0] if len(mine) else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


__all__ = ["CITIZEN_CHANNELS", "Scorecard", "department_counts", "department_overdue_cases",
           "department_returned_cases", "department_reworked_cases", "department_scorecard", "department_trend",
           "disposal_hours_histogram", "dispatch_return_counts", "disposed_counts", "overdue_counts",
           "previous_period", "satisfaction_by", "street_area_counts", "street_scorecard"]
