"""Queries of the map and backlog pages: per-grid measures, case points, the backlog hierarchy, one case's file.

Open-case queries use the partial indexes (``queries.is_open()``); window queries use the time-leading indexes;
nothing scans history.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, case, func, select

from data_access.case_filter import CaseFilter
from data_access.engine import fetch_frame
from data_access.queries import backlog_then_by, effective_deadline, is_counted, is_open, is_parked
from data_access.schema import Case, CaseEvent, Category, Community, Department, Grid, Street, Workday
from data_access.sql_functions import day_of

UNIT_COLUMNS = {"street": "street_id", "community": "community_id", "grid": "grid_id"}
AGE_BUCKETS = ("age_0_1", "age_1_3", "age_3_7", "age_over_7")  # working days since reported


def grid_measures(
    engine: Engine, now: datetime, start: datetime, end: datetime, flt: CaseFilter = CaseFilter()
) -> pd.DataFrame:
    """Per grid: ``open`` and ``overdue`` now, ``new`` reported in [start, end), ``disposed`` and ``ontime`` in
    [start, end). Grids with none of these are absent."""
    overdue = func.sum(case((effective_deadline() < now, 1), else_=0))
    open_q = flt.apply(
        select(Case.grid_id, func.count().label("open"), overdue.label("overdue")).where(is_open())
    ).group_by(Case.grid_id)
    new_q = flt.apply(
        select(Case.grid_id, func.count().label("new")).where(
            Case.reported_at >= start, Case.reported_at < end, is_counted()
        )
    ).group_by(Case.grid_id)
    disp_q = flt.apply(
        select(
            Case.grid_id,
            func.count().label("disposed"),
            func.sum(case((Case.disposed_at <= effective_deadline(), 1), else_=0)).label("ontime"),
        ).where(
            Case.disposed_at >= start,
            Case.disposed_at < end,
            Case.status.not_in(("cancelled", "self_handled", "parked")),
        )
    ).group_by(Case.grid_id)
    out = None
    for stmt in (open_q, new_q, disp_q):
        frame = fetch_frame(engine, stmt)
        out = frame if out is None else out.merge(frame, on="grid_id", how="outer")
    out = out.fillna(0)
    return out.astype({c: int for c in ("open", "overdue", "new", "disposed", "ontime")})


def count_cases(engine: Engine, start: datetime, end: datetime, flt: CaseFilter = CaseFilter()) -> int:
    """Cases reported in [start, end) matching the filter (作废 excluded)."""
    stmt = flt.apply(
        select(func.count()).where(Case.reported_at >= start, Case.reported_at < end, Case.status != "cancelled")
    )
    return int(fetch_frame(engine, stmt).iloc[0, 0])


def case_points(
    engine: Engine, start: datetime, end: datetime, flt: CaseFilter = CaseFilter(), limit: int = 100_000
) -> pd.DataFrame:
    """Cases reported in [start, end) as map points, newest first, at most ``limit``: id, case_no, lat, lon,
    status, channel, major_code, minor_name, grid_id, reported_at."""
    stmt = flt.apply(
        select(
            Case.id,
            Case.case_no,
            Case.lat,
            Case.lon,
            Case.status,
            Case.channel,
            Category.major_code,
            Category.minor_name,
            Case.grid_id,
            Case.reported_at,
        )
        .join(Category, Category.id == Case.category_id)
        .where(Case.reported_at >= start, Case.reported_at < end, Case.status != "cancelled")
    )
    return fetch_frame(engine, stmt.order_by(Case.reported_at.desc()).limit(limit), row_cap=limit)


def backlog_by_unit(
    engine: Engine,
    now: datetime,
    level: str,
    parent_id: int | None = None,
    flt: CaseFilter = CaseFilter(),
    week_ago: datetime | None = None,
) -> pd.DataFrame:
    """The open backlog per unit at ``level`` (street, community or grid), optionally inside a parent unit
    (a street for communities, a community for grids).

    Columns: unit_id, open, overdue, age_0_1 / age_1_3 / age_3_7 / age_over_7 (working days since reported),
    oldest_reported_at, parked (挂账 stock), open_week_ago (when ``week_ago`` is given).
    """
    unit = getattr(Case, UNIT_COLUMNS[level])
    today_seq = select(Workday.workday_seq).where(Workday.day == now.date()).scalar_subquery()
    age = today_seq - Workday.workday_seq
    bucket = lambda cond: func.sum(case((cond, 1), else_=0))  # noqa: E731
    stmt = (
        select(
            unit.label("unit_id"),
            func.count().label("open"),
            func.sum(case((effective_deadline() < now, 1), else_=0)).label("overdue"),
            bucket(age <= 1).label("age_0_1"),
            bucket((age > 1) & (age <= 3)).label("age_1_3"),
            bucket((age > 3) & (age <= 7)).label("age_3_7"),
            bucket(age > 7).label("age_over_7"),
            func.min(Case.reported_at).label("oldest_reported_at"),
        )
        .join(Workday, Workday.day == day_of(Case.reported_at), isouter=True)
        .where(is_open())
    )
    parked = select(unit.label("unit_id"), func.count().label("parked")).where(is_parked())
    if parent_id is not None:
        parent = Case.street_id if level == "community" else Case.community_id
        stmt, parked = stmt.where(parent == parent_id), parked.where(parent == parent_id)
    out = fetch_frame(engine, flt.apply(stmt).group_by(unit))
    out = out.merge(fetch_frame(engine, flt.apply(parked).group_by(unit)), on="unit_id", how="outer")
    if week_ago is not None:
        street = parent_id if level == "community" else flt.street_id
        then = backlog_then_by(engine, week_ago, now, UNIT_COLUMNS[level], street)
        out = out.merge(
            then.rename(columns={"unit": "unit_id", "open": "open_week_ago"})[["unit_id", "open_week_ago"]],
            on="unit_id",
            how="outer",
        )  # units cleared since last week show their progress too
    counts = [c for c in out.columns if c not in ("unit_id", "oldest_reported_at")]
    out[counts] = out[counts].fillna(0).astype(int)
    return out


UNIT_TABLES = {"street": Street, "community": Community, "grid": Grid}


def _unit_columns(level: str) -> list:
    table = UNIT_TABLES[level]
    parents = {"street": [], "community": [Community.street_id], "grid": [Grid.community_id, Grid.street_id]}[level]
    return [table.id, table.name, table.population, *parents]


def unit_table(engine: Engine, level: str, parent_id: int | None = None) -> pd.DataFrame:
    """Every unit at ``level`` (inside a parent: a street for communities, a community for grids), by code:
    id, name, population and the parents' ids (street_id; community_id, street_id)."""
    table = UNIT_TABLES[level]
    stmt = select(*_unit_columns(level)).order_by(table.code)
    if parent_id is not None and level != "street":
        stmt = stmt.where((Community.street_id if level == "community" else Grid.community_id) == parent_id)
    return fetch_frame(engine, stmt)


