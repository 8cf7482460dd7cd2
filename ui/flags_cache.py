"""One shared, non-blocking computation of the selective-reporting flags (选择性上报预警) for every viewer.

``compute_flags`` takes tens of seconds on a seeded district, so it never runs inside a page render per viewer:

- one result per (database, period end rounded down to the day) is kept process-wide for ``FLAG_TTL`` (an hour);
  N viewers and the wall cost one computation per hour. After the TTL the old result is still served while a
  background thread computes the new one (stale-while-revalidate), so nobody waits again.
- ``flag_bundle(block=True)`` (the page) waits for the computation — one computation, however many viewers wait;
  ``active_flags_summary()`` (the wall) never waits: it returns the latest result or None ("计算中") and starts the
  computation once in a background thread (process-wide lock).

Why not ``st.cache_data``: it cannot be asked "do you have this?" without computing, and the wall must never wait a
minute. ``clear()`` empties this store (tests call it with ``st.cache_data.clear()``).

Also here: the wall panel, the review loaders and small helpers the flags page shares with the wall.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from html import escape

import numpy as np
import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from data_access import flag_queries, queries, reviews, settings
from data_access.engine import make_engine
from data_access.workcal import local_now
from ui.db import get_engine
from ui.html_charts import screen_rem, title_html
from ui.i18n import Catalog, current_language
from ui.live import live_cache, resilient

log = logging.getLogger(__name__)

FLAG_TTL = 3600              # seconds a result is served before it is recomputed in the background
MAX_ENTRIES = 4              # results kept (per database × period end)
RETRY_AFTER = 120            # seconds before a failed computation is tried again
FLAG_QUERY_TIMEOUT = 300     # per-query limit of the background job (the dashboard's 15 s suits interactive queries)
ACTIVE_LEVELS = ("red", "amber")

T = Catalog({
    "panel_title": ("选择性上报预警", "Reporting flags"),
    "computing": ("预警计算中，稍后自动显示…", "Flags are being computed; they appear by themselves…"),
    "unavailable": ("预警暂不可用：{error}", "Flags unavailable: {error}"),
    "counts": ("疑似 {red} · 建议核查 {amber}", "suspected {red} · worth a look {amber}"),
    "none_active": ("本期未见需核查的预警", "No flags to look at this period"),
    "red": ("疑似", "Suspected"), "amber": ("建议核查", "Worth a look"),
    "none": ("未见异常", "No signal"), "insufficient": ("数据不足", "Not enough data"),
    "street": ("街镇", "Street"), "community": ("社区/村", "Community"), "verifier": ("核查员", "Verifier"),
    "app_reporter": ("APP账号", "App account"),
    "usual": ("通常 {value}", "typical {value}"),
    "fam_A": ("隐瞒复杂案件", "Hiding hard cases"), "fam_B": ("冲量", "Padding"),
    "fam_C": ("核查造假", "Fake checks"), "fam_D": ("刷单套奖", "Reward farming"),
    "ind_A1": ("巡查同步发现率", "Patrol also logged"), "ind_A1F": ("巡查先于公众发现率", "Patrol found first"),
    "ind_A2": ("巡查复杂案件占比", "Patrol hard share"), "ind_A3": ("复杂案件近期变化", "Recent change, hard cases"),
    "ind_A4": ("巡查复杂案件占比(参考)", "Patrol hard share (context)"),
    "ind_B1": ("月末集中上报", "Month-end reports"), "ind_B2": ("简单案件数量", "Simple-case volume"),
    "ind_B3": ("临期集中结案", "Closures at the deadline"),
    "ind_C1": ("秒级核查", "Instant checks"), "ind_C2": ("不可能行程", "Impossible travel"),
    "ind_C3": ("返工率", "Failed-check rate"), "ind_D1": ("同点重复上报", "Same spot again"),
    "ind_D2": ("结案后再报", "Re-report after closure"), "ind_D3": ("上报数量", "Reports"),
})


# --- the shared computation -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FlagBundle:
    """One computed result: the report, the indicators of every window (trend), and when it was computed."""
    report: flag_queries.FlagReport
    history: pd.DataFrame
    period_end: datetime
    computed_at: datetime
    seconds: float


class FlagsUnavailable(RuntimeError):
    """The flags could not be computed (the message is safe to show)."""


_lock = threading.Lock()
_entries: "OrderedDict[tuple[str, datetime], FlagBundle]" = OrderedDict()
_running: dict[tuple[str, datetime], threading.Event] = {}
_errors: dict[tuple[str, datetime], tuple[float, str]] = {}
_engines: dict[str, Engine] = {}


def _job_engine(url: str) -> Engine:
    """A read-only engine for the background job, with a longer per-query limit (one job per hour, not per view)."""
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = make_engine(url, read_only=True, timeout_s=FLAG_QUERY_TIMEOUT)
        return engine


def _compute(key: tuple[str, datetime]) -> None:
    url, period_end = key
    t0 = time.monotonic()
    try:
        report, history = flag_queries.compute_flags_with_history(_job_engine(url), period_end)
        bundle = FlagBundle(report, history, period_end, local_now(), time.monotonic() - t0)
        log.info("flags for %s computed in %.1f s", period_end, bundle.seconds)
        with _lock:
            _entries[key] = bundle
            _entries.move_to_end(key)
            while len(_entries) > MAX_ENTRIES:
                _entries.popitem(last=False)
            _errors.pop(key, None)
    except Exception as err:  # noqa: BLE001 - a failed job is reported to the viewers, never raised in a thread
        log.exception("flag computation failed")
        with _lock:
            _errors[key] = (time.monotonic(), str(err).splitlines()[0][:200] if str(err) else type(err).__name__)
    finally:
        with _lock:
            event = _running.pop(key, None)
        if event is not None:
            event.set()


def _start_locked(key) -> threading.Event:
    """Start the job for ``key`` unless it runs already (caller holds ``_lock``)."""
    event = _running.get(key)
    if event is None:
        event = _running[key] = threading.Event()
        threading.Thread(target=_compute, args=(key,), name=f"gridscope-flags-{key[1]:%Y%m%d}", daemon=True).start()
    return event


def get_bundle(url: str, period_end: datetime, *, block: bool, timeout: float = 600.0) -> FlagBundle | None:
    """The result for ``(url, period_end)``: fresh → returned; older than the TTL → returned while a refresh runs
    in the background; missing → computed once (``block``: wait for it; otherwise return None at once)."""
    key = (url, period_end)
    with _lock:
        entry = _entries.get(key)
        if entry is not None:
            if (local_now() - entry.computed_at).total_seconds() > FLAG_TTL:
                _start_locked(key)
            return entry
        failed = _errors.get(key)
        if failed and time.monotonic() - failed[0] < RETRY_AFTER and key not in _running:
            if block:
                raise FlagsUnavailable(failed[1])
            return None
        event = _start_locked(key)
    if not block:
        return None
    event.wait(timeout)
    with _lock:
        entry, failed = _entries.get(key), _errors.get(key)
    if entry is None:
        raise FlagsUnavailable(failed[1] if failed else "timeout")
    return entry


def latest_bundle(url: str) -> FlagBundle | None:
    """The most recently computed result for ``url`` (any period end), or None."""
    with _lock:
        for (u, _), bundle in reversed(_entries.items()):
            if u == url:
                return bundle
    return None


def last_error(url: str, period_end: datetime) -> str | None:
    with _lock:
        failed = _errors.get((url, period_end))
    return failed[1] if failed else None


def clear() -> None:
    """Forget every result and error (tests; a finished job still running stores its result afterwards)."""
    with _lock:
        _entries.clear()
        _errors.clear()
        engines = list(_engines.values())
        _engines.clear()
    for engine in engines:
        engine.dispose()


def period_end_for(now: datetime, latest_report: datetime | None) -> datetime:
    """The flag window's end: the start of the day of the latest data (or of today, whichever is earlier).

    Rounded to the day so every viewer of a day shares one result; a database whose data stopped earlier (an old
    import) is judged on its own last 60 days, not on empty ones.
    """
    end = now if latest_report is None else min(now, latest_report)
    return datetime(end.year, end.month, end.day)


@live_cache(ttl=300)
def _data_range() -> tuple:
    return queries.data_time_range(get_engine())


def current_period_end() -> datetime:
    """Period end for the configured database (raises when the database cannot be reached)."""
    loaded = resilient(_data_range)
    if not loaded.ok:
        raise FlagsUnavailable(loaded.error or "database unavailable")
    return period_end_for(local_now().replace(tzinfo=None), loaded.value[1])


def flag_bundle(block: bool = True) -> FlagBundle | None:
    """The flags for the configured database and the current period (see ``get_bundle``)."""
    return get_bundle(settings.get("db_url"), current_period_end(), block=block)


# --- reviews (the only write of the flags page; engine: ui.db.get_writer) ---------------------------------------------
@live_cache(ttl=30)
def unit_reviews(unit_type: str, unit_id: str) -> pd.DataFrame:
    return reviews.reviews_for_unit(get_engine(), unit_type, unit_id)


@live_cache(ttl=30)
def current_reviews(since: datetime | None) -> pd.DataFrame:
    return reviews.latest_reviews(get_engine(), since)


def forget_reviews() -> None:
    """After a write: the next render reads the new review instead of the cached list."""
    unit_reviews.clear()
    current_reviews.clear()


# --- names and wording shared by the page and the wall ------------------------------------------------------------
@live_cache(ttl=600)
def unit_names() -> dict:
    """{(unit_type, unit_id): name} for streets and communities, {street_id: name} under 'street_of'."""
    engine = get_engine()
    streets, comms = queries.streets(engine), queries.communities(engine)
    names = {("street", int(i)): n for i, n in zip(streets["id"], streets["name"])}
    names.update({("community", int(i)): n for i, n in zip(comms["id"], comms["name"])})
    return names


def mask_account(account) -> str:
    """App account ids are personal data: show only enough to tell accounts apart (until roles exist)."""
    text = str(account)
    return text if len(text) <= 4 else f"{text[:2]}…{text[-2:]}"


def unit_label(unit_type: str, unit_id, names: dict | None) -> str:
    """Display name of a unit: street/community names, verifier ids as they are, app accounts masked."""
    if unit_type in ("street", "community"):
        try:
            key = (unit_type, int(float(unit_id)))
        except (TypeError, ValueError):
            return str(unit_id)
        return (names or {}).get(key, f"{T(unit_type)} {key[1]}")
    if unit_type == "app_reporter":
        return f"{T('app_reporter')} {mask_account(unit_id)}"
    return f"{T('verifier')} {unit_id}"


def fmt_value(x, indicator: str | None) -> str:
    """An indicator's value as the card shows it: counts for B2/D3, otherwise a percentage."""
    if x is None or not np.isfinite(float(x)):
        return "—"
    return f"{float(x):.0f}" if indicator in ("B2", "D3") else f"{100 * float(x):.0f}%"


