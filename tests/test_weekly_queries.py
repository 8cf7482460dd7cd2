"""Weekly meeting queries on both dialects over a hand-made world with known answers (week edges, repeats)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from data_access import weekly_queries as wq
from tests.builders import add_case, make_reference

WEEK = date(2026, 3, 2)  # a Monday
NOW = datetime(2026, 3, 20, 12, 0)
LAT, LON = 31.0, 121.2


@pytest.fixture
def world(writer, reader):
    make_reference(writer)
    ids = {}
    ids["c1"] = add_case(
        writer,
        grid_id=11,
        reported_at=datetime(2026, 3, 2, 9, 0),
        lat=LAT,
        lon=LON,
        address="甲路1号",
        status="closed",
        disposed_at=datetime(2026, 3, 3, 9, 0),
        deadline_at=datetime(2026, 3, 3, 12, 0),
        closed_at=datetime(2026, 3, 3, 10, 0),
    )
    # repeat of c1: same grid, category and spot, 3.2 days after its closure; escalated in the week
    ids["c2"] = add_case(
        writer,
        grid_id=11,
        reported_at=datetime(2026, 3, 6, 14, 0),
        lat=LAT + 0.0001,
        lon=LON,
        address="甲路1号",
        escalated=True,
        events=[
            dict(
                at=datetime(2026, 3, 5, 8, 0),
                action="escalate",
                from_status="in_disposal",
                to_status="in_disposal",
                department_id=1,
                note="提交区级",
            )
        ],
    )
    # Sunday 23:30, other grid: in the week, not a repeat; returned by department 3
    ids["c3"] = add_case(
        writer,
        grid_id=12,
        reported_at=datetime(2026, 3, 8, 23, 30),
        lat=LAT,
        lon=LON,
        address="乙路2号",
        events=[
            dict(
                at=datetime(2026, 3, 4, 10, 0),
                action="return",
                from_status="in_disposal",
                to_status="pending_dispatch",
                department_id=3,
                note="非本单位职责",
            ),
            dict(
                at=datetime(2026, 3, 5, 10, 0),
                action="check_fail",
                from_status="pending_check",
                to_status="in_disposal",
                department_id=1,
                note=None,
            ),
        ],
    )
    ids["c4"] = add_case(writer, grid_id=11, reported_at=datetime(2026, 3, 9, 0, 0), address="甲路1号")  # next week
    ids["c5"] = add_case(writer, grid_id=11, reported_at=datetime(2026, 3, 1, 23, 59), address="甲路1号")  # week before
    # an older closure 22 days before c7 (a repeat only with N ≥ 22)
    ids["c6"] = add_case(
        writer,
        grid_id=21,
        reported_at=datetime(2026, 2, 9, 9, 0),
        lat=LAT,
        lon=LON,
        status="closed",
        closed_at=datetime(2026, 2, 10, 9, 0),
        department_id=2,
        address="丙路3号",
    )
    ids["c7"] = add_case(
        writer, grid_id=21, reported_at=datetime(2026, 3, 4, 9, 0), lat=LAT, lon=LON, address="丙路3号"
    )
    # same grid and category as c1 but ~500 m away: not the same place
    ids["c8"] = add_case(
        writer, grid_id=11, reported_at=datetime(2026, 3, 4, 11, 0), lat=LAT + 0.0045, lon=LON, address="甲路9号"
    )
    # overdue at the week's end and still open: department 2
    ids["c9"] = add_case(
        writer,
        grid_id=22,
        reported_at=datetime(2026, 2, 20, 9, 0),
        department_id=2,
        deadline_at=datetime(2026, 2, 25, 9, 0),
        address="丁路4号",
    )
    # cancelled in the week: never counted
    add_case(writer, grid_id=11, reported_at=datetime(2026, 3, 3, 9, 0), status="cancelled", address="甲路1号")
    return ids


def test_week_bounds():
    # Mondays and the last complete week are core.periods (tests/test_periods.py)
    assert wq.week_bounds(WEEK) == (datetime(2026, 3, 2), datetime(2026, 3, 9))
    with pytest.raises(ValueError):
        wq.week_bounds(date(2026, 3, 3))


def test_headline(world, reader):
    weeks = wq.weekly_headline(reader, WEEK, now=NOW)
    assert list(weeks["week"]) == [date(2026, 2, 2), date(2026, 2, 9), date(2026, 2, 16), date(2026, 2, 23), WEEK]
    cur = weeks.iloc[-1]
    # c1, c2, c3, c7, c8 (c4 is next Monday 00:00, c5 the Sunday before, the cancelled one never counts)
    assert cur["new"] == 5 and cur["closed"] == 1 and cur["escalated"] == 1
    assert cur["overdue"] == 1 and cur["disposed"] == 1 and cur["ontime"] == 1
    assert cur["ontime_rate"] == pytest.approx(0.5)
    prev = weeks.iloc[-2]
    assert prev["new"] == 1 and prev["overdue"] == 1  # c5; c9 was already overdue at that week's end
    assert list(weeks["has_data"]) == [False, True, True, True, True]
    # the comparisons (previous week, 4-week average) are reports.weekly.headline_changes: test_reports_weekly.py


def test_department_week(world, reader):
    d = wq.department_week(reader, WEEK, now=NOW).set_index("department_id")
    assert d.loc[2, "overdue"] == 1 and d.loc[3, "returned"] == 1
    assert d.loc[1, "reworked"] == 1 and d.loc[1, "escalated"] == 1 and d.loc[1, "disposed"] == 1
    od = wq.overdue_cases(reader, WEEK, now=NOW)
    assert list(od["department_id"]) == [2] and od.iloc[0]["days_overdue"] == pytest.approx(23.1, abs=0.1)
    ev = wq.event_cases(reader, WEEK, ("return", "check_fail", "escalate"))
    assert sorted(ev["action"]) == ["check_fail", "escalate", "return"]
    assert wq.event_cases(reader, WEEK, ("return",), department_id=1).empty


def test_repeat_problems(world, reader):
    rp = wq.repeat_problems(reader, WEEK)
    assert len(rp) == 1
    row = rp.iloc[0]
    assert row["department_id"] == 1 and row["days_after"] == pytest.approx(3.2, abs=0.05)
    # a longer window also catches the 22-day-old closure in grid 21 (department 2)
    longer = wq.repeat_problems(reader, WEEK, repeat_days=30)
    assert sorted(longer["department_id"].astype(int)) == [1, 2]
    # a tiny radius still finds c2 (11 m away), a wide one would not pick up other categories
    assert len(wq.repeat_problems(reader, WEEK, radius_m=20)) == 1
    assert len(wq.repeat_problems(reader, WEEK, radius_m=5)) == 0
    assert wq.repeat_problems(reader, date(2026, 2, 23)).empty


def test_hotspots(world, reader):
    places = wq.top_places(reader, WEEK, limit=3)
    assert places.iloc[0]["address"] == "甲路1号" and places.iloc[0]["n"] == 2
    assert places.iloc[0]["top_category"] == "暴露垃圾"
    heat = wq.weekday_hour_counts(reader, WEEK)
    cells = {(r.weekday, r.hour): r.n for r in heat.itertuples()}
    assert cells[(0, 9)] == 1 and cells[(6, 23)] == 1 and cells[(4, 14)] == 1
    assert heat["n"].sum() == 5
    majors = wq.major_categories(reader, WEEK)
    assert majors.iloc[0]["n"] == 5
