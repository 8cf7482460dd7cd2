"""态势大屏: the one-screen wall display for the command centre (dark, live, no scrolling)."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from data_access import queries, settings
from data_access.workcal import local_now
from ui.db import get_engine
from ui.deck import make_district_deck
from ui.figures import make_ranking_figure, make_share_bar_figure, make_trend_figure
from ui.i18n import COMMON, Catalog, label
from ui.live import Loaded, live_cache, panel, resilient, show_freshness
from ui.reference import dataset_facts, department_table, grid_shapes, is_demo, street_table
from ui.shell import current_filters, refresh_seconds

T = Catalog({
    "title": ("城市运行态势", "City operations"),
    "new_today": ("今日新增", "New today"),
    "open": ("在办案件", "Open backlog"),
    "overdue": ("超期未处置", "Overdue now"),
    "ontime": ("按期处置率(30天)", "On-time disposal (30 d)"),
    "closure": ("结案率(30天)", "Closure rate (30 d)"),
    "satisfaction": ("热线满意率(30天)", "Hotline satisfaction (30 d)"),
    "flags": ("选择性上报预警", "Reporting flags"),
    "vs_yesterday": ("较昨日同期", "vs same time yesterday"),
    "vs_day_ago": ("较24小时前", "vs 24 h ago"),
    "vs_week_ago": ("较上周", "vs a week earlier"),
    "map_title": ("网格超期积案 · 近24小时案件", "Overdue backlog by grid · cases in the last 24 h"),
    "overdue_cases": ("超期案件", "overdue cases"),
    "worst_grids": ("超期积案最多的网格", "Grids with most overdue cases"),
    "grid": ("网格", "Grid"), "street": ("街镇", "Street"),
    "dept_rank": ("部门按期处置率 前五 / 后五(30天)", "Departments: on-time disposal, best / worst five (30 d)"),
    "channels": ("案件来源(30天)", "Channels (30 d)"),
    "trend": ("近30天 新增 vs 结案", "Last 30 days: new vs closed"),
    "new": ("新增", "New"), "closed": ("结案", "Closed"),
    "no_flags_module": ("待接入", "not yet available"),
    "map_tooltip": ("<b>{name}</b><br/>超期案件: {value}", "<b>{name}</b><br/>Overdue cases: {value}"),
})

WALL_CSS = """
<style>
/* A 4K wall renders the same layout as 1080p, twice as large: readable from the back of the room. */
@media (min-width: 2500px) { html { zoom: 1.333; } }
@media (min-width: 3400px) { html { zoom: 2; } }
</style>
"""
MAP_HEIGHT = 610


# --- cached loaders (shared by every screen; one query set per TTL) ------------------------------------------------
@live_cache
def wall_kpis(street_id: int | None) -> dict:
    """KPI strip figures with their comparison values."""
    engine, now = get_engine(), local_now()
    today = queries.now_floor(now)
    day_ago, week_ago = now - timedelta(days=1), now - timedelta(days=7)
    totals = queries.backlog_totals(engine, now, street_id)
    before = queries.backlog_at(engine, day_ago, now, street_id)

    def rates(end):
        disp = queries.disposal_counts(engine, end - timedelta(days=30), end, by=None, street_id=street_id).iloc[0]
        closed = queries.count_closed(engine, end - timedelta(days=30), end, street_id)
        sat = queries.satisfaction_counts(engine, end - timedelta(days=30), end, street_id)
        due = disp["disposed"] + totals["overdue"]
        return (disp["ontime"] / disp["disposed"] if disp["disposed"] else None,
                closed / due if due else None, sat["rate"])

    ontime, closure, satisfaction = rates(now)
    ontime_prev, closure_prev, satisfaction_prev = rates(week_ago)
    return {
        "new_today": queries.count_reported(engine, today, now, street_id),
        "new_yesterday": queries.count_reported(engine, today - timedelta(days=1), day_ago, street_id),
        "open": totals["open"], "open_before": before["open"],
        "overdue": totals["overdue"], "overdue_before": before["overdue"],
        "ontime": ontime, "ontime_prev": ontime_prev, "closure": closure, "closure_prev": closure_prev,
        "satisfaction": satisfaction, "satisfaction_prev": satisfaction_prev,
    }


@live_cache
def wall_map_data(street_id: int | None) -> dict:
    """Per-grid open/overdue counts and the last 24 h of cases as points."""
    engine, now = get_engine(), local_now()
    return {"backlog": queries.open_backlog_by_grid(engine, now, street_id),
            "points": queries.recent_case_points(engine, now - timedelta(hours=24), street_id,
                                                 limit=settings.get("map_max_points"))}


@live_cache
def wall_side_panels(street_id: int | None) -> dict:
    """Department on-time ranking, channel mix and the 30-day trend."""
    engine, now = get_engine(), local_now()
    start = now - timedelta(days=30)
    depts = queries.disposal_counts(engine, start, now, by="department_id", street_id=street_id)
    depts = depts[depts["disposed"] >= settings.get("min_rank_volume")].copy()
    depts["rate"] = depts["ontime"] / depts["disposed"]
    return {"departments": depts,
            "channels": queries.channel_mix(engine, start, now, street_id),
            "trend": queries.daily_new_and_closed(engine, queries.now_floor(start) + timedelta(days=1), now,
                                                  street_id)}


# --- layout -----------------------------------------------------------------------------------------------------------
def _pct(v):
    return "—" if v is None else f"{v:.1%}"


def _delta_pct(v, prev):
    return None if v is None or prev is None else f"{(v - prev) * 100:+.1f} pt"


def kpi_strip(street_id):
    loaded = resilient(wall_kpis, street_id)
    k = loaded.value
    cols = st.columns(7)
    if not loaded.ok:
        show_freshness(loaded, cols[0])
        return loaded
    cols[0].metric(T("new_today"), f"{k['new_today']:,}", f"{k['new_today'] - k['new_yesterday']:+,}",
                   help=T("vs_yesterday"))
    cols[1].metric(T("open"), f"{k['open']:,}", f"{k['open'] - k['open_before']:+,}", delta_color="inverse",
                   help=T("vs_day_ago"))
    cols[2].metric(T("overdue"), f"{k['overdue']:,}", f"{k['overdue'] - k['overdue_before']:+,}",
                   delta_color="inverse", help=T("vs_day_ago"))
    cols[3].metric(T("ontime"), _pct(k["ontime"]), _delta_pct(k["ontime"], k["ontime_prev"]), help=T("vs_week_ago"))
    cols[4].metric(T("closure"), _pct(k["closure"]), _delta_pct(k["closure"], k["closure_prev"]),
                   help=T("vs_week_ago"))
    cols[5].metric(T("satisfaction"), _pct(k["satisfaction"]),
                   _delta_pct(k["satisfaction"], k["satisfaction_prev"]), help=T("vs_week_ago"))
    cols[6].metric(T("flags"), "—", T("no_flags_module"), delta_color="off")
    return loaded


def district_map(street_id):
    loaded = resilient(wall_map_data, street_id)
    shapes, streets = resilient(grid_shapes, street_id), resilient(street_table)
    st.markdown(f"**{T('map_title')}**")
    if not (loaded.ok and shapes.ok and streets.ok):
        show_freshness(loaded if not loaded.ok else (shapes if not shapes.ok else streets))
        return loaded
    street_rows = streets.value if street_id is None else streets.value[streets.value["id"] == street_id]
    values = loaded.value["backlog"].rename(columns={"overdue": "value"})[["grid_id", "value"]]
    previous = st.session_state.get("wall_previous_fetch")
    if previous is None or previous > loaded.fetched_at:
        previous = loaded.fetched_at
    deck = make_district_deck(shapes.value, values, street_rows, value_label=T("overdue_cases"),
                              points=loaded.value["points"], new_since=previous, height_px=MAP_HEIGHT, width_px=780,
                              tooltip_html=T("map_tooltip"))
    st.session_state["wall_previous_fetch"] = loaded.fetched_at
    st.pydeck_chart(deck, height=MAP_HEIGHT, key="wall_map")
    return loaded


def worst_grids(street_id):
    loaded, shapes, streets = resilient(wall_map_data, street_id), resilient(grid_shapes, street_id), \
        resilient(street_table)
    st.markdown(f"**{T('worst_grids')}**")
    if not (loaded.ok and shapes.ok and streets.ok):
        return
    top = loaded.value["backlog"].sort_values(["overdue", "open"], ascending=False).head(9)
    top = top.merge(shapes.value[["id", "name", "street_id"]], left_on="grid_id", right_on="id") \
        .merge(streets.value[["id", "name"]].rename(columns={"id": "street_id", "name": "street"}), on="street_id")
    table = pd.DataFrame({T("grid"): top["name"], T("street"): top["street"], T("overdue"): top["overdue"],
                          T("open"): top["open"]})
    st.dataframe(table, hide_index=True, height=360, width="stretch")


def department_ranking(loaded: Loaded, depts: pd.DataFrame):
    ranked = loaded.value["departments"].merge(depts[["id", "name"]], left_on="department_id", right_on="id")
    ranked = ranked.sort_values("rate", ascending=False)
    shown = pd.concat([ranked.head(5).assign(is_best=True), ranked.tail(5).assign(is_best=False)]) \
        .drop_duplicates("department_id")
    st.plotly_chart(make_ranking_figure(shown, "name", "rate", height=330, title=T("dept_rank")),
                    width="stretch", config={"displayModeBar": False}, key="wall_depts")


def channel_panel(loaded: Loaded):
    mix = loaded.value["channels"].assign(label=lambda f: f["channel"].map(lambda c: label("channels", c)))
    st.plotly_chart(make_share_bar_figure(mix, "label", "share", height=250, title=T("channels")),
                    width="stretch", config={"displayModeBar": False}, key="wall_channels")


def trend_panel(loaded: Loaded):
    st.plotly_chart(make_trend_figure(loaded.value["trend"], {"new": T("new"), "closed": T("closed")}, height=260,
                                      title=T("trend")), width="stretch", config={"displayModeBar": False},
                    key="wall_trend")


# --- page -------------------------------------------------------------------------------------------------------------
st.html(WALL_CSS)
street_id = current_filters().street_id


@st.fragment(run_every=refresh_seconds())
def live_wall():
    header, status = st.columns([3, 2])
    facts = resilient(dataset_facts)
    demo = f" · :orange-badge[{COMMON('demo_data')}]" if is_demo(facts.value) else ""
    header.markdown(f"### {T('title')}{demo}")
    with panel():
        kpis = kpi_strip(street_id)
    left, centre, right = st.columns([1.15, 2.3, 1.35])
    with left:
        with panel():
            worst_grids(street_id)
        side = resilient(wall_side_panels, street_id)
        with panel():
            if side.ok:
                channel_panel(side)
    with centre:
        with panel():
            map_loaded = district_map(street_id)
    with right:
        depts = resilient(department_table)
        with panel():
            if side.ok and depts.ok:
                department_ranking(side, depts.value)
        with panel():
            if side.ok:
                trend_panel(side)
    loads = [x for x in (kpis, map_loaded, side) if isinstance(x, Loaded)]
    times = [x.fetched_at for x in loads if x.fetched_at]
    oldest = min(times) if times else None
    status.markdown(f"<div style='text-align:right;font-size:1.15rem;padding-top:.6rem'>"
                    f"{COMMON('data_as_of', time=oldest.strftime('%H:%M:%S') if oldest else '—')}</div>",
                    unsafe_allow_html=True)
    worst = next((x for x in loads if x.stale), None)
    if worst is not None:
        show_freshness(worst, status)


live_wall()
