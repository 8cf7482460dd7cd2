"""The 部门考评 screen models on tiny hand-made worlds with known answers, on SQLite and PostgreSQL: indicators,
score and grade, case-mix adjusted O/E, ranks with intervals and changes, the ranking by any indicator, one
department against its peers, its case lists and trend, and the period choices.

The period is the week [Mon 2026-03-02, Mon 2026-03-09) (the worlds are those of tests/test_scorecard_queries.py).
"""

from __future__ import annotations

import math
from datetime import date, datetime

import pandas as pd
import pytest

from reports import departments as rd
from tests.builders import add_case, make_reference
from tests.test_scorecard_queries import END, START, build_dept_world, build_street_world, d

NOW = datetime(2026, 3, 9, 12)


@pytest.fixture
def dept_world(writer):
    return build_dept_world(writer)


@pytest.fixture
def street_world(writer):
    return build_street_world(writer)


def _row(table, department_id):
    rows = table[table["department_id"] == department_id]
    assert len(rows) == 1, table
    return rows.iloc[0]


def _cases(writer, dept, category, n_ontime, n_late, day=2, month=3):
    """``n_ontime`` + ``n_late`` closed cases of one department and category reported on ``day`` (of March), due
    two days later, disposed one day later when on time, three when late."""
    for k in range(n_ontime + n_late):
        late = k >= n_ontime
        add_case(
            writer,
            reported_at=d(day, 9, month),
            dispatched_at=d(day, 9, month),
            status="closed",
            department_id=dept,
            category_id=category,
            deadline_at=d(day + 2, 10, month),
            disposed_at=d(day + 3, 10, month) if late else d(day + 1, 10, month),
            closed_at=d(day + 3, 12, month),
            disposal_work_hours=4.0,
        )


# --- the scorecard ----------------------------------------------------------------------------------------------------
def test_department_counts_and_indicators(reader, dept_world):
    card = rd.scorecard(reader, START, END, now=None, min_volume=1, with_previous=False)
    r = _row(card.table, 1)
    assert (r["disposed"], r["ontime"], r["ontime_original"]) == (5, 4, 3)
    assert (r["overdue"], r["overdue_extended"], r["due"]) == (5, 1, 10)
    assert (r["rework"], r["extended"], r["extended_due"]) == (1, 1, 2)
    assert r["disposal_rate"] == pytest.approx(0.5)
    assert r["ontime_rate"] == pytest.approx(0.4)
    assert r["ontime_original_rate"] == pytest.approx(0.3)
    assert r["overdue_rate"] == pytest.approx(0.5)
    assert r["rework_rate"] == pytest.approx(1 / 5)  # 返工率 denominator: 处置数
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


def test_zero_denominators_are_missing_not_zero(reader, dept_world):
    card = rd.scorecard(reader, START, END, now=None, min_volume=1, with_previous=False)
    r = _row(card.table, 2)
    # one case in disposal, not due yet: nothing due, nothing disposed
    assert (r["due"], r["disposed"], r["overdue"]) == (0, 0, 0)
    for col in ("disposal_rate", "ontime_rate", "rework_rate", "extension_rate", "satisfaction_rate", "score", "oe"):
        assert math.isnan(r[col]), col
    assert pd.isna(r["grade"])
    assert (r["dispatched"], r["returned"]) == (2, 1)  # the cancelled case's events are left out
    assert r["return_rate"] == pytest.approx(0.5)
    assert not r["oe_ranked"] and r["oe_status"] == "no_data"
    assert 3 not in set(card.table["department_id"])  # no cases at all: not listed


def test_street_area_indicators(reader, street_world):
    card = rd.street_scorecard(reader, START, END, now=None, min_volume=1)
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
    _cases(writer, 1, 1, 10, 0)
    _cases(writer, 2, 3, 5, 5)
    _cases(writer, 3, 1, 9, 1)
    _cases(writer, 3, 3, 5, 5)
    card = rd.scorecard(reader, START, END, now=None, min_volume=1, with_previous=False)
    t = card.table.set_index("department_id")
    assert t.loc[1, "oe"] == pytest.approx(10 / 9.5)
    assert t.loc[2, "oe"] == pytest.approx(1.0)
    assert t.loc[3, "oe"] == pytest.approx(14 / 14.5)
    # raw on-time rate puts dept 2 last; O/E does not
    assert t["ontime_rate"].idxmin() == 2
    assert t["oe"].idxmin() == 3
    assert list(card.table["department_id"]) == [1, 2, 3]  # sorted by O/E rank
    cats = card.by_category.set_index(["department_id", "category_id"])
    assert cats.loc[(3, 1), "district_rate"] == pytest.approx(0.95)
    assert cats.loc[(3, 3), "expected"] == pytest.approx(5.0)


