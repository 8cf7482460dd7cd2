"""选择性上报预警: the screen models of the flags page — the flag list, the evidence card, the funnels, the reviews.

The flags themselves are computed by the worker and stored (``reports.flags``); every function here takes that
stored result (``bundle``: a ``reports.flags.FlagBundle``) and adds what the page shows: unit names, review status,
the cases behind a flag, the funnel of a family. Codes and numbers only: the page words them with the catalogs
``reporting`` (list, card, funnels) and ``flags`` (the vocabulary the wall shares: levels, unit types, the families
``fam_<A-D>`` and indicators ``ind_<code>``).

A flag is one unit × family; its id in the URL (``?flag=``) and in the list is ``"unit_type:unit_id:family"`` with
the unit id as reviews store it (``data_access.reviews.flag_key``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from analytics.flags import FAMILIES, PROPORTION, chance_band, funnel_data, funnel_indicators, value_kind
from data_access import flag_queries, reviews
from data_access.engine import GridscopeDBError
from reports.access import Scope
from reports.flags import FlagBundle, active_flags, in_scope, mask_account, unit_names

UNIT_TYPES = reviews.UNIT_TYPES  # street, community, verifier, app_reporter (the list's order)
AREA_TYPES = ("street", "community")
CASES_LIMIT = 20
REVIEW_STATUSES = reviews.STATUSES
NOTE_MAX, REVIEWER_MAX = reviews.NOTE_MAX, reviews.REVIEWER_MAX


@dataclass(frozen=True)
class ReportingParams:
    """What the viewer chose: the sidebar's street (areas of that street only) and the open flag (``?flag=``)."""

    street_id: int | None = None
    flag: str | None = None


# --- keys and names ---------------------------------------------------------------------------------------------------
def flag_id(unit_type: str, unit_id, family: str) -> str:
    """``"unit_type:unit_id:family"``: the flag's id in the URL, the list and the review form."""
    return ":".join(reviews.flag_key(unit_type, unit_id, family))


def parse_flag_id(text: str | None) -> tuple[str, str, str] | None:
    """``(unit_type, unit_id, family)`` of a flag id, or None when it is not one (a bad ``?flag=``)."""
    parts = (text or "").split(":")
    unit_type, unit_id, family = parts[0], ":".join(parts[1:-1]), parts[-1]
    if len(parts) < 3 or unit_type not in UNIT_TYPES or family not in FAMILIES or not unit_id:
        return None
    return unit_type, unit_id, family


def _name(names: dict, unit_type: str, key: str) -> str | None:
    """A street's or community's name from ``reports.flags.unit_names`` (keyed by integer id), else None."""
    if unit_type not in AREA_TYPES:
        return None
    try:
        return names.get((unit_type, int(float(key))))
    except (TypeError, ValueError):
        return None


def _with_names(frame: pd.DataFrame, names: dict) -> pd.DataFrame:
    """Add ``key`` (unit id as reviews store it), ``name`` (areas; None when unknown) and ``shown_id`` (the id a
    screen may show: app accounts masked)."""
    out = frame.copy()
    out["key"] = [reviews.unit_key(u) for u in out["unit_id"]]
    out["name"] = [_name(names, t, k) for t, k in zip(out["unit_type"], out["key"])]
    out["shown_id"] = [mask_account(k) if t == "app_reporter" else k for t, k in zip(out["unit_type"], out["key"])]
    return out


def _in_street(frame: pd.DataFrame, street_id: int | None) -> pd.DataFrame:
    """With a street chosen: only that street and its communities (verifiers and app accounts have no street)."""
    return in_scope(frame, Scope(street_id=street_id))  # the one scope rule of the flags


def _one_flag(bundle: FlagBundle, flag: str | None) -> pd.Series | None:
    parsed = parse_flag_id(flag)
    if parsed is None:
        return None
    flags = bundle.report.flags
    hit = flags[
        (flags["unit_type"] == parsed[0])
        & (flags["family"] == parsed[2])
        & (flags["unit_id"].map(reviews.unit_key) == parsed[1])
    ]
    return None if hit.empty else hit.iloc[0]


