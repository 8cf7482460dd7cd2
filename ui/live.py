"""Live, shared, failure-tolerant data loading for pages.

- ``live_cache``: ``st.cache_data`` with a TTL and bounded size. The cached value carries the time it was fetched,
  so pages can say "data as of". All viewers share one cache entry per argument set: N screens cost one query per
  TTL. An expired entry is fetched again by the refresh that finds it expired (not in the background, where a
  database that hangs would go unnoticed for another TTL while the figures silently age).
- ``resilient``: calls a cached loader under the refresh's deadline (``refresh_budget``: half the refresh interval,
  at least the query time limit, shared by every loader of one page run). When the database fails, or does not
  answer in time, it returns the last good value (kept per loader and arguments, process-wide) with its age, so a
  panel shows a stale banner instead of a traceback or a page that never finishes, and recovers by itself on the
  next successful refresh. A loader that missed the deadline keeps running in its thread; the next refreshes wait
  for that same call instead of starting another one.
- ``freshness_html``: the wall's data-time line, which turns itself into a stale warning in the browser when the
  server stops updating the page (a hung server shows no banner of its own).
- ``derived``: objects built from cached data (a serialised map, a figure) once per data refresh and shared by all
  viewers, so a viewer's refresh costs only sending them (issue 9: ≤ 50 ms server CPU per viewer refresh).
- ``panel``: a context manager that confines any failure to one panel.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any, Callable

import streamlit as st

from core import settings
from core.clock import local_now
from ui.i18n import COMMON, humanize_age
from ui.safe import plain

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Fetched:
    value: Any
    fetched_at: datetime


@dataclass(frozen=True)
class Loaded:
    """What a panel gets: the value (or None), when it was fetched, and the error if the latest fetch failed."""

    value: Any
    fetched_at: datetime | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.value is not None

    @property
    def age_seconds(self) -> float:
        return (local_now() - self.fetched_at).total_seconds() if self.fetched_at else float("inf")

    @property
    def stale(self) -> bool:
        return self.error is not None or self.age_seconds > settings.get("stale_after_seconds")


def live_cache(func: Callable | None = None, *, ttl: float | None = None, max_entries: int = 32):
    """Decorate a loader (small hashable args → small result) as a shared, background-refreshed cache entry."""

    def decorate(f):
        @functools.wraps(f)
        def fetch(*args, **kwargs):
            return Fetched(f(*args, **kwargs), local_now())

        return st.cache_data(
            ttl=ttl or settings.get("cache_ttl_seconds"), max_entries=max_entries, max_size="64MB", show_spinner=False
        )(fetch)

    return decorate(func) if func else decorate


_last_good: dict[tuple, Fetched] = {}
_last_good_lock = threading.Lock()
_LAST_GOOD_MAX = 512


_inflight: dict[tuple, Future] = {}
_inflight_lock = threading.Lock()
_generation = [0]  # bumped by clear_last_good: a call started before must not refill what was cleared
GRACE_S = 0.05  # what a loader still gets once the refresh's budget is spent: enough for a cache hit


class LoaderInterrupted(RuntimeError):
    """The loader's thread was stopped by Streamlit (its session's run ended) before it had an answer."""


def refresh_budget() -> float:
    """Seconds one page refresh may wait for its data: half the refresh interval, so the page (and its banner) is
    drawn well before the next refresh is due, and at least the query time limit, so one slow but healthy query
    still makes it."""
    try:
        from ui.shell import refresh_seconds  # here, not at the top: ui.shell imports this module

        interval = float(refresh_seconds())
    except Exception:  # noqa: BLE001 - outside a page run (tests, CLI)
        interval = float(settings.get("refresh_seconds"))
    return max(interval / 2, float(settings.get("query_timeout_s")))


def _run_deadline() -> float:
    """The monotonic time by which this page run must have its data: set by the run's first loader, shared by the
    rest (loaders run one after another), new for every run. Outside a run: one budget per call."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None:
        return time.monotonic() + refresh_budget()
    mark = getattr(ctx, "_gridscope_deadline", None)
    # ScriptRunContext.reset() gives every run (fragment runs included) a new ``cursors`` dict: a new run.
    if mark is None or mark[0] is not ctx.cursors:
        mark = (ctx.cursors, time.monotonic() + refresh_budget())
        ctx._gridscope_deadline = mark
    return mark[1]


def _remember(key: tuple, fetched: Fetched) -> None:
    with _last_good_lock:
        if len(_last_good) >= _LAST_GOOD_MAX and key not in _last_good:
            _last_good.pop(next(iter(_last_good)))
        _last_good[key] = fetched


def _call(key: tuple, loader: Callable, args: tuple, kwargs: dict) -> Future:
    """The call of ``loader`` for ``key`` in flight (one per key for the whole process), started if there is none."""
    with _inflight_lock:
        future = _inflight.get(key)
        if future is not None:
            return future
        future = _inflight[key] = Future()
        generation = _generation[0]

    def run():
        try:
            fetched = loader(*args, **kwargs)
        except Exception as err:  # noqa: BLE001 - handed to every waiter
            future.set_exception(err)
        except BaseException as err:  # noqa: BLE001 - Streamlit stopping its session's run: not the waiters' stop
            future.set_exception(LoaderInterrupted(type(err).__name__))
        else:
            if not isinstance(fetched, Fetched):  # a plain function
                fetched = Fetched(fetched, local_now())
            if generation == _generation[0]:
                _remember(key, fetched)
            future.set_result(fetched)
        finally:
            with _inflight_lock:
                if _inflight.get(key) is future:
                    del _inflight[key]

    from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

    thread = threading.Thread(target=run, name=f"gridscope-loader-{key[0]}", daemon=True)
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is not None:
        add_script_run_ctx(thread, ctx)  # the loader's st.cache_* calls belong to this session
    thread.start()
    return future