def test_rank_change_against_previous_week(writer, reader):
    make_reference(writer)

    def week(monday: datetime, dept: int, n_ontime: int, n_late: int):
        for k in range(n_ontime + n_late):
            late = k >= n_ontime
            t = monday.replace(hour=9)
            add_case(
                writer,
                reported_at=t,
                dispatched_at=t,
                status="closed",
                department_id=dept,
                category_id=1,
                deadline_at=t.replace(day=t.day + 2),
                disposed_at=t.replace(day=t.day + (3 if late else 1)),
                closed_at=t.replace(day=t.day + 3, hour=15),
            )

    prev = datetime(2026, 2, 23)
    week(prev, 1, 40, 0)
    week(prev, 2, 20, 20)
    week(START, 1, 20, 20)
    week(START, 2, 40, 0)
    card = rd.scorecard(reader, START, END, now=None, min_volume=10)
    t = card.table.set_index("department_id")
    assert card.previous == (prev, START)
    assert (t.loc[2, "oe_rank"], t.loc[1, "oe_rank"]) == (1, 2)
    assert (t.loc[2, "oe_rank_change"], t.loc[1, "oe_rank_change"]) == (1, -1)
    assert not t.loc[1, "oe_tied"]  # 50 % vs 100 % on 40 cases: clearly apart


def test_street_filter_and_wall_call(writer, reader):
    """The wall calls ``scorecard`` with its street filter: only that street's cases count."""
    make_reference(writer)
    for grid, late in ((11, False), (11, False), (31, True)):
        add_case(
            writer,
            grid_id=grid,
            reported_at=d(2, 9),
            dispatched_at=d(2, 9),
            status="closed",
            department_id=1,
            deadline_at=d(4),
            disposed_at=d(5) if late else d(3),
            closed_at=d(5, 12),
        )
    whole = rd.scorecard(reader, START, END, now=None, min_volume=1, with_previous=False)
    street1 = rd.scorecard(reader, START, END, now=None, min_volume=1, with_previous=False, street_id=1)
    assert whole.table.set_index("department_id").loc[1, "due"] == 3
    r = street1.table.set_index("department_id").loc[1]
    assert (r["due"], r["ontime"]) == (2, 2)


# --- what the screen derives ------------------------------------------------------------------------------------------
def test_build_and_ranking_by_any_indicator(writer, reader):
    make_reference(writer)
    for dept, ontime in ((1, 40), (2, 30), (3, 20)):
        _cases(writer, dept, 1, ontime, 40 - ontime)
    card = rd.build(reader, rd.ScorecardParams(START, END), now=NOW)
    assert card.previous == (datetime(2026, 2, 23), START)
    assert card.settings_used["min_volume"] >= 1
    oe = rd.ranking(card, "oe")
    assert (oe.prefix, oe.kind, oe.higher_is_better) == ("oe", "ratio", True)
    assert list(oe.table["department_id"]) == [1, 2, 3]
    by_rate = rd.ranking(card, "ontime_rate")
    assert by_rate.prefix == "sel" and by_rate.kind == "rate"
    t = by_rate.table
    assert list(t["sel_rank"]) == [1, 2, 3] and list(t["department_id"]) == [1, 2, 3]
    assert (t["sel_rank_lo"] <= t["sel_rank"]).all() and (t["sel_rank"] <= t["sel_rank_hi"]).all()
    assert set(t["sel_status"]) <= {"clear", "tied"}
    assert t["sel_rank_change"].isna().all()  # nobody was ranked the week before
    late = rd.ranking(card, "overdue")  # a count: lower is better, no sampling model
    assert late.higher_is_better is False and late.prefix == "sel"


def test_rank_change_of_a_chosen_indicator(writer, reader):
    make_reference(writer)
    for dept, now_ontime, before_ontime in ((1, 20, 40), (2, 40, 20)):
        _cases(writer, dept, 1, now_ontime, 40 - now_ontime)
        _cases(writer, dept, 1, before_ontime, 40 - before_ontime, day=23, month=2)
    card = rd.build(reader, rd.ScorecardParams(START, END), now=NOW)
    t = rd.ranking(card, "ontime_rate").table.set_index("department_id")
    assert (t.loc[2, "sel_rank"], t.loc[1, "sel_rank"]) == (1, 2)
    assert (t.loc[2, "sel_rank_change"], t.loc[1, "sel_rank_change"]) == (1, -1)


