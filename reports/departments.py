"""部门考评 (department scorecards) and 街镇考评 (streets as areas): the screen models of the departments page, and the
department scorecard the wall's mini-ranking shows.

Entry points (docs/architecture.md): ``build`` (the department scorecard of a period, with the previous period for
rank changes), ``streets`` (the street scorecard), ``department_cases`` (a department's late, returned and reworked
cases) and ``trend`` (a department over the trailing periods), each ``(engine, params, *, now)``; ``scorecard`` /
``street_scorecard`` are the same computations with every knob (the wall and the tests use them). Pure functions of a
built scorecard answer the rest of the screen: ``ranking`` (by any indicator, with bootstrap rank intervals),
``department_view`` (one department against its peers) and the period choices.

The SQL aggregates are ``data_access.scorecard_queries``; rates, score, grades, O/E and rank intervals are
``analytics.indicators`` / ``analytics.fairness``; this module puts them together. Models hold frames, numbers and
codes (indicator keys, separation statuses ``clear | tied | low_volume | no_data``, O/E reference classes); names of
units and categories are data (``name`` / ``name_en``, ``minor_name`` / ``minor_name_en``); the words are in the
``departments`` and ``indicators`` catalogs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from analytics import fairness, indicators
from analytics.indicators import INDICATORS_BY_KEY
from analytics.sla import effective_deadline
from core import periods, settings
from data_access import queries
from data_access import scorecard_queries as sq

SEED = 20240601  # fixed, so ranks do not flicker between refreshes
TREND_PERIODS = 8  # 近 8 期走势
MAX_CUSTOM_DAYS = 366  # a custom period is at most a year
CUSTOM_DEFAULT_DAYS = 28  # a custom period starts as the last four weeks
CASE_LIMIT = 200  # rows per case list of the department view
# Indicators a department ranking can be ordered by (?rank=): O/E and the score come ranked, the others are ranked
# on demand (``ranking``).
RANK_KEYS = (
    "oe",
    "score",
    "ontime_rate",
    "ontime_original_rate",
    "disposal_rate",
    "overdue",
    "rework_rate",
    "extension_rate",
    "return_rate",
    "median_hours",
    "p90_hours",
    "satisfaction_rate",
)
# The department view: two rows of six tiles, and the rates compared with the ranked departments (与同行比较).
METRIC_KEYS = (
    "oe",
    "score",
    "due",
    "disposal_rate",
    "ontime_rate",
    "overdue",
    "ontime_original_rate",
    "rework_rate",
    "extension_rate",
    "return_rate",
    "median_hours",
    "satisfaction_rate",
)
PEER_KEYS = (
    "disposal_rate",
    "ontime_rate",
    "ontime_original_rate",
    "rework_rate",
    "extension_rate",
    "return_rate",
    "satisfaction_rate",
)
# The indicator columns of the two tables, in order (key, kind, higher_is_better; names in the indicators catalog).
DEPARTMENT_COLUMNS = tuple(indicators.DEPARTMENT_INDICATORS)
STREET_COLUMNS = tuple(indicators.STREET_INDICATORS)


# --- the scorecards ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scorecard:
    """What a scorecard screen needs, all small: ``table`` (one row per unit: counts, indicators, score, grade, O/E
    with interval, ranks with intervals, rank change), ``by_category`` (unit × category: due, on-time, district
    rate, expected, reference class, category names), ``hours`` (the disposal-time histogram), the period, its
    "as of" time, the previous period and its table, and the settings used (weights, thresholds, min_volume,
    draws)."""

    table: pd.DataFrame
    by_category: pd.DataFrame
    hours: pd.DataFrame
    start: datetime
    end: datetime
    as_of: datetime
    previous: tuple[datetime, datetime] | None = None
    settings_used: dict = field(default_factory=dict)
    previous_table: pd.DataFrame | None = None


def _as_of(end: datetime, now: datetime | None) -> datetime:
    return end if now is None else min(end, now)


def _categories(engine: Engine) -> pd.DataFrame:
    """category_id, difficulty (simple | complex: the fallback reference class of O/E) and the category names."""
    ref = queries.categories(engine)
    out = pd.DataFrame(
        {
            "category_id": ref["id"].astype(int),
            "difficulty": ref["difficulty"],
            "minor_name": ref["minor_name"],
            "minor_name_en": ref["minor_name_en"],
        }
    )
    out["minor_name_en"] = out["minor_name_en"].fillna(out["minor_name"])
    return out


def _named(frame: pd.DataFrame, cats: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the category names of its ``category_id`` (the id itself when the category is unknown)."""
    names = cats.set_index("category_id")
    out = frame.copy()
    out["minor_name"] = out["category_id"].map(names["minor_name"]).fillna(out["category_id"].astype(str))
    out["minor_name_en"] = out["category_id"].map(names["minor_name_en"]).fillna(out["minor_name"])
    return out


