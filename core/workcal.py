"""The Chinese working calendar (工作日历) and working-hour arithmetic.

Deadlines are in working hours/days (docs/domain.md): holidays and 调休 make-up workdays come from the maintained
``chinesecalendar`` library, never from a hand-written list. Years the library does not cover yet fall back to
Monday–Friday and are marked ``source = weekday_fallback``.

All arithmetic goes through one idea: a monotone clock of *working seconds* since the calendar's first day.
``work_seconds(t)`` maps a timestamp onto it (time outside working periods does not advance it), so a duration in
working hours is a subtraction and a deadline is the inverse map of ``work_seconds(start) + limit``. Both are
vectorised with numpy, so the seed can compute deadlines for a million cases at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterable

import chinese_calendar
import numpy as np

log = logging.getLogger(__name__)


def parse_work_hours(spec: str) -> list[tuple[int, int]]:
    """'08:30-12:00,13:00-17:30' → [(510, 720), (780, 1050)] (minutes after midnight), validated."""
    periods = []
    for part in spec.split(","):
        try:
            start, end = (p.strip() for p in part.split("-"))
            sh, sm = (int(x) for x in start.split(":"))
            eh, em = (int(x) for x in end.split(":"))
        except ValueError as exc:
            raise ValueError(f"work_hours: cannot read {part!r}; expected e.g. '08:30-12:00,13:00-17:30'") from exc
        periods.append((sh * 60 + sm, eh * 60 + em))
    for (s, e), nxt in zip(periods, periods[1:] + [None]):
        if not 0 <= s < e <= 24 * 60 or (nxt is not None and nxt[0] < e):
            raise ValueError(f"work_hours: periods must be increasing and inside one day, got {spec!r}")
    return periods


_WARNED_YEARS: set[int] = set()


def calendar_rows(first_year: int, last_year: int) -> list[dict]:
    """One dict per day for the ``workdays`` table, from the holiday library (weekday fallback outside it)."""
    rows, seq = [], 0
    day, last = date(first_year, 1, 1), date(last_year, 12, 31)
    while day <= last:
        try:
            is_work = chinese_calendar.is_workday(day)
            _, holiday = chinese_calendar.get_holiday_detail(day)
            source = "chinese_calendar"
        except NotImplementedError:
            if day.year not in _WARNED_YEARS:
                log.warning("chinesecalendar has no data for %s: using Monday-Friday", day.year)
                _WARNED_YEARS.add(day.year)
            is_work, holiday, source = day.weekday() < 5, None, "weekday_fallback"
        seq += int(is_work)
        rows.append(
            {
                "day": day,
                "is_workday": is_work,
                "holiday_name": holiday if (holiday and not is_work) else None,
                "is_makeup_workday": bool(is_work and day.weekday() >= 5),
                "workday_seq": seq,
                "source": source,
            }
        )
        day += timedelta(days=1)
    return rows


@dataclass
class WorkCalendar:
    """Working-time arithmetic over a span of days. Build with ``from_rows`` or ``from_library``."""

    first_day: date
    workday: np.ndarray  # bool per day
    periods: list[tuple[int, int]]  # working periods, minutes after midnight

    def __post_init__(self):
        self._period_s = np.array(self.periods, dtype=np.int64) * 60
        self.day_seconds = int((self._period_s[:, 1] - self._period_s[:, 0]).sum())
        per_day = self.workday.astype(np.int64) * self.day_seconds
        self._cum = np.concatenate([[0], np.cumsum(per_day)])  # working seconds before day i
        self._origin = np.datetime64(self.first_day, "s")

    @classmethod
    def from_rows(cls, rows: Iterable[dict], work_hours: str) -> "WorkCalendar":
        rows = sorted(rows, key=lambda r: r["day"])
        days = [r["day"] for r in rows]
        if any((b - a).days != 1 for a, b in zip(days, days[1:])):
            raise ValueError("workdays table has gaps; rebuild it with `python -m data_access.migrate`")
        return cls(days[0], np.array([bool(r["is_workday"]) for r in rows]), parse_work_hours(work_hours))

    @classmethod
    def from_library(cls, first_year: int, last_year: int, work_hours: str) -> "WorkCalendar":
        return cls.from_rows(calendar_rows(first_year, last_year), work_hours)

    @property
    def work_hours_per_day(self) -> float:
        return self.day_seconds / 3600

    # --- core maps -------------------------------------------------------------------------------------------------
    def _day_index(self, ts: np.ndarray) -> np.ndarray:
        idx = (ts.astype("datetime64[D]") - np.datetime64(self.first_day, "D")).astype(np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= len(self.workday)):
            raise ValueError(
                f"time outside the working calendar ({self.first_day} … "
                f"{self.first_day + timedelta(days=len(self.workday) - 1)}); widen calendar_first_year/last_year"
            )
        return idx

    def work_seconds(self, ts) -> np.ndarray:
        """Working seconds from the calendar start to each timestamp (array-like of datetimes)."""
        ts = np.asarray(ts, dtype="datetime64[s]")
        idx = self._day_index(ts)
        sec_of_day = (ts - ts.astype("datetime64[D]")).astype(np.int64)
        into = np.zeros_like(sec_of_day)
        for s, e in self._period_s:
            into += np.clip(sec_of_day - s, 0, e - s)
        return self._cum[idx] + self.workday[idx] * into

    def from_work_seconds(self, w) -> np.ndarray:
        """Inverse of ``work_seconds``: the earliest moment the working clock reaches ``w`` (end of day preferred)."""
        w = np.asarray(w, dtype=np.int64)
        idx = np.searchsorted(self._cum[1:], w, side="left")
        if w.size and idx.max() >= len(self.workday):
            raise ValueError("deadline falls after the end of the working calendar; widen calendar_last_year")
        rem = w - self._cum[idx]
        sec_of_day = np.full_like(rem, self._period_s[0, 0])
        left = rem.copy()
        for s, e in self._period_s:
            length = e - s
            take = np.clip(left, 0, length)
            # The first period that is not exhausted holds the moment (or its end, when exactly used up).
            here = (left <= length) & (left >= 0)
            sec_of_day = np.where(here, s + take, sec_of_day)
            left = np.where(here, -1, left - length)
        return self._origin + (idx * 86400 + sec_of_day).astype("timedelta64[s]")

    # --- convenience ------------------------------------------------------------------------------------------------
    def add_work_hours(self, start, hours):
        """Deadline: ``hours`` working hours after ``start`` (scalar datetime or arrays)."""
        scalar = isinstance(start, datetime)
        w = self.work_seconds(np.atleast_1d(np.asarray(start, dtype="datetime64[s]")))
        out = self.from_work_seconds(w + np.round(np.asarray(hours, dtype=float) * 3600).astype(np.int64))
        return out[0].astype(datetime) if scalar else out

    def work_hours_between(self, start, end):
        """Working hours from ``start`` to ``end`` (negative when end is earlier); scalars or arrays."""
        scalar = isinstance(start, datetime)
        a = self.work_seconds(np.atleast_1d(np.asarray(start, dtype="datetime64[s]")))
        b = self.work_seconds(np.atleast_1d(np.asarray(end, dtype="datetime64[s]")))
        out = (b - a) / 3600.0
        return float(out[0]) if scalar else out

    def add_work_days(self, start: datetime, days: float) -> datetime:
        """Deadline in working days (工作日) = that many full working days of hours."""
        return self.add_work_hours(start, days * self.work_hours_per_day)

    def is_workday(self, day: date) -> bool:
        return bool(self.workday[(day - self.first_day).days])
