"""The selective-reporting families on constructed aggregates with known answers (no database)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics import flags as fl

N_STREETS = 30


def make_inputs(seed=0, hide=None, pad_end=None, pad_spread=None, tiny=(), weeks=8, verifiers=None, reporters=None):
    """Aggregates shaped like data_access.flag_queries output for N_STREETS streets (one community each).

    Every street has its own patrol diligence (C3-like) and public reporting rate (C2-like); ``hide`` maps street →
    share of hard problems patrol withholds (G1); ``pad_end``/``pad_spread`` map street → extra simple patrol reports
    as a share (G2) dumped in the period end / spread; ``tiny`` streets have 20× less data.
    """
    rng = np.random.default_rng(seed)
    hide, pad_end, pad_spread = hide or {}, pad_end or {}, pad_spread or {}
    counts, matched = [], []
    for s in range(1, N_STREETS + 1):
        scale = 0.05 if s in tiny else 1.0
        diligence = rng.uniform(0.55, 0.85)
        public = rng.uniform(0.12, 0.30)
        w = hide.get(s, 0.0)
        for diff, rate in (("complex", 90), ("simple", 600)):
            for week in range(weeks):
                problems = rng.poisson(rate * scale)
                hard = diff == "complex"
                p_patrol = diligence * (1 - w) if hard else diligence
                seen_p = rng.binomial(1, p_patrol, problems).astype(bool)
                seen_q = rng.binomial(1, public, problems).astype(bool)
                n_pat, n_pub = int(seen_p.sum()), int(seen_q.sum())
                extra_end = int(round(n_pat * pad_end.get(s, 0.0))) if not hard else 0
                extra_spread = int(round(n_pat * pad_spread.get(s, 0.0))) if not hard else 0
                end_share = 5 / 30
                n_end = rng.binomial(n_pat, end_share) + extra_end
                pat_total = n_pat + extra_end + extra_spread
                counts.append(
                    dict(
                        street_id=s,
                        community_id=s * 10,
                        channel="patrol",
                        difficulty=diff,
                        week=week,
                        n=pat_total,
                        n_period_end=n_end,
                        n_self=0,
                    )
                )
                counts.append(
                    dict(
                        street_id=s,
                        community_id=s * 10,
                        channel="hotline",
                        difficulty=diff,
                        week=week,
                        n=n_pub,
                        n_period_end=rng.binomial(n_pub, end_share),
                        n_self=0,
                    )
                )
                both = int((seen_p & seen_q).sum())
                first = rng.binomial(both, 0.5)
                matched.append(
                    dict(
                        street_id=s,
                        community_id=s * 10,
                        side="public",
                        difficulty=diff,
                        n=n_pub,
                        n_matched=both,
                        n_other_first=first,
                    )
                )
                matched.append(
                    dict(
                        street_id=s,
                        community_id=s * 10,
                        side="patrol",
                        difficulty=diff,
                        n=pat_total,
                        n_matched=both,
                        n_other_first=both - first,
                    )
                )
    counts = pd.DataFrame(counts)
    matched = pd.DataFrame(matched).groupby(["street_id", "community_id", "side", "difficulty"], as_index=False).sum()
    bunching = pd.DataFrame(
        {
            "street_id": range(1, N_STREETS + 1),
            "community_id": [s * 10 for s in range(1, N_STREETS + 1)],
            "n": 1000,
            "n_80_90": rng.binomial(200, 0.5, N_STREETS),
        }
    )
    bunching["n_90_100"] = 200 - bunching["n_80_90"]
    return {
        "counts": counts,
        "matched": matched,
        "bunching": bunching,
        "verifiers": verifiers
        if verifiers is not None
        else pd.DataFrame(columns=["verifier_id", "n", "n_instant", "n_pairs", "n_impossible", "n_fail", "n_checks"]),
        "reporters": reporters
        if reporters is not None
        else pd.DataFrame(columns=["reporter_id", "n", "n_spots", "max_spot", "n_recur", "n_grids"]),
    }


def street_levels(flags):
    st = flags[flags["unit_type"] == "street"].drop_duplicates("unit_id").set_index("unit_id")
    return st["unit_level"].to_dict(), st


def test_planted_hider_is_flagged_and_honest_units_are_not():
    inputs = make_inputs(seed=1, hide={3: 0.5})
    prev = [make_inputs(seed=2, hide={3: 0.5}), make_inputs(seed=3, hide={3: 0.5})]
    flags, indicators = fl.flags_from_windows(inputs, prev)
    levels, st = street_levels(flags)
    assert levels[3] == "red"
    assert sum(lv in ("red", "amber") for u, lv in levels.items() if u != 3) <= 1
    a1 = indicators[(indicators["indicator"] == "A1") & (indicators["unit_id"] == 3)].iloc[0]
    assert a1["z"] < -3 and a1["observed"] < a1["expected"]


def test_hard_share_alone_cannot_find_the_hider():
    """docs/domain.md §6: a funnel of the unit's own hard share (A4) is context only, never a flag on its own."""
    flags, indicators = fl.flags_from_windows(make_inputs(seed=4, hide={5: 0.5}))
    a4 = indicators[(indicators["indicator"] == "A4") & (indicators["unit_type"] == "street")]
    assert len(a4) == N_STREETS
    combined = fl.combine_units(indicators[indicators["indicator"] == "A4"])
    assert combined.empty or combined["family_p"].isna().all()