def _rank_all(table: pd.DataFrame, min_volume: int, weights: dict, draws: int, seed: int) -> pd.DataFrame:
    """Score and O/E ranks with bootstrap intervals (one random stream, score first)."""
    rng = np.random.default_rng(seed)
    eligible = table["due"] >= min_volume
    score_samples = indicators.simulate_score(table, weights, draws, rng)
    table = fairness.rank_units(table, "score", score_samples, eligible, prefix="score", higher_is_better=True)
    oe_samples = fairness.simulate_oe(table, draws, rng)
    return fairness.rank_units(table, "oe", oe_samples, eligible, prefix="oe", higher_is_better=True)


def scorecard(
    engine: Engine,
    start: datetime,
    end: datetime,
    *,
    now: datetime | None,
    street_id: int | None = None,
    with_previous: bool = True,
    min_volume: int | None = None,
    weights: dict | None = None,
    thresholds: dict | None = None,
    draws: int = 1000,
    seed: int = SEED,
) -> Scorecard:
    """The department scorecard of [start, end) — what the departments page and the wall show.

    ``table`` has one row per department with cases in the period: id/code/name/name_en (the Chinese name when
    there is no English one)/kind, the counts (disposed, ontime, ontime_original, overdue, due, rework, extended,
    dispatched, returned, answered …), every indicator of ``analytics.indicators.DEPARTMENT_INDICATORS``,
    ``median_hours``/``p90_hours``, ``score``/``grade``, ``observed``/``expected``/``oe``/``oe_lo``/``oe_hi``
    (case-mix adjusted on-time disposals), and for both ``score`` and ``oe``: ``<x>_rank``,
    ``<x>_rank_lo``/``<x>_rank_hi`` (95 % bootstrap interval), ``<x>_ranked`` (volume ≥ ``min_rank_volume``),
    ``<x>_tied`` (cannot be told apart from a neighbour), ``<x>_status``, ``<x>_rank_change`` (previous period rank
    − this rank; positive = moved up; only ``with_previous``). Sorted by ``oe_rank``.

    ``now`` caps the "as of" time of 超期未处置数 at the present for a running period (None: no cap). ``street_id``
    keeps the cases of one street (the wall's street filter).
    """
    weights = indicators.normalised_weights(weights or settings.get("score_weights"))
    thresholds = thresholds or settings.get("grade_thresholds")
    min_volume = int(settings.get("min_rank_volume") if min_volume is None else min_volume)
    cats = _categories(engine)
    difficulty = dict(zip(cats["category_id"], cats["difficulty"]))

    def one(s: datetime, e: datetime):
        counts = sq.department_counts(engine, s, e, now=now, street_id=street_id)
        table = indicators.department_table(
            counts["by_category"], counts["events"], counts["satisfaction"], counts["hours"]
        )
        table["score"] = indicators.composite_score(table, weights)
        table["grade"] = indicators.grades(table["score"], thresholds)
        by_cat = fairness.expected_by_category(counts["by_category"], "department_id", difficulty=difficulty)
        table = table.merge(fairness.observed_expected(by_cat, "department_id"), on="department_id", how="left")
        return _rank_all(table, min_volume, weights, draws, seed), by_cat, counts["hours"]

    table, by_cat, hours = one(start, end)
    previous = prev_table = None
    if with_previous:
        previous = periods.previous_period(start, end)
        prev_table, _, _ = one(*previous)
        for prefix in ("score", "oe"):
            table = fairness.rank_change(
                table, prev_table, "department_id", f"{prefix}_rank", f"{prefix}_ranked", out=f"{prefix}_rank_change"
            )
    ref = queries.departments(engine)[["id", "code", "name", "name_en", "kind"]].rename(columns={"id": "department_id"})
    table = ref.merge(table, on="department_id", how="inner")
    table["name_en"] = table["name_en"].fillna(table["name"])
    table = table.sort_values(["oe_rank", "score_rank", "code"], na_position="last", ignore_index=True)
    return Scorecard(
        table,
        _named(by_cat, cats),
        hours,
        start,
        end,
        _as_of(end, now),
        previous,
        {"weights": weights, "thresholds": thresholds, "min_volume": min_volume, "draws": draws},
        prev_table,
    )


