"""Selective-reporting flags (选择性上报预警): computed by the worker, stored, and read by every page.

``compute_with_history`` (the aggregates of ``data_access.flag_queries`` for three windows, the statistics of
``analytics.flags``) takes tens of seconds on a seeded district, so no page ever runs it:

- ``compute_and_store(engine, now)`` is the worker's hourly job (worker/jobs.py): the flags of the window ending on
  the day of the latest data, stored in ``flag_results`` with when, for which window and by which method version;
- ``stored_bundle(engine)`` is what pages read: the newest stored result of the current ``METHOD_VERSION`` (None
  when the worker has not run yet). ``stored_stamp`` is its cheap header, so a page can notice a new result without
  reading the frames again.

Also here, the rules the flags page, the wall and the meeting pack share: which flags are active (red/amber,
strongest first; dismissed by a reviewer → no longer active) and the unit names and reviews they show.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import Engine

from analytics.flags import FlagConfig, flags_from_windows, value_kind, window_flags  # noqa: F401 - value_kind for ui
from data_access import flag_queries, job_store, queries, reviews
from reports.access import Scope

# Bump when what the stored frames mean or which columns they have changes (analytics.flags, data_access.flag_queries):
# pages then ignore older results and the worker computes a new one at once (the version is part of its period key).
METHOD_VERSION = 2
EVERY = timedelta(hours=1)  # how often the worker recomputes (new cases keep arriving)
STALE_AFTER = 2 * EVERY  # older than this: pages say how old the result is (the worker may be down)
QUERY_TIMEOUT_S = 300  # per-query limit of the job (the dashboard's 15 s suits interactive queries)
ACTIVE_LEVELS = ("red", "amber")
AREA_TYPES = ("street", "community")  # units with a street; verifiers and app accounts (people) have none
KEEP_RESULTS = 24  # stored results kept (a day of hourly runs)


@dataclass(frozen=True)
class FlagReport:
    """Everything the flags page needs. ``flags``: one row per unit × family (unit_type, unit_id, street_id, family,
    indicator, observed, expected, z, p, family_p, p_unit, q, q_family, level, persistent, backed …);
    ``indicators``: one row per unit × indicator (funnel plots); ``window``: (start, end); ``config``: the
    ``analytics.flags.FlagConfig`` used."""

    flags: pd.DataFrame
    indicators: pd.DataFrame
    window: tuple[datetime, datetime]
    config: FlagConfig


@dataclass(frozen=True)
class FlagBundle:
    """One computed result: the report, the indicators of every window (trend), and when it was computed."""

    report: FlagReport
    history: pd.DataFrame
    period_end: datetime
    computed_at: datetime
    seconds: float


# --- the job --------------------------------------------------------------------------------------------------------
def period_end_for(now: datetime, latest_report: datetime | None) -> datetime:
    """The flag window's end: the start of the day of the latest data (or of today, whichever is earlier).

    Rounded to the day so every viewer of a day shares one result; a database whose data stopped earlier (an old
    import) is judged on its own last 60 days, not on empty ones.
    """
    end = now if latest_report is None else min(now, latest_report)
    return datetime(end.year, end.month, end.day)


def data_range(engine: Engine) -> tuple[datetime | None, datetime | None]:
    """Earliest and latest report time in the database."""
    return queries.data_time_range(engine)


def current_period_end(engine: Engine, now: datetime) -> datetime:
    return period_end_for(now, data_range(engine)[1])


def compute_with_history(
    engine: Engine,
    period_end: datetime,
    *,
    window_days: int = 60,
    step_days: int = 14,
    n_previous: int = 2,
    config: FlagConfig | None = None,
    **options,
) -> tuple[FlagReport, pd.DataFrame]:
    """The flags of the window [period_end − window_days, period_end) plus the indicators of every window.

    Persistence ("2 of the last 3 periods") looks at ``n_previous`` earlier windows of the same length ending
    ``step_days`` apart; their aggregates come from the same queries (5 per window, each bounded by the window).
    Returns ``(report, history)``: ``history`` holds the indicator rows of the current and earlier windows with a
    ``window_end`` column (the trend on the evidence card; communities appear in an earlier window only if their
    street was flagged in it). ``options`` go to ``flag_queries.flag_inputs`` (match rule, period-end days).
    """
    cfg = config or FlagConfig()
    span, step = timedelta(days=window_days), timedelta(days=step_days)
    windows = [(period_end - k * step - span, period_end - k * step) for k in range(n_previous + 1)]
    inputs = [flag_queries.flag_inputs(engine, s, e, **options) for s, e in windows]
    flags, indicators = flags_from_windows(inputs[0], inputs[1:], cfg)
    history = [indicators.assign(window_end=windows[0][1])]
    for (_, end), inp in zip(windows[1:], inputs[1:]):
        history.append(window_flags(inp, cfg)[0].assign(window_end=end))  # pure: no extra queries
    return (
        FlagReport(flags=flags, indicators=indicators, window=windows[0], config=cfg),
        pd.concat(history, ignore_index=True),
    )


def compute(engine: Engine, period_end: datetime, *, now: datetime) -> FlagBundle:
    """The flags of the window ending ``period_end`` (no storing); ``computed_at`` is ``now`` plus the time taken."""
    t0 = time.monotonic()
    report, history = compute_with_history(engine, period_end)
    seconds = time.monotonic() - t0
    return FlagBundle(report, history, period_end, now + timedelta(seconds=round(seconds)), seconds)


def compute_and_store(engine: Engine, now: datetime) -> dict:
    """The worker's job: compute the flags for the current period and store them. Returns a one-line summary."""
    bundle = compute(engine, current_period_end(engine, now), now=now)
    result_id = store(engine, bundle)
    flags = bundle.report.flags
    active = int(flags["level"].isin(ACTIVE_LEVELS).sum()) if "level" in flags else 0
    return {
        "id": result_id,
        "period_end": f"{bundle.period_end:%Y-%m-%d}",
        "seconds": round(bundle.seconds, 1),
        "flags": len(flags),
        "active": active,
    }


