"""Aggregate queries: small DataFrames, computed in the database, written once for SQLite and PostgreSQL.

Rules every function here follows:
- it takes the engine (injected) and small arguments, and returns an aggregate, never the case table;
- its cost grows with the time window asked for, or with the open backlog (partial indexes), not with history;
- it goes through ``fetch_frame``, so the time limit and row cap apply.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import Engine, and_, case, func, literal_column, or_, select
from sqlalchemy.sql.expression import ColumnElement

from core.domain import OPEN_STATUSES, PUBLIC_CHANNELS
from data_access.engine import fetch_frame
from data_access.schema import Case, Category, Community, DatasetInfo, Department, Grid, Street, Workday
from data_access.sql_functions import day_of


# --- predicates ----------------------------------------------------------------------------------------------------
def is_open() -> ColumnElement[bool]:
    """The open-case predicate with literal values, matching the partial indexes' predicate (a bound-parameter
    IN list would not let SQLite prove the index applies)."""
    return Case.status.in_([literal_column(f"'{s}'") for s in OPEN_STATUSES])


def is_parked() -> ColumnElement[bool]:
    """挂账 with a literal value, so the partial index ``ix_cases_parked`` applies."""
    return Case.status == literal_column("'parked'")


def effective_deadline() -> ColumnElement:
    """Deadline after approved extensions (延期), else the original one."""
    return func.coalesce(Case.extended_deadline_at, Case.deadline_at)


def _in_street(stmt, street_id: int | None, column=Case.street_id):
    return stmt if street_id is None else stmt.where(column == street_id)


# Columns callers may group by (never a free string turned into SQL).
GROUPABLE = {None, "department_id", "street_id", "community_id", "grid_id", "category_id", "channel"}


def is_counted():
    """Cases that count in volumes: everything except 作废 (cancelled) and duplicates."""
    return and_(Case.status != "cancelled", Case.duplicate_of.is_(None))


# --- reference data -------------------------------------------------------------------------------------------------
def streets(engine: Engine) -> pd.DataFrame:
    """One row per street: id, code, name, kind, centroid, area, population, polygon GeoJSON."""
    return fetch_frame(
        engine,
        select(
            Street.id,
            Street.code,
            Street.name,
            Street.kind,
            Street.centroid_lat,
            Street.centroid_lon,
            Street.area_km2,
            Street.population,
            Street.polygon_geojson,
        ).order_by(Street.code),
    )


def communities(engine: Engine, street_id: int | None = None) -> pd.DataFrame:
    """One row per community (居委/村委): id, code, name, kind, street_id, centroid, population, polygon GeoJSON."""
    stmt = select(
        Community.id,
        Community.code,
        Community.name,
        Community.kind,
        Community.street_id,
        Community.centroid_lat,
        Community.centroid_lon,
        Community.population,
        Community.polygon_geojson,
    ).order_by(Community.code)
    return fetch_frame(engine, _in_street(stmt, street_id, Community.street_id))


def grids(engine: Engine, street_id: int | None = None) -> pd.DataFrame:
    """One row per grid: id, code, name, kind, community/street ids, centroid, area, population, land use, polygon."""
    stmt = select(
        Grid.id,
        Grid.code,
        Grid.name,
        Grid.kind,
        Grid.community_id,
        Grid.street_id,
        Grid.centroid_lat,
        Grid.centroid_lon,
        Grid.area_km2,
        Grid.population,
        Grid.land_use,
        Grid.polygon_geojson,
    ).order_by(Grid.code)
    return fetch_frame(engine, _in_street(stmt, street_id, Grid.street_id))


def grid_labels(engine: Engine, street_id: int | None = None, grid_ids=None) -> pd.DataFrame:
    """Grids without their outlines: ``id``, ``name``, ``street_id``, ``street`` (its name), ``population`` — all
    of a street (or the district), or only ``grid_ids`` when given."""
    stmt = (
        select(Grid.id, Grid.name, Grid.street_id, Street.name.label("street"), Grid.population)
        .join(Street, Street.id == Grid.street_id)
        .order_by(Grid.code)
    )
    if grid_ids is not None:
        stmt = stmt.where(Grid.id.in_([int(i) for i in grid_ids]))
    return fetch_frame(engine, _in_street(stmt, street_id, Grid.street_id))


def departments(engine: Engine) -> pd.DataFrame:
    """One row per department: id, code, name, name_en, kind, street_id."""
    return fetch_frame(
        engine,
        select(
            Department.id, Department.code, Department.name, Department.name_en, Department.kind, Department.street_id
        ).order_by(Department.code),
    )


def categories(engine: Engine) -> pd.DataFrame:
    """The category taxonomy: id, code, kind, major/minor names (zh, en), difficulty, default department, limit."""
    return fetch_frame(
        engine,
        select(
            Category.id,
            Category.code,
            Category.kind,
            Category.major_code,
            Category.major_name,
            Category.minor_name,
            Category.major_name_en,
            Category.minor_name_en,
            Category.difficulty,
            Category.multi_department,
            Category.default_department_id,
            Category.time_limit_work_hours,
        ).order_by(Category.code),
    )


def dataset_info(engine: Engine) -> dict[str, str]:
    """Facts about the loaded data, e.g. ``{'origin': 'seed:demo', 'seeded_at': ...}``."""
    frame = fetch_frame(engine, select(DatasetInfo.key, DatasetInfo.value))
    return dict(zip(frame["key"], frame["value"]))


def data_time_range(engine: Engine) -> tuple[datetime | None, datetime | None]:
    """Earliest and latest ``reported_at`` (uses the reported_at index at both ends)."""
    frame = fetch_frame(engine, select(func.min(Case.reported_at).label("lo"), func.max(Case.reported_at).label("hi")))
    lo, hi = frame.iloc[0]
    return (
        None if pd.isna(lo) else pd.Timestamp(lo).to_pydatetime(),
        None if pd.isna(hi) else pd.Timestamp(hi).to_pydatetime(),
    )


# --- volumes in a window ----------------------------------------------------------------------------------------------
def count_reported(engine: Engine, start: datetime, end: datetime, street_id: int | None = None) -> int:
    """Number of cases reported in [start, end) (作废 and duplicates excluded)."""
    stmt = select(func.count()).where(Case.reported_at >= start, Case.reported_at < end, is_counted())
    return int(fetch_frame(engine, _in_street(stmt, street_id)).iloc[0, 0])


def daily_new_and_closed(engine: Engine, start: datetime, end: datetime, street_id: int | None = None) -> pd.DataFrame:
    """Per calendar day in [start, end): ``day``, ``new`` (reported) and ``closed`` (结案/自行处置/强制结案)."""
    new = _in_street(
        select(day_of(Case.reported_at).label("day"), func.count().label("new"))
        .where(Case.reported_at >= start, Case.reported_at < end, is_counted())
        .group_by(day_of(Case.reported_at)),
        street_id,
    )
    closed = _in_street(
        select(day_of(Case.closed_at).label("day"), func.count().label("closed"))
        .where(
            Case.closed_at >= start, Case.closed_at < end, Case.status.in_(("closed", "self_handled", "force_closed"))
        )
        .group_by(day_of(Case.closed_at)),
        street_id,
    )
    days = pd.DataFrame(
        {"day": pd.date_range(pd.Timestamp(start).normalize(), pd.Timestamp(end), freq="D", inclusive="left").date}
    )
    frames = [fetch_frame(engine, q) for q in (new, closed)]
    for frame in frames:
        frame["day"] = pd.to_datetime(frame["day"]).dt.date
        days = days.merge(frame, on="day", how="left")
    return days.fillna(0).astype({"new": int, "closed": int})


def channel_mix(engine: Engine, start: datetime, end: datetime, street_id: int | None = None) -> pd.DataFrame:
    """Cases reported in [start, end) per channel: ``channel``, ``n``, ``share``."""
    stmt = _in_street(
        select(Case.channel, func.count().label("n"))
        .where(Case.reported_at >= start, Case.reported_at < end, is_counted())
        .group_by(Case.channel),
        street_id,
    )
    frame = fetch_frame(engine, stmt)
    frame["share"] = frame["n"] / frame["n"].sum() if len(frame) else []
    return frame.sort_values("n", ascending=False, ignore_index=True)


# --- the open backlog (partial indexes) -------------------------------------------------------------------------------
def open_backlog_by_grid(engine: Engine, now: datetime, street_id: int | None = None) -> pd.DataFrame:
    """Per grid with open cases: ``grid_id``, ``open``, ``overdue`` (past the effective deadline at ``now``)."""
    overdue = case((effective_deadline() < now, 1), else_=0)
    stmt = _in_street(
        select(Case.grid_id, func.count().label("open"), func.sum(overdue).label("overdue"))
        .where(is_open())
        .group_by(Case.grid_id),
        street_id,
    )
    frame = fetch_frame(engine, stmt)
    return frame.astype({"open": int, "overdue": int})


def backlog_totals(engine: Engine, now: datetime, street_id: int | None = None) -> dict[str, int]:
    """District (or street) totals: ``open``, ``overdue`` and ``parked`` (挂账 stock)."""
    by_grid = open_backlog_by_grid(engine, now, street_id)
    parked = _in_street(select(func.count()).where(is_parked()), street_id)
    return {
        "open": int(by_grid["open"].sum()),
        "overdue": int(by_grid["overdue"].sum()),
        "parked": int(fetch_frame(engine, parked).iloc[0, 0]),
    }


# --- disposal and satisfaction in a window ----------------------------------------------------------------------------
def disposal_counts(
    engine: Engine, start: datetime, end: datetime, by: str = "department_id", street_id: int | None = None
) -> pd.DataFrame:
    """Disposal counts for cases disposed in [start, end), per ``by`` (a cases column, or ``None`` for one row).

    Columns: ``disposed`` (处置数), ``ontime`` (disposed by the effective deadline, 按期(含延期)),
    ``ontime_original`` (by the original deadline), ``rework`` and ``extended`` case counts. 作废, 自行处置 and
    挂账 cases are excluded (docs/domain.md §2).
    """
    if by not in GROUPABLE:
        raise ValueError(f"cannot group by {by!r}; choose one of {sorted(k for k in GROUPABLE if k)}")
    key = [getattr(Case, by).label(by)] if by else []
    stmt = select(
        *key,
        func.count().label("disposed"),
        func.sum(case((Case.disposed_at <= effective_deadline(), 1), else_=0)).label("ontime"),
        func.sum(case((Case.disposed_at <= Case.deadline_at, 1), else_=0)).label("ontime_original"),
        func.sum(case((Case.rework_count > 0, 1), else_=0)).label("rework"),
        func.sum(case((Case.extension_count > 0, 1), else_=0)).label("extended"),
    ).where(
        Case.disposed_at >= start, Case.disposed_at < end, Case.status.not_in(("cancelled", "self_handled", "parked"))
    )
    if by:
        stmt = stmt.group_by(getattr(Case, by))
    frame = fetch_frame(engine, _in_street(stmt, street_id))
    num = ["disposed", "ontime", "ontime_original", "rework", "extended"]
    frame[num] = frame[num].fillna(0).astype(int)
    return frame


def satisfaction_counts(engine: Engine, start: datetime, end: datetime, street_id: int | None = None) -> dict:
    """Hotline/app call-back results for cases closed in [start, end): counts per answer (满意 / 基本满意 / 不满意)
    and how many answered; the 满意率 itself is ``analytics.indicators.satisfaction_rate`` (written once)."""
    stmt = _in_street(
        select(Case.satisfaction, func.count().label("n"))
        .where(
            Case.closed_at >= start,
            Case.closed_at < end,
            Case.satisfaction.is_not(None),
            Case.channel.in_(PUBLIC_CHANNELS),
        )
        .group_by(Case.satisfaction),
        street_id,
    )
    frame = fetch_frame(engine, stmt)
    counts = dict(zip(frame["satisfaction"], frame["n"].astype(int)))
    return {
        "counts": counts,
        "satisfied": counts.get("satisfied", 0),
        "basic": counts.get("basic", 0),
        "answered": sum(counts.values()),
    }


# --- working calendar -----------------------------------------------------------------------------------------------
def workdays_between(engine: Engine, first: date, last: date) -> int:
    """Working days in (first, last], from the ``workdays`` table's running count."""
    stmt = select(Workday.day, Workday.workday_seq).where(Workday.day.in_([first, last]))
    frame = fetch_frame(engine, stmt)
    seq = {pd.Timestamp(d).date(): s for d, s in zip(frame["day"], frame["workday_seq"])}
    if first not in seq or last not in seq:
        raise ValueError(f"{first} or {last} is outside the working calendar table")
    return int(seq[last] - seq[first])


