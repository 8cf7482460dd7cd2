"""Scorecard queries on tiny hand-made worlds with known answers, on SQLite and PostgreSQL.

The period is the week [Mon 2026-03-02, Mon 2026-03-09); "as of" is its end. The worlds (``build_dept_world``,
``build_street_world``) are shared with tests/test_reports_departments.py, which checks the indicators, ranks and
intervals built on these counts.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from data_access import scorecard_queries as sq
from tests.builders import add_case, make_reference

START, END = datetime(2026, 3, 2), datetime(2026, 3, 9)


def d(day: int, hour: int = 10, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour)


def _ev(at, action, dept, note=None):
    # every event carries the same keys: an executemany takes its columns from the first row
    return dict(at=at, action=action, to_status="in_disposal", department_id=dept, note=note)


def build_dept_world(writer) -> dict:
    """Department 1 (城管) with every kind of case; department 2 with only dispatch/return events."""
    ids = make_reference(writer)
    c = dict(department_id=1, category_id=1, dispatched_at=d(2, 9))
    # a: on time; hotline, satisfied
    add_case(
        writer,
        reported_at=d(2, 9),
        status="closed",
        disposed_at=d(3),
        deadline_at=d(4),
        closed_at=d(3, 12),
        disposal_work_hours=3.0,
        channel="hotline",
        satisfaction="satisfied",
        events=[_ev(d(2, 9), "dispatch", 1)],
        **c,
    )
    # b: late; hotline, basically satisfied
    add_case(
        writer,
        reported_at=d(2, 9),
        status="closed",
        disposed_at=d(5),
        deadline_at=d(4),
        closed_at=d(6),
        disposal_work_hours=20.0,
        channel="hotline",
        satisfaction="basic",
        **c,
    )
    # c: on time only thanks to an approved extension; patrol (its satisfaction does not count)
    add_case(
        writer,
        reported_at=d(2, 9),
        status="closed",
        disposed_at=d(5),
        deadline_at=d(3),
        extended_deadline_at=d(6),
        extension_count=1,
        closed_at=d(5, 12),
        disposal_work_hours=10.0,
        satisfaction="satisfied",
        **c,
    )
    # d: rework after a failed check, finally disposed on time
    add_case(
        writer,
        reported_at=d(2, 9),
        status="closed",
        disposed_at=d(4),
        deadline_at=d(5),
        closed_at=d(4, 15),
        rework_count=1,
        disposal_work_hours=5.0,
        events=[_ev(d(3), "dispose", 1), _ev(d(3, 12), "check_fail", 1)],
        **c,
    )
    # m: disposed on time, waiting for the check (still open)
    add_case(
        writer,
        reported_at=d(2, 9),
        status="pending_check",
        disposed_at=d(4),
        deadline_at=d(5),
        disposal_work_hours=8.0,
        **c,
    )
    # e, f: 自行处置 and 作废 never count, even with disposal times in the window
    add_case(
        writer,
        reported_at=d(2, 9),
        status="self_handled",
        disposed_at=d(2, 11),
        closed_at=d(2, 11),
        deadline_at=d(2, 12),
        **c,
    )
    add_case(
        writer, reported_at=d(2, 9), status="cancelled", disposed_at=d(3), closed_at=d(3), deadline_at=d(2, 12), **c
    )
    # g: parked (挂账) before the end while overdue: leaves the denominators
    add_case(writer, reported_at=d(2, 9), status="parked", parked_at=d(3), deadline_at=d(2, 12), **c)
    # h: open and overdue at the end
    add_case(writer, reported_at=d(2, 9), status="in_disposal", deadline_at=d(4), **c)
    # i: open, not yet due
    add_case(writer, reported_at=d(6, 9), status="in_disposal", deadline_at=d(20), **c)
    # n: open, overdue even after its extension
    add_case(
        writer,
        reported_at=d(2, 9),
        status="in_disposal",
        deadline_at=d(3),
        extended_deadline_at=d(5),
        extension_count=1,
        **c,
    )
    # j: disposed exactly at the end (next period), late: overdue undisposed at the end of this one
    add_case(
        writer,
        reported_at=d(2, 9),
        status="closed",
        disposed_at=datetime(2026, 3, 9),
        deadline_at=d(6),
        closed_at=d(9, 12),
        disposal_work_hours=30.0,
        **c,
    )
    # crossing the start: disposed just before the period — not in it
    add_case(
        writer,
        reported_at=d(25, 9, 2),
        status="closed",
        disposed_at=datetime(2026, 3, 1, 23),
        deadline_at=d(2),
        closed_at=d(2, 8),
        disposal_work_hours=4.0,
        **c,
    )
    # k: force-closed after the end without a disposal, overdue at the end
    add_case(writer, reported_at=d(2, 9), status="force_closed", closed_at=d(10), deadline_at=d(5), **c)
    # l: parked after the end, overdue at the end
    add_case(writer, reported_at=d(2, 9), status="parked", parked_at=d(10), deadline_at=d(5), **c)
    # department 2: two dispatches, one return; plus a cancelled case whose return must not count
    add_case(
        writer,
        reported_at=d(3, 9),
        status="pending_dispatch",
        department_id=None,
        events=[_ev(d(3, 10), "dispatch", 2), _ev(d(3, 11), "return", 2, note="非本单位职责")],
    )
    add_case(
        writer,
        reported_at=d(3, 9),
        status="in_disposal",
        department_id=2,
        deadline_at=d(20),
        events=[_ev(d(3, 10), "dispatch", 2)],
    )
    add_case(
        writer,
        reported_at=d(3, 9),
        status="cancelled",
        department_id=None,
        closed_at=d(4),
        events=[_ev(d(3, 10), "dispatch", 2), _ev(d(3, 11), "return", 2)],
    )
    return ids


@pytest.fixture
def dept_world(writer):
    return build_dept_world(writer)


def test_overdue_now_vs_at_period_end(dept_world, reader):
    # As of now (after all of it happened): j was disposed, k force-closed, l parked → only h and n remain.
    overdue = sq.overdue_counts(reader, datetime(2026, 3, 20, 12))
    by = dict(zip(overdue["department_id"], overdue["overdue"]))
    assert by == {1: 3, 2: 1}  # h, n, and i (deadline 3-20 10:00 has passed at 12:00); dept 2's case too
    at_end = sq.overdue_counts(reader, END)
    assert dict(zip(at_end["department_id"], at_end["overdue"])) == {1: 5}


def test_next_period_counts_the_edge_case(dept_world, reader):
    nxt = sq.disposed_counts(reader, END, datetime(2026, 3, 16))
    r = nxt.set_index("department_id").loc[1]
    assert (r["disposed"], r["ontime"]) == (1, 0)  # j, late
    before = sq.disposed_counts(reader, datetime(2026, 2, 23), START)
    assert before.set_index("department_id").loc[1, "disposed"] == 1


def test_department_case_lists(dept_world, reader):
    overdue = sq.department_overdue_cases(reader, 1, END)
    assert len(overdue) == 2  # h and n are still in disposal and past due
    reworked = sq.department_reworked_cases(reader, 1, START, END)
    assert len(reworked) == 1 and reworked["rework_count"].iloc[0] == 1
    returned = sq.department_returned_cases(reader, 2, START, END)
    assert len(returned) == 1 and returned["note"].iloc[0] == "非本单位职责"


def test_histogram_is_bounded(writer, reader):
    make_reference(writer)
    for hours in [0.2, 0.9, 39.5, 40.0, 47.9, 48.0, 200.0]:
        add_case(
            writer,
            reported_at=d(2, 9),
            status="closed",
            disposed_at=d(3),
            deadline_at=d(4),
            disposal_work_hours=hours,
            dispatched_at=d(2, 9),
        )
    hist = sq.disposal_hours_histogram(reader, START, END)
    bins = dict(zip(hist["lo"], hist["n"]))
    assert bins == {0: 2, 39: 1, 40: 2, 48: 1, 200: 1}
    assert set(hist.loc[hist["lo"] >= 40, "width"]) == {8}


def build_street_world(writer) -> dict:
    """Street 1 with cases crossing the period edges, every channel and status; street 2 with one hotline request."""
    ids = make_reference(writer)
    s1 = dict(grid_id=11, department_id=1, dispatched_at=d(2, 9))
    add_case(
        writer,
        reported_at=d(2, 9),
        registered_at=d(2, 9),
        status="closed",
        disposed_at=d(3),
        deadline_at=d(4),
        closed_at=d(3, 12),
        **s1,
    )  # c1
    add_case(
        writer,
        reported_at=d(2, 9),
        registered_at=d(2, 9),
        channel="hotline",
        status="closed",
        disposed_at=d(5),
        deadline_at=d(4),
        closed_at=d(5, 12),
        satisfaction="unsatisfied",
        **s1,
    )  # c2
    add_case(
        writer, reported_at=d(3, 9), registered_at=d(3, 9), channel="app", status="in_disposal", deadline_at=d(4), **s1
    )  # c3
    add_case(writer, reported_at=d(3, 9), channel="hotline", status="cancelled", closed_at=d(3, 12), **s1)  # c4
    add_case(
        writer, reported_at=d(4, 9), registered_at=None, channel="hotline", status="pending_verify", grid_id=11
    )  # c5
    add_case(
        writer,
        reported_at=d(4, 9),
        registered_at=d(4, 9),
        status="self_handled",
        closed_at=d(4, 9),
        grid_id=11,
        department_id=None,
    )  # c6
    add_case(
        writer,
        reported_at=d(4, 9),
        registered_at=d(4, 9),
        channel="hotline",
        status="force_closed",
        closed_at=d(6),
        deadline_at=d(5),
        **s1,
    )  # c7
    # crossing the period edges: disposed before it and closed in it (c8); disposed in it, closed after it (c9)
    add_case(
        writer,
        reported_at=d(27, 9, 2),
        registered_at=d(27, 9, 2),
        status="closed",
        disposed_at=datetime(2026, 3, 1, 23),
        deadline_at=d(3),
        closed_at=d(2, 10),
        **s1,
    )  # c8
    add_case(
        writer,
        reported_at=d(27, 9, 2),
        registered_at=d(27, 9, 2),
        status="closed",
        disposed_at=d(8, 20),
        deadline_at=d(10),
        closed_at=d(9, 9),
        **s1,
    )  # c9
    # street 2: only a hotline request still being verified
    add_case(
        writer,
        reported_at=d(4, 9),
        registered_at=None,
        channel="hotline",
        status="pending_verify",
        grid_id=31,
        department_id=None,
    )
    return ids


@pytest.fixture
def street_world(writer):
    return build_street_world(writer)


def test_department_counts(dept_world, reader):
    counts = sq.department_counts(reader, START, END)
    cats = counts["by_category"].groupby("department_id").sum(numeric_only=True)
    r = cats.loc[1]
    assert (r["disposed"], r["ontime"], r["ontime_original"]) == (5, 4, 3)
    assert (r["overdue"], r["overdue_extended"], r["rework"], r["extended"]) == (5, 1, 1, 1)
    events = counts["events"].set_index("department_id")
    assert events.loc[1, ["dispatched", "returned"]].tolist() == [1, 0]
    assert events.loc[2, ["dispatched", "returned"]].tolist() == [2, 1]  # the cancelled case's events left out
    sat = counts["satisfaction"].set_index("department_id").loc[1]
    assert (sat["answered"], sat["satisfied"], sat["basic"]) == (2, 1, 1)  # patrol call-backs do not count
    assert counts["hours"]["n"].sum() == 5
    assert 3 not in set(cats.index) | set(events.index)  # no cases at all: no rows


def test_street_counts(street_world, reader):
    counts = sq.street_counts(reader, START, END)
    area = counts["area"].set_index("street_id")
    s1 = area.loc[1]
    assert (s1["registered"], s1["citizen_registered"]) == (5, 3)
    # c1 and c2 were disposed and closed in the period; c9 disposed in it but closed after it; c8 disposed before
    # it; c7 was force-closed without any disposal: not 应结案
    assert (s1["closed"], s1["closed_ontime"]) == (2, 1)
    assert (s1["citizen_received"], s1["citizen_responded"], s1["citizen_resolved"]) == (4, 3, 1)
    assert area.loc[2, "citizen_received"] == 1
    cats = counts["by_category"].groupby("street_id").sum(numeric_only=True)
    assert (cats.loc[1, "disposed"], cats.loc[1, "overdue"]) == (3, 1)
    sat = counts["satisfaction"].set_index("street_id")
    assert (sat.loc[1, "answered"], sat.loc[1, "unsatisfied"]) == (1, 1)