def short_reason(row) -> str:
    """One line: the lead indicator, the unit's value and the typical value (e.g. 巡查同步发现率 38%（通常 61%）)."""
    ind = row.get("indicator")
    if not isinstance(ind, str) or f"ind_{ind}" not in T.entries:
        return T(f"fam_{row['family']}")
    usual = T("usual", value=fmt_value(row.get("expected"), ind))
    sep = "（{}）" if current_language() == "zh" else " ({})"
    return f"{T(f'ind_{ind}')} {fmt_value(row.get('observed'), ind)}" + sep.format(usual)


def active_flags(flags: pd.DataFrame) -> pd.DataFrame:
    """Red and amber flags (unit × family), strongest first: red before amber, then q, then p."""
    out = flags[flags["level"].isin(ACTIVE_LEVELS)].copy()
    out["_rank"] = out["level"].map({"red": 0, "amber": 1})
    out = out.sort_values(["_rank", "q", "family_p", "p"], na_position="last", kind="stable")
    return out.drop(columns="_rank").reset_index(drop=True)


def _dismissed_keys(since: datetime) -> set:
    loaded = resilient(current_reviews, since)
    if not loaded.ok or loaded.value.empty:
        return set()
    last = loaded.value
    last = last[last["status"] == "dismissed"]
    return set(zip(last["unit_type"], last["unit_id"].astype(str), last["family"]))