def test_period_end_padding_is_flagged_in_family_b():
    flags, indicators = fl.flags_from_windows(make_inputs(seed=5, pad_end={7: 0.3}))
    levels, st = street_levels(flags)
    assert levels[7] in ("red", "amber")
    b = flags[(flags["unit_id"] == 7) & (flags["family"] == "B")].iloc[0]
    assert b["lead_indicator"] == "B1" and b["family_p"] < 1e-4


def test_little_data_is_insufficient_not_clean():
    flags, _ = fl.flags_from_windows(make_inputs(seed=6, tiny=(9,)))
    card = flags[(flags["unit_type"] == "street") & (flags["unit_id"] == 9) & (flags["family"] == "A")].iloc[0]
    assert card["level"] == "insufficient" and not card["enough"]
    assert card["reason"] == "A.insufficient" and card["chance"] == "unknown"
    flags, _ = fl.flags_from_windows(
        make_inputs(seed=6, tiny=(9,)), config=fl.FlagConfig(min_patrol=10_000, min_bunching=10_000)
    )
    levels, _ = street_levels(flags)
    assert levels[9] == "insufficient"


def test_no_planted_behaviour_gives_few_flags():
    total = 0
    for seed in range(10, 16):
        flags, _ = fl.flags_from_windows(make_inputs(seed=seed))
        levels, _ = street_levels(flags)
        total += sum(lv in ("red", "amber") for lv in levels.values())
    assert total <= 2  # 6 worlds × 30 honest streets


def test_verifier_and_reporter_families():
    rng = np.random.default_rng(8)
    n = rng.integers(40, 120, 40)
    ver = pd.DataFrame(
        {
            "verifier_id": [f"v{i}" for i in range(40)],
            "n": n,
            "n_instant": rng.binomial(n, 0.01),
            "n_pairs": n - 1,
            "n_impossible": rng.binomial(n - 1, 0.01),
            "n_fail": rng.binomial(n, 0.04),
        }
    )
    ver.loc[0, ["n_instant", "n_impossible", "n_fail"]] = [int(n[0] * 0.6), int(n[0] * 0.3), 0]
    ver["n_checks"] = ver["n"] + ver["n_fail"]
    k = rng.integers(5, 15, 200)
    rep = pd.DataFrame(
        {
            "reporter_id": [f"r{i}" for i in range(200)],
            "n": k,
            "n_spots": k - rng.binomial(k, 0.05),
            "max_spot": 1,
            "n_recur": rng.binomial(k, 0.01),
            "n_grids": 2,
        }
    )
    rep.loc[0, ["n", "n_spots", "max_spot", "n_recur"]] = [60, 4, 20, 40]
    rep.loc[1, ["n"]] = [2]
    inputs = make_inputs(seed=9, verifiers=ver, reporters=rep)
    flags, indicators = fl.flags_from_windows(inputs)
    v = flags[flags["unit_type"] == "verifier"].set_index("unit_id")
    r = flags[flags["unit_type"] == "app_reporter"].set_index("unit_id")
    assert v.loc["v0", "unit_level"] in ("red", "amber")
    assert (v.drop(index="v0")["unit_level"].isin(["red", "amber"])).sum() == 0
    assert r.loc["r0", "unit_level"] in ("red", "amber")
    assert r.loc["r1", "unit_level"] == "insufficient"
    assert (r.drop(index="r0")["unit_level"].isin(["red", "amber"])).sum() <= 1