# --- the flag list ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FlagList:
    """The top of the page. ``flags``: the active flags of the selected area, strongest first — ``flag_id``,
    ``level``, ``unit_type``, ``unit_id``, ``key``, ``name``, ``shown_id``, ``street_name`` (communities),
    ``family``, ``indicator``, ``value_kind`` (share | count), ``observed``, ``expected``, ``q``, ``persistent``,
    ``review`` (the latest review's status code this window, or None). ``thin``: the streets and communities
    without enough data (of the selected street), ``thin_counts``: such units of every type, whole district.
    ``funnels``: the funnels the page can draw — ``family``, ``indicator``, ``unit_type`` in display order."""

    window: tuple[datetime, datetime]
    period_end: datetime
    computed_at: datetime
    flags: pd.DataFrame
    n_red: int
    n_amber: int
    n_reviewed: int
    thin: pd.DataFrame
    thin_counts: dict
    funnels: pd.DataFrame
    people_hidden: bool
    personal: bool

    @property
    def families(self) -> list[str]:
        """Families with something to draw: one funnel tab each."""
        return [f for f in FAMILIES if (self.funnels["family"] == f).any()]

    def funnel_indicators(self, family: str) -> list[str]:
        return list(dict.fromkeys(self.funnels.loc[self.funnels["family"] == family, "indicator"]))

    def funnel_unit_types(self, family: str, indicator: str) -> list[str]:
        f = self.funnels
        return list(f.loc[(f["family"] == family) & (f["indicator"] == indicator), "unit_type"])

    def funnel_family(self, flag: str | None) -> str | None:
        """The tab the funnels open on: the family of the open flag (else the first)."""
        parsed = parse_flag_id(flag)
        families = self.families
        if parsed is not None and parsed[2] in families:
            return parsed[2]
        return families[0] if families else None

    def funnel_default(self, family: str, flag: str | None) -> tuple[str | None, str | None]:
        """(indicator, unit type) a family's funnel starts on: the open flag's lead indicator and unit type when it
        is of this family, else the first indicator and its first unit type."""
        indicators = self.funnel_indicators(family)
        if not indicators:
            return None, None
        parsed = parse_flag_id(flag)
        row = self.flags[self.flags["flag_id"] == flag] if parsed is not None and parsed[2] == family else None
        indicator = indicators[0]
        if row is not None and len(row) and row["indicator"].iloc[0] in indicators:
            indicator = row["indicator"].iloc[0]
        types = self.funnel_unit_types(family, indicator)
        unit_type = parsed[0] if parsed is not None and parsed[2] == family and parsed[0] in types else types[0]
        return indicator, unit_type


def _funnel_choices(report) -> pd.DataFrame:
    """Family × indicator × unit type the funnels can show: proportion indicators first; a context-only indicator
    only when it is a proportion (D3, a volume, has no typical value to draw around)."""
    ind = report.indicators
    context_only = tuple(getattr(report.config, "context_only", ()))
    rows = []
    for family in FAMILIES:
        for indicator in funnel_indicators(ind, family):
            if indicator in context_only and indicator not in PROPORTION:
                continue
            present = ind.loc[(ind["family"] == family) & (ind["indicator"] == indicator), "unit_type"].unique()
            rows += [(family, indicator, t) for t in UNIT_TYPES if t in present]
    return pd.DataFrame(rows, columns=["family", "indicator", "unit_type"])


def flag_list(engine: Engine, params: ReportingParams, *, bundle: FlagBundle, now: datetime) -> FlagList:
    """The list, the counts, the units without enough data and the funnels on offer (``now``: unused, the stored
    result says when it was computed)."""
    report = bundle.report
    names = unit_names(engine)
    latest = reviews.latest_reviews(engine, since=report.window[0])
    status = {
        (t, str(u), f): s
        for t, u, f, s in zip(latest["unit_type"], latest["unit_id"], latest["family"], latest["status"])
    }
    active = _with_names(_in_street(active_flags(report.flags), params.street_id), names)
    active["flag_id"] = [flag_id(t, k, f) for t, k, f in zip(active["unit_type"], active["key"], active["family"])]
    active["street_name"] = [
        _name(names, "street", s) if t == "community" and pd.notna(s) else None
        for t, s in zip(active["unit_type"], active["street_id"])
    ]
    active["value_kind"] = [value_kind(i) for i in active["indicator"]]
    active["review"] = [status.get((t, k, f)) for t, k, f in zip(active["unit_type"], active["key"], active["family"])]
    cols = [
        "flag_id",
        "level",
        "unit_type",
        "unit_id",
        "key",
        "name",
        "shown_id",
        "street_name",
        "family",
        "indicator",
        "value_kind",
        "observed",
        "expected",
        "q",
        "persistent",
        "review",
    ]
    units = report.flags.drop_duplicates(["unit_type", "unit_id"])
    thin_units = units[units["unit_level"] == "insufficient"]
    thin = _with_names(_in_street(thin_units[thin_units["unit_type"].isin(AREA_TYPES)], params.street_id), names)
    counts = thin_units["unit_type"].value_counts()
    return FlagList(
        window=tuple(report.window),
        period_end=bundle.period_end,
        computed_at=bundle.computed_at,
        flags=active[cols].reset_index(drop=True),
        n_red=int((active["level"] == "red").sum()),
        n_amber=int((active["level"] == "amber").sum()),
        n_reviewed=int(active["review"].notna().sum()),
        thin=thin[["unit_type", "unit_id", "key", "name", "shown_id"]].reset_index(drop=True),
        thin_counts={t: int(counts.get(t, 0)) for t in UNIT_TYPES},
        funnels=_funnel_choices(report),
        people_hidden=params.street_id is not None,
        personal=bool((active["unit_type"] == "app_reporter").any()),
    )


