"""Backlog and map queries with known answers on both dialects."""

from datetime import datetime, timedelta

import pytest

from data_access import backlog_queries as bq
from data_access.case_filter import CaseFilter
from tests.builders import add_case, make_reference

NOW = datetime(2026, 11, 20, 15, 0)  # Friday; working days back: 19 Thu, 18 Wed, 17 Tue, 16 Mon, 13 Fri, …


@pytest.fixture
def world(writer):
    make_reference(writer)
    add_case(writer, reported_at=datetime(2026, 11, 20, 9), status="in_disposal", deadline_at=NOW + timedelta(1))
    add_case(
        writer,
        reported_at=datetime(2026, 11, 18, 9),
        status="in_disposal",
        deadline_at=NOW - timedelta(1),
        grid_id=12,
        channel="hotline",
    )  # 2 wd, overdue
    add_case(writer, reported_at=datetime(2026, 11, 14, 9), status="pending_check", grid_id=12)  # Sat: 5 wd
    add_case(
        writer,
        reported_at=datetime(2026, 11, 2, 9),
        status="in_disposal",
        grid_id=21,
        events=[
            dict(at=datetime(2026, 11, 2, 9), action="report", to_status="pending_verify"),
            dict(
                at=datetime(2026, 11, 2, 10),
                action="dispatch",
                from_status="pending_register",
                to_status="in_disposal",
                department_id=1,
            ),
        ],
    )  # 14 wd
    add_case(
        writer, reported_at=datetime(2026, 11, 1, 9), status="parked", parked_at=datetime(2026, 11, 10), grid_id=21
    )
    add_case(
        writer,
        reported_at=datetime(2026, 11, 12, 9),
        status="closed",
        closed_at=datetime(2026, 11, 19),
        disposed_at=datetime(2026, 11, 18),
        deadline_at=datetime(2026, 11, 17),
        grid_id=31,
    )  # open a week ago
    return NOW


def test_backlog_by_street_with_aging_and_week_change(world, reader):
    out = bq.backlog_by_unit(reader, NOW, "street", week_ago=NOW - timedelta(days=7)).set_index("unit_id")
    s1 = out.loc[1]
    assert (s1["open"], s1["overdue"], s1["parked"]) == (4, 1, 1)
    assert (s1["age_0_1"], s1["age_1_3"], s1["age_3_7"], s1["age_over_7"]) == (1, 1, 1, 1)
    # a week ago (13 Nov 15:00) street 1 had only the 2 Nov case open: the parked one left on 10 Nov and the
    # others came later
    assert s1["open_week_ago"] == 1
    assert out.loc[2, "open"] == 0 and out.loc[2, "open_week_ago"] == 1


def test_grid_level_inside_a_community(world, reader):
    out = bq.backlog_by_unit(reader, NOW, "grid", parent_id=1).set_index("unit_id")
    assert set(out.index) == {11, 12} and out.loc[12, "open"] == 2


def test_grid_measures_and_filters(world, reader):
    m = bq.grid_measures(reader, NOW, NOW - timedelta(days=30), NOW).set_index("grid_id")
    assert m.loc[12, "open"] == 2 and m.loc[12, "overdue"] == 1 and m.loc[31, "disposed"] == 1
    assert m.loc[31, "ontime"] == 0
    hot = bq.grid_measures(reader, NOW, NOW - timedelta(days=30), NOW, CaseFilter(channels=("hotline",)))
    assert hot.set_index("grid_id").loc[12, "open"] == 1
    assert bq.count_cases(reader, NOW - timedelta(days=30), NOW, CaseFilter(street_id=2)) == 1


def test_points_are_capped_and_newest_first(world, reader):
    pts = bq.case_points(reader, NOW - timedelta(days=30), NOW, limit=3)
    assert len(pts) == 3 and pts["reported_at"].is_monotonic_decreasing


def test_open_cases_case_file_and_timeline(world, reader):
    cases = bq.open_cases(reader, NOW, grid_id=21)
    assert len(cases) == 1
    file = bq.case_file(reader, int(cases.iloc[0]["id"]))
    assert file["grid"] == "网格21" and file["street"] == "测试街道1"
    timeline = bq.case_timeline(reader, int(cases.iloc[0]["id"]))
    assert list(timeline["action"]) == ["report", "dispatch"]
    assert bq.case_file(reader, 10**9) is None


def test_filter_rejects_unknown_vocabulary():
    with pytest.raises(ValueError, match="unknown"):
        CaseFilter(channels=("'; DROP TABLE cases; --",))
