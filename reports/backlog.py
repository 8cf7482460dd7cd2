"""网格积案 (the backlog screen): the open backlog per unit (street → community → grid), the open cases of a grid and
one case file with its timeline and SLA clock.

Three entry points, each ``(engine, params, *, now) -> Model`` (docs/architecture.md): ``build`` for the unit
table (also what the CSV/XLSX export holds), ``grid_cases`` for a grid's case list and ``case_file`` for one case.
Models hold frames, numbers and codes; the page and ``ui.backlog`` turn them into words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import Engine

from analytics.sla import SlaClock, effective_deadline, sla_clock, stage_start
from core.workcal import WorkCalendar
from data_access import backlog_queries
from data_access.case_filter import CaseFilter
from reports import reference

LEVELS = ("street", "community", "grid")
AGE_BUCKETS = backlog_queries.AGE_BUCKETS  # working days since reported: 0–1, 1–3, 3–7, > 7
COUNTS = ("open", "overdue", *AGE_BUCKETS, "parked", "open_week_ago")
WEEK = timedelta(days=7)  # "较上周": the backlog now against the same moment a week ago
# Case-file fields that are internal keys (ids of reference rows); the ids of people stay, they are the record.
PERSON_IDS = ("reporter_id", "inspector_id", "verifier_id")


# --- the unit table -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BacklogParams:
    street_id: int | None = None  # the global street filter (?street=)
    community_id: int | None = None  # ?community=
    grid_id: int | None = None  # ?grid=: its community is looked up when ?community= is absent


@dataclass(frozen=True)
class Backlog:
    level: str  # street | community | grid: what the table lists
    parent_id: int | None  # the street (communities) or community (grids) listed, else None
    street_id: int | None
    community_id: int | None
    grid_id: int | None
    street_name: str | None  # for the breadcrumb (the district itself is the page's word)
    community_name: str | None
    units: pd.DataFrame  # see ``unit_backlog``; worst (most overdue) first


def resolve_level(params: BacklogParams, grid_community: int | None) -> tuple[str, int | None, int | None]:
    """(level, parent id, community id): grids of the community when one is chosen (or is the chosen grid's),
    communities of the street when a street is chosen, else streets."""
    community_id = params.community_id if params.community_id is not None else grid_community
    if community_id is not None:
        return "grid", community_id, community_id
    if params.street_id is not None:
        return "community", params.street_id, None
    return "street", None, None


def unit_backlog(backlog: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """Every unit of ``units`` (a unit without backlog is news too) with its backlog counts, ``change`` against last
    week and ``per_1000`` (open cases per 1,000 residents; empty without a population), worst first.

    Columns: unit_id, name, population, open, overdue, age_0_1, age_1_3, age_3_7, age_over_7, oldest_reported_at,
    parked, open_week_ago, change, per_1000."""
    out = units[["id", "name", "population"]].rename(columns={"id": "unit_id"}).merge(backlog, on="unit_id", how="left")
    for column in COUNTS:
        out[column] = out[column].fillna(0).astype(int) if column in out else 0
    if "oldest_reported_at" not in out:
        out["oldest_reported_at"] = pd.NaT
    out["per_1000"] = (out["open"] / out["population"].where(out["population"] > 0) * 1000).round(1)
    out["change"] = out["open"] - out["open_week_ago"]
    columns = [
        "unit_id",
        "name",
        "population",
        "open",
        "overdue",
        *AGE_BUCKETS,
        "oldest_reported_at",
        "parked",
        "open_week_ago",
        "change",
        "per_1000",
    ]
    return out[columns].sort_values(["overdue", "open"], ascending=False, ignore_index=True)


def build(engine: Engine, params: BacklogParams, *, now: datetime) -> Backlog:
    """The backlog table of the level the parameters point at, with the names of the chosen street and community."""
    grid = backlog_queries.unit_row(engine, "grid", params.grid_id) if params.grid_id is not None else None
    level, parent, community_id = resolve_level(params, None if grid is None else int(grid["community_id"]))
    street = backlog_queries.unit_row(engine, "street", params.street_id) if params.street_id is not None else None
    community = backlog_queries.unit_row(engine, "community", community_id) if community_id is not None else None
    units = backlog_queries.unit_table(engine, level, parent)
    counts = backlog_queries.backlog_by_unit(
        engine, now, level, parent, CaseFilter(street_id=params.street_id), week_ago=now - WEEK
    )
    return Backlog(
        level,
        parent,
        params.street_id,
        community_id,
        params.grid_id if level == "grid" else None,
        None if street is None else street["name"],
        None if community is None else community["name"],
        unit_backlog(counts, units),
    )


def filter_units(units: pd.DataFrame, needle: str = "", only_overdue: bool = False) -> pd.DataFrame:
    """The rows a viewer narrowed the table to: names containing ``needle`` (plain text), units with overdue cases."""
    if only_overdue:
        units = units[units["overdue"] > 0]
    if needle:
        units = units[units["name"].str.contains(needle, regex=False, na=False)]
    return units


# --- the open cases of a grid ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GridCasesParams:
    grid_id: int
    department_id: int | None = None  # 权限: a department head lists only their own department's cases


@dataclass(frozen=True)
class GridCases:
    grid_id: int
    grid_name: str | None
    cases: pd.DataFrame  # id, case_no, status, minor_name, minor_name_en, department_id, department, reported_at,
    #                        deadline (effective, after 延期), overdue (bool), address; most urgent first


def grid_cases(engine: Engine, params: GridCasesParams, *, now: datetime, limit: int = 2000) -> GridCases:
    flt = CaseFilter(department_ids=() if params.department_id is None else (params.department_id,))
    frame = backlog_queries.open_cases(engine, now, grid_id=params.grid_id, flt=flt, limit=limit)
    frame["deadline"] = effective_deadline(frame["deadline_at"], frame["extended_deadline_at"])
    frame["overdue"] = frame["overdue"].astype(bool)
    grid = backlog_queries.unit_row(engine, "grid", params.grid_id)
    return GridCases(
        params.grid_id,
        None if grid is None else grid["name"],
        frame.drop(columns=["deadline_at", "extended_deadline_at"]),
    )


# --- one case file --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CaseFileParams:
    case_id: int


@dataclass(frozen=True)
class CaseFile:
    case_id: int
    case_no: str
    fields: dict  # column → value: every field of the case and the names it refers to
    #                                      (status and channel as codes; reference ids left out)
    deadline_at: datetime | None  # the original 处置时限
    extended_deadline_at: datetime | None  # after an approved 延期, else None
    clock: SlaClock | None  # the current stage's working-hour clock; None without a deadline
    timeline: pd.DataFrame  # at, action, from_status, to_status, actor_id, department, note


def _moment(value) -> datetime | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).to_pydatetime()


def case_file(
    engine: Engine, params: CaseFileParams, *, now: datetime, calendar: WorkCalendar | None = None
) -> CaseFile | None:
    """The case file, or None when there is no such case. ``calendar`` defaults to the database's working
    calendar (pass a cached one: it is the same for every case)."""
    row = backlog_queries.case_file(engine, params.case_id)
    if row is None:
        return None
    deadline = _moment(effective_deadline(row["deadline_at"], row["extended_deadline_at"]))
    started = _moment(stage_start(row["dispatched_at"], row["registered_at"]))
    clock = None
    if started is not None and deadline is not None:
        clock = sla_clock(calendar or reference.work_calendar(engine), started, deadline, now)
    fields = {k: v for k, v in row.items() if not k.endswith("_id") or k in PERSON_IDS}
    return CaseFile(
        params.case_id,
        str(row["case_no"]),
        fields,
        _moment(row["deadline_at"]),
        _moment(row["extended_deadline_at"]),
        clock,
        backlog_queries.case_timeline(engine, params.case_id),
    )
