"""Flags for suspected selective reporting (选择性上报预警, docs/domain.md §6, issue 7). Pure functions on small frames.

Inputs are the aggregates of ``data_access.flag_queries`` for one window (``counts``, ``matched``, ``bunching``,
``verifiers``, ``reporters``). Outputs are tidy DataFrames:

- ``indicators``: one row per unit × indicator (``unit_type, unit_id, family, indicator, observed, expected, n, z,
  p, enough, tau2``), oriented so that **low z = suspicious**; ``p`` is the one-sided lower-tail p-value; ``tau2``
  is the between-unit variance the funnel of a proportion indicator used (NaN for the others).
- ``flags``: one row per unit × family with the family p (Cauchy combination of its indicators), the unit's p
  (Bonferroni across families), its BH ``q`` across units of the same type, a ``level`` (red / amber / none /
  insufficient) and the evidence of its lead indicator as numbers and codes (``reason``, ``chance``). The words
  are the screens' business (message catalogs, keys ``fam_<family>``, ``ind_<indicator>``, ``chance_<band>``).

Families (each indicator compares the reporting unit with something it does not control):
  A 隐瞒复杂案件 hard-case suppression (streets, communities)
    A1 share of public-reported hard problems that patrol also logged (matched by grid, ≤ 50 m, category, ±7 days)
    A1F the same, counting only patrol reports made before the public one ("patrol found it first")
    A2 patrol vs 12345 hard share (channel × difficulty odds ratio; needs no matching)
    A3 change of patrol-hard relative to public-hard over time (before/after split, several split points)
    A4 patrol hard share (case-mix context only: never flags on its own, not combined)
  B 冲量 padding (streets, communities)
    B1 share of patrol reports in the last days of the assessment month
    B2 simple patrol volume vs what the unit's 12345 reports predict, category by category, over the same ratio
       for its hard problems
    B3 closures bunched in the last 10 % of the time limit
  C 核查造假 verification integrity (verifiers): C1 instant checks, C2 impossible travel, C3 failed-check rate
  D 刷单套奖 reward farming (app reporters): D1 repeated spot, D2 re-report soon after closure, D3 volume
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analytics.combine import benjamini_hochberg, bonferroni_min, cauchy_combine
from analytics.funnel import funnel_z, log_odds_ratio, overdispersion_tau2, proportion_limits, robust_target

FAMILIES = ("A", "B", "C", "D")
# Proportion indicators with one typical value for every unit (``expected`` = p0), and their suspicious side; they
# draw as funnels around p0. The others (odds ratios A2/A3, observed/expected volume B2, volume D3) are drawn
# standardised (z against volume).
PROPORTION = {
    "A1": "low",
    "A1F": "low",
    "A4": "low",
    "B1": "high",
    "B3": "high",
    "C1": "high",
    "C2": "high",
    "C3": "low",
    "D1": "high",
    "D2": "high",
}
# Indicators whose observed/expected values are counts; every other indicator's values are shares (0..1).
COUNT_INDICATORS = ("B2", "D3")
# The chance bands of a family p (upper bounds, smallest first); above the last: "ordinary" variation.
CHANCE_BANDS = ((1e-4, "lt_10000"), (1e-3, "lt_1000"), (1e-2, "lt_100"), (5e-2, "lt_20"))
Z95, Z998 = 1.959964, 3.090232  # two-sided 95 % and 99.8 % normal quantiles: the drawn funnel limits


@dataclass(frozen=True)
class FlagConfig:
    """Thresholds of the flags (documented in docs/flags.md). Tuned on seeds 1–5 of the tiny preset and two worlds
    without planted behaviour (seeds 11, 12); reported on seeds 401–403 / 411–412."""

    amber_q: float = 0.10
    red_q: float = 0.05
    backing_q: float = 0.10  # a second family at this q "backs" a red flag
    min_public_hard: int = 30  # A1/A1F/A2/A3: public-reported hard problems in the window
    min_public_simple: int = 30
    min_patrol: int = 100  # B1: patrol reports in the window
    min_patrol_hard: int = 30  # B2
    min_bunching: int = 50  # B3: disposals in the 80–100 % bands
    min_checks: int = 20  # C: checks by one verifier
    min_app_reports: int = 5  # D: reports by one app account
    # A/B: 25 %/75 % winsorised τ². Spiegelhalter's 10 % assumes few outliers; on the seeded worlds a third of the
    # streets game and a 10 % winsor let them inflate τ² (tuned on seeds 1–5 and the no-gaming worlds 11, 12).
    winsor: float = 0.25
    # C/D: honest people sit near zero and a few gamers are extreme (6 farmers of ~40 active accounts): a 10 %
    # winsor lets them inflate τ² and hide themselves, so these use the 50 %-breakdown MAD scale (tuned on seed 1).
    winsor_people: float = 0.5
    # C/D: the beta-binomial's intra-class correlation never goes below this, so the scale cannot collapse to 0 when
    # every honest person has the same value (e.g. no repeated spot at all); see ``proportion_indicator``.
    min_icc_people: float = 0.02
    # B2: divide by the same patrol/public ratio of hard problems, so 12345 propensity and patrol diligence cancel.
    b2_hard_adjust: bool = True
    # Unit types whose amber also needs q ≤ amber_q in one of the earlier windows (2 of the last 3), when earlier
    # windows are given. Communities: many small units, and a community is tested only inside a flagged street.
    persist_types: tuple = ()
    # A/B: estimate τ² from the innocent side of each funnel only (see analytics.funnel.overdispersion_tau2).
    one_sided: bool = False
    # A2, B2: the public reference — "hotline" (12345 only) or "public" (hotline + app + video).
    public_reference: str = "hotline"
    a3_splits: tuple = (1 / 3, 1 / 2, 2 / 3)
    families_by_type: dict = field(
        default_factory=lambda: {
            "street": ("A", "B"),
            "community": ("A", "B"),
            "verifier": ("C",),
            "app_reporter": ("D",),
        }
    )
    context_only: tuple = ("A4", "D3")  # indicators shown but never combined or flagged
    disabled: tuple = ()  # indicators switched off (kept out of the combination)


# --- building blocks -----------------------------------------------------------------------------------------------
def _expit(x):
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p):
    p = np.clip(np.asarray(p, dtype=float), 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))


def _rows(
    unit_type, unit_ids, family, indicator, observed, expected, n, z, enough, tau2: float = float("nan")
) -> pd.DataFrame:
    z = np.where(enough, z, np.nan)
    return pd.DataFrame(
        {
            "unit_type": unit_type,
            "unit_id": np.asarray(unit_ids),
            "family": family,
            "indicator": indicator,
            "observed": np.asarray(observed, dtype=float),
            "expected": np.asarray(expected, dtype=float),
            "n": np.asarray(n, dtype=float),
            "z": z,
            "p": stats.norm.cdf(z),
            "enough": np.asarray(enough, dtype=bool),
            "tau2": float(tau2),
        }
    )


def or_indicator(
    unit_type, unit_ids, family, indicator, a, b, c, d, enough, winsor=0.10, one_sided: bool = False
) -> pd.DataFrame:
    """Funnel of a log odds ratio ``(a/b)/(c/d)`` across units (robust target, winsorised τ²).

    ``observed`` is ``a/(a+b)``; ``expected`` is what it would be if the unit's odds ratio were typical, given its
    own ``c/(c+d)``. Units without ``enough`` data get ``z = NaN``. Returns indicator rows (see module doc).
    """
    a, b, c, d = (np.asarray(x, dtype=float) for x in (a, b, c, d))
    enough = np.asarray(enough, dtype=bool)
    y, se = log_odds_ratio(a, b, c, d)
    z = np.full(y.shape, np.nan)
    target = float("nan")
    if enough.sum() >= 3:
        target = robust_target(y[enough], se[enough])
        f = funnel_z(y[enough], se[enough], target, winsor=winsor, innocent_side=1 if one_sided else 0)
        z[enough] = f.z
    with np.errstate(invalid="ignore", divide="ignore"):
        observed = a / (a + b)
        expected = _expit(_logit((c + 0.5) / (c + d + 1.0)) + target)
    return _rows(unit_type, unit_ids, family, indicator, observed, expected, a + b, z, enough)


def proportion_indicator(
    unit_type,
    unit_ids,
    family,
    indicator,
    events,
    totals,
    enough,
    *,
    high_is_suspicious: bool,
    winsor=0.10,
    per_person: bool = False,
    min_icc: float = 0.0,
    one_sided: bool = False,
) -> pd.DataFrame:
    """Funnel of a proportion ``events/totals`` against a robust typical value, with additive over-dispersion.

    The target p0 is the n-weighted median of the units' (smoothed) proportions, so a handful of gaming units cannot
    move it. τ² (between-unit variance of the true proportions) is the winsorised DerSimonian–Laird estimate; the
    p-value is the exact mid-p tail of a beta-binomial with mean p0 and that τ² (a binomial when τ² = 0), because the
    normal approximation is far too optimistic for rare events such as instant checks (4 of 107 at p0 = 1 %).
    ``z = Φ⁻¹(p)``, so low = suspicious whichever tail is suspicious. Returns indicator rows (see module doc).

    ``per_person`` (verifiers, app accounts): the target is the *unweighted* median of the smoothed proportions (one
    person, one vote). An inverse-variance weight grows without bound as a proportion approaches 0 or 1, so a few
    gamers at ~100 % (a reward farmer re-reporting his own ad 100 times) would otherwise outweigh dozens of honest
    people with 5–10 reports each and become "typical". ``min_icc`` floors the intra-class correlation of the
    beta-binomial (τ² ≥ min_icc · p0 (1 − p0)): when the honest values all sit at the same place (every honest app
    user at a repeated-spot share of 0) the robust spread estimate collapses to 0 and a plain binomial would call a
    keen citizen with two reports of one recurring problem a farmer.
    """
    y = np.asarray(events, dtype=float)
    n = np.asarray(totals, dtype=float)
    enough = np.asarray(enough, dtype=bool) & (n > 0)
    z = np.full(y.shape, np.nan)
    p0 = tau2 = float("nan")
    with np.errstate(invalid="ignore", divide="ignore"):
        obs = np.where(n > 0, y / n, np.nan)
    if enough.sum() >= 3:
        ne, ye = n[enough], np.round(y[enough])
        sm = (ye + 0.5) / (ne + 1.0)
        # Weights must not depend on the unit's own proportion: an inverse-variance weight n / (p (1 − p)) grows
        # without bound as p → 0 or 1, so one extreme unit (a street where patrol almost never logs a hard problem
        # before the hotline, G5-like) would outweigh a dozen typical ones and *become* the typical value. Areas:
        # n-weighted median; people: unweighted (see above).
        p0 = float(np.median(sm)) if per_person else robust_target(sm, 1.0 / np.sqrt(ne))
        # A floor keeps the limits finite when the typical unit has (almost) no events, e.g. instant checks.
        p0 = float(min(max(p0, 0.5 / ne.mean()), 1 - 1e-6))
        side = (-1 if high_is_suspicious else 1) if one_sided else 0
        tau2 = overdispersion_tau2(obs[enough], np.sqrt(p0 * (1 - p0) / ne), p0, winsor, side)
        tau2 = max(tau2, min_icc * p0 * (1 - p0))
        if tau2 > 0:
            size = max(p0 * (1 - p0) / tau2 - 1.0, 0.5)
            dist = stats.betabinom(ne.astype(int), p0 * size, (1 - p0) * size)
        else:
            dist = stats.binom(ne.astype(int), p0)
        if high_is_suspicious:
            p = dist.sf(ye) + 0.5 * dist.pmf(ye)
        else:
            p = dist.cdf(ye - 1) + 0.5 * dist.pmf(ye)
        z[enough] = stats.norm.ppf(np.clip(p, 1e-300, 1.0))
    return _rows(unit_type, unit_ids, family, indicator, obs, np.full(y.shape, p0), n, z, enough, tau2)


def robust_count_indicator(unit_type, unit_ids, family, indicator, counts, enough) -> pd.DataFrame:
    """Robust z of ``log(count)`` (median and MAD across units), high = suspicious, so ``z`` is negated.
    For volumes with no natural denominator (reports per app account). Returns indicator rows."""
    x = np.log(np.asarray(counts, dtype=float) + 1.0)
    enough = np.asarray(enough, dtype=bool)
    z = np.full(x.shape, np.nan)
    med = float("nan")
    if enough.sum() >= 5:
        med = float(np.median(x[enough]))
        mad = 1.4826 * float(np.median(np.abs(x[enough] - med)))
        z[enough] = -(x[enough] - med) / max(mad, 0.25)
    return _rows(
        unit_type, unit_ids, family, indicator, counts, np.expm1(med) if np.isfinite(med) else np.nan, counts, z, enough
    )


# --- unit tables -----------------------------------------------------------------------------------------------------
def unit_table(counts: pd.DataFrame, matched: pd.DataFrame, bunching: pd.DataFrame, level: str) -> pd.DataFrame:
    """Per unit (``level`` = street | community): the counts the families A and B need, one row per unit.

    Columns: ``unit_id``, ``street_id``, ``patrol_h/s`` (patrol reports hard/simple), ``public_h/s``,
    ``patrol_end``/``patrol_n`` (period-end and all patrol reports), ``pub_match_h/s`` and ``pub_first_h/s`` (public
    reports also logged by patrol / logged by patrol first), ``pat_corr_h/s`` (patrol reports corroborated by the
    public), ``bunch_80_90``/``bunch_90_100``.
    """
    key = "street_id" if level == "street" else "community_id"
    c = counts.copy()
    c["grp"] = np.where(
        c["channel"] == "patrol", "patrol", np.where(c["channel"].isin(("hotline", "app", "video")), "public", "other")
    )
    c["d"] = np.where(c["difficulty"] == "complex", "h", "s")
    piv = c.pivot_table(index=key, columns=["grp", "d"], values="n", aggfunc="sum", fill_value=0)
    piv.columns = [f"{g}_{d}" for g, d in piv.columns]
    out = pd.DataFrame(index=piv.index)
    for col in ("patrol_h", "patrol_s", "public_h", "public_s"):
        out[col] = piv[col] if col in piv else 0
    hot = c[c["channel"] == "hotline"].pivot_table(index=key, columns="d", values="n", aggfunc="sum", fill_value=0)
    for d in ("h", "s"):
        out[f"hot_{d}"] = (hot[d] if d in hot else pd.Series(dtype=float)).reindex(out.index).fillna(0)
    pat = c[c["grp"] == "patrol"]
    out["patrol_n"] = pat.groupby(key)["n"].sum().reindex(out.index).fillna(0)
    out["patrol_end"] = pat.groupby(key)["n_period_end"].sum().reindex(out.index).fillna(0)
    m = matched.copy()
    m["d"] = np.where(m["difficulty"] == "complex", "h", "s")
    for side, pre in (("public", "pub"), ("patrol", "pat")):
        part = m[m["side"] == side]
        for col, name in (
            ("n_matched", "match" if side == "public" else "corr"),
            ("n_other_first", "first" if side == "public" else "pubfirst"),
            ("n", "n"),
        ):
            g = part.groupby([key, "d"])[col].sum().unstack(fill_value=0)
            for d in ("h", "s"):
                out[f"{pre}_{name}_{d}"] = (g[d] if d in g else pd.Series(dtype=float)).reindex(out.index).fillna(0)
    b = (
        bunching.groupby(key)[["n_80_90", "n_90_100"]].sum()
        if len(bunching)
        else pd.DataFrame(columns=["n_80_90", "n_90_100"])
    )
    out["bunch_80_90"] = b["n_80_90"].reindex(out.index).fillna(0) if len(b) else 0
    out["bunch_90_100"] = b["n_90_100"].reindex(out.index).fillna(0) if len(b) else 0
    out.index.name = "unit_id"
    out = out.reset_index()
    if level == "community":
        streets = counts.drop_duplicates("community_id").set_index("community_id")["street_id"]
        out["street_id"] = streets.reindex(out["unit_id"]).to_numpy()
    else:
        out["street_id"] = out["unit_id"]
    return out.fillna(0)


def _a3_change(
    counts: pd.DataFrame, level: str, unit_ids, splits, min_hard: int, winsor: float, one_sided: bool = False
) -> pd.DataFrame:
    """A3: for each split point, log odds ratio of patrol-hard vs public-hard after vs before the split, funnelled;
    the unit's z is the lowest across splits, its p Bonferroni-corrected for the number of splits."""
    key = "street_id" if level == "street" else "community_id"
    c = counts[counts["difficulty"] == "complex"].copy()
    c["grp"] = np.where(
        c["channel"] == "patrol", "patrol", np.where(c["channel"].isin(("hotline", "app", "video")), "public", "other")
    )
    c = c[c["grp"] != "other"]
    weeks = int(c["week"].max()) + 1 if len(c) else 0
    wk = c.pivot_table(index=key, columns=["grp", "week"], values="n", aggfunc="sum", fill_value=0)
    unit_ids = np.asarray(unit_ids)
    best_z = np.full(len(unit_ids), np.nan)
    best_obs = np.full(len(unit_ids), np.nan)
    best_exp = np.full(len(unit_ids), np.nan)
    enough_any = np.zeros(len(unit_ids), dtype=bool)
    n_total = np.zeros(len(unit_ids))
    for frac in splits:
        k = int(round(weeks * frac))
        if k < 1 or k >= weeks:
            continue

        def part(grp, lo, hi):
            cols = [(grp, w) for w in range(lo, hi) if (grp, w) in wk.columns]
            s = wk[cols].sum(axis=1) if cols else pd.Series(0, index=wk.index)
            return s.reindex(unit_ids).fillna(0).to_numpy(dtype=float)

        pa, qa = part("patrol", k, weeks), part("public", k, weeks)  # after
        pb, qb = part("patrol", 0, k), part("public", 0, k)  # before
        enough = (qa >= min_hard / 3) & (qb >= min_hard / 3) & (qa + qb >= min_hard)
        rows = or_indicator("x", unit_ids, "A", "A3", pa, qa, pb, qb, enough, winsor, one_sided)
        z = rows["z"].to_numpy()
        better = np.isfinite(z) & ~(z >= best_z)
        best_z = np.where(better, z, best_z)
        best_obs = np.where(better, rows["observed"], best_obs)
        best_exp = np.where(better, rows["expected"], best_exp)
        enough_any |= enough
        n_total = pa + qa + pb + qb
    m = max(1, sum(1 for f in splits if 1 <= int(round(weeks * f)) < weeks))
    p = np.clip(stats.norm.cdf(best_z) * m, 1e-300, 1 - 1e-12)
    z_adj = stats.norm.ppf(p)
    out = _rows(level, unit_ids, "A", "A3", best_obs, best_exp, n_total, z_adj, enough_any & np.isfinite(best_z))
    return out


