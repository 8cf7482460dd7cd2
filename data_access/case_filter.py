"""Case filters shared by the map, backlog and list queries: one validated object applied in SQL.

Values come from URL parameters and widgets; they are only ever bound as parameters (never formatted into SQL),
and keys are checked against the domain vocabularies so a hostile value simply matches nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from core.domain import CHANNELS, STATUSES
from data_access.schema import Case, Category


@dataclass(frozen=True)
class CaseFilter:
    """Optional restrictions; empty tuples/None mean 'all'. Hashable, so it can key a cache entry."""

    street_id: int | None = None
    channels: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    major_code: str | None = None
    category_ids: tuple[int, ...] = ()
    department_ids: tuple[int, ...] = ()

    def __post_init__(self):
        unknown = [c for c in self.channels if c not in CHANNELS] + [s for s in self.statuses if s not in STATUSES]
        if unknown:
            raise ValueError(f"unknown channel/status value(s): {unknown}")

    def apply(self, stmt):
        """Add this filter's WHERE terms to a statement over ``cases``."""
        if self.street_id is not None:
            stmt = stmt.where(Case.street_id == self.street_id)
        if self.channels:
            stmt = stmt.where(Case.channel.in_(self.channels))
        if self.statuses:
            stmt = stmt.where(Case.status.in_(self.statuses))
        if self.category_ids:
            stmt = stmt.where(Case.category_id.in_(self.category_ids))
        elif self.major_code:
            stmt = stmt.where(Case.category_id.in_(select(Category.id).where(Category.major_code == self.major_code)))
        if self.department_ids:
            stmt = stmt.where(Case.department_id.in_(self.department_ids))
        return stmt
