"""Scorecard queries on tiny hand-made worlds with known answers, on SQLite and PostgreSQL.

The period is the week [Mon 2026-03-02, Mon 2026-03-09); "as of" is its end.
"""
from __future__ import annotations

import math
from datetime import datetime

import pandas as pd
import pytest

from builders import add_case, make_reference
from data_access import scorecard_queries as sq

START, END = datetime(2026, 3, 2), datetime(2026, 3, 9)


def d(day: int, hour: int = 10, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour)


def _ev(at, action, dept, note=None):
    # every event carries the same keys: an executemany takes its columns from the first row
    return dict(at=at, action=action, to_status="in_disposal", department_id=dept, note=note)


@pytest.fixture
def dept_world(writer):
    """Department 1 (城管) with every kind of case; department 2 with only dispatch/return events."""
    ids = make_reference(writer)
    c = dict(department_id=1, category_id=1, dispatched_at=d(2, 9))
    # a: on time; hotline, satisfied
    add_case(writer, reported_at=d(2, 9), status="closed", disposed_at=d(3), deadline_at=d(4), closed_at=d(3, 12),
             disposal_work_hours=3.0, channel="hotline", satisfaction="satisfied",
             events=[_ev(d(2, 9), "dispatch", 1)], **c)
    # b: late; hotline, basically satisfied
    add_case(writer, reported_at=d(2, 9), status="closed", disposed_at=d(5), deadline_at=d(4), closed_at=d(6),
             disposal_work_hours=20.0, channel="hotline", satisfaction="basic", **c)
    # c: on time only thanks to an approved extension; patrol (its satisfaction does not count)
    add_case(writer, reported_at=d(2, 9), status="closed", disposed_at=d(5), deadline_at=d(3),
             extended_deadline_at=d(6), extension_count=1, closed_at=d(5, 12), disposal_work_hours=10.0,
             satisfaction="satisfied", **c)
    # d: rework after a failed check, finally disposed on time
    add_case(writer, reported_at=d(2, 9), status="closed", disposed_at=d(4), deadline_at=d(5), closed_at=d(4, 15),
             rework_count=1, disposal_work_hours=5.0,
             events=[_ev(d(3), "dispose", 1), _ev(d(3, 12), "check_fail", 1)], **c)
    # m: disposed on time, waiting for the check (still open)
    add_case(writer, reported_at=d(2, 9), status="pending_check", disposed_at=d(4), deadline_at=d(5),
             disposal_work_hours=8.0, **c)
    # e, f: 自行处置 and 作废 never count, even with disposal times in the window
    add_case(writer, reported_at=d(2, 9), status="self_handled", disposed_at=d(2, 11), closed_at=d(2, 11),
             deadline_at=d(2, 12), **c)
    add_case(writer, reported_at=d(2, 9), status="cancelled", disposed_at=d(3), closed_at=d(3), deadline_at=d(2, 12),
             **c)
    # g: parked (挂账) before the end while overdue: leaves the denominators
    add_case(writer, reported_at=d(2, 9), status="parked", parked_at=d(3), deadline_at=d(2, 12), **c)
    # h: open and overdue at the end
    add_case(writer, reported_at=d(2, 9), status="in_disposal", deadline_at=d(4), **c)
    # i: open, not yet due
    add_case(writer, reported_at=d(6, 9), status="in_disposal", deadline_at=d(20), **c)
    # n: open, overdue even after its extension
    add_case(writer, reported_at=d(2, 9), status="in_disposal", deadline_at=d(3), extended_deadline_at=d(5),
             extension_count=1, **c)
    # j: disposed exactly at the end (next period), late: overdue undisposed at the end of this one
    add_case(writer, reported_at=d(2, 9), status="closed", disposed_at=datetime(2026, 3, 9), deadline_at=d(6),
             closed_at=d(9, 12), disposal_work_hours=30.0, **c)
    # crossing the start: disposed just before the period — not in it
    add_case(writer, reported_at=d(25, 9, 2), status="closed", disposed_at=datetime(2026, 3, 1, 23), deadline_at=d(2),
             closed_at=d(2, 8), disposal_work_hours=4.0, **c)
    # k: force-closed after the end without a disposal, overdue at the end
    add_case(writer, reported_at=d(2, 9), status="force_closed", closed_at=d(10), deadline_at=d(5), **c)
    # l: parked after the end, overdue at the end
    add_case(writer, reported_at=d(2, 9), status="parked", parked_at=d(10), deadline_at=d(5), **c)
    # department 2: two dispatches, one return; plus a cancelled case whose return must not count
    add_case(writer, reported_at=d(3, 9), status="pending_dispatch", department_id=None,
             events=[_ev(d(3, 10), "dispatch", 2), _ev(d(3, 11), "return", 2, note="非本单位职责")])
    add_case(writer, reported_at=d(3, 9), status="in_disposal", department_id=2, deadline_at=d(20),
             events=[_ev(d(3, 10), "dispatch", 2)])
    add_case(writer, reported_at=d(3, 9), status="cancelled", department_id=None, closed_at=d(4),
             events=[_ev(d(3, 10), "dispatch", 2), _ev(d(3, 11), "return", 2)])
    return ids


