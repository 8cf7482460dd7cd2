"""态势大屏: the one-screen wall display for the command centre (dark, live, no scrolling).

Layout only: the figures come from the screen model ``reports.wall`` through shared cached loaders, the HTML and
the map image from ``ui.html_charts`` and ``ui.map_image``.
"""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from core.clock import local_now
from reports import wall
from reports.map import view_streets
from ui.access import require_page, viewer_scope
from ui.db import get_engine
from ui.flags_cache import active_flags_summary, flags_wall_panel
from ui.html_charts import (
    caption_html,
    header_html,
    kpi_tile_html,
    oe_bars_html,
    screen_rem,
    share_bars_html,
    tile_html,
    title_html,
    trend_chart_html,
    worst_grids_html,
)
from ui.i18n import COMMON, catalog, current_language, label, name_column
from ui.live import Loaded, derived, freshness_html, live_cache, panel, resilient, show_freshness
from ui.map_image import make_wall_png
from ui.reference import dataset_facts, grid_shapes, is_demo, street_table
from ui.shell import current_filters, refresh_seconds

require_page("wall")  # 权限: stops here unless the viewer's role may see this page

T = catalog("wall")


# --- cached loaders: one screen model per refresh interval, shared by every screen --------------------------------
@live_cache
def wall_kpis(params: wall.WallParams) -> tuple[wall.Kpi, ...]:
    return wall.kpis(get_engine(), params, now=local_now())


@live_cache
def wall_map(params: wall.WallParams) -> wall.WallMap:
    return wall.map_panel(get_engine(), params, now=local_now())


@live_cache
def wall_side_panels(params: wall.WallParams) -> wall.SidePanels:
    return wall.side_panels(get_engine(), params, now=local_now())


@live_cache(ttl=300)
def wall_department_ranking(params: wall.WallParams):
    """A few queries plus a bootstrap: refreshed every 5 minutes rather than every 30 s."""
    return wall.department_ranking(get_engine(), params, now=local_now())


# --- panels ---------------------------------------------------------------------------------------------------------
def _view_key(name: str, params, loaded: Loaded) -> tuple:
    """What a derived panel depends on: its data's fetch time and how this screen shows it (not the screen's size)."""
    return (name, params, loaded.fetched_at, current_language(), refresh_seconds())


def kpi_strip(params):
    loaded = resilient(wall_kpis, params)
    cols = st.columns(7)
    if not loaded.ok:
        show_freshness(loaded, cols[0])
        return loaded
    for col, kpi in zip(cols, loaded.value):
        col.html(kpi_tile_html(kpi, T(kpi.key), T(kpi.versus), lambda change: T("points_change", change=change)))
    flags = active_flags_summary(viewer_scope())  # the viewer's flags only (a street head: their street)
    if flags is None or "error" in flags:
        cols[6].html(tile_html(T("flags"), "—", T("flags_pending")))
    else:
        cols[6].html(
            tile_html(
                T("flags"),
                f"{flags['total']:,}",
                T("flags_split", red=flags["red"], amber=flags["amber"]),
                "bad" if flags["red"] else "neutral",
            )
        )
    return loaded


class _Missing(Exception):
    """Reference data (grid or street outlines) could not be loaded for the map."""

    def __init__(self, loaded: Loaded):
        super().__init__(loaded.error)
        self.loaded = loaded


def _map_png(params, loaded: Loaded) -> bytes:
    """The map as one PNG (ui/map_image.py), built once per data refresh for every screen; the outlines are read
    only then (a cached frame is copied on every read)."""
    shapes, streets = resilient(grid_shapes, params.street_id), resilient(street_table)
    for ref in (shapes, streets):
        if not ref.ok:
            raise _Missing(ref)
    # white = reported within the last refresh interval before this data was fetched (the same for every screen)
    return make_wall_png(
        shapes.value,
        view_streets(streets.value, params.street_id),
        loaded.value,
        new_since=loaded.fetched_at - timedelta(seconds=refresh_seconds()),
        legend=T("overdue_cases"),
    )


def district_map(params):
    loaded = resilient(wall_map, params)
    st.html(title_html(T("map_title")))
    if not loaded.ok:
        show_freshness(loaded)
        return loaded
    try:
        png = derived(_view_key("wall-map", params, loaded), lambda: _map_png(params, loaded))
    except _Missing as missing:
        show_freshness(missing.loaded)
        return loaded
    st.image(png, width="stretch")
    st.html(caption_html(T("map_legend")))
    return loaded


def worst_grids(params):
    loaded = resilient(wall_map, params)
    st.html(title_html(T("worst_grids")))
    if loaded.ok:  # else the map panel beside it shows the notice
        headers = {key: T(key) for key in ("grid", "street", "overdue", "open")}
        st.html(derived(_view_key("wall-worst", params, loaded), lambda: worst_grids_html(loaded.value.worst, headers)))


def department_ranking(params):
    loaded = resilient(wall_department_ranking, params)
    if not loaded.ok:
        show_freshness(loaded)
        return
    ranked = loaded.value
    st.html(
        derived(
            _view_key("wall-depts", params, loaded),
            lambda: oe_bars_html(
                ranked.assign(label=ranked[name_column("name")].fillna(ranked["name"])), "label", title=T("dept_rank")
            ),
        )
    )


# The charts are HTML/SVG built on the server (ui/html_charts.py): no plotly bundle for the wall's screens.
def channel_panel(params, loaded: Loaded):
    mix = loaded.value.channels
    st.html(
        derived(
            _view_key("wall-channels", params, loaded),
            lambda: share_bars_html(
                mix.assign(label=mix["channel"].map(lambda c: label("channels", c))),
                "label",
                "share",
                title=T("channels"),
            ),
        )
    )


def trend_panel(params, loaded: Loaded):
    st.html(
        derived(
            _view_key("wall-trend", params, loaded),
            lambda: trend_chart_html(loaded.value.trend, {"new": T("new"), "closed": T("closed")}, title=T("trend")),
        )
    )


# --- page -------------------------------------------------------------------------------------------------------------
params = wall.WallParams(street_id=current_filters().street_id)
header, status = st.columns([3, 2])


@st.fragment(run_every=refresh_seconds())
def live_wall():
    facts = resilient(dataset_facts)
    header.html(header_html(T("title"), COMMON("demo_data") if is_demo(facts.value) else None))
    with panel():
        kpis = kpi_strip(params)
    left, centre, right = st.columns([1.15, 2.3, 1.35])
    with left:
        with panel():
            worst_grids(params)
        side = resilient(wall_side_panels, params)
        with panel():
            if side.ok:
                channel_panel(params, side)
    with centre:
        with panel():
            map_loaded = district_map(params)
    with right:
        with panel():
            department_ranking(params)
        with panel():
            if side.ok:
                trend_panel(params, side)
        with panel():
            flags_wall_panel(active_flags_summary(viewer_scope()))
    loads = [x for x in (kpis, map_loaded, side) if isinstance(x, Loaded)]
    times = [x.fetched_at for x in loads if x.fetched_at]
    oldest = min(times) if times else None
    with status:
        # turns itself into a stale warning in the browser when no refresh arrives (a hung server)
        st.html(
            freshness_html(
                oldest, refresh_seconds(), f"text-align:right;font-size:{screen_rem(1.15)};padding-top:.4rem"
            )
        )
        worst = next((x for x in loads if x.stale), None)
        if worst is not None:
            show_freshness(worst)


live_wall()
