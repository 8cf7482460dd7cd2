"""案件地图: live case map with grid measures, filters, layer toggles and a grid drill-down."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from data_access import backlog_queries, settings
from data_access.case_filter import CaseFilter
from data_access.domain import CHANNELS, STATUSES
from data_access.workcal import local_now
from ui.access import require_page
from ui.db import get_engine
from ui.deck import deck_payload_bytes, make_district_deck
from ui.i18n import COMMON, Catalog, label, name_column
from ui.live import live_cache, resilient, show_freshness
from ui.reference import category_table, department_table, grid_shapes, street_table
from ui.shell import current_filters

require_page("map")     # 权限: stops here unless the viewer's role may see this page

T = Catalog({
    "title": ("案件地图", "Case map"),
    "measure": ("网格着色", "Colour grids by"),
    "m_open": ("在办案件", "Open backlog"), "m_overdue": ("超期案件", "Overdue"),
    "m_new_per_1000": ("每千人新增", "New per 1,000 residents"), "m_ontime": ("按期处置率", "On-time rate"),
    "points": ("案件点位", "Case points"),
    "p_none": ("不显示", "None"), "p_1h": ("近1小时", "Last hour"), "p_24h": ("近24小时", "Last 24 h"),
    "p_7d": ("近7天", "Last 7 days"),
    "colour_by": ("点位颜色", "Colour points by"),
    "c_status": ("状态", "Status"), "c_channel": ("来源", "Channel"), "c_major": ("大类", "Major class"),
    "channel": ("来源", "Channel"), "major": ("大类", "Major class"), "minor": ("小类", "Minor class"),
    "status": ("状态", "Status"), "department": ("处置部门", "Department"),
    "layers": ("图层", "Layers"), "l_grids": ("网格", "Grids"), "l_streets": ("街镇边界", "Streets"),
    "l_communities": ("社区边界", "Communities"), "l_points": ("案件点位", "Case points"),
    "all": ("全部", "All"),
    "too_many": ("该范围内有 {n:,} 件案件，超过地图上限 {cap:,}：改为按网格汇总显示。",
                 "{n:,} cases in this range exceed the map limit of {cap:,}: shown aggregated per grid instead."),
    "click_hint": ("点击网格查看该网格的在办案件。", "Click a grid to see its open cases."),
    "drill": ("网格 {name}：在办 {open} 件，超期 {overdue} 件，窗口内新增 {new} 件",
              "Grid {name}: {open} open, {overdue} overdue, {new} new in the window"),
    "case_no": ("案件编号", "Case no."), "reported": ("上报时间", "Reported"), "deadline": ("处置时限", "Deadline"),
    "overdue": ("超期", "Overdue"), "category": ("类别", "Category"), "address": ("地址", "Address"),
    "open_in_backlog": ("在积案页查看", "Open in backlogs"),
    "payload": ("地图数据 {kb:,} KB", "Map data {kb:,} KB"),
})
TOOLTIP = "<b>{name}</b><br/>{value_label}: {value}"      # deck.gl template; the label itself is translated
MEASURES = ("m_overdue", "m_open", "m_new_per_1000", "m_ontime")
POINT_WINDOWS = {"p_none": None, "p_1h": timedelta(hours=1), "p_24h": timedelta(hours=24), "p_7d": timedelta(days=7)}
COLOUR_BY = {"c_status": "status", "c_channel": "channel", "c_major": "major_code"}
MAP_HEIGHT = 640


@live_cache
def map_grid_measures(days: int, flt: CaseFilter) -> pd.DataFrame:
    now = local_now()
    return backlog_queries.grid_measures(get_engine(), now, now - timedelta(days=days), now, flt)


@live_cache
def map_points(window_seconds: int, flt: CaseFilter) -> dict:
    """Points of the window, or only their count when it exceeds the cap (then the page aggregates)."""
    engine, now = get_engine(), local_now()
    start, cap = now - timedelta(seconds=window_seconds), int(settings.get("map_max_points"))
    n = backlog_queries.count_cases(engine, start, now, flt)
    points = backlog_queries.case_points(engine, start, now, flt, limit=cap) if n <= cap else None
    return {"n": n, "points": points}


@live_cache
def map_open_cases(grid_id: int, flt: CaseFilter) -> pd.DataFrame:
    return backlog_queries.open_cases(get_engine(), local_now(), grid_id=grid_id, flt=flt, limit=500)


@st.cache_data(ttl=600, max_entries=8, show_spinner=False)
def community_rings(street_id: int | None) -> pd.DataFrame:
    from data_access.queries import communities
    from ui.deck import polygon_rings
    frame = communities(get_engine(), street_id)
    return frame.assign(ring=frame["polygon_geojson"].map(polygon_rings)).drop(columns=["polygon_geojson"])


def measure_values(measures: pd.DataFrame, shapes: pd.DataFrame, measure: str) -> pd.DataFrame:
    """Per-grid value of the chosen measure (pure: easy to test)."""
    m = shapes[["id", "population"]].rename(columns={"id": "grid_id"}).merge(measures, on="grid_id", how="left")
    m = m.fillna(0)
    if measure == "m_open":
        value = m["open"]
    elif measure == "m_overdue":
        value = m["overdue"]
    elif measure == "m_new_per_1000":
        value = (m["new"] / m["population"].where(m["population"] > 0) * 1000).fillna(0)
    else:   # on-time rate: low is bad, so colour the shortfall
        value = (m["ontime"] / m["disposed"].where(m["disposed"] > 0)).fillna(1.0)
    return pd.DataFrame({"grid_id": m["grid_id"], "value": value})


# --- page -------------------------------------------------------------------------------------------------------------
filters = current_filters()
st.subheader(T("title"))
categories, departments = resilient(category_table), resilient(department_table)
controls = st.columns([1.1, 1, 1, 1.2, 1.2, 1.2, 1.2])
# Bound to the URL (?measure=…&points=…&colour=…&channel=…), so a link reproduces the view.
measure = controls[0].selectbox(T("measure"), MEASURES, format_func=T, key="measure", bind="query-params")
window_key = controls[1].selectbox(T("points"), list(POINT_WINDOWS), index=2, format_func=T, key="points",
                                   bind="query-params")
colour_key = controls[2].selectbox(T("colour_by"), list(COLOUR_BY), format_func=T, key="colour",
                                   bind="query-params")
channels = controls[3].multiselect(T("channel"), list(CHANNELS), format_func=lambda c: label("channels", c),
                                   placeholder=T("all"), key="channel", bind="query-params")
statuses = controls[4].multiselect(T("status"), [s for s in STATUSES if s != "cancelled"],
                                   format_func=lambda s: label("statuses", s), placeholder=T("all"),
                                   key="map_status")
major, minor_ids, dept_ids = None, (), ()
if categories.ok:
    cats = categories.value
    majors = cats.drop_duplicates("major_code").set_index("major_code")[name_column("major_name")]
    major = controls[5].selectbox(T("major"), [None, *majors.index], format_func=lambda k: T("all") if k is None
                                  else f"{k} {majors[k]}", key="map_major")
    if major:
        minors = cats[cats["major_code"] == major].set_index("id")[name_column("minor_name")]
        minor_ids = tuple(st.multiselect(T("minor"), list(minors.index), format_func=minors.get,
                                         placeholder=T("all"), key="map_minor"))
if departments.ok:
    depts = departments.value.set_index("id")["name"]
    chosen = controls[6].selectbox(T("department"), [None, *depts.index],
                                   format_func=lambda k: T("all") if k is None else depts[k], key="map_department")
    dept_ids = () if chosen is None else (int(chosen),)
layer_names = ("l_grids", "l_streets", "l_communities", "l_points")
shown = st.pills(T("layers"), layer_names, selection_mode="multi", default=["l_grids", "l_streets", "l_points"],
                 format_func=T, key="map_layers")
flt = CaseFilter(street_id=filters.street_id, channels=tuple(channels), statuses=tuple(statuses), major_code=major,
                 category_ids=minor_ids, department_ids=dept_ids)

measures = resilient(map_grid_measures, filters.days, flt)
shapes, streets = resilient(grid_shapes, filters.street_id), resilient(street_table)
window = POINT_WINDOWS[window_key]
points = resilient(map_points, int(window.total_seconds()), flt) if window else None
if not (measures.ok and shapes.ok and streets.ok):
    show_freshness(next(x for x in (measures, shapes, streets) if not x.ok))
    st.stop()
show_freshness(measures)
street_rows = streets.value if filters.street_id is None else streets.value[streets.value["id"] == filters.street_id]
point_frame = None
if points is not None and points.ok:
    if points.value["points"] is None:
        st.info(T("too_many", n=points.value["n"], cap=int(settings.get("map_max_points"))))
    else:
        point_frame = points.value["points"]
# The selection lives in the URL (?grid=ID), so a link reproduces the drill-down; a click on the map updates it.
map_state = st.session_state.get("case_map")
picked = []
if map_state is not None:
    selection = map_state.get("selection", {}) if isinstance(map_state, dict) else getattr(map_state, "selection", {})
    objects = selection.get("objects", {}) if isinstance(selection, dict) else getattr(selection, "objects", {})
    picked = objects.get("grids") or []
if picked:
    st.query_params["grid"] = str(int(picked[0]["id"]))
raw_grid = st.query_params.get("grid")
selected = int(raw_grid) if raw_grid and raw_grid.isascii() and raw_grid.isdigit() and len(raw_grid) < 9 else None
if raw_grid and (selected is None or selected not in set(shapes.value["id"])):
    st.toast(COMMON("ignored_param", name="grid", value=raw_grid[:40]))
    selected = None
deck = make_district_deck(
    shapes.value, measure_values(measures.value, shapes.value, measure), street_rows, value_label=T(measure),
    points=point_frame, colour_by=COLOUR_BY[colour_key],
    community_shapes=community_rings(filters.street_id) if "l_communities" in (shown or []) else None,
    show=tuple(name.removeprefix("l_") for name in (shown or [])), selected_grid=selected,
    tooltip_html=TOOLTIP, height_px=MAP_HEIGHT)
st.pydeck_chart(deck, height=MAP_HEIGHT, on_select="rerun", selection_mode="single-object", key="case_map")
st.caption(f"{T('click_hint')} · {T('payload', kb=deck_payload_bytes(deck) // 1024)}")

if selected is not None:
    grid = shapes.value[shapes.value["id"] == selected]
    if not grid.empty:
        row = measures.value.set_index("grid_id").reindex([selected]).fillna(0).iloc[0]
        st.markdown("**" + T("drill", name=grid.iloc[0]["name"], open=int(row["open"]), overdue=int(row["overdue"]),
                               new=int(row["new"])) + "**")
        cases = resilient(map_open_cases, selected, flt)
        if cases.ok:
            frame = cases.value
            st.dataframe(pd.DataFrame({
                T("case_no"): frame["case_no"], T("status"): frame["status"].map(lambda s: label("statuses", s)),
                T("category"): frame[name_column("minor_name")], T("department"): frame["department"],
                T("reported"): frame["reported_at"], T("deadline"): frame["extended_deadline_at"].fillna(
                    frame["deadline_at"]), T("overdue"): frame["overdue"].astype(bool),
                T("address"): frame["address"]}), hide_index=True, width="stretch", height=320)
            st.page_link("pages/backlog.py", label=T("open_in_backlog"), icon=":material/list_alt:",
                         query_params={"grid": str(selected)})