def _row(table, department_id):
    rows = table[table["department_id"] == department_id]
    assert len(rows) == 1, table
    return rows.iloc[0]


def test_department_counts_and_indicators(dept_world, reader):
    card = sq.department_scorecard(reader, START, END, min_volume=1, with_previous=False)
    r = _row(card.table, 1)
    assert (r["disposed"], r["ontime"], r["ontime_original"]) == (5, 4, 3)
    assert (r["overdue"], r["overdue_extended"], r["due"]) == (5, 1, 10)
    assert (r["rework"], r["extended"], r["extended_due"]) == (1, 1, 2)
    assert r["disposal_rate"] == pytest.approx(0.5)
    assert r["ontime_rate"] == pytest.approx(0.4)
    assert r["ontime_original_rate"] == pytest.approx(0.3)
    assert r["overdue_rate"] == pytest.approx(0.5)
    assert r["rework_rate"] == pytest.approx(1 / 5)          # 返工率 denominator: 处置数
    assert r["extension_rate"] == pytest.approx(0.2)
    assert (r["dispatched"], r["returned"]) == (1, 0)
    assert r["return_rate"] == pytest.approx(0.0)
    assert (r["answered"], r["satisfied"], r["basic"]) == (2, 1, 1)
    assert r["satisfaction_rate"] == pytest.approx(0.95)
    # disposal hours 3, 5, 8, 10, 20 in 1-hour bins: median = 8 + ½, P90 = 20 + ½ (even spread in a bin)
    assert r["median_hours"] == pytest.approx(8.5)
    assert r["p90_hours"] == pytest.approx(20.5)
    # score with the default weights 30/20/20/20/10: 0.5·30 + 0.4·20 + 0.8·20 + 0.5·20 + 0.8·10 = 57 → D
    assert r["score"] == pytest.approx(57.0)
    assert r["grade"] == "D"
    assert r["code"] == "cg" and r["name"] == "城管执法局"


def test_zero_denominators_are_missing_not_zero(dept_world, reader):
    card = sq.department_scorecard(reader, START, END, min_volume=1, with_previous=False)
    r = _row(card.table, 2)
    # one case in disposal, not due yet: nothing due, nothing disposed
    assert (r["due"], r["disposed"], r["overdue"]) == (0, 0, 0)
    for col in ("disposal_rate", "ontime_rate", "rework_rate", "extension_rate", "satisfaction_rate", "score", "oe"):
        assert math.isnan(r[col]), col
    assert pd.isna(r["grade"])
    assert (r["dispatched"], r["returned"]) == (2, 1)       # the cancelled case's events are left out
    assert r["return_rate"] == pytest.approx(0.5)
    assert not r["oe_ranked"] and r["oe_status"] == "no_data"
    assert 3 not in set(card.table["department_id"])        # no cases at all: not listed


def test_overdue_now_vs_at_period_end(dept_world, reader):
    # As of now (after all of it happened): j was disposed, k force-closed, l parked → only h and n remain.
    overdue = sq.overdue_counts(reader, datetime(2026, 3, 20, 12))
    by = dict(zip(overdue["department_id"], overdue["overdue"]))
    assert by == {1: 3, 2: 1}    # h, n, and i (deadline 3-20 10:00 has passed at 12:00); dept 2's case too
    at_end = sq.overdue_counts(reader, END)
    assert dict(zip(at_end["department_id"], at_end["overdue"])) == {1: 5}


def test_next_period_counts_the_edge_case(dept_world, reader):
    nxt = sq.disposed_counts(reader, END, datetime(2026, 3, 16))
    r = nxt.set_index("department_id").loc[1]
    assert (r["disposed"], r["ontime"]) == (1, 0)           # j, late
    before = sq.disposed_counts(reader, datetime(2026, 2, 23), START)
    assert before.set_index("department_id").loc[1, "disposed"] == 1


def test_department_case_lists(dept_world, reader):
    overdue = sq.department_overdue_cases(reader, 1, END)
    assert len(overdue) == 2                                 # h and n are still in disposal and past due
    reworked = sq.department_reworked_cases(reader, 1, START, END)
    assert len(reworked) == 1 and reworked["rework_count"].iloc[0] == 1
    returned = sq.department_returned_cases(reader, 2, START, END)
    assert len(returned) == 1 and returned["note"].iloc[0] == "非本单位职责"


