"""On seeded worlds: the planted weak departments (seed_truth W1) sink to the bottom by O/E, and the department that
only receives complex categories at average speed (H1) is not ranked last. Tests may read seed_truth; the analysis
code never does."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import select

from data_access.engine import fetch_frame, make_engine
from data_access.schema import SeedTruth
from reports import departments as rd

WORLD_END = datetime(2026, 11, 20, 17, 30)


SEEDS = (7, 3)


@pytest.fixture(scope="module")
def seeded_worlds(tmp_path_factory):
    """Both worlds (SQLite files), seeded side by side on first use: ``{seed: (url, build summary)}``."""
    from tests.builders import build_worlds

    urls = {s: f"sqlite:///{tmp_path_factory.mktemp(f'seeded-{s}') / 'gridscope.db'}" for s in SEEDS}
    # A fixed end: the default (now) would make the world, and so the ranking, change from run to run.
    infos = build_worlds({s: (urls[s], dict(preset="tiny", seed=s, end=WORLD_END)) for s in SEEDS})
    return {s: (urls[s], infos[s]) for s in SEEDS}


@pytest.fixture(scope="module", params=SEEDS)
def seeded(request, seeded_worlds):
    url, info = seeded_worlds[request.param]
    reader = make_engine(url)
    truth = fetch_frame(
        reader, select(SeedTruth.unit_id.label("code"), SeedTruth.behaviour).where(SeedTruth.unit_type == "department")
    )
    yield reader, info, truth
    reader.dispose()


def _last_four_weeks(info) -> tuple[datetime, datetime]:
    end = datetime.combine(info["end"].date(), datetime.min.time())
    return end - timedelta(days=28), end


def test_weak_departments_at_the_bottom_and_hard_only_not_last(seeded):
    reader, info, truth = seeded
    start, end = _last_four_weeks(info)
    card = rd.scorecard(reader, start, end, now=info["end"])
    table = card.table.merge(truth, on="code", how="left")
    ranked = table[table["oe_ranked"]].sort_values("oe_rank")
    n = len(ranked)
    weak = ranked[ranked["behaviour"] == "W1"]
    assert len(weak) == 3, table[["code", "behaviour", "due", "oe_ranked"]]
    # The weak departments sink to the bottom by O/E, each clearly below the district (interval below 1). A weak
    # bureau that is the only handler of its categories is compared with the district rate of its difficulty class,
    # so a slow-but-normal sole handler can land between the weak ones (seed 3: one place, intervals overlapping):
    # allow one such place.
    ranks = sorted(weak["oe_rank"].astype(int))
    assert ranks[0] >= n - 3 and ranks[-1] == n, ranked[["code", "behaviour", "oe", "oe_lo", "oe_hi", "oe_rank"]]
    assert (weak["oe_hi"] < 1).all()
    normal = ranked[ranked["behaviour"] == "N"]
    assert weak["oe"].max() < normal["oe"].median()
    hard = ranked[ranked["behaviour"] == "H1"]
    assert len(hard) == 1
    h1 = hard.iloc[0]
    assert int(h1["oe_rank"]) < n - 2  # not last, and above every weak department
    assert h1["oe"] > weak["oe"].max()
    # its raw on-time rate is lower than most departments' (case mix); O/E does not punish it for that
    raw_rank = ranked["ontime_rate"].rank(ascending=False, method="min")[hard.index[0]]
    assert raw_rank > n / 2
    assert int(h1["oe_rank"]) <= raw_rank


def test_weeks_rank_change_is_reported(seeded):
    reader, info, _ = seeded
    start, end = _last_four_weeks(info)
    card = rd.scorecard(reader, end - timedelta(days=7), end, now=info["end"])
    table = card.table
    assert card.previous == (end - timedelta(days=14), end - timedelta(days=7))
    moved = table.loc[table["oe_ranked"], "oe_rank_change"]
    assert moved.notna().sum() >= len(moved) - 2  # nearly all were ranked last week too
    # the whole table is computed in the database: a handful of rows per department
    assert len(card.by_category) < 2000


def test_wall_call_matches_ranking(seeded):
    """The wall's mini-ranking call returns the same O/E ranks as the page's scorecard for the same window."""
    reader, info, _ = seeded
    now = info["end"]
    wall = rd.scorecard(reader, now - timedelta(days=30), now, now=now, with_previous=False)
    page = rd.scorecard(reader, now - timedelta(days=30), now, now=now)
    a = wall.table.set_index("code")["oe_rank"]
    b = page.table.set_index("code")["oe_rank"]
    pd.testing.assert_series_equal(a.sort_index(), b.sort_index())


def test_sqlite_and_postgresql_agree(request, tmp_path):
    """The same seeded world on both dialects gives the same scorecards, to the last digit (ranks included)."""
    from data_access.migrate import upgrade
    from seed import build_world
    from seed.build import default_end
    from tests.conftest import new_database

    tables = {}
    world_end = default_end()  # one end for both builds: the default (now) could move by a minute between them
    for dialect in ("sqlite", "postgresql"):
        url = new_database(dialect, request, tmp_path)
        writer = make_engine(url, read_only=False)
        upgrade(writer)
        info = build_world(writer, preset="tiny", seed=5, days=35, end=world_end)
        end = datetime.combine(info["end"].date(), datetime.min.time())
        dept = rd.scorecard(writer, end - timedelta(days=14), end, now=info["end"]).table
        street = rd.street_scorecard(writer, end - timedelta(days=14), end, now=info["end"]).table
        writer.dispose()
        tables[dialect] = (
            dept.sort_values("department_id", ignore_index=True),
            street.sort_values("street_id", ignore_index=True),
        )
    for a, b in zip(tables["sqlite"], tables["postgresql"]):
        assert len(a) == len(b) > 0
        numeric = [c for c in a.columns if pd.api.types.is_numeric_dtype(a[c])]
        pd.testing.assert_frame_equal(
            a[numeric].astype(float), b[numeric].astype(float), check_exact=False, rtol=1e-9, atol=1e-9
        )
