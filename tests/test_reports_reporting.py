"""Screen models of the flags page (reports.reporting) on both dialects: a tiny world built in code, a stored flags
result written by hand (known answers), and one end-to-end run of the flags on real queries."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from analytics.flags import FlagConfig
from reports import reporting as rp
from reports.flags import FlagBundle, FlagReport
from tests.builders import add_case, make_reference

START, END = datetime(2024, 2, 1), datetime(2024, 4, 1)
NOW = datetime(2024, 4, 1, 9, 0)
APP = "A00623-8056"

FLAG_COLUMNS = [
    "unit_type",
    "unit_id",
    "street_id",
    "family",
    "level",
    "unit_level",
    "q",
    "q_family",
    "family_p",
    "p",
    "persistent",
    "backed",
    "enough",
    "indicator",
    "observed",
    "expected",
    "reason",
    "chance",
]


def _flags() -> pd.DataFrame:
    rows = [
        (
            "street",
            1,
            1,
            "A",
            "red",
            "red",
            0.001,
            0.001,
            1e-6,
            1e-5,
            True,
            False,
            True,
            "A1",
            0.30,
            0.60,
            "A.A1.low",
            "lt_10000",
        ),
        (
            "street",
            1,
            1,
            "B",
            "none",
            "red",
            0.001,
            0.6,
            0.40,
            0.3,
            True,
            False,
            True,
            "B1",
            0.15,
            0.14,
            "B.B1.ok",
            "ordinary",
        ),
        (
            "street",
            2,
            2,
            "A",
            "none",
            "none",
            0.80,
            0.8,
            0.50,
            0.5,
            False,
            False,
            True,
            "A1",
            0.62,
            0.60,
            "A.A1.ok",
            "ordinary",
        ),
        (
            "street",
            2,
            2,
            "B",
            "none",
            "none",
            0.80,
            0.8,
            0.60,
            0.5,
            False,
            False,
            True,
            "B1",
            0.13,
            0.14,
            "B.B1.ok",
            "ordinary",
        ),
        (
            "community",
            3,
            2,
            "B",
            "amber",
            "amber",
            0.08,
            0.08,
            0.004,
            0.002,
            False,
            False,
            True,
            "B3",
            0.70,
            0.50,
            "B.B3.low",
            "lt_100",
        ),
        (
            "community",
            4,
            2,
            "A",
            "insufficient",
            "insufficient",
            np.nan,
            np.nan,
            np.nan,
            np.nan,
            False,
            False,
            False,
            None,
            np.nan,
            np.nan,
            "A.insufficient",
            "unknown",
        ),
        (
            "verifier",
            "V1",
            np.nan,
            "C",
            "amber",
            "amber",
            0.05,
            0.05,
            0.001,
            0.001,
            False,
            False,
            True,
            "C1",
            0.5,
            0.01,
            "C.C1.low",
            "lt_1000",
        ),
        (
            "app_reporter",
            APP,
            np.nan,
            "D",
            "red",
            "red",
            0.002,
            0.002,
            1e-7,
            1e-7,
            False,
            True,
            True,
            "D1",
            0.97,
            0.08,
            "D.D1.low",
            "lt_10000",
        ),
    ]
    return pd.DataFrame(rows, columns=FLAG_COLUMNS)


def _indicators() -> pd.DataFrame:
    rows = [
        ("street", 1, "A", "A1", 0.30, 0.60, 200, -4.0, True, 0.001),
        ("street", 2, "A", "A1", 0.62, 0.60, 150, 0.3, True, 0.001),
        ("community", 4, "A", "A1", 0.50, 0.60, 10, np.nan, False, 0.001),
        ("street", 1, "A", "A2", 0.40, 0.50, 200, -2.0, True, np.nan),
        ("street", 1, "B", "B1", 0.15, 0.14, 900, 0.2, True, 0.0),
        ("street", 2, "B", "B1", 0.13, 0.14, 800, 0.5, True, 0.0),
        ("community", 3, "B", "B3", 0.70, 0.50, 120, -2.7, True, 0.0),
        ("verifier", "V1", "C", "C1", 0.50, 0.01, 60, -3.1, True, 0.0001),
        ("app_reporter", APP, "D", "D1", 0.97, 0.08, 40, -5.0, True, 0.002),
        ("app_reporter", APP, "D", "D3", 40, 8, 40, -2.0, True, np.nan),
    ]
    frame = pd.DataFrame(
        rows,
        columns=["unit_type", "unit_id", "family", "indicator", "observed", "expected", "n", "z", "enough", "tau2"],
    )
    return frame.assign(p=0.01)


def _bundle() -> FlagBundle:
    history = pd.concat(
        [_indicators().assign(window_end=END - timedelta(days=14 * k)) for k in range(3)], ignore_index=True
    )
    history.loc[(history["unit_id"] == 1) & (history["window_end"] == END - timedelta(days=28)), "enough"] = False
    report = FlagReport(flags=_flags(), indicators=_indicators(), window=(START, END), config=FlagConfig())
    return FlagBundle(report, history, END, NOW, 12.0)


@pytest.fixture
def world(writer):
    return make_reference(writer)


def test_flag_list_orders_names_and_counts(writer, reader, world):
    bundle = _bundle()
    rp.save_review(
        writer,
        rp.ReportingParams(flag="street:1:A"),
        bundle=bundle,
        status="reviewed",
        note="",
        reviewer="张三",
        now=NOW,
    )
    model = rp.flag_list(reader, rp.ReportingParams(), bundle=bundle, now=NOW)
    flags = model.flags
    assert list(flags["flag_id"]) == ["street:1:A", f"app_reporter:{APP}:D", "verifier:V1:C", "community:3:B"]
    assert list(flags["level"]) == ["red", "red", "amber", "amber"]
    assert (model.n_red, model.n_amber, model.n_reviewed) == (2, 2, 1)
    row = flags.set_index("flag_id")
    assert row.loc["street:1:A", "name"] == "测试街道1" and row.loc["street:1:A", "review"] == "reviewed"
    assert row.loc["community:3:B", "name"] == "测试社区3" and row.loc["community:3:B", "street_name"] == "测试街道2"
    assert row.loc[f"app_reporter:{APP}:D", "shown_id"] == "A0…56"  # personal data: masked
    assert pd.isna(row.loc[f"app_reporter:{APP}:D", "name"]) and model.personal
    assert row.loc["verifier:V1:C", "value_kind"] == "share" and pd.isna(row.loc["verifier:V1:C", "review"])
    assert list(model.thin["key"]) == ["4"] and model.thin_counts["community"] == 1
    assert model.families == ["A", "B", "C", "D"]
    assert model.funnel_indicators("A") == ["A1", "A2"] and model.funnel_indicators("D") == ["D1"]  # D3: volume
    assert model.funnel_unit_types("A", "A1") == ["street", "community"]
    # the funnels open on the open flag's family, indicator and unit type
    assert model.funnel_family("community:3:B") == "B" and model.funnel_family(None) == "A"
    assert model.funnel_default("B", "community:3:B") == ("B3", "community")
    assert model.funnel_default("A", "community:3:B") == ("A1", "street")


def test_a_street_shows_its_areas_only(reader, world):
    model = rp.flag_list(reader, rp.ReportingParams(street_id=2), bundle=_bundle(), now=NOW)
    assert list(model.flags["flag_id"]) == ["community:3:B"] and model.people_hidden and not model.personal
    assert list(model.thin["key"]) == ["4"]
    assert list(rp.flag_list(reader, rp.ReportingParams(street_id=1), bundle=_bundle(), now=NOW).thin["key"]) == []


def test_evidence_card_is_codes_and_numbers(reader, world):
    card = rp.evidence_card(reader, rp.ReportingParams(flag="street:1:A"), bundle=_bundle(), now=NOW)
    assert (card.name, card.level, card.indicator, card.chance, card.cases_kind) == (
        "测试街道1",
        "red",
        "A1",
        "lt_10000",
        "A",
    )
    assert card.enough and card.persistent and card.value_kind == "share"
    assert card.observed == pytest.approx(0.30) and card.expected == pytest.approx(0.60)
    assert list(card.trend["window_end"]) == [END - timedelta(days=14), END]  # the thin window left out
    people = rp.evidence_card(reader, rp.ReportingParams(flag="verifier:V1:C"), bundle=_bundle(), now=NOW)
    assert people.name is None and people.shown_id == "V1" and people.cases_kind == "C"
    thin = rp.evidence_card(reader, rp.ReportingParams(flag="community:4:A"), bundle=_bundle(), now=NOW)
    assert not thin.enough and thin.chance == "unknown" and thin.level == "insufficient"
    for bad in ("street:9:A", "street:1:Z", "nonsense", None):
        assert rp.evidence_card(reader, rp.ReportingParams(flag=bad), bundle=_bundle(), now=NOW) is None


def test_flag_cases_lists_what_patrol_did_not_log(writer, reader, world):
    cat = world["categories"]
    t0 = datetime(2024, 3, 4, 9, 0)
    missed = add_case(writer, reported_at=t0, channel="hotline", category_id=cat["building"], grid_id=11)
    add_case(writer, reported_at=t0, channel="hotline", category_id=cat["building"], grid_id=12)
    add_case(writer, reported_at=t0 - timedelta(days=1), channel="patrol", category_id=cat["building"], grid_id=12)
    add_case(writer, reported_at=t0, channel="hotline", category_id=cat["building"], grid_id=31)  # street 2
    cases = rp.flag_cases(reader, rp.ReportingParams(flag="street:1:A"), bundle=_bundle(), now=NOW)
    assert list(cases["id"]) == [missed]
    assert rp.flag_cases(reader, rp.ReportingParams(flag="street:9:A"), bundle=_bundle(), now=NOW).empty


def test_reviews_are_saved_refused_and_listed(writer, reader, world, db_url):
    from data_access.engine import make_engine

    bundle, flag = _bundle(), rp.ReportingParams(flag=f"app_reporter:{APP}:D")
    assert rp.save_review(
        writer,
        flag,
        bundle=bundle,
        status="dismissed",
        note="热心市民'); DROP TABLE cases; --",
        reviewer="李四",
        now=NOW,
    ) == ("saved", None)
    outcome, why = rp.save_review(writer, flag, bundle=bundle, status="dismissed", note="", reviewer=" ", now=NOW)
    assert outcome == "invalid" and "reviewer" in why
    assert (
        rp.save_review(
            writer,
            rp.ReportingParams(flag="street:9:A"),
            bundle=bundle,
            status="reviewed",
            note="",
            reviewer="x",
            now=NOW,
        )[0]
        == "invalid"
    )
    assert (
        rp.save_review(reader, flag, bundle=bundle, status="reviewed", note="", reviewer="x", now=NOW)[0]
        == "write_failed"
    )  # the read-only engine refuses
    history = rp.review_history(reader, flag, now=NOW)
    assert len(history) == 1 and history.iloc[0]["reviewer"] == "李四" and history.iloc[0]["status"] == "dismissed"
    assert history.iloc[0]["note"] == "热心市民'); DROP TABLE cases; --" and history.iloc[0]["reason"] == "D.D1.low"
    assert rp.review_history(reader, rp.ReportingParams(flag="bad"), now=NOW).empty
    fresh = make_engine(db_url)
    model = rp.flag_list(fresh, rp.ReportingParams(), bundle=bundle, now=NOW)
    fresh.dispose()
    assert model.flags.set_index("flag_id").loc[f"app_reporter:{APP}:D", "review"] == "dismissed"


def test_funnel_colours_units_by_their_family_level(reader, world):
    model = rp.funnel(reader, rp.FunnelParams("A", "A1", "street", "street:1:A"), bundle=_bundle(), now=NOW)
    points = model.points.set_index("key")
    assert model.proportion and model.target == pytest.approx(0.60) and model.tau2 == pytest.approx(0.001)
    assert points.loc["1", "level"] == "red" and points.loc["2", "level"] == "none"
    assert points.loc["1", "selected"] and not points.loc["2", "selected"]
    assert points.loc["1", "name"] == "测试街道1"
    lim = model.limits
    assert lim["n"].iloc[0] == 150 and lim["n"].iloc[-1] == 200 and (lim["lo998"] < 0.6).all()
    thin = rp.funnel(reader, rp.FunnelParams("A", "A1", "community"), bundle=_bundle(), now=NOW)
    assert list(thin.points["level"]) == ["insufficient"] and thin.limits.empty
    z = rp.funnel(reader, rp.FunnelParams("A", "A2", "street"), bundle=_bundle(), now=NOW)
    assert not z.proportion and z.points["y"].tolist() == [-2.0]


def test_the_flags_of_a_small_world_end_to_end(writer, reader, world):
    """The stored result of real queries and statistics (too little data: every unit insufficient) still makes
    every model of the page."""
    from reports.flags import compute

    cat = world["categories"]
    for day in range(20):
        t = datetime(2024, 3, 1, 9) + timedelta(days=day)
        add_case(writer, reported_at=t, channel="hotline", category_id=cat["building"], grid_id=11 + day % 2)
        add_case(writer, reported_at=t, channel="patrol", category_id=cat["garbage"], grid_id=31)
        add_case(
            writer,
            reported_at=t,
            channel="app",
            reporter_id=APP,
            category_id=cat["ads"],
            status="closed",
            closed_at=t + timedelta(hours=3),
        )
    bundle = compute(reader, END, now=NOW)
    assert {"reason", "chance"} <= set(bundle.report.flags.columns)
    assert "tau2" in bundle.report.indicators.columns
    model = rp.flag_list(reader, rp.ReportingParams(), bundle=bundle, now=NOW)
    assert model.flags.empty and model.n_red == model.n_amber == 0
    assert model.thin_counts["street"] == 2 and set(model.thin["name"]) >= {"测试街道1", "测试街道2"}
    card = rp.evidence_card(reader, rp.ReportingParams(flag="street:1:A"), bundle=bundle, now=NOW)
    assert card is not None and not card.enough and card.chance == "unknown"
    for family in model.families:
        indicator, unit_type = model.funnel_default(family, None)
        funnel = rp.funnel(reader, rp.FunnelParams(family, indicator, unit_type), bundle=bundle, now=NOW)
        assert funnel.limits.empty  # nobody has enough data
