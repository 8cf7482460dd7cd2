"""Working calendar: deadlines and working-hour durations across weekends, holidays and 调休 make-up days."""

from datetime import date, datetime

import numpy as np
import pytest

from core.workcal import WorkCalendar, calendar_rows, parse_work_hours

HOURS = "08:30-12:00,13:00-17:30"  # 8 working hours a day


@pytest.fixture(scope="module")
def cal():
    return WorkCalendar.from_library(2025, 2027, HOURS)


def test_calendar_rows_know_holidays_and_makeup_days():
    rows = {r["day"]: r for r in calendar_rows(2026, 2026)}
    assert rows[date(2026, 10, 1)]["is_workday"] is False  # National Day
    assert rows[date(2026, 10, 1)]["holiday_name"]
    assert rows[date(2026, 10, 10)]["is_workday"] is True  # Saturday worked (调休)
    assert rows[date(2026, 10, 10)]["is_makeup_workday"] is True
    assert rows[date(2026, 11, 21)]["is_workday"] is False  # an ordinary Saturday
    # the running count increases exactly on working days
    seq = [rows[d]["workday_seq"] for d in sorted(rows)]
    work = [rows[d]["is_workday"] for d in sorted(rows)]
    assert np.all(np.diff(seq) == np.array(work[1:], dtype=int))


def test_years_beyond_the_library_fall_back_to_weekdays():
    rows = calendar_rows(2027, 2027)
    if rows[0]["source"] == "chinese_calendar":
        pytest.skip("the installed holiday library already covers 2027")
    assert all(r["is_workday"] == (r["day"].weekday() < 5) for r in rows)


def test_deadline_across_a_weekend(cal):
    # Friday 2026-11-20 16:00 + 4 working hours: 1.5 h on Friday, 2.5 h on Monday from 08:30
    assert cal.add_work_hours(datetime(2026, 11, 20, 16, 0), 4) == datetime(2026, 11, 23, 11, 0)


def test_deadline_across_a_public_holiday(cal):
    # Wed 2026-09-30 16:00 + 4 h: National Day 1–7 Oct is skipped; 2.5 h on Thu 8 Oct
    assert cal.add_work_hours(datetime(2026, 9, 30, 16, 0), 4) == datetime(2026, 10, 8, 11, 0)


def test_deadline_uses_a_makeup_workday(cal):
    # Fri 2026-10-09 17:00 + 8 h: 0.5 h Friday, then Saturday 10 Oct is a 调休 working day
    assert cal.add_work_hours(datetime(2026, 10, 9, 17, 0), 8) == datetime(2026, 10, 10, 17, 0)


def test_deadline_in_working_days_and_lunch_break(cal):
    assert cal.add_work_days(datetime(2026, 11, 23, 8, 30), 1) == datetime(2026, 11, 23, 17, 30)
    # 11:00 + 2 h crosses the 12:00–13:00 lunch break
    assert cal.add_work_hours(datetime(2026, 11, 23, 11, 0), 2) == datetime(2026, 11, 23, 14, 0)


def test_reported_outside_hours_starts_the_clock_next_morning(cal):
    assert cal.add_work_hours(datetime(2026, 11, 21, 22, 0), 2) == datetime(2026, 11, 23, 10, 30)


def test_working_hour_durations(cal):
    assert cal.work_hours_between(datetime(2026, 11, 20, 16, 0), datetime(2026, 11, 23, 11, 0)) == 4.0
    assert cal.work_hours_between(datetime(2026, 9, 30, 8, 30), datetime(2026, 10, 8, 8, 30)) == 8.0
    assert cal.work_hours_between(datetime(2026, 11, 21, 9, 0), datetime(2026, 11, 22, 18, 0)) == 0.0
    assert cal.work_hours_between(datetime(2026, 11, 23, 11, 0), datetime(2026, 11, 20, 16, 0)) == -4.0


def test_vectorised_matches_scalar(cal):
    rng = np.random.default_rng(1)
    starts = np.datetime64("2026-01-01T00:00:00") + rng.integers(0, 300 * 86400, 500).astype("timedelta64[s]")
    hours = rng.uniform(0.5, 200, 500)
    deadlines = cal.add_work_hours(starts, hours)
    back = cal.work_hours_between(starts, deadlines)
    # the deadline is exactly `hours` working hours later (start snapped to working time)
    np.testing.assert_allclose(back, np.round(hours * 3600) / 3600, atol=1e-9)
    for s, h, d in list(zip(starts, hours, deadlines))[:20]:
        assert cal.add_work_hours(s.astype(datetime), float(h)) == d.astype(datetime)


def test_outside_the_calendar_is_a_clear_error(cal):
    with pytest.raises(ValueError, match="outside the working calendar"):
        cal.add_work_hours(datetime(2031, 1, 1), 1)


@pytest.mark.parametrize("spec", ["8-12", "09:00-08:00", "08:00-12:00,11:00-13:00", "nonsense"])
def test_bad_work_hours_are_rejected(spec):
    with pytest.raises(ValueError, match="work_hours"):
        parse_work_hours(spec)
