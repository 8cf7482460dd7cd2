"""The wall's screen model on a small world with known answers, on SQLite and PostgreSQL."""

from datetime import datetime, timedelta
from types import SimpleNamespace

import pandas as pd
import pytest

from reports import wall
from reports.wall import Kpi, WallParams, tone
from tests.builders import add_case, make_reference

NOW = datetime(2026, 11, 20, 15, 0)  # a Friday
ALL = WallParams()


@pytest.fixture
def world(writer):
    ids = make_reference(writer)
    h = lambda n: NOW - timedelta(hours=n)  # noqa: E731
    add_case(writer, reported_at=h(1), status="in_disposal", deadline_at=NOW + timedelta(hours=2))
    add_case(writer, reported_at=h(30), status="in_disposal", deadline_at=h(5), grid_id=12)  # overdue
    add_case(
        writer,
        reported_at=h(30),
        status="pending_check",
        deadline_at=h(20),
        extended_deadline_at=NOW + timedelta(days=2),
        extension_count=1,
        grid_id=12,
    )  # extended: not
    add_case(
        writer,
        reported_at=h(50),
        status="closed",
        channel="hotline",
        deadline_at=h(40),
        disposed_at=h(45),
        closed_at=h(44),
        satisfaction="satisfied",
    )  # on time
    add_case(
        writer,
        reported_at=h(20),
        status="closed",
        channel="hotline",
        deadline_at=h(10),
        disposed_at=h(8),
        closed_at=h(6),
        satisfaction="basic",
        rework_count=1,
    )  # late disposal
    add_case(writer, reported_at=h(3), status="self_handled", closed_at=h(3))
    add_case(writer, reported_at=h(2), status="cancelled", closed_at=h(1))
    add_case(writer, reported_at=h(100), status="parked", parked_at=h(10), deadline_at=h(90), grid_id=31)
    add_case(writer, reported_at=h(5), status="pending_dispatch", channel="app", grid_id=21)  # new since then
    return ids


def test_kpis_compare_with_a_day_and_a_week_before(world, reader):
    tiles = {k.key: k for k in wall.kpis(reader, ALL, now=NOW)}
    assert list(tiles) == ["new_today", "open", "overdue", "ontime", "closure", "satisfaction"]
    # today: 14:00, 12:00 (self-handled), 10:00 — not the cancelled one; same time yesterday: the two of 09:00
    assert (tiles["new_today"].value, tiles["new_today"].previous, tiles["new_today"].tone) == (3, 2, "neutral")
    # the backlog grew by one since 24 h ago (more open cases is bad news); the overdue stock did not change
    assert (tiles["open"].value, tiles["open"].previous, tiles["open"].tone) == (4, 3, "bad")
    assert (tiles["overdue"].value, tiles["overdue"].previous, tiles["overdue"].tone) == (1, 1, "neutral")
    assert tiles["open"].versus == "vs_day_ago" and not tiles["open"].is_rate


def test_kpi_rates_of_30_days_and_of_the_30_days_to_a_week_ago(world, reader):
    tiles = {k.key: k for k in wall.kpis(reader, ALL, now=NOW)}
    ontime, closure, satisfaction = tiles["ontime"], tiles["closure"], tiles["satisfaction"]
    assert all(t.is_rate and t.versus == "vs_week_ago" for t in (ontime, closure, satisfaction))
    assert ontime.value == pytest.approx(0.5) and ontime.previous is None and ontime.tone == "neutral"
    # 结案率 = closed / (disposed + overdue now): 2 / (2 + 1); a week ago nothing was disposed or closed
    assert closure.value == pytest.approx(2 / 3) and closure.previous == 0 and closure.tone == "good"
    assert satisfaction.value == pytest.approx((1 + 0.9) / 2) and satisfaction.change is None


def test_kpis_of_one_street(world, reader):
    tiles = {k.key: k for k in wall.kpis(reader, WallParams(street_id=2), now=NOW)}
    assert (tiles["open"].value, tiles["overdue"].value, tiles["new_today"].value) == (0, 0, 0)
    assert tiles["ontime"].value is None and tiles["closure"].value is None


def test_tone_says_whether_a_change_is_good_news():
    assert tone(3, good_when_up=True) == "good" and tone(-0.1, good_when_up=True) == "bad"
    assert tone(3, good_when_up=False) == "bad" and tone(-2, good_when_up=False) == "good"
    assert tone(0, True) == tone(None, True) == tone(5, None) == "neutral"
    assert Kpi("x", 0.5, None, "vs_week_ago", True, "neutral").change is None


