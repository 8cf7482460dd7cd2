"""案件地图: live case map with grid measures, filters, layer toggles and a grid drill-down.

Layout only: the data come from the screen model ``reports.map`` through cached loaders, the deck from ``ui.deck``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.clock import local_now
from core.domain import CHANNELS, STATUSES
from reports import map as case_map
from reports.access import case_details_in_scope, may_list_cases
from reports.map import COLOUR_BY, DEFAULT_LAYERS, LAYERS, MEASURES, POINT_WINDOWS, MapParams
from ui.access import may_see, require_page, viewer_scope
from ui.auth import current_user
from ui.db import get_engine
from ui.deck import deck_payload_bytes, make_district_deck, picked_id
from ui.i18n import catalog, label, name_column
from ui.live import live_cache, resilient, show_freshness
from ui.params import choice_param, url_multiselect, url_selectbox
from ui.reference import category_table, department_table, grid_shapes, street_table
from ui.safe import plain
from ui.shell import current_filters

require_page("map")  # 权限: stops here unless the viewer's role may see this page

T = catalog("map")
TOOLTIP = "<b>{name}</b><br/>{value_label}: {value}"  # deck.gl template; the label itself is translated
MAP_HEIGHT = 640


@live_cache
def map_grid_measures(params: MapParams) -> pd.DataFrame:
    return case_map.grid_measures(get_engine(), params, now=local_now())


@live_cache
def map_points(params: MapParams, window: str) -> case_map.Points:
    return case_map.points(get_engine(), params, POINT_WINDOWS[window], now=local_now())


@live_cache
def map_grid_cases(params: MapParams, grid_id: int) -> pd.DataFrame:
    return case_map.grid_cases(get_engine(), params, grid_id, now=local_now())


@live_cache(ttl=600)
def map_communities(street_id: int | None) -> pd.DataFrame:
    return case_map.community_shapes(get_engine(), street_id)


# --- filters ----------------------------------------------------------------------------------------------------------
filters = current_filters()
st.subheader(T("title"))
categories, departments = resilient(category_table), resilient(department_table)
controls = st.columns([1.1, 1, 1, 1.2, 1.2, 1.2, 1.2])
# In the URL as codes (?measure=…&points=…&colour=…&channel=…), so a link reproduces the view in either language.
measure = url_selectbox(controls[0], T("measure"), MEASURES, "measure", format_func=T)
window_key = url_selectbox(
    controls[1], T("points"), list(POINT_WINDOWS), "points", default=list(POINT_WINDOWS)[2], format_func=T
)
colour_key = url_selectbox(controls[2], T("colour_by"), list(COLOUR_BY), "colour", format_func=T)
channels = url_multiselect(
    controls[3],
    T("channel"),
    list(CHANNELS),
    "channel",
    format_func=lambda c: label("channels", c),
    placeholder=T("all"),
)
statuses = controls[4].multiselect(
    T("status"),
    [s for s in STATUSES if s != "cancelled"],
    format_func=lambda s: label("statuses", s),
    placeholder=T("all"),
    key="map_status",
)
major, minor_ids, dept_ids = None, (), ()
if categories.ok:
    cats = categories.value
    majors = cats.drop_duplicates("major_code").set_index("major_code")[name_column("major_name")]
    major = controls[5].selectbox(
        T("major"),
        [None, *majors.index],
        format_func=lambda k: T("all") if k is None else f"{k} {majors[k]}",
        key="map_major",
    )
    if major:
        minors = cats[cats["major_code"] == major].set_index("id")[name_column("minor_name")]
        minor_ids = tuple(
            st.multiselect(
                T("minor"), list(minors.index), format_func=minors.get, placeholder=T("all"), key="map_minor"
            )
        )
if departments.ok:
    depts = departments.value.set_index("id")["name"]
    chosen = controls[6].selectbox(
        T("department"),
        [None, *depts.index],
        format_func=lambda k: T("all") if k is None else depts[k],
        key="map_department",
    )
    dept_ids = () if chosen is None else (int(chosen),)
shown = (
    st.pills(T("layers"), LAYERS, selection_mode="multi", default=list(DEFAULT_LAYERS), format_func=T, key="map_layers")
    or []
)
params = MapParams(
    street_id=filters.street_id,
    days=filters.days,
    channels=tuple(channels),
    statuses=tuple(statuses),
    major_code=major,
    category_ids=minor_ids,
    department_ids=dept_ids,
)

# --- data -------------------------------------------------------------------------------------------------------------
measures = resilient(map_grid_measures, params)
shapes, streets = resilient(grid_shapes, filters.street_id), resilient(street_table)
points = resilient(map_points, params, window_key) if POINT_WINDOWS[window_key] else None
if not (measures.ok and shapes.ok and streets.ok):
    show_freshness(next(x for x in (measures, shapes, streets) if not x.ok))
    st.stop()
show_freshness(measures)
point_frame = None
if points is not None and points.ok:
    if points.value.frame is None:
        st.info(T("too_many", n=points.value.n, cap=points.value.cap))
    point_frame = case_details_in_scope(points.value.frame, viewer_scope())  # the wall: no case numbers
communities = resilient(map_communities, filters.street_id) if "l_communities" in shown else None

# --- map: the selection lives in the URL (?grid=ID), so a link reproduces the drill-down; a click updates it ---------
clicked = picked_id(st.session_state.get("case_map"), "grids")
if clicked is not None:
    st.query_params["grid"] = str(clicked)
selected = choice_param("grid", shapes.value["id"].astype(int).tolist())
deck = make_district_deck(
    shapes.value,
    measures.value[["grid_id", measure]].rename(columns={measure: "value"}),
    case_map.view_streets(streets.value, filters.street_id),
    value_label=T(measure),
    points=point_frame,
    colour_by=COLOUR_BY[colour_key],
    community_shapes=communities.value if communities is not None else None,
    show=tuple(name.removeprefix("l_") for name in shown),
    selected_grid=selected,
    tooltip_html=TOOLTIP,
    height_px=MAP_HEIGHT,
)
st.pydeck_chart(deck, height=MAP_HEIGHT, on_select="rerun", selection_mode="single-object", key="case_map")
st.caption(f"{T('click_hint')} · {T('payload', kb=deck_payload_bytes(deck) // 1024)}")

# --- the selected grid's open cases ------------------------------------------------------------------------------------
if selected is not None:
    grid = measures.value[measures.value["grid_id"] == selected]
    if not grid.empty:
        row = grid.iloc[0]
        st.markdown(
            "**"
            + T(
                "drill",
                name=plain(row["name"]),
                open=int(row["open"]),
                overdue=int(row["overdue"]),
                new=int(row["new"]),
            )
            + "**"
        )
        cases = resilient(map_grid_cases, params, selected) if may_list_cases(viewer_scope()) else None
        if cases is not None and cases.ok:  # the wall kiosk: the counts above, never the list
            frame = cases.value
            st.dataframe(
                pd.DataFrame(
                    {
                        T("case_no"): frame["case_no"],
                        T("status"): frame["status"].map(lambda s: label("statuses", s)),
                        T("category"): frame[name_column("minor_name")],
                        T("department"): frame["department"],
                        T("reported"): frame["reported_at"],
                        T("deadline"): frame["deadline"],
                        T("overdue"): frame["overdue"],
                        T("address"): frame["address"],
                    }
                ),
                hide_index=True,
                width="stretch",
                height=320,
            )
            if may_see(current_user(), "backlog"):  # the read-only kiosk role has no backlog page to open
                st.page_link(
                    "pages/backlog.py",
                    label=T("open_in_backlog"),
                    icon=":material/list_alt:",
                    query_params={"grid": str(selected)},
                )
