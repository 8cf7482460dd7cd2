"""What the access checks (权限, ``ui.access``) need to know about units and cases: which communities and grids
lie in a street, and which street and department a case belongs to; and ``Scope``, what one viewer may see, in the
terms of the data. Which role gets which scope is decided in ``ui.access.scope_of`` (the one table of roles); the
screen models filter by a ``Scope`` (e.g. ``reports.flags.in_scope``). A lookup that fails raises, and the caller
denies."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Engine

from data_access import backlog_queries, queries


@dataclass(frozen=True)
class Scope:
    """What one viewer may see, on every page and panel.

    ``street_id``: only this street's units (its communities and grids, their cases and flags); None = the
    district. ``department_id``: case lists and case files of this department only; None = any department (rankings
    and counts are never narrowed by it). ``case_lists``: False = counts and aggregates only, never a case list,
    case number, address or note (the wall kiosk). ``person_ids``: False = no verifier or app-account ids."""

    street_id: int | None = None
    department_id: int | None = None
    case_lists: bool = True
    person_ids: bool = True


DISTRICT = Scope()  # a leader's
COUNTS_ONLY = Scope(case_lists=False, person_ids=False)  # the wall kiosk's, and anyone's whose role is unknown


def may_list_cases(scope: Scope, *, department_id: int | None = None) -> bool:
    """May a case list (of ``department_id``'s cases, when given) be shown? Never for a counts-only scope; a
    department scope only its own department's. (A street scope lists cases through street-filtered queries.)"""
    if not scope.case_lists:
        return False
    return scope.department_id is None or department_id == scope.department_id


def covers_case(scope: Scope, owner: dict | None) -> bool:
    """May the case file whose ``case_owner`` is ``owner`` be opened? Unknown case: no."""
    if not scope.case_lists or owner is None:
        return False
    if scope.street_id is not None and owner.get("street_id") != scope.street_id:
        return False
    return scope.department_id is None or owner.get("department_id") == scope.department_id


def units_of_street(engine: Engine, street_id: int) -> dict[str, frozenset[int]]:
    """The ids of the street's ``communities`` and ``grids``."""
    return {
        "communities": frozenset(queries.communities(engine, street_id)["id"].astype(int)),
        "grids": frozenset(queries.grids(engine, street_id)["id"].astype(int)),
    }


def case_owner(engine: Engine, case_id: int) -> dict | None:
    """``{"street_id": …, "department_id": … or None}`` of one case; None when it does not exist."""
    return backlog_queries.case_owner(engine, case_id)


def department_codes_in_scope(table: pd.DataFrame, scope: Scope) -> list[str]:
    """The codes (sorted) of the departments in ``table`` (``department_id``, ``code``) whose own view, with its
    case lists, ``scope`` may open: all of them, or a department head's own."""
    rows = table if scope.department_id is None else table[table["department_id"] == scope.department_id]
    return sorted(rows["code"])


CASE_DETAIL_COLUMNS = ("id", "case_no", "address", "description", "note", "reporter_id")


def case_details_in_scope(frame: pd.DataFrame | None, scope: Scope) -> pd.DataFrame | None:
    """``frame`` (e.g. case points for a map) without what identifies a case when ``scope`` sees counts only."""
    if frame is None or scope.case_lists:
        return frame
    return frame.drop(columns=[c for c in CASE_DETAIL_COLUMNS if c in frame.columns])