def _b2_volume(
    categories: pd.DataFrame, level: str, unit_ids, config: FlagConfig, hard: pd.DataFrame | None = None
) -> pd.DataFrame:
    """B2: simple patrol reports observed vs expected from the unit's own public reports, category by category.

    E_u = Σ_c public(u, c) × R_c with R_c = Σ patrol(c) / Σ public(c) over all units (categories with no public
    report anywhere are left out). Funnel of log(O/E) with se² = 1/O + 1/Σ_c public(u, c) and additive τ²; high is
    suspicious. Innocent causes that move it: a much lower 12345 propensity (C2) or a very diligent patrol (C3).

    With ``config.b2_hard_adjust`` and ``hard`` (columns ``unit_id``, ``patrol_h``, ``public_h``), the same ratio of
    the unit's *hard* problems is subtracted: y = log(O_s/E_s) − log(O_h/E_h), se² = 1/O_s + 1/pub_s + 1/O_h +
    1/pub_h. A unit whose public reports little (low 12345 propensity, C2) or whose patrol is diligent (C3) has a
    high patrol/public ratio for hard and simple problems alike, which cancels; fabricated simple reports raise
    only the simple ratio. (Hard problems withheld also raise y: a hider can show up in B as well as in A.)
    """
    key = "street_id" if level == "street" else "community_id"
    c = categories.copy()
    # ``grp``: patrol | hotline | public_other (older frames: patrol | public). The reference is the hotline alone
    # when ``config.public_reference == "hotline"``: app reports are mostly simple (ads) and urban, so the simple
    # share of *all* public reports varies from place to place for reasons that have nothing to do with patrol.
    if config.public_reference == "hotline" and (c["grp"] == "hotline").any():
        c = c[c["grp"] != "public_other"]
    c["grp"] = np.where(c["grp"] == "patrol", "patrol", "public")
    tot = c.groupby(["category_id", "grp"])["n"].sum().unstack(fill_value=0)
    for g in ("patrol", "public"):
        if g not in tot:
            tot[g] = 0
    ratio = (tot["patrol"] / tot["public"]).where(tot["public"] >= 5)
    per = c.pivot_table(index=[key, "category_id"], columns="grp", values="n", aggfunc="sum", fill_value=0)
    for g in ("patrol", "public"):
        if g not in per:
            per[g] = 0
    per = per.reset_index()
    per["r"] = per["category_id"].map(ratio)
    per = per[per["r"].notna()]
    per["e"] = per["public"] * per["r"]
    agg = per.groupby(key)[["patrol", "public", "e"]].sum().reindex(unit_ids).fillna(0)
    o, e, pub = agg["patrol"].to_numpy(float), agg["e"].to_numpy(float), agg["public"].to_numpy(float)
    enough = (pub >= config.min_public_simple) & (o >= config.min_patrol)
    with np.errstate(invalid="ignore", divide="ignore"):
        y = np.log((o + 0.5) / (e + 0.5))
        se = np.sqrt(1 / (o + 0.5) + 1 / (pub + 0.5))
    if config.b2_hard_adjust and hard is not None:
        ref = "hot_h" if config.public_reference == "hotline" and "hot_h" in hard else "public_h"
        h = hard.set_index("unit_id")[["patrol_h", ref]].reindex(unit_ids).fillna(0)
        oh, ph = h["patrol_h"].to_numpy(float), h[ref].to_numpy(float)
        rh = oh.sum() / ph.sum() if ph.sum() > 0 else np.nan
        with np.errstate(invalid="ignore", divide="ignore"):
            hard_ratio = (oh + 0.5) / (ph * rh + 0.5)
            y = y - np.log(hard_ratio)
            e = e * hard_ratio  # the card's "expected": what the unit's own hard-problem ratio predicts
            se = np.sqrt(se**2 + 1 / (oh + 0.5) + 1 / (ph + 0.5))
        enough = enough & (ph >= config.min_public_hard) & (oh >= config.min_patrol_hard)
    z = np.full(len(o), np.nan)
    if enough.sum() >= 3:
        f = funnel_z(
            y[enough],
            se[enough],
            robust_target(y[enough], se[enough]),
            winsor=config.winsor,
            innocent_side=-1 if config.one_sided else 0,
        )
        z[enough] = -f.z
        exp_adj = e * np.exp(f.target)
    else:
        exp_adj = e
    return _rows(level, unit_ids, "B", "B2", o, exp_adj, o, z, enough)