def _key_of(row) -> tuple:
    return row["unit_type"], reviews._unit_key(row["unit_id"]), row["family"]


def active_flags_summary() -> dict | None:
    """For the wall: counts of active flags by level and the top three with a one-line reason, or None while the
    first computation runs. Never waits for the computation. A flag dismissed by a reviewer during the current
    window no longer counts as active (the page still lists it, with the review)."""
    try:
        url, period_end = settings.get("db_url"), current_period_end()
        bundle = get_bundle(url, period_end, block=False) or latest_bundle(url)
    except Exception as err:  # noqa: BLE001 - the wall shows a line, never a traceback
        return {"error": str(err).splitlines()[0][:120] if str(err) else type(err).__name__}
    if bundle is None:
        failed = last_error(url, period_end)
        return {"error": failed} if failed else None
    active = active_flags(bundle.report.flags)
    dismissed = _dismissed_keys(bundle.report.window[0])
    if dismissed and len(active):
        active = active[[_key_of(r) not in dismissed for _, r in active.iterrows()]]
    names = resilient(unit_names).value or {}
    top = [{"level": r["level"], "unit_type": r["unit_type"], "unit_id": r["unit_id"], "family": r["family"],
            "name": unit_label(r["unit_type"], r["unit_id"], names), "reason": short_reason(r)}
           for _, r in active.head(3).iterrows()]
    return {"red": int((active["level"] == "red").sum()), "amber": int((active["level"] == "amber").sum()),
            "total": int(len(active)), "top": top, "period_end": bundle.period_end,
            "computed_at": bundle.computed_at}


