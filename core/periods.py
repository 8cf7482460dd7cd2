"""Period arithmetic, written once: weeks (Monday–Sunday), calendar months, custom ranges, the period before.

Every period is a half-open interval ``[start, end)`` of naive local datetimes (as case timestamps are stored).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

PERIOD_KINDS = ("week", "month", "custom")


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time())


def monday_of(day: date | datetime) -> date:
    """The Monday of the week containing ``day``."""
    d = _day(day)
    return d - timedelta(days=d.weekday())


def last_complete_week(now: datetime) -> date:
    """The Monday of the last week (Monday–Sunday) that has fully ended at ``now``."""
    return monday_of(now) - timedelta(days=7)


def month_start(day: date | datetime, back: int = 0) -> date:
    """The first day of the month ``back`` months before the one containing ``day`` (negative: after)."""
    d = _day(day)
    index = d.year * 12 + d.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def period_starts(kind: str, anchor: date, n: int = 12) -> list[date]:
    """Start days of the last ``n`` weeks or months up to the one containing ``anchor``, newest first."""
    if kind == "week":
        first = monday_of(anchor)
        return [first - timedelta(weeks=i) for i in range(n)]
    return [month_start(anchor, i) for i in range(n)]


def period_bounds(kind: str, start: date, end: date | None = None) -> tuple[datetime, datetime]:
    """``[start, end)`` of a week, a calendar month, or a custom range whose ``end`` day is inclusive."""
    s = midnight(start)
    if kind == "week":
        return s, s + timedelta(days=7)
    if kind == "month":
        return s, midnight(month_start(start, -1))
    if end is None:
        raise ValueError("a custom period needs an end day")
    return s, midnight(end) + timedelta(days=1)


def previous_period(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The period just before ``[start, end)``: the previous calendar month when it is a whole month, else the same
    length immediately before (a week → the week before)."""
    if (
        start.day == 1
        and end.day == 1
        and start.time() == end.time() == datetime.min.time()
        and (end.year * 12 + end.month) - (start.year * 12 + start.month) == 1
    ):
        return midnight(month_start(start, 1)), start
    return start - (end - start), start


def trailing_periods(start: datetime, end: datetime, n: int) -> tuple[tuple[datetime, datetime], ...]:
    """The ``n`` periods of the same kind ending with ``[start, end)``, oldest first."""
    periods = [(start, end)]
    for _ in range(n - 1):
        periods.append(previous_period(*periods[-1]))
    return tuple(reversed(periods))


def week_starts_between(lo: datetime, hi: datetime, now: datetime, max_weeks: int = 26) -> list[date]:
    """Mondays from the week of ``min(hi, now)`` back to the week of ``lo``, at most ``max_weeks``, newest first."""
    last = monday_of(min(hi, now))
    first = max(monday_of(lo), last - timedelta(days=7 * (max_weeks - 1)))
    return [last - timedelta(days=7 * i) for i in range((last - first).days // 7 + 1)]