def test_red_needs_persistence_or_backing():
    base = pd.DataFrame(
        {
            "unit_type": "street",
            "unit_id": [1, 1, 2],
            "family": ["A", "B", "A"],
            "street_id": [1, 1, 2],
            "family_p": [1e-6, 0.5, 1e-6],
            "lead_indicator": "A1",
            "enough": True,
            "p_unit": [2e-6, 2e-6, 2e-6],
            "q": [0.001, 0.001, 0.001],
            "q_family": [0.001, 0.8, 0.001],
        }
    )
    out = fl.assign_levels(base)
    assert out["unit_level"].tolist() == ["amber", "amber", "amber"]
    assert out["level"].tolist() == ["amber", "none", "amber"]  # family B carries no signal
    prev = base.assign(q=[0.01, 0.01, 0.5])
    out = fl.assign_levels(base, [prev])
    assert out.set_index(["unit_id", "family"])["unit_level"].to_dict() == {
        (1, "A"): "red",
        (1, "B"): "red",
        (2, "A"): "amber",
    }
    backed = base.assign(q_family=[0.001, 0.05, 0.001])
    assert fl.assign_levels(backed)["level"].tolist() == ["red", "red", "amber"]  # B backs A: both carry it


def test_evidence_is_codes_and_numbers_never_prose():
    flags, _ = fl.flags_from_windows(make_inputs(seed=1, hide={3: 0.6}))
    card = flags[(flags["unit_id"] == 3) & (flags["family"] == "A")].iloc[0]
    assert card["level"] in ("red", "amber")
    assert card["reason"].startswith("A.") and card["reason"].endswith(".low")
    assert card["chance"] == "lt_10000" and card["family_p"] < 1e-4
    assert card["indicator"] in ("A1", "A1F", "A2", "A3") and card["observed"] < card["expected"]
    # The words are the screens' (catalogs ``reporting`` / ``flags``): analytics returns no text columns.
    assert not {"title", "observed_text", "chance_text", "innocent_text"} & set(flags.columns)
    for col in flags.columns:
        if flags[col].dtype == object:
            assert all(v is None or (isinstance(v, float) and np.isnan(v)) or str(v).isascii() for v in flags[col])


@pytest.mark.parametrize(
    "p,band",
    [
        (5e-5, "lt_10000"),
        (5e-4, "lt_1000"),
        (5e-3, "lt_100"),
        (0.02, "lt_20"),
        (0.3, "ordinary"),
        (float("nan"), "unknown"),
        (None, "unknown"),
    ],
)
def test_chance_band(p, band):
    assert fl.chance_band(p) == band


def test_value_kind():
    assert fl.value_kind("B2") == fl.value_kind("D3") == "count"
    assert fl.value_kind("A1") == fl.value_kind("C1") == "share"