def test_histogram_is_bounded(writer, reader):
    make_reference(writer)
    for i, hours in enumerate([0.2, 0.9, 39.5, 40.0, 47.9, 48.0, 200.0]):
        add_case(writer, reported_at=d(2, 9), status="closed", disposed_at=d(3), deadline_at=d(4),
                 disposal_work_hours=hours, dispatched_at=d(2, 9))
    hist = sq.disposal_hours_histogram(reader, START, END)
    bins = dict(zip(hist["lo"], hist["n"]))
    assert bins == {0: 2, 39: 1, 40: 2, 48: 1, 200: 1}
    assert set(hist.loc[hist["lo"] >= 40, "width"]) == {8}


@pytest.fixture
def street_world(writer):
    ids = make_reference(writer)
    s1 = dict(grid_id=11, department_id=1, dispatched_at=d(2, 9))
    add_case(writer, reported_at=d(2, 9), registered_at=d(2, 9), status="closed", disposed_at=d(3), deadline_at=d(4),
             closed_at=d(3, 12), **s1)                                                         # c1
    add_case(writer, reported_at=d(2, 9), registered_at=d(2, 9), channel="hotline", status="closed",
             disposed_at=d(5), deadline_at=d(4), closed_at=d(5, 12), satisfaction="unsatisfied", **s1)  # c2
    add_case(writer, reported_at=d(3, 9), registered_at=d(3, 9), channel="app", status="in_disposal",
             deadline_at=d(4), **s1)                                                            # c3
    add_case(writer, reported_at=d(3, 9), channel="hotline", status="cancelled", closed_at=d(3, 12), **s1)   # c4
    add_case(writer, reported_at=d(4, 9), registered_at=None, channel="hotline", status="pending_verify",
             grid_id=11)                                                                       # c5
    add_case(writer, reported_at=d(4, 9), registered_at=d(4, 9), status="self_handled", closed_at=d(4, 9),
             grid_id=11, department_id=None)                                                   # c6
    add_case(writer, reported_at=d(4, 9), registered_at=d(4, 9), channel="hotline", status="force_closed",
             closed_at=d(6), deadline_at=d(5), **s1)                                            # c7
    # crossing the period edges: disposed before it and closed in it (c8); disposed in it, closed after it (c9)
    add_case(writer, reported_at=d(27, 9, 2), registered_at=d(27, 9, 2), status="closed",
             disposed_at=datetime(2026, 3, 1, 23), deadline_at=d(3), closed_at=d(2, 10), **s1)            # c8
    add_case(writer, reported_at=d(27, 9, 2), registered_at=d(27, 9, 2), status="closed",
             disposed_at=d(8, 20), deadline_at=d(10), closed_at=d(9, 9), **s1)                            # c9
    # street 2: only a hotline request still being verified
    add_case(writer, reported_at=d(4, 9), registered_at=None, channel="hotline", status="pending_verify", grid_id=31,
             department_id=None)
    return ids


def test_street_area_indicators(street_world, reader):
    card = sq.street_scorecard(reader, START, END, min_volume=1)
    t = card.table.set_index("street_id")
    s1 = t.loc[1]
    assert (s1["registered"], s1["citizen_registered"]) == (5, 3)
    assert s1["public_report_rate"] == pytest.approx(0.6)
    # c1 and c2 were disposed and closed in the period; c9 disposed in it but closed after it; c8 disposed before
    # it; c7 was force-closed without any disposal: not 应结案
    assert (s1["closed"], s1["closed_ontime"]) == (2, 1)
    assert (s1["disposed"], s1["overdue"], s1["due"]) == (3, 1, 4)
    assert s1["closure_rate"] == pytest.approx(2 / 4)
    assert s1["ontime_closure_rate"] == pytest.approx(1 / 4)
    assert (s1["citizen_received"], s1["citizen_responded"], s1["citizen_resolved"]) == (4, 3, 1)
    assert s1["response_rate"] == pytest.approx(0.75)
    assert s1["resolution_rate"] == pytest.approx(0.25)
    assert (s1["answered"], s1["satisfaction_rate"]) == (1, 0.0)
    s2 = t.loc[2]
    assert s2["citizen_received"] == 1 and s2["response_rate"] == 0.0
    for col in ("public_report_rate", "closure_rate", "ontime_closure_rate", "satisfaction_rate", "oe"):
        assert math.isnan(s2[col]), col
    assert s1["oe_ranked"] and not s2["oe_ranked"]