def store(engine: Engine, bundle: FlagBundle) -> int:
    report = bundle.report
    return job_store.save_flag_result(
        engine,
        computed_at=bundle.computed_at,
        period_end=bundle.period_end,
        window=report.window,
        method_version=METHOD_VERSION,
        seconds=bundle.seconds,
        config=_config_doc(report.config),
        frames={"flags": report.flags, "indicators": report.indicators, "history": bundle.history},
        keep=KEEP_RESULTS,
    )


def _config_doc(config) -> dict:
    return dataclasses.asdict(config) if dataclasses.is_dataclass(config) else {}


def _config(doc: dict) -> FlagConfig:
    """The FlagConfig a result was computed with (JSON lists back to tuples; fields this version lacks ignored)."""
    fields = {f.name: f for f in dataclasses.fields(FlagConfig)}
    defaults = FlagConfig()
    values = {}
    for name, value in doc.items():
        if name not in fields:
            continue
        default = getattr(defaults, name)
        if isinstance(default, tuple) and isinstance(value, list):
            value = tuple(value)
        elif isinstance(default, dict) and isinstance(value, dict):
            value = {k: tuple(v) if isinstance(v, list) else v for k, v in value.items()}
        values[name] = value
    return FlagConfig(**values)


# --- what pages read ------------------------------------------------------------------------------------------------
def stored_stamp(engine: Engine) -> tuple[int, datetime] | None:
    """(id, computed_at) of the newest stored result of this method version, or None: one small indexed query."""
    meta = job_store.latest_flag_result(engine, METHOD_VERSION)
    return None if meta is None else (int(meta["id"]), meta["computed_at"])


def load_bundle(engine: Engine, result_id: int) -> FlagBundle | None:
    """The stored result ``result_id`` as the pages use it (None if it was pruned meanwhile)."""
    row = job_store.load_flag_result(engine, result_id)
    if row is None:
        return None
    frames = row["frames"]
    report = FlagReport(
        flags=frames["flags"],
        indicators=frames["indicators"],
        window=(row["window_start"], row["window_end"]),
        config=_config(row["config"]),
    )
    return FlagBundle(report, frames["history"], row["period_end"], row["computed_at"], float(row["seconds"]))