def family_ab_indicators(
    counts: pd.DataFrame,
    matched: pd.DataFrame,
    bunching: pd.DataFrame,
    level: str,
    config: FlagConfig = FlagConfig(),
    unit_ids=None,
    categories: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Indicators of families A and B for every ``level`` unit (street | community), optionally restricted to
    ``unit_ids`` (the funnel and τ² are then computed among those units only). Returns indicator rows."""
    t = unit_table(counts, matched, bunching, level)
    if unit_ids is not None:
        t = t[t["unit_id"].isin(list(unit_ids))].reset_index(drop=True)
    u, w, o1 = t["unit_id"].to_numpy(), config.winsor, config.one_sided
    ref = "hot" if config.public_reference == "hotline" else "public"  # A2's reference channel
    ph = t["pub_n_h"].to_numpy(float)
    rows = [
        # Simple problems almost always find a same-grid, same-category patrol report by chance (simple categories
        # recur daily), so the hard match rate is compared with other units directly; τ² absorbs honest
        # differences in patrol diligence.
        proportion_indicator(
            level,
            u,
            "A",
            "A1",
            t["pub_match_h"],
            ph,
            ph >= config.min_public_hard,
            high_is_suspicious=False,
            winsor=w,
            one_sided=o1,
        ),
        proportion_indicator(
            level,
            u,
            "A",
            "A1F",
            t["pub_first_h"],
            ph,
            ph >= config.min_public_hard,
            high_is_suspicious=False,
            winsor=w,
            one_sided=o1,
        ),
        or_indicator(
            level,
            u,
            "A",
            "A2",
            t["patrol_h"],
            t["patrol_s"],
            t[f"{ref}_h"],
            t[f"{ref}_s"],
            (t[f"{ref}_h"] >= config.min_public_hard).to_numpy() & (t["patrol_h"] + t["patrol_s"] > 0),
            w,
            o1,
        ),
        _a3_change(counts, level, u, config.a3_splits, config.min_public_hard, w, o1),
        proportion_indicator(
            level,
            u,
            "A",
            "A4",
            t["patrol_h"],
            t["patrol_h"] + t["patrol_s"],
            (t["patrol_h"] + t["patrol_s"]).to_numpy() >= config.min_patrol,
            high_is_suspicious=False,
            winsor=w,
            one_sided=o1,
        ),
        proportion_indicator(
            level,
            u,
            "B",
            "B1",
            t["patrol_end"],
            t["patrol_n"],
            t["patrol_n"].to_numpy() >= config.min_patrol,
            high_is_suspicious=True,
            winsor=w,
            one_sided=o1,
        ),
        _b2_volume(categories, level, u, config, t)
        if categories is not None
        else _rows(level, u, "B", "B2", np.nan, np.nan, 0, np.nan, np.zeros(len(u), dtype=bool)),
        proportion_indicator(
            level,
            u,
            "B",
            "B3",
            t["bunch_90_100"],
            t["bunch_80_90"] + t["bunch_90_100"],
            (t["bunch_80_90"] + t["bunch_90_100"]).to_numpy() >= config.min_bunching,
            high_is_suspicious=True,
            winsor=w,
            one_sided=o1,
        ),
    ]
    out = pd.concat(rows, ignore_index=True)
    out["unit_type"] = level
    parent = dict(zip(t["unit_id"], t["street_id"]))
    out["street_id"] = out["unit_id"].map(parent)
    return out


def family_c_indicators(verifiers: pd.DataFrame, config: FlagConfig = FlagConfig()) -> pd.DataFrame:
    """Family C for every verifier (核查员): instant checks, impossible travel, failed-check rate. Indicator rows."""
    v = verifiers
    u, w = v["verifier_id"].to_numpy(), config.winsor_people
    enough = v["n"].to_numpy() >= config.min_checks
    out = pd.concat(
        [
            proportion_indicator(
                "verifier",
                u,
                "C",
                "C1",
                v["n_instant"],
                v["n"],
                enough,
                high_is_suspicious=True,
                winsor=w,
                per_person=True,
                min_icc=config.min_icc_people,
            ),
            proportion_indicator(
                "verifier",
                u,
                "C",
                "C2",
                v["n_impossible"],
                v["n_pairs"],
                enough & (v["n_pairs"].to_numpy() >= config.min_checks - 1),
                high_is_suspicious=True,
                winsor=w,
                per_person=True,
                min_icc=config.min_icc_people,
            ),
            proportion_indicator(
                "verifier",
                u,
                "C",
                "C3",
                v["n_fail"],
                v["n_checks"],
                enough,
                high_is_suspicious=False,
                winsor=w,
                per_person=True,
                min_icc=config.min_icc_people,
            ),
        ],
        ignore_index=True,
    )
    out["street_id"] = np.nan
    return out


def family_d_indicators(reporters: pd.DataFrame, config: FlagConfig = FlagConfig()) -> pd.DataFrame:
    """Family D for every app reporter: repeated spot, re-report soon after closure, volume. Indicator rows."""
    r = reporters
    u, w = r["reporter_id"].to_numpy(), config.winsor_people
    enough = r["n"].to_numpy() >= config.min_app_reports
    out = pd.concat(
        [
            proportion_indicator(
                "app_reporter",
                u,
                "D",
                "D1",
                r["n"] - r["n_spots"],
                r["n"],
                enough,
                high_is_suspicious=True,
                winsor=w,
                per_person=True,
                min_icc=config.min_icc_people,
            ),
            proportion_indicator(
                "app_reporter",
                u,
                "D",
                "D2",
                r["n_recur"],
                r["n"],
                enough,
                high_is_suspicious=True,
                winsor=w,
                per_person=True,
                min_icc=config.min_icc_people,
            ),
            robust_count_indicator("app_reporter", u, "D", "D3", r["n"], enough),
        ],
        ignore_index=True,
    )
    out["street_id"] = np.nan
    return out


# --- combination and levels -------------------------------------------------------------------------------------------
def combine_units(indicators: pd.DataFrame, config: FlagConfig = FlagConfig()) -> pd.DataFrame:
    """Per unit × family: Cauchy-combined family p over the usable indicators (context-only and disabled ones
    excluded); per unit: Bonferroni across its families (``p_unit``) and BH q across the units of the frame
    (``q``); per family: BH ``q_family`` across units. Units with no usable indicator get ``p_unit = NaN``.

    Returns one row per unit × family with ``family_p``, ``lead_indicator`` (smallest p), ``p_unit``, ``q``,
    ``q_family``, ``enough``.
    """
    use = indicators[~indicators["indicator"].isin(config.context_only + tuple(config.disabled))]
    rows = []
    for (utype, uid, fam), g in use.groupby(["unit_type", "unit_id", "family"], sort=False):
        ok = g[g["enough"] & g["p"].notna()]
        lead = ok.loc[ok["p"].idxmin()] if len(ok) else None
        rows.append(
            {
                "unit_type": utype,
                "unit_id": uid,
                "family": fam,
                "street_id": g["street_id"].iloc[0],
                "family_p": cauchy_combine(ok["p"]) if len(ok) else np.nan,
                "lead_indicator": None if lead is None else lead["indicator"],
                "enough": bool(len(ok)),
            }
        )
    fam = pd.DataFrame(
        rows, columns=["unit_type", "unit_id", "family", "street_id", "family_p", "lead_indicator", "enough"]
    )
    if fam.empty:
        return fam.assign(p_unit=[], q=[], q_family=[])
    unit_p = fam.groupby(["unit_type", "unit_id"], sort=False)["family_p"].apply(bonferroni_min).rename("p_unit")
    units = unit_p.reset_index()
    units["q"] = np.nan
    for _, idx in units.groupby("unit_type").groups.items():
        units.loc[idx, "q"] = benjamini_hochberg(units.loc[idx, "p_unit"].to_numpy())
    fam = fam.merge(units, on=["unit_type", "unit_id"], how="left")
    fam["q_family"] = np.nan
    for _, idx in fam.groupby(["unit_type", "family"]).groups.items():
        fam.loc[idx, "q_family"] = benjamini_hochberg(fam.loc[idx, "family_p"].to_numpy())
    return fam


def assign_levels(
    current: pd.DataFrame, previous: list[pd.DataFrame] | None = None, config: FlagConfig = FlagConfig()
) -> pd.DataFrame:
    """Add ``unit_level`` and ``level`` (red | amber | none | insufficient), ``persistent`` and ``backed`` to
    ``combine_units`` output. ``unit_level`` is the unit's overall level (map colour); ``level`` is the row's
    (family's) level.

    red: unit q ≤ red_q and (q ≤ red_q in at least 1 of the ``previous`` windows, i.e. 2 of the last 3, or a second
    family with q_family ≤ backing_q); amber: q ≤ amber_q otherwise — for ``config.persist_types`` (communities)
    only if also q ≤ amber_q in one of the ``previous`` windows (when any are given); insufficient: no family had
    enough data.
    """
    out = current.copy()
    prev_hits = pd.Series(0, index=pd.MultiIndex.from_frame(out[["unit_type", "unit_id"]]).unique())
    for prev in previous or []:
        if prev is None or prev.empty:
            continue
        hit = prev.drop_duplicates(["unit_type", "unit_id"]).set_index(["unit_type", "unit_id"])["q"] <= config.red_q
        prev_hits = prev_hits.add(hit.astype(int).reindex(prev_hits.index).fillna(0), fill_value=0)
    prev_amber = pd.Series(0, index=prev_hits.index)
    for prev in previous or []:
        if prev is None or prev.empty:
            continue
        hit = prev.drop_duplicates(["unit_type", "unit_id"]).set_index(["unit_type", "unit_id"])["q"] <= config.amber_q
        prev_amber = prev_amber.add(hit.astype(int).reindex(prev_amber.index).fillna(0), fill_value=0)
    key = list(zip(out["unit_type"], out["unit_id"]))
    out["persistent"] = [bool(prev_hits.get(k, 0) >= 1) for k in key]
    amber_again = np.array([bool(prev_amber.get(k, 0) >= 1) for k in key], dtype=bool)
    n_fams = out[out["q_family"] <= config.backing_q].groupby(["unit_type", "unit_id"])["family"].nunique()
    out["backed"] = [bool(n_fams.get(k, 0) >= 2) for k in key]
    any_enough = out.groupby(["unit_type", "unit_id"])["enough"].transform("any")
    level = np.where(~any_enough, "insufficient", "none").astype(object)
    amber = out["q"] <= config.amber_q
    if config.persist_types and previous:
        # Small units (communities) are many and noisy: one window's surprise is not enough for amber there.
        needs = out["unit_type"].isin(config.persist_types).to_numpy()
        amber = amber & (~needs | amber_again)
    red = (out["q"] <= config.red_q) & (out["persistent"] | out["backed"])
    level = np.where(amber, "amber", level)
    level = np.where(red, "red", level)
    out["unit_level"] = level
    # The row's own level: the unit's level for the family that carries the signal (smallest family p, or any
    # family with q_family ≤ backing_q); "insufficient" for a family without enough data; else "none".
    best = out.groupby(["unit_type", "unit_id"])["family_p"].transform("min")
    carries = (out["family_p"] == best) | (out["q_family"] <= config.backing_q)
    row = np.where(carries, level, np.where(level == "insufficient", "insufficient", "none")).astype(object)
    row = np.where(~out["enough"].astype(bool), "insufficient", row)
    out["level"] = row
    return out


# --- evidence cards --------------------------------------------------------------------------------------------------
def chance_band(p: float) -> str:
    """How surprising a family p is among similar units, as a code: ``lt_10000`` (by chance in fewer than 1 in
    10,000), ``lt_1000``, ``lt_100``, ``lt_20``, ``ordinary`` (within ordinary variation) or ``unknown`` (no p)."""
    if p is None or not np.isfinite(p):
        return "unknown"
    for cut, code in CHANCE_BANDS:
        if p < cut:
            return code
    return "ordinary"


def value_kind(indicator: str | None) -> str:
    """``count`` for indicators whose values are counts (B2, D3), else ``share`` (a proportion, shown as %)."""
    return "count" if indicator in COUNT_INDICATORS else "share"


def evidence(flags: pd.DataFrame, indicators: pd.DataFrame, config: FlagConfig = FlagConfig()) -> pd.DataFrame:
    """Attach the lead indicator's numbers and the card's codes to ``assign_levels`` output.

    Adds ``indicator``, ``observed``, ``expected``, ``z``, ``p`` (of the lead indicator), ``reason`` (machine code
    like ``A.A1.low``; ``A.insufficient`` without enough data) and ``chance`` (``chance_band`` of the family p;
    ``unknown`` without enough data). No wording: the screens word the codes through their message catalogs.
    """
    lead = indicators.set_index(["unit_type", "unit_id", "indicator"])
    out = flags.copy()
    cols = {k: [] for k in ("indicator", "observed", "expected", "z", "p", "reason", "chance")}
    for _, r in out.iterrows():
        ind = r["lead_indicator"]
        row = (
            lead.loc[(r["unit_type"], r["unit_id"], ind)]
            if ind is not None and (r["unit_type"], r["unit_id"], ind) in lead.index
            else None
        )
        if isinstance(row, pd.DataFrame):
            row = row.iloc[0]
        fam = r["family"]
        cols["indicator"].append(ind)
        for k in ("observed", "expected", "z", "p"):
            cols[k].append(np.nan if row is None else float(row[k]))
        if not r["enough"] or row is None:
            cols["reason"].append(f"{fam}.insufficient")
            cols["chance"].append("unknown")
            continue
        cols["reason"].append(f"{fam}.{ind}.{'low' if row['z'] < 0 else 'ok'}")
        cols["chance"].append(chance_band(float(r["family_p"])))
    for k, v in cols.items():
        out[k] = v
    return out


# --- funnel plots -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FunnelData:
    """What a funnel plot of one indicator × unit type draws, all computed here (the figure only draws).

    ``proportion``: the y axis is the proportion itself around ``target`` (p0) with limits widened by ``tau2``;
    otherwise the y axis is the standardised z (target 0, limits at ±Z95 / ±Z998). ``limits``: columns ``n``,
    ``lo95``, ``hi95``, ``lo998``, ``hi998`` over the volume range of the units. ``points``: ``unit_type``,
    ``unit_id``, ``n``, ``y``, ``z``, ``enough`` — one row per unit with a positive volume.
    """

    indicator: str
    unit_type: str | None
    proportion: bool
    target: float
    tau2: float
    limits: pd.DataFrame
    points: pd.DataFrame


def funnel_indicators(indicators: pd.DataFrame, family: str) -> list[str]:
    """The indicators of ``family`` present in ``indicators``, proportion indicators first (they draw as funnels)."""
    found = indicators.loc[indicators["family"] == family, "indicator"].dropna().unique().tolist()
    return sorted(found, key=lambda i: (i not in PROPORTION, i))


def _tau2_of(ok: pd.DataFrame, p0: float, family: str, config: FlagConfig) -> float:
    """The τ² the indicator's test used (column ``tau2``); rows without it are re-estimated the same way."""
    used = ok["tau2"].astype(float).dropna() if "tau2" in ok else pd.Series(dtype=float)
    if len(used):
        return float(used.iloc[0])
    if not 0 < p0 < 1:
        return 0.0
    people = family in ("C", "D")
    n_ok = ok["n"].to_numpy(float)
    tau2 = overdispersion_tau2(
        ok["observed"].to_numpy(float),
        np.sqrt(p0 * (1 - p0) / n_ok),
        p0,
        config.winsor_people if people else config.winsor,
    )
    return max(tau2, config.min_icc_people * p0 * (1 - p0)) if people else tau2


def funnel_data(
    indicators: pd.DataFrame,
    family: str,
    indicator: str,
    unit_type: str | None = None,
    config: FlagConfig = FlagConfig(),
    points: int = 120,
) -> FunnelData:
    """The funnel of ``indicator`` (of ``family``) for ``unit_type`` (default: the most common unit type).

    Proportions: p ± z·sqrt(p0 (1 − p0) / n + τ²) on ``points`` volumes from the smallest to the largest unit
    (Spiegelhalter 2005), with the τ² the indicator's test used; other indicators: z against volume.
    """
    rows = indicators[(indicators["family"] == family) & (indicators["indicator"] == indicator)]
    if unit_type is None and len(rows):
        unit_type = str(rows["unit_type"].value_counts().index[0])
    rows = rows[rows["unit_type"] == unit_type]
    rows = rows[rows["n"].astype(float) > 0]
    proportion = indicator in PROPORTION
    ok = rows[rows["enough"].astype(bool) & rows["z"].notna()]
    pts = pd.DataFrame(
        {
            "unit_type": rows["unit_type"],
            "unit_id": rows["unit_id"],
            "n": rows["n"].astype(float),
            "y": rows["observed" if proportion else "z"].astype(float),
            "z": rows["z"].astype(float),
            "enough": rows["enough"].astype(bool),
        }
    ).reset_index(drop=True)
    empty = pd.DataFrame(columns=["n", "lo95", "hi95", "lo998", "hi998"], dtype=float)
    if ok.empty:
        return FunnelData(indicator, unit_type, proportion, float("nan"), 0.0, empty, pts)
    n_lo, n_hi = max(1.0, float(pts["n"].min())), max(float(pts["n"].max()), 2.0)
    if not proportion:
        lim = pd.DataFrame({"n": [n_lo, n_hi], "lo95": -Z95, "hi95": Z95, "lo998": -Z998, "hi998": Z998})
        return FunnelData(indicator, unit_type, False, 0.0, 0.0, lim, pts)
    p0 = float(np.nanmedian(ok["expected"].astype(float)))
    tau2 = _tau2_of(ok, p0, family, config)
    grid = np.unique(np.geomspace(n_lo, n_hi, points))
    lo95, hi95 = proportion_limits(p0, tau2, grid, Z95)
    lo998, hi998 = proportion_limits(p0, tau2, grid, Z998)
    lim = pd.DataFrame({"n": grid, "lo95": lo95, "hi95": hi95, "lo998": lo998, "hi998": hi998})
    return FunnelData(indicator, unit_type, True, p0, tau2, lim, pts)


# --- one window, all unit types ----------------------------------------------------------------------------------------
def window_flags(
    inputs: dict[str, pd.DataFrame], config: FlagConfig = FlagConfig(), streets_only: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Indicators and combined (pre-level) unit × family rows for one window.

    Streets, verifiers and reporters are always tested; communities only inside streets whose unit q ≤ amber_q in
    this window (the hierarchy of issue 7: streets first). Returns ``(indicators, combined)``.
    """
    cats = inputs.get("categories")
    ind = [
        family_ab_indicators(inputs["counts"], inputs["matched"], inputs["bunching"], "street", config, categories=cats)
    ]
    if not streets_only:
        if len(inputs["verifiers"]):
            ind.append(family_c_indicators(inputs["verifiers"], config))
        if len(inputs["reporters"]):
            ind.append(family_d_indicators(inputs["reporters"], config))
    indicators = pd.concat(ind, ignore_index=True)
    combined = combine_units(indicators, config)
    if not streets_only:
        st = combined[(combined["unit_type"] == "street") & (combined["q"] <= config.amber_q)]
        flagged = set(st["unit_id"])
        if flagged:
            comm = inputs["counts"].loc[inputs["counts"]["street_id"].isin(flagged), "community_id"].unique()
            # Funnels and τ² come from all communities (the reference population); BH runs inside flagged streets.
            ci = family_ab_indicators(
                inputs["counts"], inputs["matched"], inputs["bunching"], "community", config, categories=cats
            )
            ci = ci[ci["unit_id"].isin(comm)]
            indicators = pd.concat([indicators, ci], ignore_index=True)
            combined = pd.concat([combined, combine_units(ci, config)], ignore_index=True)
    return indicators, combined


def flags_from_windows(
    current: dict[str, pd.DataFrame],
    previous: list[dict[str, pd.DataFrame]] | None = None,
    config: FlagConfig = FlagConfig(),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The full pipeline on pre-fetched aggregates: ``current`` window plus up to two ``previous`` windows for
    persistence. Returns ``(flags, indicators)``: flags one row per unit × family with level and card codes."""
    indicators, combined = window_flags(current, config)
    prev = []
    for p in previous or []:
        _, c = window_flags(p, config)
        prev.append(c)
    flags = evidence(assign_levels(combined, prev, config), indicators, config)
    order = {"red": 0, "amber": 1, "none": 2, "insufficient": 3}
    flags = flags.sort_values(
        ["unit_type", "unit_level", "q", "family"],
        key=lambda s: s.map(order) if s.name == "unit_level" else s,
        ignore_index=True,
    )
    return flags, indicators
