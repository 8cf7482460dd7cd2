"""Period arithmetic (core/periods.py)."""

from datetime import date, datetime

import pytest

from core import periods


def test_monday_and_last_complete_week():
    assert periods.monday_of(date(2026, 12, 6)) == date(2026, 11, 30)  # a Sunday
    assert periods.monday_of(datetime(2026, 11, 30, 23, 59)) == date(2026, 11, 30)
    assert periods.last_complete_week(datetime(2026, 12, 5, 9)) == date(2026, 11, 23)


@pytest.mark.parametrize(
    "day, back, expected",
    [
        (date(2026, 1, 15), 1, date(2025, 12, 1)),
        (date(2026, 12, 31), -1, date(2027, 1, 1)),
        (date(2026, 3, 1), 0, date(2026, 3, 1)),
        (date(2026, 3, 1), 14, date(2025, 1, 1)),
    ],
)
def test_month_start(day, back, expected):
    assert periods.month_start(day, back) == expected


def test_period_bounds_and_previous():
    w = periods.period_bounds("week", date(2026, 11, 30))
    assert w == (datetime(2026, 11, 30), datetime(2026, 12, 7))
    assert periods.previous_period(*w) == (datetime(2026, 11, 23), datetime(2026, 11, 30))
    m = periods.period_bounds("month", date(2026, 3, 1))
    assert m == (datetime(2026, 3, 1), datetime(2026, 4, 1))
    assert periods.previous_period(*m) == (datetime(2026, 2, 1), datetime(2026, 3, 1))  # 28 days, not 31
    c = periods.period_bounds("custom", date(2026, 3, 3), date(2026, 3, 9))
    assert c == (datetime(2026, 3, 3), datetime(2026, 3, 10))
    with pytest.raises(ValueError):
        periods.period_bounds("custom", date(2026, 3, 3))


def test_starts_and_trailing():
    assert periods.period_starts("week", date(2026, 12, 3), 3) == [
        date(2026, 11, 30),
        date(2026, 11, 23),
        date(2026, 11, 16),
    ]
    assert periods.period_starts("month", date(2026, 2, 10), 2) == [date(2026, 2, 1), date(2026, 1, 1)]
    trail = periods.trailing_periods(datetime(2026, 3, 1), datetime(2026, 4, 1), 3)
    assert [p[0].month for p in trail] == [1, 2, 3]


def test_week_starts_between():
    got = periods.week_starts_between(datetime(2026, 11, 10), datetime(2026, 12, 5), datetime(2026, 12, 5), 26)
    assert got == [date(2026, 11, 30), date(2026, 11, 23), date(2026, 11, 16), date(2026, 11, 9)]
    assert len(periods.week_starts_between(datetime(2020, 1, 1), datetime(2026, 12, 5), datetime(2026, 12, 5), 5)) == 5
