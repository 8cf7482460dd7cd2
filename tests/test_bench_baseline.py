"""The pandas baseline of ``python -m bench baseline`` computes the wall's numbers exactly as Gridscope's queries do
(so the speed-up compares like with like), and its guard stops a child that grows too big."""

import sys

from sqlalchemy import func, select

from bench import baseline
from bench.page_queries import page_queries
from data_access.engine import make_engine
from data_access.schema import Case


def test_baseline_gives_the_same_wall_figures_as_gridscope(tiny_world_url):
    engine = make_engine(tiny_world_url)
    try:
        with engine.connect() as conn:
            now = conn.execute(select(func.max(Case.reported_at))).scalar()
        ours = {name: fn() for page, name, fn in page_queries(engine, now) if page == "wall"}
        cases = baseline.read_cases(engine)
    finally:
        engine.dispose()
    theirs = baseline.wall_figures(cases, now)
    assert set(theirs) == set(ours)
    for name in ours:
        assert baseline.canonical(theirs[name]) == baseline.canonical(ours[name]), name
        assert baseline.digest(theirs[name]) == baseline.digest(ours[name]), name
    # a fair test needs non-trivial numbers
    assert ours["backlog_totals"]["open"] > 0 and ours["backlog_totals"]["overdue"] > 0
    assert ours["count_reported_today"] > 0 and len(ours["recent_points_24h"]) > 0
    assert int(ours["disposal_counts_30d"]["disposed"].iloc[0]) > 0


def test_canonical_ignores_row_order_and_number_types():
    import pandas as pd

    a = pd.DataFrame({"grid_id": [2, 1], "open": [3, 4]})
    b = pd.DataFrame({"grid_id": [1.0, 2.0], "open": [4, 3]})
    assert baseline.canonical(a) == baseline.canonical(b)
    assert baseline.canonical({"rate": 0.1 + 0.2}) == baseline.canonical({"rate": 0.3})
    assert baseline.canonical(a) != baseline.canonical(pd.DataFrame({"grid_id": [1, 2], "open": [3, 4]}))


def test_guard_stops_a_child_over_its_memory_limit(tmp_path):
    hog = "import time; blob = b'x' * 300_000_000; time.sleep(30)"
    result = baseline.run_guarded([sys.executable, "-c", hog], 100 * 2**20, 60, tmp_path / "log")
    assert result["status"] == "failed" and "RSS above" in result["error"]
    assert result["seconds"] < 20


def test_guard_reports_a_crash_and_a_timeout(tmp_path):
    crash = baseline.run_guarded([sys.executable, "-c", "raise SystemExit('boom')"], 2**30, 60, tmp_path / "a")
    assert crash["status"] == "failed" and "boom" in crash["error"]
    slow = baseline.run_guarded([sys.executable, "-c", "import time; time.sleep(30)"], 2**30, 0.5, tmp_path / "b")
    assert slow["status"] == "failed" and "limit" in slow["error"]


def test_speedups():
    g = {"cold_s": 0.5, "warm_s": 0.25}
    assert baseline.speedups(g, {"status": "ok", "cold_s": 5.0, "warm_s": 1.0}) == {
        "cold": 10.0,
        "warm": 4.0,
        "refresh": 20.0,
    }
    assert baseline.speedups(g, {"status": "failed"}) == {"cold": None, "warm": None, "refresh": None}
