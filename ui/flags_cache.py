"""The selective-reporting flags (选择性上报预警) as pages show them: read from the database, never computed here.

The worker (``python -m worker``, worker/jobs.py) computes the flags once an hour for the whole deployment and
stores them (``reports.flags.compute_and_store``). A viewer process only reads the newest stored result:

- ``_stamp`` (a ``live_cache`` of one small indexed query) tells which result is the newest;
- ``_bundle`` (``st.cache_resource``, two kept) reads and decodes that result once per process, shared by every
  viewer (the frames are never copied per viewer);
- no stored result → ``flag_bundle(block=True)`` raises ``FlagsUnavailable`` whose message says the worker must
  run, the wall shows the same notice; a result older than two runs → pages say how old it is (``freshness_notice``).

Also here: the wall panel, the review loaders and small helpers the flags page shares with the wall.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from core import settings
from core.clock import local_now
from reports import flags
from reports.access import Scope
from reports.flags import FlagBundle, period_end_for
from ui import db
from ui.db import get_engine
from ui.flag_figures import fmt_value
from ui.html_charts import screen_rem, title_html
from ui.i18n import catalog, humanize_age
from ui.live import live_cache, resilient

ACTIVE_LEVELS = flags.ACTIVE_LEVELS
WORKER_COMMAND = "python -m worker"

T = catalog("flags")


class FlagsUnavailable(RuntimeError):
    """No stored flags can be shown (the message is safe to show)."""


# --- the stored result ----------------------------------------------------------------------------------------------
def _engine(url: str) -> Engine:
    return db.engine_for(url)


@live_cache(ttl=60)
def _stamp(url: str) -> tuple[int, datetime] | None:
    return flags.stored_stamp(_engine(url))


@st.cache_resource(max_entries=2, show_spinner=False)
def _bundle(url: str, result_id: int) -> FlagBundle | None:
    return flags.load_bundle(_engine(url), result_id)


def _first_line(err: Exception) -> str:
    return str(err).splitlines()[0][:200] if str(err) else type(err).__name__


def get_bundle(
    url: str, period_end: datetime | None = None, *, block: bool, timeout: float | None = None
) -> FlagBundle | None:
    """The newest stored result for ``url`` (whatever its period end; ``period_end`` and ``timeout`` are kept for
    the callers and ignored). Never computes. ``block=True``: raise ``FlagsUnavailable`` when there is none or the
    database fails; ``block=False``: None then."""
    loaded = resilient(_stamp, url)
    if loaded.value is None:
        if not block:
            return None
        raise FlagsUnavailable(loaded.error or T("no_result", command=WORKER_COMMAND))
    try:
        bundle = _bundle(url, loaded.value[0])
    except Exception as err:
        if not block:
            return None
        raise FlagsUnavailable(_first_line(err)) from err
    if bundle is None and block:
        raise FlagsUnavailable(T("no_result", command=WORKER_COMMAND))
    return bundle


def latest_bundle(url: str) -> FlagBundle | None:
    """The newest stored result for ``url``, or None."""
    return get_bundle(url, block=False)


def flag_bundle(block: bool = True) -> FlagBundle | None:
    """The newest stored flags for the configured database (see ``get_bundle``)."""
    return get_bundle(settings.get("db_url"), block=block)


def clear() -> None:
    """Forget the cached stamp and results (tests, benchmarks)."""
    _stamp.clear()
    _bundle.clear()


def freshness_notice(bundle: FlagBundle | None, now: datetime | None = None) -> str | None:
    """The line a page shows when the stored result is old (the worker is down or behind), or None."""
    if bundle is None:
        return T("no_result", command=WORKER_COMMAND)
    now = now or local_now()
    if not flags.is_stale(bundle.computed_at, now):
        return None
    return T("stale", age=humanize_age(flags.age_seconds(bundle.computed_at, now)), command=WORKER_COMMAND)


def show_freshness(bundle: FlagBundle | None, container=None) -> None:
    """A warning with the age of the stored flags when they are old (nothing when they are fresh)."""
    notice = freshness_notice(bundle)
    if notice:
        (container or st).warning(notice, icon=":material/schedule:")


@live_cache(ttl=300)
def _data_range() -> tuple:
    return flags.data_range(get_engine())


def current_period_end() -> datetime:
    """Period end for the configured database (raises when the database cannot be reached)."""
    loaded = resilient(_data_range)
    if not loaded.ok:
        raise FlagsUnavailable(loaded.error or "database unavailable")
    return period_end_for(local_now().replace(tzinfo=None), loaded.value[1])


# --- reviews (the only write of the flags page; engine: ui.db.get_writer) ---------------------------------------------
@live_cache(ttl=30)
def unit_reviews(unit_type: str, unit_id: str) -> pd.DataFrame:
    return flags.unit_reviews(get_engine(), unit_type, unit_id)


@live_cache(ttl=30)
def current_reviews(since: datetime | None) -> pd.DataFrame:
    return flags.latest_reviews(get_engine(), since)


def forget_reviews() -> None:
    """After a write: the next render reads the new review instead of the cached list."""
    unit_reviews.clear()
    current_reviews.clear()


# --- names and wording shared by the page and the wall ------------------------------------------------------------
@live_cache(ttl=600)
def unit_names() -> dict:
    """{(unit_type, unit_id): name} for streets and communities."""
    return flags.unit_names(get_engine())


def unit_label(unit_type: str, unit_id, names: dict | None) -> str:
    """Display name of a unit: street/community names, verifier ids as they are, app accounts masked."""
    if unit_type in ("street", "community"):
        try:
            key = (unit_type, int(float(unit_id)))
        except (TypeError, ValueError):
            return str(unit_id)
        return (names or {}).get(key, f"{T(unit_type)} {key[1]}")
    if unit_type == "app_reporter":
        return f"{T('app_reporter')} {flags.mask_account(unit_id)}"
    return f"{T('verifier')} {unit_id}"


def short_reason(row) -> str:
    """One line: the lead indicator, the unit's value and the typical value (e.g. 巡查同步发现率 38%（通常 61%）)."""
    ind = row.get("indicator")
    if not isinstance(ind, str) or f"ind_{ind}" not in T:
        return T(f"fam_{row['family']}")
    return T(
        "reason_line",
        indicator=T(f"ind_{ind}"),
        value=fmt_value(row.get("observed"), flags.value_kind(ind)),
        usual=T("usual", value=fmt_value(row.get("expected"), flags.value_kind(ind))),
    )


