"""The selective-reporting aggregates on both dialects, on tiny worlds with known answers (tests/builders.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from data_access import flag_queries as fq
from tests.builders import add_case, make_reference

T0 = datetime(2024, 3, 4, 9, 0)
START, END = datetime(2024, 3, 1), datetime(2024, 4, 1)


@pytest.fixture
def world(writer):
    return make_reference(writer)


def test_channel_difficulty_counts(writer, reader, world):
    cat = world["categories"]
    add_case(writer, reported_at=T0, channel="patrol", category_id=cat["garbage"])
    add_case(writer, reported_at=T0, channel="patrol", category_id=cat["garbage"], status="self_handled")
    add_case(writer, reported_at=datetime(2024, 3, 29, 10), channel="patrol", category_id=cat["ads"])  # period end
    add_case(writer, reported_at=T0, channel="hotline", category_id=cat["building"], grid_id=21)
    add_case(writer, reported_at=T0, channel="hotline", category_id=cat["building"], status="cancelled")
    add_case(writer, reported_at=datetime(2024, 2, 28), channel="patrol")  # outside the window
    frame = fq.channel_difficulty_counts(reader, START, END, period_end_days=5)
    patrol = frame[(frame.channel == "patrol") & (frame.community_id == 1)]
    assert patrol["n"].sum() == 3
    assert patrol["n_period_end"].sum() == 1
    assert patrol["n_self"].sum() == 1
    assert set(patrol["week"]) == {0, 4}  # 4 March is in week 0 from 1 March; 29 March in week 4
    hot = frame[frame.channel == "hotline"]
    assert hot["n"].sum() == 1 and hot.iloc[0]["difficulty"] == "complex" and hot.iloc[0]["community_id"] == 2
    assert hot.iloc[0]["street_id"] == 1


def test_period_end_ranges_cover_month_ends():
    ranges = fq._period_end_ranges(datetime(2024, 1, 15), datetime(2024, 3, 10), 5)
    assert ranges == [(datetime(2024, 1, 27), datetime(2024, 2, 1)), (datetime(2024, 2, 25), datetime(2024, 3, 1))]


def test_matched_reports(writer, reader, world):
    cat = world["categories"]
    # Hard problem seen by the hotline; patrol logged it 2 days earlier (patrol first) -> matched.
    add_case(writer, reported_at=T0 + timedelta(days=2), channel="hotline", category_id=cat["building"], grid_id=11)
    add_case(writer, reported_at=T0, channel="patrol", category_id=cat["building"], grid_id=11)
    # Hard problem seen by app; patrol logged it 3 days later -> matched but not first.
    add_case(writer, reported_at=T0, channel="app", category_id=cat["manhole"], grid_id=12)
    add_case(writer, reported_at=T0 + timedelta(days=3), channel="patrol", category_id=cat["manhole"], grid_id=12)
    # Hard problem, patrol case in another grid or 20 days away -> not matched.
    add_case(writer, reported_at=T0, channel="hotline", category_id=cat["building"], grid_id=21)
    add_case(writer, reported_at=T0, channel="patrol", category_id=cat["building"], grid_id=22)
    add_case(writer, reported_at=T0 + timedelta(days=20), channel="patrol", category_id=cat["building"], grid_id=21)
    # Simple: hotline report with a patrol duplicate link, and a recoded hard one (different category) -> not matched.
    pid = add_case(
        writer, reported_at=T0 - timedelta(days=30), channel="patrol", category_id=cat["garbage"], grid_id=11
    )
    add_case(writer, reported_at=T0, channel="hotline", category_id=cat["garbage"], grid_id=11, duplicate_of=pid)
    frame = fq.matched_reports(reader, START, END, sides=("public", "patrol"))
    pub = frame[frame.side == "public"].set_index(["community_id", "difficulty"])
    assert pub.loc[(1, "complex"), ["n", "n_matched", "n_other_first"]].tolist() == [2, 2, 1]
    assert pub.loc[(1, "simple"), ["n", "n_matched", "n_other_first"]].tolist() == [1, 1, 0]
    assert pub.loc[(2, "complex"), ["n", "n_matched"]].tolist() == [1, 0]
    pat = frame[frame.side == "patrol"].set_index(["community_id", "difficulty"])
    # Patrol side: the 2 matched patrol cases in community 1 are corroborated; the hotline came first for the manhole.
    assert pat.loc[(1, "complex"), ["n", "n_matched", "n_other_first"]].tolist() == [2, 2, 1]
    assert pat.loc[(2, "complex"), ["n", "n_matched"]].tolist() == [2, 0]


def test_deadline_bunching(writer, reader, world):
    for hours in (3.4, 3.8, 3.9, 1.0):  # limit 4 h (garbage): ratios 0.85, 0.95, 0.975, 0.25
        add_case(writer, reported_at=T0, disposed_at=T0 + timedelta(hours=5), disposal_work_hours=hours)
    frame = fq.deadline_bunching(reader, START, END)
    row = frame.iloc[0]
    assert (row["n"], row["n_80_90"], row["n_90_100"]) == (4, 1, 2)


def test_verifier_checks(writer, reader, world):
    base = dict(disposed_at=T0, status="closed")
    # v1: checks 1 min after disposal (instant), then 10 minutes later 20 km away 10 minutes later (impossible travel).
    add_case(
        writer, reported_at=T0, verifier_id="v1", verified_at=T0 + timedelta(minutes=1), lat=31.0, lon=121.2, **base
    )
    add_case(
        writer, reported_at=T0, verifier_id="v1", verified_at=T0 + timedelta(minutes=11), lat=31.18, lon=121.2, **base
    )
    # v2: honest: 2 h after disposal, 2 km in an hour, one failed check (返工).
    add_case(
        writer,
        reported_at=T0,
        verifier_id="v2",
        verified_at=T0 + timedelta(hours=2),
        lat=31.0,
        lon=121.2,
        rework_count=1,
        **base,
    )
    add_case(
        writer, reported_at=T0, verifier_id="v2", verified_at=T0 + timedelta(hours=3), lat=31.018, lon=121.2, **base
    )
    frame = fq.verifier_checks(reader, START, END).set_index("verifier_id")
    assert frame.loc["v1", ["n", "n_instant", "n_pairs", "n_impossible", "n_fail"]].tolist() == [2, 1, 1, 1, 0]
    assert frame.loc["v2", ["n", "n_instant", "n_pairs", "n_impossible", "n_fail", "n_checks"]].tolist() == [
        2,
        0,
        1,
        0,
        1,
        3,
    ]


def test_app_reporter_activity(writer, reader, world):
    ads = world["categories"]["ads"]
    # r1 reports the same spot 3 times, each 2 days after the previous report was closed (reward farming pattern).
    t = T0
    for _ in range(3):
        add_case(
            writer,
            reported_at=t,
            channel="app",
            reporter_id="r1",
            category_id=ads,
            lat=31.0001,
            lon=121.2001,
            closed_at=t + timedelta(days=1),
            status="closed",
        )
        t += timedelta(days=3)
    add_case(writer, reported_at=T0, channel="app", reporter_id="r2", category_id=ads, lat=31.0001, lon=121.2001)
    add_case(
        writer, reported_at=T0, channel="app", reporter_id="r2", category_id=ads, lat=31.01, lon=121.21, grid_id=12
    )
    frame = fq.app_reporter_activity(reader, START, END).set_index("reporter_id")
    assert frame.loc["r1", ["n", "n_spots", "max_spot", "n_recur", "n_grids"]].tolist() == [3, 1, 3, 2, 1]
    assert frame.loc["r2", ["n", "n_spots", "max_spot", "n_recur", "n_grids"]].tolist() == [2, 2, 1, 0, 2]


def test_flag_inputs_bundle(writer, reader, world):
    add_case(writer, reported_at=T0)
    out = fq.flag_inputs(reader, START, END)
    assert set(out) == {"counts", "matched", "bunching", "verifiers", "reporters", "categories"}
    assert out["counts"]["n"].sum() == 1