def test_funnel_data_of_a_proportion_uses_the_tests_own_spread():
    inputs = make_inputs(seed=1, hide={3: 0.6})
    _, indicators = fl.flags_from_windows(inputs)
    a1 = indicators[(indicators["indicator"] == "A1") & (indicators["unit_type"] == "street")]
    data = fl.funnel_data(indicators, "A", "A1", "street")
    assert data.proportion and data.unit_type == "street"
    assert data.target == pytest.approx(a1["expected"].iloc[0])
    assert data.tau2 == pytest.approx(a1["tau2"].iloc[0]) and data.tau2 >= 0
    # the same τ² re-estimated from the rows when a result lacks the column (one rule, in analytics)
    assert fl.funnel_data(indicators.drop(columns="tau2"), "A", "A1", "street").tau2 == pytest.approx(data.tau2)
    lim = data.limits
    assert list(lim.columns) == ["n", "lo95", "hi95", "lo998", "hi998"] and lim["n"].is_monotonic_increasing
    width = lim["hi998"] - lim["lo998"]
    assert width.iloc[0] > width.iloc[-1] > 0  # narrows with volume, τ² keeps it open
    assert ((lim["lo998"] <= lim["lo95"]) & (lim["hi95"] <= lim["hi998"])).all()
    assert len(data.points) == len(a1) and set(data.points.columns) == {"unit_type", "unit_id", "n", "y", "z", "enough"}
    hider = data.points.set_index("unit_id").loc[3]
    assert hider["y"] < np.interp(hider["n"], lim["n"], lim["lo998"])  # the planted hider is outside


def test_funnel_data_of_an_odds_ratio_is_standardised():
    _, indicators = fl.flags_from_windows(make_inputs(seed=1))
    data = fl.funnel_data(indicators, "A", "A2", "street")
    assert not data.proportion and data.target == 0.0
    assert data.limits[["lo998", "hi998"]].iloc[0].tolist() == pytest.approx([-fl.Z998, fl.Z998])
    assert data.points["y"].equals(data.points["z"])
    assert fl.funnel_indicators(indicators, "A")[:2] == ["A1", "A1F"]  # proportions first


def test_funnel_data_of_a_family_without_units_is_empty():
    _, indicators = fl.flags_from_windows(make_inputs(seed=1))
    data = fl.funnel_data(indicators, "C", "C1")
    assert data.points.empty and data.limits.empty


def test_a3_detects_a_mid_window_change():
    inputs = make_inputs(seed=12)
    c = inputs["counts"]
    late = (c["street_id"] == 4) & (c["channel"] == "patrol") & (c["difficulty"] == "complex") & (c["week"] >= 4)
    c.loc[late, "n"] = (c.loc[late, "n"] * 0.35).round().astype(int)
    ind = fl.family_ab_indicators(c, inputs["matched"], inputs["bunching"], "street")
    a3 = ind[ind["indicator"] == "A3"].set_index("unit_id")["z"]
    assert a3[4] < -3
    assert (a3.drop(index=4) < -3).sum() == 0


# --- robustness fixes (G7 regression, evaluation round 2) ----------------------------------------------------
def test_extreme_units_cannot_become_the_typical_value():
    """An inverse-variance weight n/(p(1-p)) explodes as p -> 0: two units that almost never log a hard problem
    first (G5-like) must not drag the target down to themselves and hide."""
    rng = np.random.default_rng(21)
    n = np.array([200] * 12 + [400, 400])
    events = np.concatenate([rng.binomial(200, 0.25, 12), [2, 1]])
    rows = fl.proportion_indicator(
        "street", np.arange(14), "A", "A1F", events, n, np.ones(14, bool), high_is_suspicious=False, winsor=0.25
    )
    assert 0.2 < rows["expected"].iloc[0] < 0.3
    assert (rows["z"].iloc[12:] < -3).all()
    assert (rows["z"].iloc[:12] > -3).all()


