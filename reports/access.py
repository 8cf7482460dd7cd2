"""What the access checks (权限, ``ui.access``) need to know about units and cases: which communities and grids
lie in a street, and which street and department a case belongs to. The rules themselves (who may see what) stay
in ``ui.access``; a lookup that fails raises, and the caller denies."""

from __future__ import annotations

from sqlalchemy import Engine

from data_access import backlog_queries, queries


def units_of_street(engine: Engine, street_id: int) -> dict[str, frozenset[int]]:
    """The ids of the street's ``communities`` and ``grids``."""
    return {
        "communities": frozenset(queries.communities(engine, street_id)["id"].astype(int)),
        "grids": frozenset(queries.grids(engine, street_id)["id"].astype(int)),
    }


def case_owner(engine: Engine, case_id: int) -> dict | None:
    """``{"street_id": …, "department_id": … or None}`` of one case; None when it does not exist."""
    return backlog_queries.case_owner(engine, case_id)
