"""reports.flags: the worker's job stores what the pages read, on both dialects; the shared active-flag rules."""

from datetime import datetime, timedelta

import pandas as pd
import pytest

from analytics.flags import FlagConfig
from core.clock import local_now
from data_access import job_store, reviews
from reports import flags
from tests.builders import add_case, make_reference

GRIDS = (11, 12, 21, 22, 31, 32, 41, 42)


def small_world(engine, now: datetime) -> None:
    """A few hundred cases over the last 50 days, every channel and category: too few to flag, enough to compute."""
    make_reference(engine)
    for h in range(0, 24 * 50, 7):
        add_case(
            engine,
            grid_id=GRIDS[h % 8],
            reported_at=now - timedelta(hours=h),
            channel=("patrol", "hotline", "app")[h % 3],
            category_id=1 + h % 4,
        )


@pytest.fixture
def world(writer):
    now = local_now()
    small_world(writer, now)
    return writer, now


def test_nothing_stored_yet(writer):
    assert flags.stored_stamp(writer) is None
    assert flags.stored_bundle(writer) is None


def test_the_job_stores_exactly_what_it_computed(world):
    engine, now = world
    period_end = flags.current_period_end(engine, now)
    report, history = flags.compute_with_history(engine, period_end)
    summary = flags.compute_and_store(engine, now)
    assert summary["period_end"] == f"{period_end:%Y-%m-%d}" and summary["flags"] == len(report.flags)
    stamp = flags.stored_stamp(engine)
    assert stamp[0] == summary["id"] and now <= stamp[1] <= now + timedelta(minutes=5)
    bundle = flags.stored_bundle(engine)
    assert bundle.period_end == period_end and bundle.computed_at == stamp[1] and bundle.seconds >= 0
    assert bundle.report.window == report.window == (period_end - timedelta(days=60), period_end)
    pd.testing.assert_frame_equal(bundle.report.flags, report.flags, check_exact=True)
    pd.testing.assert_frame_equal(bundle.report.indicators, report.indicators, check_exact=True)
    pd.testing.assert_frame_equal(bundle.history, history, check_exact=True)
    assert bundle.report.config == FlagConfig()  # tuples and dicts of tuples come back as such


def test_results_of_another_method_version_are_not_shown(world, monkeypatch):
    engine, now = world
    flags.compute_and_store(engine, now)
    monkeypatch.setattr(flags, "METHOD_VERSION", flags.METHOD_VERSION + 1)
    assert flags.stored_bundle(engine) is None  # the worker recomputes at once (new period key)


def test_tiny_world_round_trip_keeps_mixed_unit_ids(tiny_world_url, tmp_path):
    """The real frames: unit ids mix street numbers and verifier / app account strings in one column."""
    from data_access.engine import make_engine
    from tests.conftest import copy_world

    engine = make_engine(copy_world(tiny_world_url, tmp_path), read_only=False, timeout_s=flags.QUERY_TIMEOUT_S)
    try:
        flags.compute_and_store(engine, local_now())
        bundle = flags.stored_bundle(engine)
    finally:
        engine.dispose()
    ids = bundle.report.flags.set_index("unit_type")["unit_id"]
    assert {type(v) for v in ids.loc[["street", "community"]]} == {int}
    assert {type(v) for v in ids.loc[["verifier", "app_reporter"]]} == {str}
    assert flags.active_flags(bundle.report.flags)["level"].isin(flags.ACTIVE_LEVELS).all()


def test_period_end_is_the_day_of_the_latest_data():
    now = datetime(2026, 12, 5, 10, 30)
    assert flags.period_end_for(now, None) == datetime(2026, 12, 5)
    assert flags.period_end_for(now, datetime(2026, 11, 2, 23, 59)) == datetime(2026, 11, 2)
    assert flags.period_end_for(now, datetime(2027, 1, 1)) == datetime(2026, 12, 5)


def test_staleness_is_two_runs():
    now = datetime(2026, 12, 5, 10, 0)
    assert not flags.is_stale(now - flags.EVERY, now)
    assert flags.is_stale(now - 2 * flags.EVERY - timedelta(seconds=1), now)
    assert flags.age_seconds(now + timedelta(seconds=5), now) == 0  # a clock a little ahead is "just now"


def test_active_flags_strongest_first_and_dismissed_ones_drop_out():
    frame = pd.DataFrame(
        {
            "unit_type": ["street", "street", "verifier", "community"],
            "unit_id": [1, 2, "V1", 3.0],
            "family": ["A", "B", "C", "A"],
            "level": ["amber", "red", "red", "none"],
            "q": [0.08, 0.04, 0.01, 0.5],
            "family_p": [0.01] * 4,
            "p": [0.01] * 4,
        }
    )
    active = flags.active_flags(frame)
    assert list(active["unit_id"]) == ["V1", 2, 1]
    latest = pd.DataFrame(
        {
            "unit_type": ["verifier", "street"],
            "unit_id": ["V1", "1"],
            "family": ["C", "A"],
            "status": ["dismissed", "reviewed"],
        }
    )
    dismissed = flags.dismissed_keys(latest)
    assert dismissed == {("verifier", "V1", "C")}
    assert list(flags.still_active(active, dismissed)["unit_id"]) == [2, 1]
    assert flags.flag_key(active.iloc[2]) == ("street", reviews.unit_key(1), "A")


def test_stored_results_are_pruned(world, monkeypatch):
    engine, now = world
    monkeypatch.setattr(flags, "KEEP_RESULTS", 2)
    for k in range(3):
        flags.compute_and_store(engine, now + timedelta(hours=k))
    assert job_store.flag_result_count(engine) == 2
    assert flags.stored_bundle(engine).computed_at >= now + timedelta(hours=2)
