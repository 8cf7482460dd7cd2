"""Queries of the weekly coordination meeting (周例会, issue 8): headline numbers per week, the department agenda,
hotspots, and repeat problems. What the screen and the meeting pack make of them (comparisons, the agenda) is
``reports.weekly``.

Same rules as ``data_access.queries``: small aggregates computed in the database on SQLite and PostgreSQL through
``fetch_frame``; the cost is bounded by the weeks shown (time-leading indexes on ``reported_at``, ``closed_at``,
``disposed_at``, ``case_events.at``) or by the open backlog (partial index ``ix_cases_open_dept``), never by history.
Department indicators are not recomputed here: ``scorecard_queries`` (处置/按期/超期) and ``queries`` (满意率) do it.

A meeting week runs Monday 00:00 to the next Monday 00:00 (local time), named by its Monday.

Repeat problems (重复发生, "closures that did not stick"): a case reported in the week whose category and place match
a case that was closed (结案/自行处置/强制结案) at most ``repeat_days`` days before it. "Same place" = the same grid
(equality join, so each side uses an index range) and within ``radius_m`` metres (a lat/lon box, the same on both
dialects). The earlier case's department owns the repeat. The join is bounded: the later side is the week's reports
(``ix_cases_reported_at``), the earlier side the closures in [week start − N days, week end) (``ix_cases_closed_at``).
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import Engine, and_, case, func, literal_column, select

from core.domain import CLOSED_STATUSES
from core.periods import monday_of, period_bounds
from data_access.engine import fetch_frame
from data_access.queries import effective_deadline, is_counted, is_open, satisfaction_counts
from data_access.schema import Case, CaseEvent, Category, Department, Grid
from data_access.scorecard_queries import disposed_counts, overdue_counts
from data_access.sql_functions import day_of, hour_of, weekday_of

# Metres per degree of latitude; a degree of longitude is this × cos(latitude).
M_PER_DEG_LAT = 111_320.0
DEFAULT_REPEAT_DAYS = 14
DEFAULT_RADIUS_M = 50.0


# --- weeks ------------------------------------------------------------------------------------------------------------
def week_bounds(week: date) -> tuple[datetime, datetime]:
    """[start, end) of the meeting week starting on Monday ``week`` (weeks are ``core.periods`` arithmetic; a day
    that is not a Monday is a caller's bug, refused here so it cannot shift a week silently)."""
    if week.weekday() != 0:
        raise ValueError(f"{week} is not a Monday")
    return period_bounds("week", week)


# --- headline -------------------------------------------------------------------------------------------------------
def _daily(engine: Engine, column, start: datetime, end: datetime, *where, label: str) -> pd.DataFrame:
    stmt = (
        select(day_of(column).label("day"), func.count().label(label))
        .where(column >= start, column < end, *where)
        .group_by(day_of(column))
    )
    frame = fetch_frame(engine, stmt)
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    frame[label] = frame[label].astype(int)
    return frame


def _to_weeks(frame: pd.DataFrame, label: str) -> dict[date, int]:
    if frame.empty:
        return {}
    weeks = frame["day"].map(monday_of)
    return frame.groupby(weeks)[label].sum().astype(int).to_dict()


def weekly_headline(engine: Engine, week: date, *, history: int = 4, now: datetime | None = None) -> pd.DataFrame:
    """One row per week from ``history`` weeks before ``week`` up to ``week`` (oldest first): ``week`` (Monday),
    ``new`` (reported, 作废/duplicates excluded), ``closed`` (结案/自行处置/强制结案 by closing time), ``overdue``
    (超期未处置数 at the week's end, or ``now`` if earlier), ``disposed``, ``ontime``, ``due`` (the scorecard's
    处置数 / 按期处置数 / 应处置数), ``ontime_rate`` (按期处置率, ontime / due), ``satisfied``/``basic``/``answered`` (call-back answers; the 满意率 is computed in
    ``reports.weekly`` from ``analytics.indicators``), ``escalated`` (escalations to the district loop, 大循环, by event time) and
    ``has_data`` (any case reported that week: weeks before the data start do not count in averages).

    Cost: 3 window queries over the whole span plus 3 per week (bounded by the weeks shown)."""
    first = week - timedelta(days=7 * history)
    span_start, _ = week_bounds(first)
    _, span_end = week_bounds(week)
    new = _to_weeks(_daily(engine, Case.reported_at, span_start, span_end, is_counted(), label="n"), "n")
    closed = _to_weeks(
        _daily(
            engine,
            Case.closed_at,
            span_start,
            span_end,
            Case.status.in_(CLOSED_STATUSES),
            Case.duplicate_of.is_(None),
            label="n",
        ),
        "n",
    )
    escalated = _to_weeks(
        _daily(engine, CaseEvent.at, span_start, span_end, CaseEvent.action == "escalate", label="n"), "n"
    )
    rows = []
    for i in range(history + 1):
        monday = first + timedelta(days=7 * i)
        start, end = week_bounds(monday)
        as_of = end if now is None else min(end, now)
        disposed = disposed_counts(engine, start, end, ("department_id",))
        overdue = overdue_counts(engine, as_of, ("department_id",), now=now)
        sat = satisfaction_counts(engine, start, end)
        n_disposed, n_ontime = int(disposed["disposed"].sum()), int(disposed["ontime"].sum())
        n_overdue = int(overdue["overdue"].sum())
        due = n_disposed + n_overdue
        rows.append(
            {
                "week": monday,
                "new": new.get(monday, 0),
                "closed": closed.get(monday, 0),
                "overdue": n_overdue,
                "disposed": n_disposed,
                "ontime": n_ontime,
                "due": due,
                "ontime_rate": n_ontime / due if due else math.nan,
                "satisfied": sat["satisfied"],
                "basic": sat["basic"],
                "answered": sat["answered"],
                "escalated": escalated.get(monday, 0),
                "has_data": new.get(monday, 0) > 0,
            }
        )
    return pd.DataFrame(rows)


# --- the department agenda ------------------------------------------------------------------------------------------
def department_week(engine: Engine, week: date, *, now: datetime | None = None) -> pd.DataFrame:
    """Per department with anything to discuss in the week: ``department_id``, ``disposed``, ``ontime``,
    ``overdue`` (超期未处置数 at the week's end), ``due``, ``ontime_rate``, ``returned`` (回退 events by the
    department), ``reworked`` (核查不通过 events on its cases), ``escalated`` (escalations of its cases)."""
    start, end = week_bounds(week)
    as_of = end if now is None else min(end, now)
    disposed = disposed_counts(engine, start, end, ("department_id",))[["department_id", "disposed", "ontime"]]
    overdue = overdue_counts(engine, as_of, ("department_id",), now=now)[["department_id", "overdue"]]
    events = fetch_frame(
        engine,
        select(
            CaseEvent.department_id.label("department_id"),
            func.sum(case((CaseEvent.action == "return", 1), else_=0)).label("returned"),
            func.sum(case((CaseEvent.action == "check_fail", 1), else_=0)).label("reworked"),
            func.sum(case((CaseEvent.action == "escalate", 1), else_=0)).label("escalated"),
        )
        .where(
            CaseEvent.at >= start,
            CaseEvent.at < end,
            CaseEvent.action.in_(("return", "check_fail", "escalate")),
            CaseEvent.department_id.is_not(None),
        )
        .group_by(CaseEvent.department_id),
    )
    out = disposed.merge(overdue, on="department_id", how="outer").merge(events, on="department_id", how="outer")
    for col in ("disposed", "ontime", "overdue", "returned", "reworked", "escalated"):
        out[col] = pd.to_numeric(out[col]).fillna(0).astype(int) if col in out else 0
    out["department_id"] = out["department_id"].astype(int)
    out["due"] = out["disposed"] + out["overdue"]
    out["ontime_rate"] = out["ontime"] / out["due"].where(out["due"] > 0)
    return out.sort_values(["overdue", "returned", "department_id"], ascending=[False, False, True], ignore_index=True)


def overdue_cases(
    engine: Engine, week: date, *, now: datetime, department_id: int | None = None, limit: int = 500
) -> pd.DataFrame:
    """Cases already past their effective deadline (含延期) at the week's end and still open at ``now`` — what the
    department must answer for at the meeting — oldest deadline first: ``id``, ``case_no``, ``department_id``,
    ``category``, ``status``, ``address``, ``reported_at``, ``deadline``, ``days_overdue`` (at ``now``).
    Uses the partial index over open cases; at most ``limit`` rows."""
    _, end = week_bounds(week)
    as_of = min(end, now)
    deadline = effective_deadline()
    stmt = (
        select(
            Case.id,
            Case.case_no,
            Case.department_id,
            Category.minor_name.label("category"),
            Category.minor_name_en.label("category_en"),
            Case.status,
            Case.address,
            Case.reported_at,
            deadline.label("deadline"),
        )
        .join(Category, Category.id == Case.category_id)
        .where(is_open(), Case.department_id.is_not(None), deadline.is_not(None), deadline < as_of)
        .order_by(deadline, Case.id)
        .limit(limit)
    )
    if department_id is not None:
        stmt = stmt.where(Case.department_id == department_id)
    frame = fetch_frame(engine, stmt, row_cap=limit)
    frame["deadline"] = pd.to_datetime(frame["deadline"])
    frame["days_overdue"] = ((pd.Timestamp(now) - frame["deadline"]).dt.total_seconds() / 86400).round(1)
    return frame


def event_cases(
    engine: Engine, week: date, actions: tuple[str, ...], *, department_id: int | None = None, limit: int = 500
) -> pd.DataFrame:
    """Cases with an event of ``actions`` (e.g. ``("return",)`` 回退, ``("check_fail",)`` 返工, ``("escalate",)``
    大循环) in the week, newest first: ``case_no``, ``action``, ``at``, ``department_id`` (the event's department),
    ``category``, ``status``, ``note``. Uses ``ix_case_events_at_action``; at most ``limit`` rows."""
    start, end = week_bounds(week)
    stmt = (
        select(
            Case.case_no,
            CaseEvent.action,
            CaseEvent.at,
            CaseEvent.department_id,
            Category.minor_name.label("category"),
            Category.minor_name_en.label("category_en"),
            Case.status,
            CaseEvent.note,
        )
        .select_from(CaseEvent)
        .join(Case, Case.id == CaseEvent.case_id)
        .join(Category, Category.id == Case.category_id)
        .where(
            CaseEvent.at >= start,
            CaseEvent.at < end,
            CaseEvent.action.in_(actions),
            CaseEvent.department_id.is_not(None),
        )
        .order_by(CaseEvent.at.desc(), CaseEvent.id.desc())
        .limit(limit)
    )
    if department_id is not None:
        stmt = stmt.where(CaseEvent.department_id == department_id)
    return fetch_frame(engine, stmt, row_cap=limit)


def repeat_problems(
    engine: Engine,
    week: date,
    *,
    repeat_days: int = DEFAULT_REPEAT_DAYS,
    radius_m: float = DEFAULT_RADIUS_M,
    limit: int = 5000,
) -> pd.DataFrame:
    """Repeat problems of the week (see the module docstring): one row per later case, paired with the most
    recent earlier closure it repeats: ``case_no`` / ``reported_at`` (the new report), ``first_case_no`` /
    ``first_closed_at`` / ``department_id`` (the closure that did not stick and its department), ``category_id``,
    ``category``, ``grid_id``, ``address``, ``days_after`` (days from that closure to the new report).

    The SQL bounds both sides by index ranges and the gap by the window; the exact "≤ N days" test and the choice
    of the latest earlier closure are done on the (small) joined pairs. At most ``limit`` pairs are read."""
    if repeat_days < 1 or radius_m <= 0:
        raise ValueError("repeat_days must be ≥ 1 and radius_m > 0")
    start, end = week_bounds(week)
    dlat = radius_m / M_PER_DEG_LAT
    # A box a little wider than the radius in longitude (valid up to 60° latitude); exact metres are checked below.
    dlon = radius_m / (M_PER_DEG_LAT * math.cos(math.radians(60)))
    # Both sides as materialised CTEs, each one index range; joining them on (grid, category) then costs the two
    # small sets (a nested loop from the closures into the grid index would read every later case of each grid).
    later = (
        select(
            Case.id, Case.case_no, Case.reported_at, Case.lat, Case.lon, Case.category_id, Case.grid_id, Case.address
        )
        .where(
            Case.reported_at >= start, Case.reported_at < end, Case.status != "cancelled", Case.duplicate_of.is_(None)
        )
        .cte("repeat_later")
        .prefix_with("MATERIALIZED")
    )
    earlier = (
        select(
            Case.id,
            Case.case_no,
            Case.closed_at,
            Case.department_id,
            Case.lat,
            Case.lon,
            Case.category_id,
            Case.grid_id,
        )
        .where(
            Case.closed_at >= start - timedelta(days=repeat_days),
            Case.closed_at < end,
            Case.status.in_([literal_column(f"'{s}'") for s in CLOSED_STATUSES]),
        )
        .cte("repeat_earlier")
        .prefix_with("MATERIALIZED")
    )
    stmt = (
        select(
            later.c.id,
            later.c.case_no,
            later.c.reported_at,
            later.c.lat,
            later.c.lon,
            later.c.category_id,
            later.c.grid_id,
            later.c.address,
            earlier.c.case_no.label("first_case_no"),
            earlier.c.closed_at.label("first_closed_at"),
            earlier.c.department_id,
            earlier.c.lat.label("first_lat"),
            earlier.c.lon.label("first_lon"),
        )
        .select_from(later)
        .join(earlier, and_(earlier.c.grid_id == later.c.grid_id, earlier.c.category_id == later.c.category_id))
        .where(
            earlier.c.closed_at <= later.c.reported_at,
            earlier.c.id != later.c.id,
            func.abs(earlier.c.lat - later.c.lat) <= dlat,
            func.abs(earlier.c.lon - later.c.lon) <= dlon,
        )
        .limit(limit)
    )
    pairs = fetch_frame(engine, stmt, row_cap=limit)
    columns = [
        "case_no",
        "reported_at",
        "first_case_no",
        "first_closed_at",
        "department_id",
        "category_id",
        "category",
        "grid_id",
        "grid",
        "address",
        "days_after",
    ]
    if pairs.empty:
        return pd.DataFrame(columns=columns)
    pairs["reported_at"] = pd.to_datetime(pairs["reported_at"])
    pairs["first_closed_at"] = pd.to_datetime(pairs["first_closed_at"])
    gap = pairs["reported_at"] - pairs["first_closed_at"]
    lat0 = pairs["lat"].astype(float).map(math.radians).map(math.cos)
    dist = ((pairs["lat"] - pairs["first_lat"]) * M_PER_DEG_LAT) ** 2 + (
        (pairs["lon"] - pairs["first_lon"]) * M_PER_DEG_LAT * lat0
    ) ** 2
    pairs = pairs[(gap <= pd.Timedelta(days=repeat_days)) & (dist <= radius_m**2)]
    pairs = pairs.sort_values("first_closed_at").drop_duplicates("id", keep="last")
    pairs["days_after"] = ((pairs["reported_at"] - pairs["first_closed_at"]).dt.total_seconds() / 86400).round(1)
    names = fetch_frame(
        engine,
        select(
            Category.id.label("category_id"),
            Category.minor_name.label("category"),
            Category.minor_name_en.label("category_en"),
        ),
    )
    grids = fetch_frame(
        engine,
        select(Grid.id.label("grid_id"), Grid.name.label("grid")).where(
            Grid.id.in_(sorted(set(pairs["grid_id"].astype(int))))
        ),
    )
    pairs = pairs.merge(names, on="category_id", how="left").merge(grids, on="grid_id", how="left")
    pairs["department_id"] = pairs["department_id"].astype("Int64")
    return pairs[columns + ["category_en"]].sort_values(["department_id", "reported_at"], ignore_index=True)


# --- hotspots -------------------------------------------------------------------------------------------------------
def top_places(engine: Engine, week: date, *, limit: int = 10, major_code: str | None = None) -> pd.DataFrame:
    """高发点位: the places (grid + address) with the most cases reported in the week, most first: ``grid_id``,
    ``grid``, ``address``, ``n``, ``top_category`` (the commonest minor category there) and ``top_n``."""
    start, end = week_bounds(week)
    where = [Case.reported_at >= start, Case.reported_at < end, is_counted(), Case.address.is_not(None)]
    if major_code is not None:
        where.append(Category.major_code == major_code)
    places = (
        select(Case.grid_id, Case.address, func.count().label("n"))
        .select_from(Case)
        .join(Category, Category.id == Case.category_id)
        .where(*where)
        .group_by(Case.grid_id, Case.address)
        .order_by(func.count().desc(), Case.grid_id, Case.address)
        .limit(limit)
    )
    top = fetch_frame(engine, places, row_cap=limit)
    if top.empty:
        return pd.DataFrame(columns=["grid_id", "grid", "address", "n", "top_category", "top_category_en", "top_n"])
    grid_ids = sorted(set(top["grid_id"].astype(int)))
    mix = fetch_frame(
        engine,
        select(Case.grid_id, Case.address, Category.minor_name, Category.minor_name_en, func.count().label("k"))
        .select_from(Case)
        .join(Category, Category.id == Case.category_id)
        .where(*where, Case.grid_id.in_(grid_ids))
        .group_by(Case.grid_id, Case.address, Category.minor_name, Category.minor_name_en),
    )
    mix = mix.sort_values(["k", "minor_name"], ascending=[False, True]).drop_duplicates(["grid_id", "address"])
    mix = mix.rename(columns={"minor_name": "top_category", "minor_name_en": "top_category_en", "k": "top_n"})
    grids = fetch_frame(engine, select(Grid.id.label("grid_id"), Grid.name.label("grid")).where(Grid.id.in_(grid_ids)))
    out = top.merge(grids, on="grid_id", how="left").merge(mix, on=["grid_id", "address"], how="left")
    out["n"] = out["n"].astype(int)
    return out[["grid_id", "grid", "address", "n", "top_category", "top_category_en", "top_n"]]


def weekday_hour_counts(engine: Engine, week: date, *, weeks: int = 1) -> pd.DataFrame:
    """高发时段: cases reported per major category × weekday (0 = Monday) × hour over the ``weeks`` weeks ending
    with ``week``: ``major_code``, ``major_name``, ``major_name_en``, ``weekday``, ``hour``, ``n``
    (at most 15 × 7 × 24 rows)."""
    _, end = week_bounds(week)
    start = end - timedelta(days=7 * weeks)
    wd, hr = weekday_of(Case.reported_at), hour_of(Case.reported_at)
    stmt = (
        select(
            Category.major_code,
            Category.major_name,
            Category.major_name_en,
            wd.label("weekday"),
            hr.label("hour"),
            func.count().label("n"),
        )
        .select_from(Case)
        .join(Category, Category.id == Case.category_id)
        .where(Case.reported_at >= start, Case.reported_at < end, is_counted())
        .group_by(Category.major_code, Category.major_name, Category.major_name_en, wd, hr)
    )
    frame = fetch_frame(engine, stmt)
    for col in ("weekday", "hour", "n"):
        frame[col] = frame[col].astype(int)
    return frame


def major_categories(engine: Engine, week: date) -> pd.DataFrame:
    """Major categories with cases reported in the week, most first: ``major_code``, ``major_name``,
    ``major_name_en``, ``n``."""
    start, end = week_bounds(week)
    stmt = (
        select(Category.major_code, Category.major_name, Category.major_name_en, func.count().label("n"))
        .select_from(Case)
        .join(Category, Category.id == Case.category_id)
        .where(Case.reported_at >= start, Case.reported_at < end, is_counted())
        .group_by(Category.major_code, Category.major_name, Category.major_name_en)
        .order_by(func.count().desc(), Category.major_code)
    )
    return fetch_frame(engine, stmt)


def department_names(engine: Engine) -> pd.DataFrame:
    """``department_id``, ``code``, ``name``, ``name_en`` of every department."""
    return fetch_frame(
        engine,
        select(Department.id.label("department_id"), Department.code, Department.name, Department.name_en).order_by(
            Department.code
        ),
    )
