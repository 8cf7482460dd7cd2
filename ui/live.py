"""Live, shared, failure-tolerant data loading for pages.

- ``live_cache``: ``st.cache_data`` with a TTL, background refresh and bounded size. The cached value carries the
  time it was fetched, so pages can say "data as of". All viewers share one cache entry per argument set: N screens
  cost one query per TTL.
- ``resilient``: calls a cached loader; when the database fails it returns the last good value (kept per loader and
  arguments, process-wide) with its age, so a panel shows a stale banner instead of a traceback, and recovers by
  itself on the next successful refresh.
- ``derived``: objects built from cached data (a serialised map, a figure) once per data refresh and shared by all
  viewers, so a viewer's refresh costs only sending them (issue 9: ≤ 50 ms server CPU per viewer refresh).
- ``panel``: a context manager that confines any failure to one panel.
"""
from __future__ import annotations

import functools
import logging
import threading
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

import streamlit as st

from data_access import settings
from data_access.workcal import local_now
from ui.i18n import COMMON, humanize_age

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
        return st.cache_data(ttl=ttl or settings.get("cache_ttl_seconds"), max_entries=max_entries,
                             max_size="64MB", refresh_mode="background", show_spinner=False)(fetch)
    return decorate(func) if func else decorate


_last_good: dict[tuple, Fetched] = {}
_last_good_lock = threading.Lock()
_LAST_GOOD_MAX = 512


def resilient(loader: Callable, *args, **kwargs) -> Loaded:
    """Run a ``live_cache`` loader; on failure fall back to its last good value (never raises)."""
    key = (getattr(loader, "__qualname__", repr(loader)), getattr(loader, "__module__", ""), args,
           tuple(sorted(kwargs.items())))
    try:
        fetched: Fetched = loader(*args, **kwargs)
    except Exception as err:  # noqa: BLE001 - any failure becomes a stale panel, never a traceback
        log.warning("loader %s failed: %s", key[0], err)
        with _last_good_lock:
            last = _last_good.get(key)
        message = str(err).splitlines()[0][:200] if str(err) else type(err).__name__
        return Loaded(last.value if last else None, last.fetched_at if last else None, message)
    with _last_good_lock:
        if len(_last_good) >= _LAST_GOOD_MAX and key not in _last_good:
            _last_good.pop(next(iter(_last_good)))
        _last_good[key] = fetched
    return Loaded(fetched.value, fetched.fetched_at)


def clear_last_good() -> None:
    """Forget every process-wide value this module keeps (last good values and derived objects)."""
    with _last_good_lock:
        _last_good.clear()
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


def show_freshness(loaded: Loaded, container=None) -> None:
    """The stale banner (with the data's age) or nothing; the caller shows 'data as of' separately."""
    target = container or st
    if loaded.error and not loaded.ok:
        target.error(COMMON("no_data_yet", error=loaded.error), icon=":material/warning:")
    elif loaded.stale:
        target.warning(COMMON("stale", age=humanize_age(loaded.age_seconds)), icon=":material/warning:")


@contextmanager
def panel(container=None):
    """Confine a failure to this panel: show a one-line notice, never a traceback, and keep the page running."""
    target = container or st
    try:
        yield target
    except Exception as err:  # noqa: BLE001 - Streamlit's stop/rerun are BaseExceptions and pass through
        log.exception("panel failed")
        target.caption(COMMON("panel_failed", error=str(err).splitlines()[0][:160] if str(err) else
                              type(err).__name__))
