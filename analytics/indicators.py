"""Scorecard indicators (docs/domain.md §3, docs/indicators.md): rates, composite score and grades — pure pandas/numpy.

Inputs are small aggregate frames (``data_access.scorecard_queries`` makes them; ``reports.departments`` passes them
in); outputs are small frames of codes and numbers. A rate whose denominator is zero is NaN (shown as "—"), never 0 %
or 100 %: "no cases" is not "all late" nor "all on time". Names and formulas of the indicators (the page tooltips)
are in the ``indicators`` message catalog, keyed by indicator code.

Definitions (the same words in the tooltips and in docs/indicators.md):

- 应处置数 ``due`` = 处置数 ``disposed`` + 超期未处置数 ``overdue``
- 处置率 = disposed / due; 按期处置率 = ontime / due (含延期) and ontime_original / due (按原时限)
- 返工率 = cases disposed after ≥ 1 返工 / 处置数 (the chosen denominator: 处置数, see docs/indicators.md)
- 延期率 = cases with an approved 延期 among 应处置 / due; 回退率 = 回退 events / 派遣 events; 超期待处置率 = overdue / due
- 满意率 = (满意 + 0.9 × 基本满意) / 有效回访数
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Indicator:
    """One indicator: where its numbers come from and how it compares. Its name and formula (the tooltip) are in the
    ``indicators`` message catalog under ``<scope>.<key>`` and ``<scope>.<key>.formula`` (scope: department, street)."""

    key: str
    numerator: str | None  # column of the scorecard table (None for counts / hours)
    denominator: str | None
    kind: str  # rate | count | hours | ratio | score
    higher_is_better: bool


# 部门考评: 应处置数, 处置数, 处置率, 按期处置率(含延期 / 按原时限), 超期未处置数, 超期待处置率, 返工率, 延期率, 回退率,
# 处置时长中位数/P90, 满意率, 按期处置 O/E, 综合得分
DEPARTMENT_INDICATORS: list[Indicator] = [
    Indicator("due", None, None, "count", True),
    Indicator("disposed", None, None, "count", True),
    Indicator("disposal_rate", "disposed", "due", "rate", True),
    Indicator("ontime_rate", "ontime", "due", "rate", True),
    Indicator("ontime_original_rate", "ontime_original", "due", "rate", True),
    Indicator("overdue", None, None, "count", False),
    Indicator("overdue_rate", "overdue", "due", "rate", False),
    Indicator("rework_rate", "rework", "disposed", "rate", False),
    Indicator("extension_rate", "extended_due", "due", "rate", False),
    Indicator("return_rate", "returned", "dispatched", "rate", False),
    Indicator("median_hours", None, None, "hours", False),
    Indicator("p90_hours", None, None, "hours", False),
    Indicator("satisfaction_rate", "satisfaction_points", "answered", "rate", True),
    Indicator("oe", "observed", "expected", "ratio", True),
    Indicator("score", None, None, "score", True),
]

# 街镇考评 (streets as areas): 应结案数, 结案率, 按期结案率, 监督举报率 (lower is better: 监督员 should find problems
# first), 响应率, 解决率, 满意率, 按期处置 O/E
STREET_INDICATORS: list[Indicator] = [
    Indicator("due", None, None, "count", True),
    Indicator("closure_rate", "closed", "due", "rate", True),
    Indicator("ontime_closure_rate", "closed_ontime", "due", "rate", True),
    Indicator("public_report_rate", "citizen_registered", "registered", "rate", False),
    Indicator("response_rate", "citizen_responded", "citizen_received", "rate", True),
    Indicator("resolution_rate", "citizen_resolved", "citizen_received", "rate", True),
    Indicator("satisfaction_rate", "satisfaction_points", "answered", "rate", True),
    Indicator("oe", "observed", "expected", "ratio", True),
]

INDICATORS_BY_KEY = {i.key: i for i in DEPARTMENT_INDICATORS}
STREET_INDICATORS_BY_KEY = {i.key: i for i in STREET_INDICATORS}

# 满意率: a 基本满意 (fairly satisfied) answer counts 0.9 of a 满意 one, 不满意 nothing.
BASIC_SATISFACTION_WEIGHT = 0.9

# Composite score components: settings key → (table column, True when the component is 1 − rate).
SCORE_COMPONENTS: dict[str, tuple[str, bool]] = {
    "disposal_rate": ("disposal_rate", False),
    "ontime_rate": ("ontime_rate", False),
    "rework_free": ("rework_rate", True),
    "overdue_free": ("overdue_rate", True),
    "extension_free": ("extension_rate", True),
}


# --- rates ------------------------------------------------------------------------------------------------------------
def rate(numerator, denominator):
    """numerator / denominator elementwise as float; NaN where the denominator is 0 or missing."""
    num = pd.to_numeric(pd.Series(numerator), errors="coerce").astype(float)
    den = pd.to_numeric(pd.Series(denominator), errors="coerce").astype(float)
    out = num / den.where(den > 0)
    if np.isscalar(numerator) and np.isscalar(denominator):
        return float(out.iloc[0])
    return out.set_axis(numerator.index) if isinstance(numerator, pd.Series) else out


def percentiles_from_histogram(
    hist: pd.DataFrame, by: str, qs=(0.5, 0.9), names=("median_hours", "p90_hours")
) -> pd.DataFrame:
    """Percentiles per unit from a histogram (``by``, ``lo``, ``width``, ``n``), assuming values spread evenly
    inside a bin: returns ``by`` plus one column per name. Accuracy: half a bin width on average, a bin at most."""
    rows = []
    for unit, g in hist.sort_values([by, "lo"]).groupby(by, sort=False):
        counts = g["n"].to_numpy(float)
        total = counts.sum()
        if total <= 0:
            continue
        cum = np.cumsum(counts)
        row = {by: unit}
        for q, name in zip(qs, names):
            target = q * total
            i = int(np.searchsorted(cum, target, side="left"))
            before = cum[i - 1] if i > 0 else 0.0
            row[name] = float(g["lo"].iloc[i] + g["width"].iloc[i] * (target - before) / counts[i])
        rows.append(row)
    return pd.DataFrame(rows, columns=[by, *names])


def _sum_categories(cats: pd.DataFrame, unit: str) -> pd.DataFrame:
    cols = [
        c
        for c in (
            "disposed",
            "ontime",
            "ontime_original",
            "rework",
            "extended",
            "overdue",
            "overdue_extended",
            "hours_n",
        )
        if c in cats
    ]
    return cats.groupby(unit, as_index=False)[cols].sum()


def _common_rates(table: pd.DataFrame) -> pd.DataFrame:
    table["due"] = table["disposed"] + table["overdue"]
    table["extended_due"] = table["extended"] + table["overdue_extended"]
    table["disposal_rate"] = rate(table["disposed"], table["due"])
    table["ontime_rate"] = rate(table["ontime"], table["due"])
    table["ontime_original_rate"] = rate(table["ontime_original"], table["due"])
    table["overdue_rate"] = rate(table["overdue"], table["due"])
    table["rework_rate"] = rate(table["rework"], table["disposed"])
    table["extension_rate"] = rate(table["extended_due"], table["due"])
    return table


def satisfaction_points(satisfied, basic):
    """满意 + 0.9 × 基本满意 (scalars or Series): the numerator of 满意率."""
    return satisfied + BASIC_SATISFACTION_WEIGHT * basic


def satisfaction_rate(satisfied, basic, answered):
    """满意率 = (满意 + 0.9 × 基本满意) / 有效回访数, for scalars or elementwise; NaN when nothing was answered.
    The one definition: every screen and export that shows a 满意率 computes it here."""
    return rate(satisfaction_points(satisfied, basic), answered)


def _satisfaction(table: pd.DataFrame) -> pd.DataFrame:
    table["satisfaction_points"] = satisfaction_points(table["satisfied"], table["basic"])
    table["satisfaction_rate"] = rate(table["satisfaction_points"], table["answered"])
    return table


def _fill_counts(table: pd.DataFrame, columns) -> pd.DataFrame:
    for c in columns:
        table[c] = pd.to_numeric(table[c]).fillna(0).astype(int) if c in table else 0
    return table


def department_table(
    by_category: pd.DataFrame, events: pd.DataFrame, satisfaction: pd.DataFrame, hours: pd.DataFrame
) -> pd.DataFrame:
    """One row per department from the query frames: the summed counts, ``due``, every rate of
    ``DEPARTMENT_INDICATORS``, and ``median_hours`` / ``p90_hours``. Departments that appear only in the event log or
    the call-backs get due = 0 (their rates on due are NaN)."""
    unit = "department_id"
    table = _sum_categories(by_category, unit) if len(by_category) else pd.DataFrame(columns=[unit])
    for extra in (events, satisfaction):
        if len(extra):
            table = table.merge(extra, on=unit, how="outer")
    table = _fill_counts(
        table,
        [
            "disposed",
            "ontime",
            "ontime_original",
            "rework",
            "extended",
            "overdue",
            "overdue_extended",
            "hours_n",
            "dispatched",
            "returned",
            "satisfied",
            "basic",
            "unsatisfied",
            "answered",
        ],
    )
    table[unit] = table[unit].astype(int)
    table = _common_rates(table)
    table["return_rate"] = rate(table["returned"], table["dispatched"])
    table = _satisfaction(table)
    pct = (
        percentiles_from_histogram(hours, unit)
        if len(hours)
        else pd.DataFrame(columns=[unit, "median_hours", "p90_hours"])
    )
    table = table.merge(pct.astype({unit: int}), on=unit, how="left")
    table[["median_hours", "p90_hours"]] = table[["median_hours", "p90_hours"]].astype(float)
    return table.sort_values(unit, ignore_index=True)


def street_table(by_category: pd.DataFrame, area: pd.DataFrame, satisfaction: pd.DataFrame) -> pd.DataFrame:
    """One row per street: disposal counts of its cases, area counts, and the rates of ``STREET_INDICATORS`` (plus
    处置率/按期处置率 of its cases). 应结案数 ``due`` = 处置数 + 超期未处置数 (docs/domain.md §3)."""
    unit = "street_id"
    table = _sum_categories(by_category, unit) if len(by_category) else pd.DataFrame(columns=[unit])
    for extra in (area, satisfaction):
        if len(extra):
            table = table.merge(extra, on=unit, how="outer")
    table = _fill_counts(
        table,
        [
            "disposed",
            "ontime",
            "ontime_original",
            "rework",
            "extended",
            "overdue",
            "overdue_extended",
            "hours_n",
            "registered",
            "citizen_registered",
            "closed",
            "closed_ontime",
            "citizen_received",
            "citizen_responded",
            "citizen_resolved",
            "satisfied",
            "basic",
            "unsatisfied",
            "answered",
        ],
    )
    table[unit] = table[unit].astype(int)
    table = _common_rates(table)
    table["closure_rate"] = rate(table["closed"], table["due"])
    table["ontime_closure_rate"] = rate(table["closed_ontime"], table["due"])
    table["public_report_rate"] = rate(table["citizen_registered"], table["registered"])
    table["response_rate"] = rate(table["citizen_responded"], table["citizen_received"])
    table["resolution_rate"] = rate(table["citizen_resolved"], table["citizen_received"])
    table = _satisfaction(table)
    return table.sort_values(unit, ignore_index=True)


# --- composite score and grades ---------------------------------------------------------------------------------------
def normalised_weights(weights: dict) -> dict[str, float]:
    """Weights rescaled to sum to 100 (unknown keys or a non-positive total raise ValueError)."""
    unknown = set(weights) - set(SCORE_COMPONENTS)
    if unknown:
        raise ValueError(
            f"score_weights: unknown component(s) {', '.join(sorted(unknown))}; known: {', '.join(SCORE_COMPONENTS)}"
        )
    if any(float(w) < 0 for w in weights.values()):
        raise ValueError("score_weights: weights must not be negative")
    total = sum(float(w) for w in weights.values())
    if total <= 0:
        raise ValueError("score_weights: the weights must add up to more than 0")
    return {k: 100.0 * float(w) / total for k, w in weights.items()}


def _combine(components: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """100 × Σ w·c / Σ w over the components that are known (NaN-aware): a 0–100 score; NaN when none is known."""
    num = den = 0.0
    for key, w in weights.items():
        c = np.asarray(components[key], dtype=float)
        known = ~np.isnan(c)
        num = num + np.where(known, w * np.nan_to_num(c), 0.0)
        den = den + np.where(known, w, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(np.asarray(den) > 0, 100.0 * np.asarray(num) / np.where(np.asarray(den) > 0, den, 1), np.nan)


def score_components(table: pd.DataFrame) -> dict[str, np.ndarray]:
    """The composite's components (each in [0, 1], higher better) from a scorecard table."""
    out = {}
    for key, (column, inverted) in SCORE_COMPONENTS.items():
        values = table[column].to_numpy(dtype=float)
        out[key] = 1.0 - values if inverted else values
    return out