def calendar_rows(engine: Engine) -> list[dict]:
    """All rows of the ``workdays`` table (a few thousand), for building a ``WorkCalendar``."""
    frame = fetch_frame(engine, select(Workday.day, Workday.is_workday).order_by(Workday.day))
    return [{"day": pd.Timestamp(d).date(), "is_workday": bool(w)} for d, w in zip(frame["day"], frame["is_workday"])]


def now_floor(now: datetime) -> datetime:
    """Start of the local day containing ``now``."""
    return datetime(now.year, now.month, now.day)


def window(now: datetime, days: int) -> tuple[datetime, datetime]:
    """The [start, end) of the last ``days`` calendar days up to ``now``."""
    return now - timedelta(days=days), now


# --- changes over time without a history table ------------------------------------------------------------------------
def _ended_between(start: datetime, end: datetime) -> list:
    """Left the open backlog in (start, end]: closed/cancelled (closed_at) or else parked (parked_at).

    Two disjoint conditions, each a range on its own time index: one OR across both columns made SQLite scan
    the table.
    """
    closed = and_(Case.closed_at > start, Case.closed_at <= end)
    parked_only = and_(
        Case.parked_at > start,
        Case.parked_at <= end,
        or_(Case.closed_at.is_(None), Case.closed_at <= start, Case.closed_at > end),
    )
    return [closed, parked_only]