def test_department_view_against_its_peers(writer, reader):
    make_reference(writer)
    for dept, ontime in ((1, 40), (2, 30), (3, 20)):
        _cases(writer, dept, 1, ontime, 40 - ontime)
    _cases(writer, 3, 3, 10, 0)
    card = rd.build(reader, rd.ScorecardParams(START, END), now=NOW)
    assert rd.department_codes(card) == sorted(card.table["code"])
    bottom = rd.default_department(card)  # the bottom of the O/E ranking
    assert bottom == card.table.sort_values("oe_rank")["code"].iloc[-1]
    code = _row(card.table, 2)["code"]
    view = rd.department_view(card, code)
    assert view.row["department_id"] == 2 and view.n_ranked == 3
    m = view.metrics.set_index("key")
    assert list(view.metrics["key"]) == list(rd.METRIC_KEYS)
    rates = card.table["ontime_rate"]
    assert m.loc["ontime_rate", "value"] == pytest.approx(0.75)
    assert m.loc["ontime_rate", "median"] == pytest.approx(rates.median())
    assert m.loc["ontime_rate", "delta"] == pytest.approx(0.75 - rates.median())
    assert m.loc["due", "kind"] == "count" and not m.loc["rework_rate", "higher_is_better"]
    peers = view.peers.set_index("key")
    assert "return_rate" not in peers.index  # no dispatch events: no 回退率, no row
    assert peers.loc["ontime_rate", "q1"] == pytest.approx(rates.quantile(0.25))
    assert peers.loc["ontime_rate", "q3"] == pytest.approx(rates.quantile(0.75))
    assert list(view.categories["category_id"]) == [1]
    assert view.categories["minor_name"].iloc[0] and view.categories["minor_name_en"].iloc[0]
    mixed = rd.department_view(card, _row(card.table, 3)["code"]).categories.set_index("category_id")
    assert mixed.loc[3, "expected"] == pytest.approx(10.0)  # only department 3 has category 3 (its own rate)


def test_department_cases_and_trend(writer, reader, dept_world):
    cases = rd.department_cases(reader, rd.DepartmentParams(1, START, END), now=END)
    assert len(cases.overdue) == 2  # h and n: still in disposal and past due
    n = cases.overdue.set_index("case_no")
    assert set(n["deadline"]) == {d(4), d(5)}  # n's extended deadline, h's original one
    assert cases.overdue["minor_name"].notna().all() and cases.overdue["minor_name_en"].notna().all()
    assert len(cases.reworked) == 1
    returned = rd.department_cases(reader, rd.DepartmentParams(2, START, END), now=END).returned
    assert list(returned["note"]) == ["非本单位职责"] and "returned_at" in returned
    trend = rd.trend(reader, rd.DepartmentParams(1, START, END), now=END)
    # the eight weeks up to this one, without the weeks before the data began: the week before (one case disposed
    # on 1 March) and this one
    assert list(trend["start"]) == [datetime(2026, 2, 23), START]
    assert trend["due"].iloc[-1] == 10 and trend["ontime_rate"].iloc[-1] == pytest.approx(0.4)
    raw = rd.department_trend(reader, 1, [(datetime(2026, 2, 16), datetime(2026, 2, 23)), (START, END)], now=END)
    assert len(raw) == 2 and math.isnan(raw["due"].iloc[0])


# --- periods ----------------------------------------------------------------------------------------------------------
def test_period_choices():
    anchor = date(2026, 3, 11)  # a Wednesday
    weeks, default = rd.period_choices("week", anchor)
    assert weeks[0] == date(2026, 3, 9) and default == date(2026, 3, 2) and len(weeks) == 12
    months, default = rd.period_choices("month", anchor)
    assert months[:2] == [date(2026, 3, 1), date(2026, 2, 1)] and default == date(2026, 2, 1)
    assert rd.anchor_day(datetime(2026, 3, 1, 8), datetime(2026, 3, 11, 9)) == date(2026, 3, 1)
    assert rd.anchor_day(None, datetime(2026, 3, 11, 9)) == date(2026, 3, 11)
    assert rd.anchor_day(datetime(2026, 3, 12, 8), datetime(2026, 3, 11, 9)) == date(2026, 3, 11)


def test_custom_range():
    anchor = date(2026, 3, 11)
    assert rd.custom_range(date(2026, 3, 1), date(2026, 3, 5), anchor) == ((date(2026, 3, 1), date(2026, 3, 5)), True)
    fallback = ((date(2026, 2, 12), anchor), False)  # the last four weeks
    assert rd.custom_range(date(2026, 3, 5), date(2026, 3, 1), anchor) == fallback
    assert rd.custom_range(None, date(2026, 3, 1), anchor) == fallback
    assert rd.custom_range(date(2025, 1, 1), date(2026, 3, 1), anchor) == fallback
    assert rd.clamp_custom(date(2024, 1, 1), date(2026, 3, 1)) == (date(2025, 3, 1), date(2026, 3, 1))
    assert rd.clamp_custom(date(2026, 1, 1), date(2026, 3, 1)) == (date(2026, 1, 1), date(2026, 3, 1))


def test_figures_build_from_the_models(reader, dept_world):
    from ui import scorecard_figures as figs

    card = rd.scorecard(reader, START, END, now=None, min_volume=1)
    t = card.table
    view = rd.department_view(card, "cg")
    for fig in (
        figs.make_oe_figure(t, "name"),
        figs.make_indicator_figure(t, "name", "ontime_rate"),
        figs.make_rank_interval_figure(t, "name", "oe"),
        figs.make_oe_ranking_figure(t[t["oe"].notna()], "name"),
        figs.make_category_figure(view.categories, "minor_name"),
        figs.make_peer_figure(view.peers, {"ontime_rate": "On time"}),
    ):
        assert fig.to_dict()["data"]
    assert "On time" in list(figs.make_peer_figure(view.peers, {"ontime_rate": "On time"}).data[0].y)