# --- the evidence card ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EvidenceCard:
    """One flag's card. ``chance``: how surprising the family p is (``analytics.flags.chance_band``); ``enough``:
    False → the card says there was not enough data. ``trend``: the lead indicator over the flag windows with
    enough data (``window_end``, ``observed``, ``expected``). ``cases_kind``: which cases ``flag_cases`` lists —
    A (public hard problems patrol did not log), B1/B2/B3, C (the verifier's checks), D (the account's reports)."""

    flag_id: str
    unit_type: str
    unit_id: str
    name: str | None
    shown_id: str
    family: str
    level: str
    indicator: str | None
    value_kind: str
    observed: float
    expected: float
    family_p: float
    q: float
    persistent: bool
    backed: bool
    enough: bool
    chance: str
    reason: str
    trend: pd.DataFrame
    cases_kind: str


def _cases_kind(family: str, indicator) -> str:
    if family in ("A", "C", "D"):
        return family
    return indicator if indicator in ("B1", "B2", "B3") else "B1"


def evidence_card(engine: Engine, params: ReportingParams, *, bundle: FlagBundle, now: datetime) -> EvidenceCard | None:
    """The card of ``params.flag`` (None when the stored result has no such flag)."""
    row = _one_flag(bundle, params.flag)
    if row is None:
        return None
    named = _with_names(row.to_frame().T, unit_names(engine) if row["unit_type"] in AREA_TYPES else {}).iloc[0]
    ind = row["indicator"] if isinstance(row["indicator"], str) else None
    hist = bundle.history
    trend = pd.DataFrame(columns=["window_end", "observed", "expected"])
    if ind is not None and len(hist):
        mine = hist[
            (hist["unit_type"] == row["unit_type"])
            & (hist["indicator"] == ind)
            & (hist["unit_id"].map(reviews.unit_key) == named["key"])
            & hist["enough"].astype(bool)
        ]
        trend = mine.sort_values("window_end")[["window_end", "observed", "expected"]].reset_index(drop=True)
    family_p = float(row["family_p"]) if pd.notna(row["family_p"]) else float("nan")
    return EvidenceCard(
        flag_id=flag_id(row["unit_type"], named["key"], row["family"]),
        unit_type=row["unit_type"],
        unit_id=named["key"],
        name=named["name"],
        shown_id=named["shown_id"],
        family=row["family"],
        level=row["level"],
        indicator=ind,
        value_kind=value_kind(ind),
        observed=_num(row.get("observed")),
        expected=_num(row.get("expected")),
        family_p=family_p,
        q=_num(row.get("q")),
        persistent=bool(row["persistent"]),
        backed=bool(row["backed"]),
        enough=bool(row["enough"]) and ind is not None,
        chance=row["chance"] if isinstance(row.get("chance"), str) else chance_band(family_p),
        reason=str(row.get("reason") or ""),
        trend=trend,
        cases_kind=_cases_kind(row["family"], ind),
    )


def _num(x) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return float("nan")


def flag_cases(engine: Engine, params: ReportingParams, *, bundle: FlagBundle, now: datetime) -> pd.DataFrame:
    """The cases behind ``params.flag`` in the result's window (at most ``CASES_LIMIT``; see
    ``data_access.flag_queries.flag_cases``): ``id``, ``case_no``, ``channel``, ``category``, ``grid_id``,
    ``reported_at``, ``status`` (+ ``lag_min`` for verifiers). Empty when there is no such flag."""
    row = _one_flag(bundle, params.flag)
    if row is None:
        return pd.DataFrame(columns=["id", "case_no", "channel", "category", "grid_id", "reported_at", "status"])
    start, end = bundle.report.window
    ind = row["indicator"] if isinstance(row["indicator"], str) else None
    return flag_queries.flag_cases(
        engine,
        row["unit_type"],
        reviews.unit_key(row["unit_id"]),
        row["family"],
        start,
        end,
        indicator=ind,
        limit=CASES_LIMIT,
    )


