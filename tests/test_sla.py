"""SLA clock colours at the stage limits, in working hours."""

from datetime import datetime

import pytest

from analytics.sla import sla_clock
from core.workcal import WorkCalendar


@pytest.fixture(scope="module")
def cal():
    return WorkCalendar.from_library(2026, 2026, "08:30-12:00,13:00-17:30")


@pytest.mark.parametrize(
    "now, colour",
    [
        (datetime(2026, 11, 23, 14, 0), "green"),  # 4.5 of 7.5 h (lunch 12–13 not counted)
        (datetime(2026, 11, 23, 16, 0), "yellow"),  # 6.5 of 7.5 h
    ],
)
def test_colours(cal, now, colour):
    start, deadline = datetime(2026, 11, 23, 8, 30), datetime(2026, 11, 23, 17, 0)  # 7.5 working hours
    clock = sla_clock(cal, start, deadline, now)
    assert clock.limit_hours == 7.5
    assert clock.colour == colour


def test_red_after_the_deadline_counts_working_hours_only(cal):
    # dispatched Friday 16:00 with a 2 h limit: Monday 09:30 is 1.5 + 1 = 2.5 h used -> red, weekend not counted
    clock = sla_clock(cal, datetime(2026, 11, 20, 16, 0), datetime(2026, 11, 23, 9, 0), datetime(2026, 11, 23, 9, 30))
    assert clock.limit_hours == 2.0 and clock.used_hours == 2.5 and clock.colour == "red"


def test_no_deadline_no_clock(cal):
    assert sla_clock(cal, datetime(2026, 11, 20, 16, 0), None, datetime(2026, 11, 23)) is None


def test_effective_deadline_on_columns_and_values():
    import pandas as pd

    from analytics.sla import effective_deadline, stage_start

    original = pd.Series(pd.to_datetime(["2026-11-20 17:00", "2026-11-20 17:00", None]))
    extended = pd.Series(pd.to_datetime(["2026-11-24 17:00", None, None]))
    assert effective_deadline(original, extended).tolist()[:2] == [
        pd.Timestamp("2026-11-24 17:00"),
        pd.Timestamp("2026-11-20 17:00"),
    ]
    assert pd.isna(effective_deadline(original, extended).iloc[2])
    assert effective_deadline(datetime(2026, 11, 20), None) == datetime(2026, 11, 20)
    assert effective_deadline(datetime(2026, 11, 20), pd.NaT) == datetime(2026, 11, 20)
    assert effective_deadline(None, datetime(2026, 11, 24)) == datetime(2026, 11, 24)
    assert stage_start(pd.NaT, datetime(2026, 11, 20, 9)) == datetime(2026, 11, 20, 9)
    assert stage_start(datetime(2026, 11, 20, 10), datetime(2026, 11, 20, 9)) == datetime(2026, 11, 20, 10)