def test_map_panel_has_the_backlog_the_points_and_the_worst_grids(world, reader):
    data = wall.map_panel(reader, ALL, now=NOW)
    backlog = data.backlog.set_index("grid_id")
    assert backlog.loc[12, "open"] == 2 and backlog.loc[12, "overdue"] == 1 and backlog["open"].sum() == 4
    # the last 24 h, cancelled cases left out: 1 h, 20 h, 3 h and 5 h ago
    assert len(data.points) == 4 and {"lat", "lon", "status", "reported_at"} <= set(data.points.columns)
    worst = data.worst
    assert list(worst.columns) == ["grid_id", "grid", "street", "overdue", "open"]
    assert worst.iloc[0].to_dict() == {"grid_id": 12, "grid": "网格12", "street": "测试街道1", "overdue": 1, "open": 2}
    assert set(worst["grid_id"]) == {11, 12, 21} and (worst["overdue"].diff().dropna() <= 0).all()


def test_map_panel_of_a_street_without_open_cases(world, reader):
    data = wall.map_panel(reader, WallParams(street_id=2), now=NOW)
    assert data.backlog.empty and data.worst.empty and data.points.empty
    assert list(data.worst.columns) == ["grid_id", "grid", "street", "overdue", "open"]


def test_worst_grids_are_the_most_overdue_then_the_most_open(writer, reader, monkeypatch):
    make_reference(writer)
    for grid_id in (11, 12, 21, 22, 31, 32, 41, 42):
        for _ in range(grid_id % 3 + 1):  # 3 overdue cases in grids 11, 32 and 41
            add_case(
                writer, grid_id=grid_id, reported_at=NOW - timedelta(hours=3), deadline_at=NOW - timedelta(hours=1)
            )
    monkeypatch.setattr(wall, "WORST_GRIDS", 3)
    worst = wall.map_panel(reader, ALL, now=NOW).worst
    assert list(worst["overdue"]) == [3, 3, 3] and set(worst["grid_id"]) == {11, 32, 41}
    assert set(worst["street"]) == {"测试街道1", "测试街道2"}


def test_side_panels_have_the_channel_mix_and_every_day_of_the_trend(world, reader):
    side = wall.side_panels(reader, ALL, now=NOW)
    mix = side.channels.set_index("channel")
    assert mix.loc["patrol", "n"] == 5 and mix.loc["hotline", "n"] == 2 and mix.loc["app", "n"] == 1
    assert side.channels["channel"].iloc[0] == "patrol" and mix["share"].sum() == pytest.approx(1)
    trend = side.trend
    assert len(trend) == 30 and trend["day"].iloc[-1] == NOW.date()
    assert trend["new"].sum() == 8 and trend["closed"].sum() == 3


def test_department_ranking_is_the_departments_pages_ranking(world, reader, monkeypatch):
    assert wall.department_ranking(reader, ALL, now=NOW).empty  # too few cases due to rank anyone
    monkeypatch.setenv("GRIDSCOPE_MIN_RANK_VOLUME", "1")
    ranked = wall.department_ranking(reader, ALL, now=NOW)
    assert list(ranked.columns) == ["department_id", "name", "name_en", "oe"]
    assert ranked["department_id"].tolist() == [1] and ranked["name"].tolist() == ["城管执法局"]


def test_department_ranking_shows_the_best_and_the_worst_five(monkeypatch):
    table = pd.DataFrame(
        {
            "department_id": range(1, 13),
            "name": [f"d{i}" for i in range(1, 13)],
            "name_en": None,
            "oe": [1.3 - 0.05 * i for i in range(12)],
            "oe_ranked": [True] * 11 + [False],
        }
    )
    monkeypatch.setattr(wall.departments, "scorecard", lambda *a, **k: SimpleNamespace(table=table))
    ranked = wall.department_ranking(None, ALL, now=NOW)
    assert list(ranked["department_id"]) == [1, 2, 3, 4, 5, 7, 8, 9, 10, 11]  # 12 is not ranked
    few = table.head(6)
    monkeypatch.setattr(wall.departments, "scorecard", lambda *a, **k: SimpleNamespace(table=few))
    assert list(wall.department_ranking(None, ALL, now=NOW)["department_id"]) == [1, 2, 3, 4, 5, 6]  # no repeats