def stored_bundle(engine: Engine) -> FlagBundle | None:
    """The newest stored result (with its computed_at), or None when the worker has not stored one yet."""
    stamp = stored_stamp(engine)
    return None if stamp is None else load_bundle(engine, stamp[0])


def age_seconds(computed_at: datetime, now: datetime) -> float:
    return max(0.0, (now - computed_at).total_seconds())


def is_stale(computed_at: datetime, now: datetime) -> bool:
    """Older than two runs of the job: the worker is down or behind."""
    return age_seconds(computed_at, now) > STALE_AFTER.total_seconds()


# --- rules the page, the wall and the pack share --------------------------------------------------------------------
def active_flags(flags: pd.DataFrame) -> pd.DataFrame:
    """Red and amber flags (unit × family), strongest first: red before amber, then q, then p."""
    out = flags[flags["level"].isin(ACTIVE_LEVELS)].copy()
    out["_rank"] = out["level"].map({"red": 0, "amber": 1})
    out = out.sort_values(["_rank", "q", "family_p", "p"], na_position="last", kind="stable")
    return out.drop(columns="_rank").reset_index(drop=True)


def in_scope(frame: pd.DataFrame, scope: Scope) -> pd.DataFrame:
    """The rows of a flag frame (flags, indicators or history: ``unit_type``, ``street_id``) that ``scope`` covers.
    THE scope rule of the flags for every page, panel and export: a street scope keeps its street and its
    communities only (verifiers and app accounts belong to no street: none of them); the district keeps all."""
    if scope.street_id is None or frame is None:
        return frame
    keep = frame["unit_type"].isin(AREA_TYPES) & (pd.to_numeric(frame["street_id"], errors="coerce") == scope.street_id)
    return frame[keep]


def shows_person(unit_type: str, scope: Scope) -> bool:
    """May the id of this flagged unit be shown? Areas always; verifiers and app accounts only to a scope with
    ``person_ids`` (never on the wall kiosk)."""
    return unit_type in AREA_TYPES or scope.person_ids


unit_key = reviews.unit_key  # a unit id as reviews store it (3, 3.0 and "3" are one street)


def flag_key(row) -> tuple:
    """(unit_type, unit id as reviews store it, family) of a flag row: how flags and reviews are matched."""
    return reviews.flag_key(row["unit_type"], row["unit_id"], row["family"])


def dismissed_keys(latest: pd.DataFrame) -> set:
    """Flags whose latest review dismissed them (keys as ``flag_key``)."""
    if latest is None or latest.empty:
        return set()
    last = latest[latest["status"] == "dismissed"]
    return set(zip(last["unit_type"], last["unit_id"].astype(str), last["family"]))


def still_active(active: pd.DataFrame, dismissed: set) -> pd.DataFrame:
    """Active flags a reviewer has not dismissed during the current window."""
    if not dismissed or active.empty:
        return active
    return active[[flag_key(r) not in dismissed for _, r in active.iterrows()]]


def unit_names(engine: Engine) -> dict:
    """{(unit_type, unit_id): name} for streets and communities."""
    streets, comms = queries.streets(engine), queries.communities(engine)
    names = {("street", int(i)): n for i, n in zip(streets["id"], streets["name"])}
    names.update({("community", int(i)): n for i, n in zip(comms["id"], comms["name"])})
    return names


def latest_reviews(engine: Engine, since: datetime | None) -> pd.DataFrame:
    """The current review of every reviewed flag (made at or after ``since``)."""
    return reviews.latest_reviews(engine, since)


def unit_reviews(engine: Engine, unit_type: str, unit_id: str) -> pd.DataFrame:
    """Every review of one unit, newest first."""
    return reviews.reviews_for_unit(engine, unit_type, unit_id)


def mask_account(account) -> str:
    """App account ids are personal data: show only enough to tell accounts apart (until roles exist)."""
    text = str(account)
    return text if len(text) <= 4 else f"{text[:2]}…{text[-2:]}"
