"""The SLA clock of a case's current stage (green < 80 %, yellow 80–100 %, red > 100 % of the time limit)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from data_access.workcal import WorkCalendar

YELLOW_FROM, RED_FROM = 0.8, 1.0


@dataclass(frozen=True)
class SlaClock:
    used_hours: float          # working hours since the stage started
    limit_hours: float         # working hours allowed (to the effective deadline)
    fraction: float            # used / limit
    colour: str                # green | yellow | red


def sla_clock(calendar: WorkCalendar, started: datetime, deadline: datetime, now: datetime) -> SlaClock | None:
    """Working-hour clock from ``started`` towards ``deadline`` at ``now``; None without a deadline."""
    if started is None or deadline is None:
        return None
    limit = calendar.work_hours_between(started, deadline)
    used = calendar.work_hours_between(started, now)
    fraction = used / limit if limit > 0 else (float("inf") if used > 0 else 0.0)
    colour = "red" if fraction > RED_FROM else "yellow" if fraction >= YELLOW_FROM else "green"
    return SlaClock(used, limit, fraction, colour)
