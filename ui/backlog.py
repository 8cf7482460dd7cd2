"""网格积案 in words: cached loaders of the backlog screen models (``reports.backlog``) and the labelled tables the
page draws and exports (CSV/XLSX of the unit table, as shown)."""

from __future__ import annotations

import pandas as pd

from core import exports
from core.clock import local_now
from reports import backlog
from ui.db import get_engine
from ui.i18n import catalog, label, name_column
from ui.live import live_cache
from ui.reference import work_calendar
from ui.safe import plain

T = catalog("backlog")
LEVEL_NAMES = {"street": "level_street", "community": "level_community", "grid": "level_grid"}
SLA_COLOURS = {"green": "green", "yellow": "orange", "red": "red"}  # SLA clock colour → Streamlit badge colour
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- cached loaders -------------------------------------------------------------------------------------------------
@live_cache
def load_backlog(street_id: int | None, community_id: int | None, grid_id: int | None) -> backlog.Backlog:
    return backlog.build(get_engine(), backlog.BacklogParams(street_id, community_id, grid_id), now=local_now())


@live_cache
def load_grid_cases(grid_id: int, department_id: int | None) -> backlog.GridCases:
    return backlog.grid_cases(get_engine(), backlog.GridCasesParams(grid_id, department_id), now=local_now())


@live_cache
def load_case_file(case_id: int) -> backlog.CaseFile | None:
    return backlog.case_file(get_engine(), backlog.CaseFileParams(case_id), now=local_now(), calendar=work_calendar())


# --- tables in the viewer's language -------------------------------------------------------------------------------
def breadcrumb(model: backlog.Backlog | None) -> str:
    """全区 › street › community, as far as the view goes."""
    names = [] if model is None else [plain(n) for n in (model.street_name, model.community_name) if n]
    return " › ".join([T("district"), *names])


def unit_table(units: pd.DataFrame) -> pd.DataFrame:
    """The unit table as shown and exported."""
    columns = ("name", "open", "overdue", *backlog.AGE_BUCKETS)
    table = {T(c): units[c] for c in columns}
    table |= {
        T("oldest"): units["oldest_reported_at"],
        T("parked"): units["parked"],
        T("change"): units["change"],
        T("per_1000"): units["per_1000"],
    }
    return pd.DataFrame(table)


def csv_bytes(table: pd.DataFrame) -> bytes:
    """CSV with a BOM, so Excel opens the Chinese names correctly; formula-like text neutralised (core.exports)."""
    return exports.csv_bytes(table)


def xlsx_bytes(table: pd.DataFrame) -> bytes:
    """The table as a one-sheet workbook; formula-like text stays text (core.exports)."""
    return exports.xlsx_bytes({"backlog": table})


def case_table(cases: pd.DataFrame) -> pd.DataFrame:
    """A grid's open cases (``GridCases.cases``)."""
    return pd.DataFrame(
        {
            T("case_no"): cases["case_no"],
            T("status"): cases["status"].map(lambda s: label("statuses", s)),
            T("category"): cases[name_column("minor_name")],
            T("department"): cases["department"],
            T("reported"): cases["reported_at"],
            T("deadline"): cases["deadline"],
            T("overdue"): cases["overdue"],
            T("address"): cases["address"],
        }
    )


def case_fields_table(file: backlog.CaseFile) -> pd.DataFrame:
    """Field → value of a case file (codes as labels), then its original and extended deadline."""
    shown = dict(file.fields)
    shown["status"] = label("statuses", file.fields["status"])
    shown["channel"] = label("channels", file.fields["channel"])
    shown[T("original_deadline")] = file.fields["deadline_at"]
    shown[T("extended_deadline")] = file.extended_deadline_at if file.extended_deadline_at else T("no_extension")
    return pd.DataFrame({T("field"): list(shown), T("value"): [str(v) for v in shown.values()]})


def sla_badge(file: backlog.CaseFile) -> str:
    """The SLA clock as a coloured badge (markdown); the caller checks ``file.clock`` first."""
    clock = file.clock
    text = T("sla", used=clock.used_hours, limit=clock.limit_hours, pct=clock.fraction)
    return f":{SLA_COLOURS[clock.colour]}-badge[{text}]"


def timeline_table(timeline: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            T("at"): timeline["at"],
            T("action"): timeline["action"].map(lambda a: label("actions", a)),
            T("status"): timeline["to_status"].map(lambda s: label("statuses", s)),
            T("department"): timeline["department"],
            T("actor"): timeline["actor_id"],
            T("note"): timeline["note"],
        }
    )