def test_reward_farmers_found_when_honest_app_users_never_repeat():
    """Honest app users' repeated-spot share is ~0 and farmers' ~1 (the G7 regression): the typical value is one
    person one vote, and the beta-binomial's scale has a floor so a keen citizen with two reports of one recurring
    problem is not a farmer."""
    rng = np.random.default_rng(22)
    k = rng.integers(5, 12, 30)
    rep = pd.DataFrame(
        {"reporter_id": [f"h{i}" for i in range(30)], "n": k, "n_spots": k, "max_spot": 1, "n_recur": 0, "n_grids": 2}
    )
    keen = pd.DataFrame(
        {"reporter_id": ["keen"], "n": [8], "n_spots": [6], "max_spot": [3], "n_recur": [1], "n_grids": [1]}
    )
    m = rng.integers(60, 120, 6)
    farm = pd.DataFrame(
        {
            "reporter_id": [f"f{i}" for i in range(6)],
            "n": m,
            "n_spots": rng.integers(1, 4, 6),
            "max_spot": m // 2,
            "n_recur": m // 3,
            "n_grids": 1,
        }
    )
    reporters = pd.concat([rep, keen, farm], ignore_index=True)
    ind = fl.family_d_indicators(reporters)
    d1 = ind[ind["indicator"] == "D1"].set_index("unit_id")
    assert d1.loc["h0", "expected"] < 0.1  # typical: honest, not the farmers' ~0.97
    assert (d1.loc[[f"f{i}" for i in range(6)], "z"] < -5).all()
    assert d1.loc["keen", "z"] > -3
    no_floor = fl.family_d_indicators(reporters, fl.FlagConfig(min_icc_people=0.0))
    keen_no_floor = no_floor[(no_floor["indicator"] == "D1") & (no_floor["unit_id"] == "keen")]["z"].iloc[0]
    assert d1.loc["keen", "z"] >= keen_no_floor  # the floor only makes it more cautious
    flags, _ = fl.flags_from_windows(make_inputs(seed=23, reporters=reporters))
    r = flags[flags["unit_type"] == "app_reporter"].drop_duplicates("unit_id").set_index("unit_id")["unit_level"]
    assert r[[f"f{i}" for i in range(6)]].isin(["red", "amber"]).all()
    assert not r.drop(index=[f"f{i}" for i in range(6)]).isin(["red", "amber"]).any()


def _b2_world(seed, public_scale=None, pad=None):
    """Simple-category counts (3 categories) and hard counts for 30 streets: every street has its own patrol
    diligence and 12345 propensity; ``public_scale`` multiplies a street's public reports of *all* problems
    (C2-like), ``pad`` adds fabricated simple patrol reports (G2-like)."""
    rng = np.random.default_rng(seed)
    public_scale, pad = public_scale or {}, pad or {}
    cats, hard = [], []
    for s in range(1, N_STREETS + 1):
        d, q = rng.uniform(0.6, 0.8), rng.uniform(0.15, 0.25) * public_scale.get(s, 1.0)
        for cat, rate in ((1, 2000), (2, 1250), (3, 750)):
            problems = rng.poisson(rate)
            pat = rng.binomial(problems, d)
            pat += int(round(pat * pad.get(s, 0.0)))
            cats += [
                dict(street_id=s, community_id=s * 10, category_id=cat, grp="patrol", n=pat),
                dict(street_id=s, community_id=s * 10, category_id=cat, grp="public", n=rng.binomial(problems, q)),
            ]
        hp = rng.poisson(3000)
        hard.append(dict(unit_id=s, patrol_h=rng.binomial(hp, d * 0.6), public_h=rng.binomial(hp, q)))
    return pd.DataFrame(cats), pd.DataFrame(hard)


def test_b2_volume_is_not_fooled_by_a_quiet_hotline():
    """B2 divides by the unit's own patrol/public ratio of hard problems: a street whose citizens call 12345 half as
    often (C2) is not 'padding'; a street that fabricates 30 % more simple reports is."""
    cats, hard = _b2_world(31, public_scale={4: 0.5}, pad={9: 0.3})
    ids = np.arange(1, N_STREETS + 1)
    z = fl._b2_volume(cats, "street", ids, fl.FlagConfig(), hard).set_index("unit_id")["z"]
    assert z[9] < -3
    assert z[4] > -2.5
    assert (z.drop(index=9) < -3).sum() == 0
    raw = fl._b2_volume(cats, "street", ids, fl.FlagConfig(b2_hard_adjust=False), hard).set_index("unit_id")["z"]
    assert raw[4] < z[4]  # without the hard-problem ratio the quiet hotline looks like padding