def test_case_mix_adjustment_in_the_database(writer, reader):
    """Dept 1 only simple (all on time), dept 2 only complex (half on time), dept 3 both (9/10 and 5/10)."""
    make_reference(writer)

    def cases(dept, category, n_ontime, n_late):
        for k in range(n_ontime + n_late):
            late = k >= n_ontime
            add_case(writer, reported_at=d(2, 9), dispatched_at=d(2, 9), status="closed", department_id=dept,
                     category_id=category, deadline_at=d(4), disposed_at=d(5) if late else d(3), closed_at=d(5, 12),
                     disposal_work_hours=4.0)
    cases(1, 1, 10, 0)
    cases(2, 3, 5, 5)
    cases(3, 1, 9, 1)
    cases(3, 3, 5, 5)
    card = sq.department_scorecard(reader, START, END, min_volume=1, with_previous=False)
    t = card.table.set_index("department_id")
    assert t.loc[1, "oe"] == pytest.approx(10 / 9.5)
    assert t.loc[2, "oe"] == pytest.approx(1.0)
    assert t.loc[3, "oe"] == pytest.approx(14 / 14.5)
    # raw on-time rate puts dept 2 last; O/E does not
    assert t["ontime_rate"].idxmin() == 2
    assert t["oe"].idxmin() == 3
    assert list(card.table["department_id"]) == [1, 2, 3]        # sorted by O/E rank
    cats = card.by_category.set_index(["department_id", "category_id"])
    assert cats.loc[(3, 1), "district_rate"] == pytest.approx(0.95)
    assert cats.loc[(3, 3), "expected"] == pytest.approx(5.0)


def test_rank_change_against_previous_week(writer, reader):
    make_reference(writer)

    def week(monday: datetime, dept: int, n_ontime: int, n_late: int):
        for k in range(n_ontime + n_late):
            late = k >= n_ontime
            t = monday.replace(hour=9)
            add_case(writer, reported_at=t, dispatched_at=t, status="closed", department_id=dept, category_id=1,
                     deadline_at=t.replace(day=t.day + 2), disposed_at=t.replace(day=t.day + (3 if late else 1)),
                     closed_at=t.replace(day=t.day + 3, hour=15))
    prev = datetime(2026, 2, 23)
    week(prev, 1, 40, 0)
    week(prev, 2, 20, 20)
    week(START, 1, 20, 20)
    week(START, 2, 40, 0)
    card = sq.department_scorecard(reader, START, END, min_volume=10)
    t = card.table.set_index("department_id")
    assert card.previous == (prev, START)
    assert (t.loc[2, "oe_rank"], t.loc[1, "oe_rank"]) == (1, 2)
    assert (t.loc[2, "oe_rank_change"], t.loc[1, "oe_rank_change"]) == (1, -1)
    assert not t.loc[1, "oe_tied"]                         # 50 % vs 100 % on 40 cases: clearly apart


def test_previous_period():
    assert sq.previous_period(START, END) == (datetime(2026, 2, 23), START)
    assert sq.previous_period(datetime(2026, 3, 1), datetime(2026, 4, 1)) == (datetime(2026, 2, 1),
                                                                                datetime(2026, 3, 1))
    assert sq.previous_period(datetime(2026, 3, 5), datetime(2026, 3, 8)) == (datetime(2026, 3, 2),
                                                                                datetime(2026, 3, 5))


def test_street_filter_and_wall_call(writer, reader):
    """The wall calls department_scorecard with its street filter: only that street's cases count."""
    make_reference(writer)
    for grid, late in ((11, False), (11, False), (31, True)):
        add_case(writer, grid_id=grid, reported_at=d(2, 9), dispatched_at=d(2, 9), status="closed", department_id=1,
                 deadline_at=d(4), disposed_at=d(5) if late else d(3), closed_at=d(5, 12))
    whole = sq.department_scorecard(reader, START, END, min_volume=1, with_previous=False)
    street1 = sq.department_scorecard(reader, START, END, min_volume=1, with_previous=False, street_id=1)
    assert whole.table.set_index("department_id").loc[1, "due"] == 3
    r = street1.table.set_index("department_id").loc[1]
    assert (r["due"], r["ontime"]) == (2, 2)


def test_figures_build(dept_world, reader):
    from ui import scorecard_figures as figs
    card = sq.department_scorecard(reader, START, END, min_volume=1)
    t = card.table
    for fig in (figs.make_oe_figure(t, "name"), figs.make_indicator_figure(t, "name", "ontime_rate"),
                figs.make_rank_interval_figure(t, "name", "oe"),
                figs.make_oe_ranking_figure(t[t["oe"].notna()], "name"),
                figs.make_category_figure(card.by_category.assign(label="x"), "label")):
        assert fig.to_dict()["data"]
