"""网格积案: the open backlog, street → community → grid → case list → case file, with export.

Layout only: the numbers come from ``reports.backlog`` through the loaders and tables of ``ui.backlog``.
"""

from __future__ import annotations

import streamlit as st

from reports.backlog import filter_units
from ui import backlog as view
from ui.access import case_allowed, department_scope, id_param, require_page
from ui.auth import current_user
from ui.i18n import catalog
from ui.live import resilient, show_freshness
from ui.safe import plain
from ui.shell import current_filters

require_page("backlog")  # 权限: stops here unless the viewer's role may see this page

T = catalog("backlog")

# --- parameters: the sidebar's street, then ?community= ?grid= ?case= (the drill-down lives in the URL) -------------
filters, viewer = current_filters(), current_user()
community_id, grid_id, case_id = id_param("community"), id_param("grid"), id_param("case")

# --- the unit table ---------------------------------------------------------------------------------------------------
st.subheader(T("title"))
loaded = resilient(view.load_backlog, filters.street_id, community_id, grid_id)
model = loaded.value
st.caption(view.breadcrumb(model))
if (model.community_id if model else community_id) is not None and st.button(T("back"), icon=":material/arrow_upward:"):
    for key in ("community", "grid", "case"):
        st.query_params.pop(key, None)
    st.rerun()
if not loaded.ok:
    show_freshness(loaded)
    st.stop()
show_freshness(loaded)

left, right = st.columns([2, 1])
needle = left.text_input(T("search"), max_chars=40)
shown = filter_units(model.units, needle, right.toggle(T("only_overdue")))
table = view.unit_table(shown)
st.markdown(f"**{T(view.LEVEL_NAMES[model.level])}** · {T('pick_hint')}")
picked = st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    height=380,
    on_select="rerun",
    selection_mode="single-row",
    key=f"backlog_{model.level}_{model.parent_id}",
)
grid_id = model.grid_id
if picked and picked.selection and picked.selection.rows:
    chosen = int(shown.iloc[picked.selection.rows[0]]["unit_id"])
    st.query_params[model.level] = str(chosen)  # ?street= (the sidebar picks it up), ?community= or ?grid=
    if model.level != "grid":
        st.rerun()
    grid_id = chosen
exports = st.columns([1, 1, 6])
exports[0].download_button(
    T("csv"), view.csv_bytes(table), "gridscope-backlog.csv", "text/csv", icon=":material/download:"
)
exports[1].download_button(
    T("xlsx"), view.xlsx_bytes(table), "gridscope-backlog.xlsx", view.XLSX_MIME, icon=":material/download:"
)

# --- the open cases of the chosen grid --------------------------------------------------------------------------------
if model.level == "grid" and grid_id is not None:
    cases = resilient(view.load_grid_cases, grid_id, department_scope(viewer))
    st.markdown(f"**{T('cases_of', name=plain((cases.value.grid_name if cases.ok else None) or grid_id))}**")
    if cases.ok:
        frame = cases.value.cases
        chosen_case = st.dataframe(
            view.case_table(frame),
            hide_index=True,
            width="stretch",
            height=300,
            on_select="rerun",
            selection_mode="single-row",
            key=f"cases_{grid_id}",
        )
        if chosen_case and chosen_case.selection and chosen_case.selection.rows:
            case_id = int(frame.iloc[chosen_case.selection.rows[0]]["id"])
            st.query_params["case"] = str(case_id)

# --- one case file ----------------------------------------------------------------------------------------------------
if case_id is not None and viewer is not None and not case_allowed(viewer, case_id):
    st.warning(T("not_found", id=case_id))
    case_id = None
if case_id is not None:
    record = resilient(view.load_case_file, case_id)
    if record.value is None and record.error is None:  # loaded fine: there is no such case
        st.warning(T("not_found", id=case_id))
    elif record.ok:
        file = record.value
        st.markdown(f"#### {T('case_file', no=plain(file.case_no))}")
        if file.clock is None:
            st.caption(T("sla_none"))
        else:
            st.markdown(view.sla_badge(file))
            st.progress(min(file.clock.fraction, 1.0))
        info, events = st.columns([1, 1.3])
        info.dataframe(view.case_fields_table(file), hide_index=True, width="stretch", height=520)
        events.markdown(f"**{T('timeline')}**")
        events.dataframe(view.timeline_table(file.timeline), hide_index=True, width="stretch", height=520)