def backlog_then_by(
    engine: Engine, then: datetime, now: datetime, unit: str | None = None, street_id: int | None = None
) -> pd.DataFrame:
    """Open and overdue counts as they stood at ``then`` (< now), per ``unit`` column (e.g. ``grid_id``; None for
    one row), rebuilt from the current backlog and the cases that entered or left it since — window-bounded
    queries, no history table:

        open(then) = open(now) − reported in (then, now] and still open + reported ≤ then and ended in (then, now]
    """
    if unit not in GROUPABLE:
        raise ValueError(f"cannot group by {unit!r}")
    deadline = effective_deadline()
    keys = [getattr(Case, unit).label("unit")] if unit else []

    def grouped(*cols, where):
        stmt = select(*keys, *cols).where(*where)
        return fetch_frame(engine, _in_street(stmt.group_by(*keys) if unit else stmt, street_id))

    now_open = grouped(func.count().label("open_now"), where=[is_open()])
    new_open = grouped(func.count().label("new_open"), where=[is_open(), Case.reported_at > then])
    # A deadline before ``then`` implies the case was reported before it; leaving out "reported_at <= then" keeps
    # the planner on the small open-case index instead of a history-long reported_at range.
    old_overdue = grouped(func.count().label("old_overdue"), where=[is_open(), deadline < then])
    ended = [
        grouped(
            func.count().label("ended"),
            func.sum(case((deadline < then, 1), else_=0)).label("ended_overdue"),
            where=[left, Case.reported_at <= then],
        )
        for left in _ended_between(then, now)
    ]
    ended = (
        pd.concat(ended).groupby("unit", as_index=False).sum()
        if unit
        else pd.DataFrame([ended[0].fillna(0).iloc[0] + ended[1].fillna(0).iloc[0]])
    )
    frames = [now_open, new_open, old_overdue, ended]
    if unit:
        out = frames[0]
        for frame in frames[1:]:
            out = out.merge(frame, on="unit", how="outer")
    else:
        out = pd.concat(frames, axis=1)
    out = out.fillna(0)
    out["open"] = (out["open_now"] - out["new_open"] + out["ended"]).astype(int)
    out["overdue"] = (out["old_overdue"] + out["ended_overdue"]).astype(int)
    return out[(["unit"] if unit else []) + ["open", "overdue"]]


