"""The app shell around every page: titles, sidebar (language, global filters), demo-data marker, carousel."""

from __future__ import annotations

import streamlit as st

from core import settings
from ui.filters import Filters, sidebar_filters
from ui.i18n import COMMON, catalog
from ui.live import resilient
from ui.params import int_param
from ui.reference import dataset_facts, is_demo, street_table

PAGE_TITLES = catalog("navigation")
# Carousel order for ?rotate=N (only pages that are registered take part).
ROTATION = ("wall", "map", "departments", "reporting")


def render_shell() -> Filters:
    """Sidebar widgets and the demo marker; returns the validated global filters (stored for the pages)."""
    streets = resilient(street_table)
    names = dict(zip(streets.value["id"].astype(int), streets.value["name"])) if streets.ok else {}
    kiosk = is_kiosk()
    filters = sidebar_filters(names, widgets=not kiosk)
    facts = resilient(dataset_facts)
    if not kiosk and is_demo(facts.value):  # kiosk pages show their own demo badge
        st.sidebar.info(COMMON("demo_data"), icon=":material/science:")
    st.session_state["filters"] = filters
    return filters


def is_kiosk() -> bool:
    """True for ``?embed=true`` (Streamlit hides that parameter from st.query_params, so read the raw query)
    or ``?kiosk=1``."""
    from urllib.parse import parse_qs

    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    raw = parse_qs(getattr(ctx, "query_string", "") or "") if ctx else {}
    return raw.get("embed", [""])[-1].lower() == "true" or raw.get("kiosk", [""])[-1] in ("1", "true")


def current_filters() -> Filters:
    return st.session_state.get("filters") or Filters()


def rotate_seconds() -> int | None:
    """The carousel interval from ``?rotate=N`` (10–3600 s), else None."""
    return int_param("rotate", 10, 3600)


def start_carousel(pages: dict[str, st.Page], current: str) -> None:
    """With ``?rotate=N``, move to the next page of the rotation every N seconds (query parameters kept)."""
    every = rotate_seconds()
    order = [p for p in ROTATION if p in pages]
    if not every or current not in order:
        return

    @st.fragment(run_every=every)
    def _tick():
        ticks = st.session_state.get("carousel_ticks", 0) + 1
        st.session_state["carousel_ticks"] = ticks
        if ticks > 1:  # the first run is the page's own render
            st.session_state["carousel_ticks"] = 0
            nxt = order[(order.index(current) + 1) % len(order)]
            st.switch_page(pages[nxt], query_params=dict(st.query_params))

    _tick()


MIN_REFRESH_SECONDS = 2  # short enough for the viewers benchmark's 500 refresh cycles; the cache TTL still
#                             bounds the database load (one query set per TTL whatever the refresh)


def refresh_seconds() -> int:
    """Live refresh interval from ``?refresh=N`` (2–3600 s), else the setting."""
    return int_param("refresh", MIN_REFRESH_SECONDS, 3600, default=int(settings.get("refresh_seconds")))