def composite_score(table: pd.DataFrame, weights: dict) -> pd.Series:
    """Composite score 0–100 per row: Σ weight × component with the weights normalised to 100. A component whose
    denominator is zero (NaN) is left out and the other weights are rescaled; NaN when nothing is known."""
    weights = normalised_weights(weights)
    return pd.Series(_combine(score_components(table), weights), index=table.index, name="score")


def grade_of(score, thresholds: dict) -> str | None:
    """Grade letter of one score: the first grade (highest threshold first) whose threshold it reaches, else "E";
    None for a missing score."""
    if score is None or (isinstance(score, float) and np.isnan(score)):
        return None
    for letter, low in sorted(thresholds.items(), key=lambda kv: -float(kv[1])):
        if score >= float(low):
            return letter
    return "E"


def grades(scores: pd.Series, thresholds: dict) -> pd.Series:
    """Grade letters (A–E, None when the score is missing) for a Series of scores."""
    return pd.Series([grade_of(s, thresholds) for s in scores], index=scores.index, dtype=object, name="grade")


# --- simulation for rank intervals ------------------------------------------------------------------------------------
def simulate_rate(successes, trials, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Parametric bootstrap of rates: units × draws matrix of Binomial(n, p̃)/n with p̃ = (x + ½)/(n + 1) (so a
    100 % or 0 % rate still varies); NaN rows where n = 0."""
    x = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    safe_n = np.where(n > 0, n, 1).astype(np.int64)
    p = np.clip((x + 0.5) / (np.where(n > 0, n, 0) + 1.0), 0.0, 1.0)
    sims = rng.binomial(safe_n[:, None], p[:, None], size=(len(n), draws)) / safe_n[:, None]
    sims[n <= 0, :] = np.nan
    return sims


def simulate_score(table: pd.DataFrame, weights: dict, draws: int, rng: np.random.Generator) -> np.ndarray:
    """units × draws composite scores from independently simulated components (parametric bootstrap)."""
    weights = normalised_weights(weights)
    comps = {}
    for key, (column, inverted) in SCORE_COMPONENTS.items():
        ind = INDICATORS_BY_KEY[column]
        sims = simulate_rate(table[ind.numerator], table[ind.denominator], draws, rng)
        comps[key] = 1.0 - sims if inverted else sims
    return _combine(comps, weights) if len(table) else np.empty((0, draws))
