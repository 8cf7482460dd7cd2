"""The SLA clock of a case's current stage (green < 80 %, yellow 80–100 %, red > 100 % of the time limit), and the
effective deadline (延期后时限) every pandas computation shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from core.workcal import WorkCalendar

YELLOW_FROM, RED_FROM = 0.8, 1.0


@dataclass(frozen=True)
class SlaClock:
    used_hours: float  # working hours since the stage started
    limit_hours: float  # working hours allowed (to the effective deadline)
    fraction: float  # used / limit
    colour: str  # green | yellow | red


def effective_deadline(deadline, extended):
    """The deadline after an approved 延期 where there is one, else the original deadline.

    Works on columns (two Series of one frame) and on single values (``None``/``NaT`` = no deadline). The SQL
    twin is ``data_access.queries.effective_deadline`` (``coalesce(extended_deadline_at, deadline_at)``)."""
    if isinstance(extended, pd.Series):
        return extended.where(extended.notna(), deadline)
    return deadline if extended is None or pd.isna(extended) else extended


def stage_start(dispatched, registered):
    """When the clock of the current stage started: the dispatch (派遣), else the registration (立案)."""
    return registered if dispatched is None or pd.isna(dispatched) else dispatched


def sla_clock(calendar: WorkCalendar, started: datetime, deadline: datetime, now: datetime) -> SlaClock | None:
    """Working-hour clock from ``started`` towards ``deadline`` at ``now``; None without a deadline."""
    if started is None or deadline is None:
        return None
    limit = calendar.work_hours_between(started, deadline)
    used = calendar.work_hours_between(started, now)
    fraction = used / limit if limit > 0 else (float("inf") if used > 0 else 0.0)
    colour = "red" if fraction > RED_FROM else "yellow" if fraction >= YELLOW_FROM else "green"
    return SlaClock(used, limit, fraction, colour)