def street_scorecard(
    engine: Engine,
    start: datetime,
    end: datetime,
    *,
    now: datetime | None,
    min_volume: int | None = None,
    draws: int = 1000,
    seed: int = SEED,
) -> Scorecard:
    """The street (街镇, as areas) scorecard of [start, end). ``table`` has one row per street: id/code/name, the
    counts, 结案率, 按期结案率, 监督举报率, 响应率, 解决率, 满意率, 处置率/按期处置率 of the street's cases, and the
    case-mix adjusted ``oe`` with interval and rank (``oe_rank``, ``oe_rank_lo/hi``, ``oe_ranked``, ``oe_tied``,
    ``oe_status``, ``oe_rank_change``). Streets are ranked by O/E only (no composite weights are set for areas)."""
    min_volume = int(settings.get("min_rank_volume") if min_volume is None else min_volume)
    cats = _categories(engine)
    difficulty = dict(zip(cats["category_id"], cats["difficulty"]))

    def one(s: datetime, e: datetime):
        counts = sq.street_counts(engine, s, e, now=now)
        table = indicators.street_table(counts["by_category"], counts["area"], counts["satisfaction"])
        by_cat = fairness.expected_by_category(counts["by_category"], "street_id", difficulty=difficulty)
        table = table.merge(fairness.observed_expected(by_cat, "street_id"), on="street_id", how="left")
        rng = np.random.default_rng(seed)
        table = fairness.rank_units(
            table,
            "oe",
            fairness.simulate_oe(table, draws, rng),
            table["due"] >= min_volume,
            prefix="oe",
            higher_is_better=True,
        )
        return table, by_cat

    table, by_cat = one(start, end)
    previous = periods.previous_period(start, end)
    prev_table, _ = one(*previous)
    table = fairness.rank_change(table, prev_table, "street_id", "oe_rank", "oe_ranked", out="oe_rank_change")
    ref = queries.streets(engine)[["id", "code", "name", "kind"]].rename(columns={"id": "street_id"})
    table = ref.merge(table, on="street_id", how="inner")
    table = table.sort_values(["oe_rank", "code"], na_position="last", ignore_index=True)
    return Scorecard(
        table,
        _named(by_cat, cats),
        pd.DataFrame(),
        start,
        end,
        _as_of(end, now),
        previous,
        {"min_volume": min_volume, "draws": draws},
        prev_table,
    )


def department_trend(
    engine: Engine,
    department_id: int,
    spans: list[tuple[datetime, datetime]],
    *,
    now: datetime | None,
    min_volume: int | None = None,
) -> pd.DataFrame:
    """One row per period of ``spans`` (oldest first) for a department: ``start``, ``end``, ``due``,
    ``disposal_rate``, ``ontime_rate``, ``rework_rate``, ``oe``, ``score``, ``oe_rank``, ``n_ranked``. Each period is
    one full scorecard (without the previous-period pass), so ranks are the ones the ranking table showed."""
    rows = []
    for s, e in spans:
        t = scorecard(engine, s, e, now=now, with_previous=False, min_volume=min_volume, draws=200).table
        mine = t[t["department_id"] == department_id]
        row = {"start": s, "end": e, "n_ranked": int(t["oe_ranked"].sum()) if len(t) else 0}
        for col in ("due", "disposal_rate", "ontime_rate", "rework_rate", "oe", "score", "oe_rank"):
            row[col] = mine[col].iloc[0] if len(mine) else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


