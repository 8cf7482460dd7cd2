"""The backlog screen models (reports.backlog) on a tiny world with known answers, on both dialects."""

from datetime import datetime, timedelta

import pandas as pd
import pytest

from reports import backlog
from reports.backlog import BacklogParams, CaseFileParams, GridCasesParams
from tests.builders import add_case, make_reference

NOW = datetime(2026, 11, 20, 15, 0)  # Friday; working days back: 19 Thu, 18 Wed, 17 Tue, 16 Mon, 13 Fri, …


@pytest.fixture
def world(writer):
    """Street 1: grid 11 (1 open), grid 12 (2 open, 1 overdue), grid 21 (1 open, 1 parked); street 2: grid 31 (a case
    closed since last week). Returns the ids of the cases a test opens."""
    make_reference(writer)
    ids = {}
    ids["fresh"] = add_case(
        writer,
        reported_at=datetime(2026, 11, 20, 9),
        status="in_disposal",
        registered_at=datetime(2026, 11, 20, 9),
        dispatched_at=datetime(2026, 11, 20, 9),
        deadline_at=datetime(2026, 11, 20, 17),
    )
    ids["extended"] = add_case(
        writer,
        reported_at=datetime(2026, 11, 18, 9),
        status="in_disposal",
        deadline_at=NOW - timedelta(days=1),
        extended_deadline_at=NOW + timedelta(days=2),
        grid_id=12,
        department_id=2,
        channel="hotline",
    )
    ids["overdue"] = add_case(
        writer,
        reported_at=datetime(2026, 11, 14, 9),
        status="pending_check",
        grid_id=12,
        deadline_at=NOW - timedelta(hours=2),
        reporter_id="13900000000",
    )
    ids["old"] = add_case(
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
    )
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
    )
    return ids


def test_street_level_lists_every_street_worst_first(world, reader):
    model = backlog.build(reader, BacklogParams(), now=NOW)
    assert (model.level, model.parent_id, model.street_name, model.community_name) == ("street", None, None, None)
    units = model.units
    assert list(units["unit_id"]) == [1, 2]  # street 1 has the overdue case
    s1, s2 = units.iloc[0], units.iloc[1]
    assert (s1["open"], s1["overdue"], s1["parked"]) == (4, 1, 1)
    assert (s1["age_0_1"], s1["age_1_3"], s1["age_3_7"], s1["age_over_7"]) == (1, 1, 1, 1)
    assert s1["oldest_reported_at"] == pd.Timestamp(2026, 11, 2, 9)
    # a week ago only the 2 Nov case of street 1 was open (the parked one left on 10 Nov, the others came later)
    assert (s1["open_week_ago"], s1["change"]) == (1, 3)
    assert s1["per_1000"] == pytest.approx(0.2)  # 4 open among 20,000 residents
    assert (s2["open"], s2["open_week_ago"], s2["change"]) == (0, 1, -1)  # cleared since last week: news too


def test_a_street_lists_its_communities(world, reader):
    model = backlog.build(reader, BacklogParams(street_id=1), now=NOW)
    assert (model.level, model.parent_id, model.street_name) == ("community", 1, "测试街道1")
    units = model.units.set_index("unit_id")
    assert set(units.index) == {1, 2}
    assert (units.loc[1, "open"], units.loc[2, "open"], units.loc[2, "parked"]) == (3, 1, 1)


def test_a_grid_alone_finds_its_community(world, reader):
    model = backlog.build(reader, BacklogParams(street_id=1, grid_id=12), now=NOW)
    assert (model.level, model.parent_id, model.community_id, model.grid_id) == ("grid", 1, 1, 12)
    assert model.community_name == "测试社区1"
    assert list(model.units["unit_id"]) == [12, 11]  # both grids of the community, worst first
    assert list(model.units["open"]) == [2, 1]


def test_an_unknown_grid_stays_at_the_street_level(world, reader):
    model = backlog.build(reader, BacklogParams(grid_id=999), now=NOW)
    assert (model.level, model.grid_id) == ("street", None)


def test_filter_units_by_name_and_overdue(world, reader):
    units = backlog.build(reader, BacklogParams(), now=NOW).units
    assert list(backlog.filter_units(units, "街道2")["unit_id"]) == [2]
    assert list(backlog.filter_units(units, only_overdue=True)["unit_id"]) == [1]
    assert backlog.filter_units(units, "(", only_overdue=True).empty  # plain text, not a pattern


def test_resolve_level():
    assert backlog.resolve_level(BacklogParams(), None) == ("street", None, None)
    assert backlog.resolve_level(BacklogParams(street_id=3), None) == ("community", 3, None)
    assert backlog.resolve_level(BacklogParams(street_id=3, grid_id=9), 5) == ("grid", 5, 5)
    assert backlog.resolve_level(BacklogParams(community_id=4, grid_id=9), 5) == ("grid", 4, 4)


def test_grid_cases_show_the_effective_deadline(world, reader):
    model = backlog.grid_cases(reader, GridCasesParams(12), now=NOW)
    assert model.grid_name == "网格12"
    cases = model.cases.set_index("id")
    assert list(model.cases["id"]) == [world["overdue"], world["extended"]]  # most urgent first
    assert cases.loc[world["extended"], "deadline"] == pd.Timestamp(NOW + timedelta(days=2))  # after 延期
    assert not cases.loc[world["extended"], "overdue"] and cases.loc[world["overdue"], "overdue"]
    assert "extended_deadline_at" not in model.cases


def test_grid_cases_of_one_department(world, reader):
    model = backlog.grid_cases(reader, GridCasesParams(12, department_id=2), now=NOW)
    assert list(model.cases["id"]) == [world["extended"]]


def test_case_file_with_clock_fields_and_timeline(world, reader):
    file = backlog.case_file(reader, CaseFileParams(world["fresh"]), now=NOW)
    assert file.case_no.startswith("T")
    # dispatched 09:00, due 17:00 (7 working hours, lunch 12–13 excluded); at 15:00, 5 hours used
    assert (file.clock.limit_hours, file.clock.used_hours, file.clock.colour) == (7.0, 5.0, "green")
    assert file.extended_deadline_at is None and file.deadline_at == datetime(2026, 11, 20, 17)
    assert file.fields["grid"] == "网格11" and file.fields["street"] == "测试街道1"
    assert file.fields["status"] == "in_disposal" and file.fields["channel"] == "patrol"  # codes
    assert not {"grid_id", "street_id", "category_id", "department_id"} & set(file.fields)
    assert "reporter_id" in file.fields
    old = backlog.case_file(reader, CaseFileParams(world["old"]), now=NOW)
    assert old.clock is None  # no deadline
    assert list(old.timeline["action"]) == ["report", "dispatch"]


def test_case_file_after_an_extension(world, reader):
    file = backlog.case_file(reader, CaseFileParams(world["extended"]), now=NOW)
    assert file.extended_deadline_at == NOW + timedelta(days=2)
    # registered Wed 09:00, due Sun after 延期: 7.5 + 8 + 8 working hours; used by Fri 15:00: 7.5 + 8 + 5.5
    assert (file.clock.limit_hours, file.clock.used_hours, file.clock.colour) == (23.5, 21.0, "yellow")


def test_unknown_case_file_is_none(world, reader):
    assert backlog.case_file(reader, CaseFileParams(10**9), now=NOW) is None