def test_communities_can_be_asked_to_persist():
    base = pd.DataFrame(
        {
            "unit_type": ["street", "community", "community"],
            "unit_id": [1, 10, 11],
            "family": "A",
            "street_id": [1, 1, 1],
            "family_p": [1e-4, 1e-4, 1e-4],
            "lead_indicator": "A1",
            "enough": True,
            "p_unit": [1e-4] * 3,
            "q": [0.08, 0.08, 0.08],
            "q_family": [0.08] * 3,
        }
    )
    prev = base.assign(q=[0.5, 0.09, 0.5])
    cfg = fl.FlagConfig(persist_types=("community",))
    out = fl.assign_levels(base, [prev], cfg).set_index("unit_id")["unit_level"]
    assert out.to_dict() == {1: "amber", 10: "amber", 11: "none"}
    assert (fl.assign_levels(base, [prev])["unit_level"] == "amber").all()  # default: off
    assert (fl.assign_levels(base, None, cfg)["unit_level"] == "amber").all()  # no history: no requirement


def test_matching_needs_the_same_place(writer, reader):
    """A1 matching: a patrol report of the same category in the same grid 2 days earlier is the same problem only
    when it is within ``match_metres`` (default 50 m); a whole-grid rule matches the far one by chance."""
    from datetime import datetime, timedelta

    from data_access import flag_queries as fq
    from tests.builders import add_case, make_reference

    cat = make_reference(writer)["categories"]
    t0 = datetime(2024, 3, 4, 9, 0)
    # near: 20 m apart -> matched; far: 600 m apart in the same grid -> not matched.
    add_case(
        writer,
        reported_at=t0 + timedelta(days=2),
        channel="hotline",
        category_id=cat["building"],
        grid_id=11,
        lat=31.0,
        lon=121.2,
    )
    add_case(writer, reported_at=t0, channel="patrol", category_id=cat["building"], grid_id=11, lat=31.00018, lon=121.2)
    add_case(
        writer,
        reported_at=t0 + timedelta(days=2),
        channel="hotline",
        category_id=cat["manhole"],
        grid_id=12,
        lat=31.0,
        lon=121.2,
    )
    add_case(writer, reported_at=t0, channel="patrol", category_id=cat["manhole"], grid_id=12, lat=31.0054, lon=121.2)
    start, end = datetime(2024, 3, 1), datetime(2024, 4, 1)
    pub = fq.matched_reports(reader, start, end)
    assert pub.loc[pub["difficulty"] == "complex", ["n", "n_matched", "n_other_first"]].sum().tolist() == [2, 1, 1]
    grid_only = fq.matched_reports(reader, start, end, match_metres=None)
    assert grid_only.loc[grid_only["difficulty"] == "complex", "n_matched"].sum() == 2
    unmatched = fq.flag_cases(reader, "community", 1, "A", start, end)
    assert unmatched["category"].nunique() == 1 and len(unmatched) == 1


def test_a2_reference_is_the_hotline_not_app_adoption():
    """App reports are mostly simple (small ads) and urban. A street where nobody uses the app has a harder public
    mix than the others, which a reference of *all* public channels reads as patrol missing hard problems (A2). The
    12345 hotline's simple/hard mix does not depend on app adoption."""
    inputs = make_inputs(seed=24)
    c = inputs["counts"]
    rng = np.random.default_rng(24)
    app = c[(c["channel"] == "hotline") & (c["difficulty"] == "simple") & (c["street_id"] != 5)].copy()
    app["channel"] = "app"
    app["n"] = rng.poisson(app["n"] * 1.5)
    inputs["counts"] = pd.concat([c, app], ignore_index=True)
    z = {}
    for ref in ("public", "hotline"):
        ind = fl.family_ab_indicators(
            inputs["counts"], inputs["matched"], inputs["bunching"], "street", fl.FlagConfig(public_reference=ref)
        )
        z[ref] = ind[ind["indicator"] == "A2"].set_index("unit_id")["z"]
    assert z["public"][5] < -3  # no app in street 5: looks like hiding
    assert z["hotline"][5] > -2.5
    assert (z["hotline"] < -3).sum() == 0