def unit_row(engine: Engine, level: str, unit_id: int) -> dict | None:
    """One unit's id, name, population and parents' ids, or None when there is no such unit."""
    table = UNIT_TABLES[level]
    frame = fetch_frame(engine, select(*_unit_columns(level)).where(table.id == unit_id), row_cap=1)
    return None if frame.empty else frame.iloc[0].to_dict()


def open_cases(
    engine: Engine,
    now: datetime,
    *,
    grid_id: int | None = None,
    community_id: int | None = None,
    flt: CaseFilter = CaseFilter(),
    limit: int = 2000,
) -> pd.DataFrame:
    """Open cases of a grid or community, most overdue first: id, case_no, status, category, department_id,
    department, reported_at, deadline_at, extended_deadline_at, overdue (bool), address."""
    stmt = (
        select(
            Case.id,
            Case.case_no,
            Case.status,
            Category.minor_name,
            Category.minor_name_en,
            Case.department_id,
            Department.name.label("department"),
            Case.reported_at,
            Case.deadline_at,
            Case.extended_deadline_at,
            (effective_deadline() < now).label("overdue"),
            Case.address,
        )
        .join(Category, Category.id == Case.category_id)
        .join(Department, Department.id == Case.department_id, isouter=True)
        .where(is_open())
    )
    if grid_id is not None:
        stmt = stmt.where(Case.grid_id == grid_id)
    if community_id is not None:
        stmt = stmt.where(Case.community_id == community_id)
    stmt = flt.apply(stmt).order_by(effective_deadline().asc().nulls_last(), Case.reported_at).limit(limit)
    return fetch_frame(engine, stmt, row_cap=limit)


def case_file(engine: Engine, case_id: int) -> dict | None:
    """Every field of one case with the names of its category, department, grid, community and street."""
    stmt = (
        select(
            Case.__table__,
            Category.code.label("category_code"),
            Category.major_name,
            Category.minor_name,
            Category.difficulty,
            Category.time_limit_work_hours,
            Department.name.label("department"),
            Grid.name.label("grid"),
            Grid.code.label("grid_code"),
            Community.name.label("community"),
            Street.name.label("street"),
        )
        .join(Category, Category.id == Case.category_id)
        .join(Department, Department.id == Case.department_id, isouter=True)
        .join(Grid, Grid.id == Case.grid_id)
        .join(Community, Community.id == Case.community_id)
        .join(Street, Street.id == Case.street_id)
        .where(Case.id == case_id)
    )
    frame = fetch_frame(engine, stmt, row_cap=1)
    return None if frame.empty else frame.iloc[0].to_dict()


def case_timeline(engine: Engine, case_id: int) -> pd.DataFrame:
    """The case's events in order: at, action, from_status, to_status, actor_id, department, note."""
    stmt = (
        select(
            CaseEvent.at,
            CaseEvent.action,
            CaseEvent.from_status,
            CaseEvent.to_status,
            CaseEvent.actor_id,
            Department.name.label("department"),
            CaseEvent.note,
        )
        .join(Department, Department.id == CaseEvent.department_id, isouter=True)
        .where(CaseEvent.case_id == case_id)
        .order_by(CaseEvent.at, CaseEvent.id)
    )
    return fetch_frame(engine, stmt, row_cap=500)


def case_owner(engine: Engine, case_id: int) -> dict | None:
    """Who a case belongs to, for scope checks: ``street_id`` and ``department_id`` (None when it has none), or None
    when the case does not exist."""
    frame = fetch_frame(engine, select(Case.street_id, Case.department_id).where(Case.id == case_id), row_cap=1)
    if frame.empty:
        return None
    street, dept = frame.iloc[0]
    return {"street_id": int(street), "department_id": None if pd.isna(dept) else int(dept)}
