"""Fair league tables (docs/domain.md §6 league tables; Goldstein & Spiegelhalter 1996) — pure pandas/numpy/scipy.

1. **Case-mix adjustment (O/E).** A department that receives harder categories should not be punished for them.
   For every category c the district-wide on-time rate is p_c = Σ_units on-time_c / Σ_units due_c. A unit's
   expected on-time disposals are E = Σ_c due_uc × p_c; its observed ones O = Σ_c on-time_uc; O/E > 1 means better
   than the district on the same case mix (indirect standardisation). A category handled by a single unit has no
   peers: its p_c would be the unit's own rate (O/E = 1 whatever its speed), so the district rate of its
   difficulty class (简单/复杂) is used instead.
2. **Interval of O/E.** On-time rates are high (95–99 %), so the informative count is the *late* one
   L = due − O (rare). Its 95 % interval comes from Byar's approximation to the exact Poisson interval
   (Breslow & Day 1987), which is slightly conservative for a binomial count; O/E bounds are (due − L_hi)/E and
   (due − L_lo)/E. A Poisson interval on O itself would be ~4× too wide at 95 % on-time.
3. **Rank intervals.** Parametric bootstrap: each unit's rate is redrawn from a binomial at its own (slightly
   shrunk) rate, every draw is ranked, and the 2.5–97.5 % range of a unit's rank is its interval. Two neighbours
   "cannot be told apart" when fewer than 95 % of draws keep them in the observed order.
4. **Minimum volume.** Units with fewer cases than ``min_rank_volume`` are shown but not ranked.
5. **Rank change** against the previous period, only when the unit was ranked in both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analytics.indicators import simulate_rate


# --- O/E -------------------------------------------------------------------------------------------------------------
def expected_by_category(
    cats: pd.DataFrame, unit: str, ontime: str = "ontime", difficulty=None, min_units: int = 2
) -> pd.DataFrame:
    """Per unit × category: ``due`` (disposed + overdue), ``ontime``, ``district_rate`` (the reference on-time rate),
    ``reference`` (``category`` or ``difficulty``), ``expected`` (= due × district_rate), ``late`` and
    ``expected_late``.

    The reference rate is the category's on-time rate over all units when at least ``min_units`` units handled the
    category in the period. When fewer did (e.g. only the gas company handles gas leaks) the category's difficulty
    cannot be told apart from that unit's own speed, so the district rate of the category's difficulty class
    (``difficulty``: mapping category_id → "simple"/"complex") is used instead; without ``difficulty`` the
    category's own rate is kept (O/E = 1 for a sole handler).
    """
    frame = cats[[unit, "category_id"]].copy()
    frame["due"] = (cats["disposed"] + cats["overdue"]).astype(int)
    frame["ontime"] = cats[ontime].astype(int)
    frame = frame[frame["due"] > 0].reset_index(drop=True)
    totals = frame.groupby("category_id").agg(ontime=("ontime", "sum"), due=("due", "sum"), units=(unit, "nunique"))
    cat_rate = totals["ontime"] / totals["due"]
    frame["district_rate"] = frame["category_id"].map(cat_rate)
    frame["reference"] = "category"
    if difficulty is not None:
        cls = frame["category_id"].map(dict(difficulty) if not isinstance(difficulty, pd.Series) else difficulty)
        frame["difficulty"] = cls
        by_class = frame.groupby("difficulty")[["ontime", "due"]].sum()
        class_rate = by_class["ontime"] / by_class["due"]
        sole = frame["category_id"].map(totals["units"]) < min_units
        sole &= cls.notna()
        frame["district_rate"] = np.where(sole, cls.map(class_rate).astype(float), frame["district_rate"])
        frame["reference"] = np.where(sole, "difficulty", "category")
    frame["expected"] = frame["due"] * frame["district_rate"]
    frame["late"] = frame["due"] - frame["ontime"]
    frame["expected_late"] = frame["due"] - frame["expected"]
    return frame


def byar_interval(count, z: float = 1.959964) -> tuple[np.ndarray, np.ndarray]:
    """Byar's approximate (1 − α) interval for a Poisson mean given the observed count(s): (lower, upper) arrays.
    Lower is 0 at a zero count."""
    k = np.asarray(count, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        lower = np.where(k > 0, k * (1 - 1 / (9 * k) - z / (3 * np.sqrt(k))) ** 3, 0.0)
    k1 = k + 1
    upper = k1 * (1 - 1 / (9 * k1) + z / (3 * np.sqrt(k1))) ** 3
    return np.maximum(lower, 0.0), upper


def observed_expected(by_category: pd.DataFrame, unit: str, level: float = 0.95) -> pd.DataFrame:
    """Per unit: ``observed`` (on-time), ``expected``, ``oe`` = O/E, ``oe_lo``/``oe_hi`` (interval at ``level``
    via Byar on the late count), ``late``, ``expected_late``, ``oe_due``. NaN ratio where E = 0."""
    z = stats.norm.ppf(0.5 + level / 2)
    g = by_category.groupby(unit, as_index=False).agg(
        observed=("ontime", "sum"),
        expected=("expected", "sum"),
        oe_due=("due", "sum"),
        late=("late", "sum"),
        expected_late=("expected_late", "sum"),
    )
    expected = g["expected"].where(g["expected"] > 0)
    g["oe"] = g["observed"] / expected
    lo_late, hi_late = byar_interval(g["late"], z)
    g["oe_lo"] = np.maximum(g["oe_due"] - np.minimum(hi_late, g["oe_due"]), 0) / expected
    g["oe_hi"] = (g["oe_due"] - lo_late) / expected
    return g


def simulate_oe(table: pd.DataFrame, draws: int, rng: np.random.Generator) -> np.ndarray:
    """units × draws O/E values: the late count redrawn from a binomial at the unit's own late rate, E fixed.
    NaN rows for units without an expected value."""
    n = table["oe_due"].fillna(0).to_numpy(float) if "oe_due" in table else np.zeros(len(table))
    late = table["late"].fillna(0).to_numpy(float) if "late" in table else np.zeros(len(table))
    expected = table["expected"].to_numpy(float) if "expected" in table else np.full(len(table), np.nan)
    late_rate = simulate_rate(late, n, draws, rng)  # late share per draw
    with np.errstate(invalid="ignore", divide="ignore"):
        sims = n[:, None] * (1 - late_rate) / np.where(expected > 0, expected, np.nan)[:, None]
    return sims


# --- ranks ------------------------------------------------------------------------------------------------------------
def rank_units(
    table: pd.DataFrame,
    value: str,
    samples: np.ndarray,
    eligible,
    *,
    prefix: str,
    higher_is_better: bool = True,
    level: float = 0.95,
    separation: float = 0.95,
) -> pd.DataFrame:
    """Rank the eligible units by ``value`` and add, for each row:

    - ``<prefix>_ranked``: eligible (volume) and the value is known;
    - ``<prefix>_rank``: 1 = best among ranked units (ties share the better rank), <NA> when not ranked;
    - ``<prefix>_rank_lo`` / ``<prefix>_rank_hi``: the ``level`` rank interval from ``samples`` (units × draws);
    - ``<prefix>_tied``: True when the unit cannot be told apart from the unit ranked just above or just below
      (fewer than ``separation`` of the draws keep the pair in its observed order);
    - ``<prefix>_status``: ``clear`` | ``tied`` | ``low_volume`` | ``no_data`` (for plain labels).
    """
    table = table.reset_index(drop=True).copy()
    values = table[value].to_numpy(float)
    ok = np.asarray(eligible, dtype=bool) & ~np.isnan(values)
    sign = -1.0 if higher_is_better else 1.0
    n_ranked = int(ok.sum())
    rank = np.full(len(table), np.nan)
    lo = np.full(len(table), np.nan)
    hi = np.full(len(table), np.nan)
    tied = np.zeros(len(table), dtype=bool)
    if n_ranked:
        idx = np.flatnonzero(ok)
        rank[idx] = stats.rankdata(sign * values[idx], method="min")
        sims = np.asarray(samples, dtype=float)[idx] if len(samples) else np.empty((n_ranked, 0))
        if sims.shape[1]:
            # a draw where a unit has no value (all components unknown) sends it to the bottom of that draw
            keyed = np.where(np.isnan(sims), np.inf, sign * sims)
            sim_ranks = stats.rankdata(keyed, axis=0, method="min")
            tail = (1 - level) / 2 * 100
            lo[idx] = np.minimum(np.floor(np.percentile(sim_ranks, tail, axis=1)), rank[idx])
            hi[idx] = np.maximum(np.ceil(np.percentile(sim_ranks, 100 - tail, axis=1)), rank[idx])
            order = idx[np.argsort(rank[idx], kind="stable")]
            pos = {u: i for i, u in enumerate(idx)}
            for a, b in zip(order[:-1], order[1:]):
                kept = np.mean(keyed[pos[a]] < keyed[pos[b]]) if rank[a] < rank[b] else 0.0
                if kept < separation:
                    tied[a] = tied[b] = True
        else:
            lo[idx], hi[idx] = rank[idx], rank[idx]
    status = np.where(ok, np.where(tied, "tied", "clear"), np.where(np.isnan(values), "no_data", "low_volume"))
    table[f"{prefix}_ranked"] = ok
    table[f"{prefix}_rank"] = pd.array(np.where(ok, rank, np.nan), dtype="Float64").astype("Int64")
    table[f"{prefix}_rank_lo"] = pd.array(lo, dtype="Float64").astype("Int64")
    table[f"{prefix}_rank_hi"] = pd.array(hi, dtype="Float64").astype("Int64")
    table[f"{prefix}_tied"] = tied
    table[f"{prefix}_status"] = status
    return table


def rank_change(
    current: pd.DataFrame, previous: pd.DataFrame, key: str, rank_col: str, ranked_col: str, out: str
) -> pd.DataFrame:
    """Add ``out`` = previous rank − current rank (positive: moved up), <NA> unless ranked in both periods."""
    prev = previous.loc[previous[ranked_col].astype(bool), [key, rank_col]].rename(columns={rank_col: "_prev"})
    merged = current.merge(prev, on=key, how="left")
    both = merged[ranked_col].astype(bool) & merged["_prev"].notna()
    change = merged["_prev"].astype("Float64") - merged[rank_col].astype("Float64")
    merged[out] = change.where(both).astype("Int64")
    merged[f"{out}_prev_rank"] = merged["_prev"].astype("Int64")
    return merged.drop(columns="_prev")


def rank_by_indicator(
    table: pd.DataFrame, key: str, indicator, eligible, *, prefix: str = "sel", draws: int = 500, seed: int = 0
) -> pd.DataFrame:
    """Rank units by any indicator of ``analytics.indicators`` (``indicator`` is its ``Indicator``): rates get
    binomial bootstrap intervals, O/E its own simulation; counts and hours have no sampling model here, so their
    interval is the point rank and only exact ties are "tied". Adds the ``<prefix>_*`` columns of ``rank_units``."""
    rng = np.random.default_rng(seed)
    if key == "oe":
        samples = simulate_oe(table, draws, rng)
    elif indicator.kind == "rate":
        samples = simulate_rate(table[indicator.numerator], table[indicator.denominator], draws, rng)
    else:
        samples = np.repeat(table[key].to_numpy(float)[:, None], 2, axis=1)
    return rank_units(table, key, samples, eligible, prefix=prefix, higher_is_better=indicator.higher_is_better)