active_flags = flags.active_flags


def _dismissed_keys(since: datetime) -> set:
    loaded = resilient(current_reviews, since)
    return flags.dismissed_keys(loaded.value) if loaded.ok else set()


_key_of = flags.flag_key


def active_flags_summary(scope: Scope) -> dict | None:
    """For the wall: counts of active flags by level and the top three with a one-line reason, the result's age
    (``stale`` when older than two runs of the worker), or None when no result is stored yet. Never computes. A flag
    dismissed by a reviewer during the current window no longer counts as active (the page still lists it). Only
    the flags in the viewer's ``scope`` (``reports.flags.in_scope``: a street head's street); verifiers and app
    accounts are named only to a scope with ``person_ids`` (the wall kiosk sees their kind, not who)."""
    url = settings.get("db_url")
    loaded = resilient(_stamp, url)
    if loaded.value is None:
        return {"error": loaded.error} if loaded.error else None
    try:
        bundle = _bundle(url, loaded.value[0])
    except Exception as err:  # noqa: BLE001 - the wall shows a line, never a traceback
        return {"error": _first_line(err)[:120]}
    if bundle is None:
        return None
    scoped = flags.in_scope(bundle.report.flags, scope)
    active = flags.still_active(active_flags(scoped), _dismissed_keys(bundle.report.window[0]))
    names = resilient(unit_names).value or {}
    top = [
        {
            "level": r["level"],
            "unit_type": r["unit_type"],
            "unit_id": r["unit_id"] if flags.shows_person(r["unit_type"], scope) else None,
            "family": r["family"],
            "name": unit_label(r["unit_type"], r["unit_id"], names)
            if flags.shows_person(r["unit_type"], scope)
            else T(r["unit_type"]),
            "reason": short_reason(r),
        }
        for _, r in active.head(3).iterrows()
    ]
    now = local_now()
    return {
        "red": int((active["level"] == "red").sum()),
        "amber": int((active["level"] == "amber").sum()),
        "total": int(len(active)),
        "top": top,
        "period_end": bundle.period_end,
        "computed_at": bundle.computed_at,
        "age_seconds": flags.age_seconds(bundle.computed_at, now),
        "stale": flags.is_stale(bundle.computed_at, now),
    }


LEVEL_BADGE = {"red": ("#5c1a1d", "#ff8b8b"), "amber": ("#5a3b12", "#f5b660")}  # background, text


def _badge(level: str, text: str) -> str:
    background, colour = LEVEL_BADGE[level]
    return (
        f"<span style='background:{background};color:{colour};padding:.05em .4em;border-radius:.3em;"
        f"white-space:nowrap'>{escape(text)}</span>"
    )


def flags_wall_panel(summary: dict | None) -> None:
    """The wall's small flags panel from ``active_flags_summary(scope)`` (the viewer's flags only): counts by level
    and the top three, worded as "疑似 / 建议核查"; the result's age when the worker is behind, or that no result
    exists yet. HTML sized by the screen's width like the rest of the wall, every name escaped."""
    body = [title_html(T("panel_title"))]
    muted = "<div style='color:#9aa7b4'>{}</div>"
    if summary is None:
        body.append(muted.format(escape(T("no_result", command=WORKER_COMMAND))))
    elif "error" in summary:
        body.append(muted.format(escape(T("unavailable", error=summary["error"]))))
    else:
        if summary.get("stale"):
            notice = T("stale", age=humanize_age(summary["age_seconds"]), command=WORKER_COMMAND)
            body.append(f"<div style='color:#f5b660'>{escape(notice)}</div>")
        body.append(
            f"<div style='margin-bottom:.35rem'>{_badge('red', T('red') + ' ' + str(summary['red']))} "
            f"{_badge('amber', T('amber') + ' ' + str(summary['amber']))}</div>"
        )
        if not summary["top"]:
            body.append(muted.format(escape(T("none_active"))))
        body += [
            f"<div style='margin:.15rem 0'>{_badge(t['level'], T(t['level']))} <b>{escape(str(t['name']))}</b>"
            f" · {escape(T('fam_' + t['family']))} · {escape(str(t['reason']))}</div>"
            for t in summary["top"]
        ]
    st.html(f"<div style='font-size:{screen_rem(0.9)};line-height:1.45'>{''.join(body)}</div>")