# --- screen entry points ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScorecardParams:
    start: datetime  # the period [start, end)
    end: datetime
    street_id: int | None = None  # the global street filter (departments only: streets are the units there)


@dataclass(frozen=True)
class DepartmentParams:
    department_id: int
    start: datetime  # the period [start, end) on screen
    end: datetime


def build(engine: Engine, params: ScorecardParams, *, now: datetime) -> Scorecard:
    """The department scorecard of the chosen period, with the previous period (rank changes)."""
    return scorecard(engine, params.start, params.end, now=now, street_id=params.street_id)


def streets(engine: Engine, params: ScorecardParams, *, now: datetime) -> Scorecard:
    """The street scorecard of the chosen period (the whole district: the street filter does not apply)."""
    return street_scorecard(engine, params.start, params.end, now=now)


def trend(engine: Engine, params: DepartmentParams, *, now: datetime, n: int = TREND_PERIODS) -> pd.DataFrame:
    """The department over the ``n`` periods of the same kind ending with the chosen one (``department_trend``),
    without the periods before the data began (nothing was due in them)."""
    spans = list(periods.trailing_periods(params.start, params.end, n))
    frame = department_trend(engine, params.department_id, spans, now=now)
    return frame[frame["due"].fillna(0) > 0].reset_index(drop=True)


@dataclass(frozen=True)
class DepartmentCases:
    """A department's bounded case lists (at most ``CASE_LIMIT`` each): ``overdue`` (open and past the effective
    deadline now), ``returned`` (回退 in the period, with ``returned_at`` and ``note``) and ``reworked`` (disposed in
    the period after a 返工). Each has the case columns, ``deadline`` (the effective one, 含延期) and the category
    names."""

    overdue: pd.DataFrame
    returned: pd.DataFrame
    reworked: pd.DataFrame


def department_cases(
    engine: Engine, params: DepartmentParams, *, now: datetime, limit: int = CASE_LIMIT
) -> DepartmentCases:
    cats = _categories(engine)

    def shaped(frame: pd.DataFrame) -> pd.DataFrame:
        out = _named(frame, cats)
        out["deadline"] = effective_deadline(out["deadline_at"], out["extended_deadline_at"])
        return out

    d, s, e = params.department_id, params.start, params.end
    return DepartmentCases(
        shaped(sq.department_overdue_cases(engine, d, now, limit=limit)),
        shaped(sq.department_returned_cases(engine, d, s, e, limit=limit)),
        shaped(sq.department_reworked_cases(engine, d, s, e, limit=limit)),
    )


# --- what the screen derives from a scorecard (pure) ------------------------------------------------------------------
@dataclass(frozen=True)
class Ranking:
    """The department table ranked by ``key``: rank columns are ``<prefix>_rank``, ``_rank_lo``, ``_rank_hi``,
    ``_ranked``, ``_tied``, ``_status``, ``_rank_change`` (``prefix`` = the key for oe/score, else ``sel``); rows
    sorted by that rank (unranked last). ``kind`` and ``higher_is_better`` describe the indicator."""

    key: str
    prefix: str
    table: pd.DataFrame
    kind: str
    higher_is_better: bool


def ranking(card: Scorecard, key: str) -> Ranking:
    """Rank the departments by the indicator ``key`` (one of ``RANK_KEYS``): O/E and the score come ranked with the
    scorecard; any other indicator is ranked here with its own bootstrap interval and its change against the
    previous period."""
    ind = INDICATORS_BY_KEY[key]
    if key in ("oe", "score"):
        return Ranking(key, key, card.table, ind.kind, ind.higher_is_better)
    min_volume = card.settings_used["min_volume"]
    table = fairness.rank_by_indicator(card.table, key, ind, card.table["due"] >= min_volume, prefix="sel")
    prev = card.previous_table
    if prev is not None and len(prev):
        prev = fairness.rank_by_indicator(prev, key, ind, prev["due"] >= min_volume, prefix="sel", draws=50)
        table = fairness.rank_change(table, prev, "department_id", "sel_rank", "sel_ranked", out="sel_rank_change")
    else:
        table["sel_rank_change"] = pd.array([pd.NA] * len(table), dtype="Int64")
    table = table.sort_values(["sel_rank", "code"], na_position="last", ignore_index=True)
    return Ranking(key, "sel", table, ind.kind, ind.higher_is_better)