LEVEL_BADGE = {"red": ("#5c1a1d", "#ff8b8b"), "amber": ("#5a3b12", "#f5b660")}     # background, text


def _badge(level: str, text: str) -> str:
    background, colour = LEVEL_BADGE[level]
    return (f"<span style='background:{background};color:{colour};padding:.05em .4em;border-radius:.3em;"
            f"white-space:nowrap'>{escape(text)}</span>")


def flags_wall_panel(summary: dict | None = None) -> None:
    """The wall's small flags panel: counts by level and the top three, worded as "疑似 / 建议核查"; HTML sized by
    the screen's width like the rest of the wall, every name escaped."""
    summary = active_flags_summary() if summary is None else summary
    body = [title_html(T("panel_title"))]
    muted = "<div style='color:#9aa7b4'>{}</div>"
    if summary is None:
        body.append(muted.format(escape(T("computing"))))
    elif "error" in summary:
        body.append(muted.format(escape(T("unavailable", error=summary["error"]))))
    else:
        body.append(f"<div style='margin-bottom:.35rem'>{_badge('red', T('red') + ' ' + str(summary['red']))} "
                    f"{_badge('amber', T('amber') + ' ' + str(summary['amber']))}</div>")
        if not summary["top"]:
            body.append(muted.format(escape(T("none_active"))))
        body += [f"<div style='margin:.15rem 0'>{_badge(t['level'], T(t['level']))} <b>{escape(str(t['name']))}</b>"
                 f" · {escape(T('fam_' + t['family']))} · {escape(str(t['reason']))}</div>" for t in summary["top"]]
    st.html(f"<div style='font-size:{screen_rem(0.9)};line-height:1.45'>{''.join(body)}</div>")