# --- reviews ----------------------------------------------------------------------------------------------------------
def review_history(engine: Engine, params: ReportingParams, *, now: datetime) -> pd.DataFrame:
    """Every review of the unit of ``params.flag`` (all families), newest first: ``created_at``, ``reviewer``,
    ``status``, ``family``, ``note``, ``period_end``. Empty for a bad flag id."""
    parsed = parse_flag_id(params.flag)
    if parsed is None:
        return pd.DataFrame(columns=["created_at", "reviewer", "status", "family", "note", "period_end"])
    return reviews.reviews_for_unit(engine, parsed[0], parsed[1])


def save_review(
    writer: Engine,
    params: ReportingParams,
    *,
    bundle: FlagBundle,
    status: str,
    note: str | None,
    reviewer: str | None,
    now: datetime,
) -> tuple[str, str | None]:
    """Store a review of ``params.flag`` for the result's period. Returns ``(outcome, detail)``: ``("saved", None)``,
    ``("invalid", why)`` (nothing stored: the reviewer can correct it) or ``("write_failed", error)``."""
    row = _one_flag(bundle, params.flag)
    if row is None:
        return "invalid", f"unknown flag {params.flag!r}"
    try:
        reviews.add_review(
            writer,
            now=now,
            unit_type=row["unit_type"],
            unit_id=row["unit_id"],
            family=row["family"],
            indicator=row["indicator"] if isinstance(row["indicator"], str) else None,
            reason=row.get("reason"),
            period_end=bundle.period_end,
            status=status,
            note=note,
            reviewer=reviewer,
        )
    except reviews.ReviewError as err:
        return "invalid", str(err)
    except GridscopeDBError as err:
        return "write_failed", str(err).splitlines()[0][:200] if str(err) else type(err).__name__
    return "saved", None


# --- funnels ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FunnelParams:
    """One funnel: a family's indicator for one unit type; ``flag``: the open flag, whose unit is ringed."""

    family: str
    indicator: str
    unit_type: str
    flag: str | None = None


@dataclass(frozen=True)
class FunnelModel:
    """What the funnel figure draws (``ui.flag_figures.make_funnel_figure``). ``proportion``: y is the proportion
    around ``target`` with limits widened by ``tau2`` (the between-unit variance the test used); otherwise y is the
    standardised z. ``limits``: ``n``, ``lo95``, ``hi95``, ``lo998``, ``hi998``. ``points``: one row per unit —
    ``unit_type``, ``unit_id``, ``key``, ``name``, ``shown_id``, ``n``, ``y``, ``z``, ``level`` (the family's flag
    level; insufficient without enough data), ``selected`` (the open flag's unit)."""

    family: str
    indicator: str
    unit_type: str | None
    proportion: bool
    target: float
    tau2: float
    limits: pd.DataFrame
    points: pd.DataFrame


def funnel(engine: Engine, params: FunnelParams, *, bundle: FlagBundle, now: datetime) -> FunnelModel:
    """The funnel of ``params`` with every unit coloured by its flag level in the family."""
    report = bundle.report
    data = funnel_data(report.indicators, params.family, params.indicator, params.unit_type, report.config)
    fam = report.flags[report.flags["family"] == params.family]
    levels = {(t, reviews.unit_key(u)): lv for t, u, lv in zip(fam["unit_type"], fam["unit_id"], fam["level"])}
    names = unit_names(engine) if data.unit_type in AREA_TYPES else {}
    points = _with_names(data.points, names)
    points = points[points["y"].notna()].reset_index(drop=True)
    points["level"] = [
        levels.get((t, k), "none") if e else "insufficient"
        for t, k, e in zip(points["unit_type"], points["key"], points["enough"])
    ]
    parsed = parse_flag_id(params.flag)
    points["selected"] = np.array(
        [parsed is not None and (t, k) == parsed[:2] for t, k in zip(points["unit_type"], points["key"])], dtype=bool
    )
    return FunnelModel(
        params.family,
        params.indicator,
        data.unit_type,
        data.proportion,
        data.target,
        data.tau2,
        data.limits,
        points.drop(columns="enough"),
    )