def resilient(loader: Callable, *args, **kwargs) -> Loaded:
    """Run a ``live_cache`` loader under the refresh's deadline; on failure, or no answer in time, fall back to its
    last good value (never raises)."""
    key = (
        getattr(loader, "__qualname__", repr(loader)),
        getattr(loader, "__module__", ""),
        args,
        tuple(sorted(kwargs.items())),
    )
    future = _call(key, loader, args, kwargs)
    wait = max(_run_deadline() - time.monotonic(), GRACE_S)
    try:
        fetched: Fetched = future.result(timeout=wait)
    except TimeoutError:
        log.warning("loader %s gave no answer within the refresh deadline; showing the last good value", key[0])
        message = COMMON("no_answer", seconds=f"{refresh_budget():g}")
        return _fallback(key, message)
    except Exception as err:  # noqa: BLE001 - any failure becomes a stale panel, never a traceback
        log.warning("loader %s failed: %s", key[0], err)
        return _fallback(key, error_text(err))
    return Loaded(fetched.value, fetched.fetched_at)


def error_text(err: Exception) -> str:
    """What went wrong, in plain words: a database error by its ``code`` (unreachable, timeout, busy, out_of_range:
    ``common.po`` ``db_<code>``), anything else as its first line. A timeout is never called "unreachable"."""
    detail = str(err).splitlines()[0][:200] if str(err) else type(err).__name__
    key = f"db_{getattr(err, 'code', '')}"
    if key in COMMON:
        return COMMON(key, detail=detail, **getattr(err, "values", {}))
    return detail


def _fallback(key: tuple, message: str) -> Loaded:
    with _last_good_lock:
        last = _last_good.get(key)
    return Loaded(last.value if last else None, last.fetched_at if last else None, message)


def clear_last_good() -> None:
    """Forget every process-wide value this module keeps (last good values and derived objects)."""
    with _last_good_lock:
        _last_good.clear()
    with _inflight_lock:
        _inflight.clear()  # calls still running finish on their own, unheard
        _generation[0] += 1
    with _derived_lock:
        _derived.clear()
        _building.clear()


_derived: OrderedDict[tuple, Any] = OrderedDict()
_building: dict[tuple, threading.Lock] = {}
_derived_lock = threading.Lock()
_DERIVED_MAX = 32


def derived(key: tuple, build: Callable[[], Any]) -> Any:
    """``build()`` once per ``key`` for the whole process, then the same object for every viewer.

    ``key`` must name everything the object depends on, including the ``fetched_at`` of the cached data it is made
    from (so it is rebuilt once per data refresh, not once per viewer refresh). Callers treat the object as
    read-only. A failing build is not remembered; concurrent callers of one key wait for a single build."""
    with _derived_lock:
        if key in _derived:
            _derived.move_to_end(key)
            return _derived[key]
        lock = _building.setdefault(key, threading.Lock())
    with lock:
        with _derived_lock:
            if key in _derived:
                return _derived[key]
        try:
            value = build()
            with _derived_lock:
                _derived[key] = value
                while len(_derived) > _DERIVED_MAX:
                    _derived.popitem(last=False)
        finally:
            with _derived_lock:
                _building.pop(key, None)
    return value


def freshness_html(fetched_at: datetime | None, refresh_s: float, style: str = "") -> str:
    """The "data as of" line for a page that refreshes itself every ``refresh_s`` seconds, as HTML for ``st.html``.

    It carries the data's timestamp and turns itself into a stale warning IN THE BROWSER, so a server that hangs
    (no refresh arrives, no banner can be drawn) still looks stale: a CSS animation, restarted by every render (each
    render is a new element), shows the warning after twice the refresh interval, or sooner when the data reaches
    ``stale_after_seconds`` first. No script, no request: it works offline and with JavaScript off."""
    age = (local_now() - fetched_at).total_seconds() if fetched_at else None
    delay = 2 * float(refresh_s)
    if age is not None:
        delay = max(0.0, min(delay, float(settings.get("stale_after_seconds")) - age))
    shown = fetched_at.strftime("%H:%M:%S") if fetched_at else "—"
    stamp = fetched_at.isoformat(timespec="seconds") if fetched_at else ""
    flag = (
        "visibility:hidden;margin-right:.5em;padding:.05em .45em;border-radius:.3em;background:#e5484d;"
        f"color:#fff;font-weight:600;animation:gs-stale 1ms linear {delay:g}s forwards"
    )
    return (
        f"<div class='gs-freshness' data-fetched='{stamp}' data-rendered='{time.time_ns()}' "
        f"style='{escape(style)}'><span class='gs-stale-flag' style='{flag}'>{escape(COMMON('screen_stale'))}"
        f"</span>{escape(COMMON('data_as_of', time=shown))}</div>"
        "<style>@keyframes gs-stale{from,to{visibility:visible}}</style>"
    )


def show_freshness(loaded: Loaded, container=None) -> None:
    """The stale banner (with the data's age) or nothing; the caller shows 'data as of' separately."""
    target = container or st
    if loaded.error and not loaded.ok:
        target.error(COMMON("no_data_yet", error=plain(loaded.error)), icon=":material/warning:")
    elif loaded.stale:
        target.warning(COMMON("stale", age=humanize_age(loaded.age_seconds)), icon=":material/warning:")


@contextmanager
def panel(container=None):
    """Confine a failure to this panel: show a one-line notice, never a traceback, and keep the page running."""
    target = container or st
    try:
        yield target
    except Exception as err:
        log.exception("panel failed")
        target.caption(
            COMMON("panel_failed", error=plain(str(err).splitlines()[0][:160] if str(err) else type(err).__name__))
        )