def backlog_at(engine: Engine, then: datetime, now: datetime, street_id: int | None = None) -> dict[str, int]:
    """District (or street) open and overdue counts as they stood at ``then``; see ``backlog_then_by``."""
    row = backlog_then_by(engine, then, now, None, street_id).iloc[0]
    return {"open": int(row["open"]), "overdue": int(row["overdue"])}


def recent_case_points(
    engine: Engine, since: datetime, street_id: int | None = None, limit: int = 100_000
) -> pd.DataFrame:
    """Cases reported since ``since`` as map points: id, lat, lon, status, channel, category_id, grid_id,
    reported_at (newest first, at most ``limit``)."""
    stmt = _in_street(
        select(Case.id, Case.lat, Case.lon, Case.status, Case.channel, Case.category_id, Case.grid_id, Case.reported_at)
        .where(Case.reported_at >= since, Case.status != "cancelled")
        .order_by(Case.reported_at.desc())
        .limit(limit),
        street_id,
    )
    return fetch_frame(engine, stmt, row_cap=limit)


def count_closed(engine: Engine, start: datetime, end: datetime, street_id: int | None = None) -> int:
    """结案数: cases closed (结案 or 强制结案, not 自行处置) in [start, end)."""
    stmt = select(func.count()).where(
        Case.closed_at >= start, Case.closed_at < end, Case.status.in_(("closed", "force_closed"))
    )
    return int(fetch_frame(engine, _in_street(stmt, street_id)).iloc[0, 0])