def department_codes(card: Scorecard) -> list[str]:
    """The departments of the scorecard, by code (the picker's order)."""
    return sorted(card.table["code"])


def default_department(card: Scorecard) -> str | None:
    """The department shown first: the bottom of the O/E ranking (whom the meeting will ask first), else the first
    code; None when the scorecard is empty."""
    ranked = card.table[card.table["oe_ranked"]].sort_values("oe_rank")
    if len(ranked):
        return str(ranked["code"].iloc[-1])
    codes = department_codes(card)
    return codes[0] if codes else None


@dataclass(frozen=True)
class DepartmentView:
    """One department against its peers (the departments ranked by O/E): its scorecard ``row``, ``n_ranked``,
    ``metrics`` (one row per ``METRIC_KEYS``: key, kind, higher_is_better, value, median of the peers, delta =
    value − median), ``peers`` (one row per ``PEER_KEYS`` rate the department has: key, value, median, q1, q3 of the
    peers) and ``categories`` (its rows of ``Scorecard.by_category``)."""

    row: pd.Series
    n_ranked: int
    metrics: pd.DataFrame
    peers: pd.DataFrame
    categories: pd.DataFrame


def department_view(card: Scorecard, code: str) -> DepartmentView:
    table = card.table
    row = table[table["code"] == code].iloc[0]
    peers = table[table["oe_ranked"]]
    metrics = []
    for key in METRIC_KEYS:
        ind = INDICATORS_BY_KEY[key]
        median = float(peers[key].median()) if len(peers) else float("nan")
        value = float(row[key]) if pd.notna(row[key]) else float("nan")
        metrics.append(
            {
                "key": key,
                "kind": ind.kind,
                "higher_is_better": ind.higher_is_better,
                "value": value,
                "median": median,
                "delta": value - median,
            }
        )
    rows = [
        {
            "key": key,
            "value": row[key],
            "median": peers[key].median(),
            "q1": peers[key].quantile(0.25),
            "q3": peers[key].quantile(0.75),
        }
        for key in PEER_KEYS
        if pd.notna(row[key])
    ]
    mine = card.by_category[card.by_category["department_id"] == row["department_id"]].reset_index(drop=True)
    return DepartmentView(
        row, len(peers), pd.DataFrame(metrics), pd.DataFrame(rows, columns=["key", "value", "median", "q1", "q3"]), mine
    )


# --- periods offered --------------------------------------------------------------------------------------------------
def last_report_at(engine: Engine) -> datetime | None:
    """When the last case was reported (None in an empty database): the period choices end there."""
    return queries.data_time_range(engine)[1]


def anchor_day(last_report: datetime | None, now: datetime) -> date:
    """The day the period choices end at: the last reported case, or today when the data runs on to now."""
    return min(last_report or now, now).date()


def period_choices(kind: str, anchor: date) -> tuple[list[date], date]:
    """Start days of the last 12 weeks or months up to ``anchor`` (newest first) and the one chosen by default:
    the last complete period."""
    options = periods.period_starts(kind, anchor)
    return options, options[1] if len(options) > 1 else options[0]


def custom_range(first: date | None, last: date | None, anchor: date) -> tuple[tuple[date, date], bool]:
    """The custom period asked for, when it is one — both days, in order, shorter than ``MAX_CUSTOM_DAYS`` — with
    True; else the default (the last four weeks up to ``anchor``) with False."""
    if first is not None and last is not None and first <= last and (last - first).days < MAX_CUSTOM_DAYS:
        return (first, last), True
    return (anchor - timedelta(days=CUSTOM_DEFAULT_DAYS - 1), anchor), False


def clamp_custom(first: date, last: date) -> tuple[date, date]:
    """A picked range cut to its last ``MAX_CUSTOM_DAYS`` days."""
    return (
        (last - timedelta(days=MAX_CUSTOM_DAYS - 1), last) if (last - first).days >= MAX_CUSTOM_DAYS else (first, last)
    )
