"""Scorecard indicators (DOMAIN.md §3, docs/indicators.md): rates, composite score and grades — pure pandas/numpy.

Inputs are the small aggregate frames of ``data_access.scorecard_queries``; outputs are small frames. A rate whose
denominator is zero is NaN (shown as "—"), never 0 % or 100 %: "no cases" is not "all late" nor "all on time".

Definitions (the same words in the page tooltips and in docs/indicators.md):

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
    """One indicator: where its numbers come from and how to explain it."""
    key: str
    zh: str
    en: str
    numerator: str | None        # column of the scorecard table (None for counts / hours)
    denominator: str | None
    kind: str                    # rate | count | hours | ratio | score
    higher_is_better: bool
    formula_zh: str
    formula_en: str


_EXCL_ZH = "作废、自行处置、挂账案件不计入"
_EXCL_EN = "cancelled, fixed-on-the-spot and parked cases excluded"

DEPARTMENT_INDICATORS: list[Indicator] = [
    Indicator("due", "应处置数", "Cases due", None, None, "count", True,
              f"应处置数 = 处置数 + 超期未处置数（{_EXCL_ZH}）",
              f"Cases due = disposed + overdue undisposed ({_EXCL_EN})"),
    Indicator("disposed", "处置数", "Disposed", None, None, "count", True,
              f"本期内反馈处置的案件数（按处置时间；{_EXCL_ZH}）",
              f"Cases whose disposal was reported in the period ({_EXCL_EN})"),
    Indicator("disposal_rate", "处置率", "Disposal rate", "disposed", "due", "rate", True,
              "处置率 = 处置数 / 应处置数", "Disposal rate = disposed / cases due"),
    Indicator("ontime_rate", "按期处置率(含延期)", "On-time rate (with extensions)", "ontime", "due", "rate", True,
              "按期处置率 = 在延期后时限内处置的案件数 / 应处置数",
              "On-time rate = disposed by the (extended) deadline / cases due"),
    Indicator("ontime_original_rate", "按期处置率(按原时限)", "On-time rate (original deadline)",
              "ontime_original", "due", "rate", True,
              "按原时限处置的案件数 / 应处置数（延期不算按期）",
              "Disposed by the original deadline / cases due (extensions do not help)"),
    Indicator("overdue", "超期未处置数", "Overdue undisposed", None, None, "count", False,
              "期末（或当前）已超过时限（含延期）仍未处置的案件数，含以前各期遗留",
              "Cases past their (extended) deadline and not disposed at the end of the period (or now), "
              "including older ones"),
    Indicator("overdue_rate", "超期待处置率", "Overdue share", "overdue", "due", "rate", False,
              "超期待处置率 = 超期未处置数 / 应处置数（按本定义 = 1 − 处置率）",
              "Overdue share = overdue undisposed / cases due (= 1 − disposal rate under these definitions)"),
    Indicator("rework_rate", "返工率", "Rework rate", "rework", "disposed", "rate", False,
              "返工率 = 核查不通过返工过的已处置案件数 / 处置数（分母取处置数）",
              "Rework rate = disposed cases that failed a check at least once / disposed"),
    Indicator("extension_rate", "延期率", "Extension rate", "extended_due", "due", "rate", False,
              "延期率 = 经批准延期的应处置案件数 / 应处置数",
              "Extension rate = cases due with an approved extension / cases due"),
    Indicator("return_rate", "回退率", "Return rate", "returned", "dispatched", "rate", False,
              "回退率 = 本期回退次数 / 本期派遣次数（派遣+改派，来自流转记录）",
              "Return rate = returns / dispatches (dispatch + re-dispatch events) in the period"),
    Indicator("median_hours", "处置时长中位数", "Median disposal time", None, None, "hours", False,
              "本期已处置案件从首次派遣到处置反馈的工作时中位数（直方图估计，误差 ≤ 1 工作时，40 时以上 ≤ 8 时）",
              "Median working hours from first dispatch to disposal of cases disposed in the period (from a "
              "histogram: within 1 h below 40 h, within 8 h above)"),
    Indicator("p90_hours", "处置时长P90", "90th percentile disposal time", None, None, "hours", False,
              "同上，第90百分位", "As above, 90th percentile"),
    Indicator("satisfaction_rate", "满意率", "Satisfaction", "satisfaction_points", "answered", "rate", True,
              "满意率 = (满意 + 0.9 × 基本满意) / 有效回访数（热线/APP/视频来源，按结案时间）",
              "Satisfaction = (satisfied + 0.9 × fairly satisfied) / call-backs answered (public channels, by "
              "closing time)"),
    Indicator("oe", "按期处置 O/E", "On-time O/E", "observed", "expected", "ratio", True,
              "按期处置 实际/期望：期望 = Σ 各类别应处置数 × 全区该类别按期处置率；>1 好于全区同类水平",
              "On-time observed / expected: expected = Σ per category cases due × district on-time rate of that "
              "category; > 1 is better than the district on the same case mix"),
    Indicator("score", "综合得分", "Composite score", None, None, "score", True,
              "综合得分 = Σ 权重 × 分项（处置率、按期处置率、1−返工率、1−超期待处置率、1−延期率），权重归一到100",
              "Score = Σ weight × component (disposal rate, on-time rate, 1 − rework, 1 − overdue share, "
              "1 − extension rate), weights normalised to 100"),
]

STREET_INDICATORS: list[Indicator] = [
    Indicator("due", "应结案数", "Cases due for closure", None, None, "count", True,
              "应结案数 = 处置数 + 超期未处置数", "Due for closure = disposed + overdue undisposed"),
    Indicator("closure_rate", "结案率", "Closure rate", "closed", "due", "rate", True,
              "结案率 = 结案数 / 应结案数；结案数 = 本期处置的案件中到期末已结案（含强制结案）的件数",
              "Closure rate = closed / due for closure; closed = cases disposed in the period and closed "
              "(incl. force-closed) by its end"),
    Indicator("ontime_closure_rate", "按期结案率", "On-time closure rate", "closed_ontime", "due", "rate", True,
              "按期结案率 = 结案数中在时限（含延期）内处置的件数 / 应结案数",
              "On-time closure = closed cases disposed by the (extended) deadline / due for closure"),
    Indicator("public_report_rate", "监督举报率", "Public report rate", "citizen_registered", "registered", "rate",
              False, "监督举报率 = 12345/APP 市民举报立案数 / 立案数（越低越好：监督员先发现）",
              "Public report rate = cases registered from 12345/app / all registered (lower is better)"),
    Indicator("response_rate", "响应率", "Response rate", "citizen_responded", "citizen_received", "rate", True,
              "响应率 = 已受理立案的 12345/APP 诉求数 / 诉求数（系统无联系时间，以立案计响应）",
              "Response rate = 12345/app requests registered / requests (no contact time is recorded: "
              "registration counts as the response)"),
    Indicator("resolution_rate", "解决率", "Resolution rate", "citizen_resolved", "citizen_received", "rate", True,
              "解决率 = 已结案（不含强制结案）的 12345/APP 诉求数 / 诉求数",
              "Resolution rate = 12345/app requests closed (not force-closed) / requests"),
    Indicator("satisfaction_rate", "满意率", "Satisfaction", "satisfaction_points", "answered", "rate", True,
              "满意率 = (满意 + 0.9 × 基本满意) / 有效回访数", "(satisfied + 0.9 × fairly satisfied) / answered"),
    Indicator("oe", "按期处置 O/E", "On-time O/E", "observed", "expected", "ratio", True,
              "本街镇案件按期处置 实际/期望（按类别构成调整）",
              "On-time disposals of the street's cases, observed / expected for its category mix"),
]

INDICATORS_BY_KEY = {i.key: i for i in DEPARTMENT_INDICATORS}
STREET_INDICATORS_BY_KEY = {i.key: i for i in STREET_INDICATORS}

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


def percentiles_from_histogram(hist: pd.DataFrame, by: str, qs=(0.5, 0.9),
                               names=("median_hours", "p90_hours")) -> pd.DataFrame:
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
    cols = [c for c in ("disposed", "ontime", "ontime_original", "rework", "extended", "overdue", "overdue_extended",
                        "hours_n") if c in cats]
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


def _satisfaction(table: pd.DataFrame) -> pd.DataFrame:
    table["satisfaction_points"] = table["satisfied"] + 0.9 * table["basic"]
    table["satisfaction_rate"] = rate(table["satisfaction_points"], table["answered"])
    return table


def _fill_counts(table: pd.DataFrame, columns) -> pd.DataFrame:
    for c in columns:
        table[c] = pd.to_numeric(table[c]).fillna(0).astype(int) if c in table else 0
    return table


def department_table(by_category: pd.DataFrame, events: pd.DataFrame, satisfaction: pd.DataFrame,
                     hours: pd.DataFrame) -> pd.DataFrame:
    """One row per department from the query frames: the summed counts, ``due``, every rate of
    ``DEPARTMENT_INDICATORS``, and ``median_hours`` / ``p90_hours``. Departments that appear only in the event log or
    the call-backs get due = 0 (their rates on due are NaN)."""
    unit = "department_id"
    table = _sum_categories(by_category, unit) if len(by_category) else pd.DataFrame(columns=[unit])
    for extra in (events, satisfaction):
        if len(extra):
            table = table.merge(extra, on=unit, how="outer")
    table = _fill_counts(table, ["disposed", "ontime", "ontime_original", "rework", "extended", "overdue",
                                 "overdue_extended", "hours_n", "dispatched", "returned", "satisfied", "basic",
                                 "unsatisfied", "answered"])
    table[unit] = table[unit].astype(int)
    table = _common_rates(table)
    table["return_rate"] = rate(table["returned"], table["dispatched"])
    table = _satisfaction(table)
    pct = percentiles_from_histogram(hours, unit) if len(hours) else pd.DataFrame(
        columns=[unit, "median_hours", "p90_hours"])
    table = table.merge(pct.astype({unit: int}), on=unit, how="left")
    table[["median_hours", "p90_hours"]] = table[["median_hours", "p90_hours"]].astype(float)
    return table.sort_values(unit, ignore_index=True)


def street_table(by_category: pd.DataFrame, area: pd.DataFrame, satisfaction: pd.DataFrame) -> pd.DataFrame:
    """One row per street: disposal counts of its cases, area counts, and the rates of ``STREET_INDICATORS`` (plus
    处置率/按期处置率 of its cases). 应结案数 ``due`` = 处置数 + 超期未处置数 (DOMAIN.md §3)."""
    unit = "street_id"
    table = _sum_categories(by_category, unit) if len(by_category) else pd.DataFrame(columns=[unit])
    for extra in (area, satisfaction):
        if len(extra):
            table = table.merge(extra, on=unit, how="outer")
    table = _fill_counts(table, ["disposed", "ontime", "ontime_original", "rework", "extended", "overdue",
                                 "overdue_extended", "hours_n", "registered", "citizen_registered", "closed",
                                 "closed_ontime", "citizen_received", "citizen_responded", "citizen_resolved",
                                 "satisfied", "basic", "unsatisfied", "answered"])
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
        raise ValueError(f"score_weights: unknown component(s) {', '.join(sorted(unknown))}; "
                         f"known: {', '.join(SCORE_COMPONENTS)}")
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
