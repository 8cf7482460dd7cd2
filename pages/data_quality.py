"""数据质量: per import source, rows imported and quarantined, fields left empty, and the time span covered.

Layout only: the numbers come from ``reports.data_quality`` through the loaders and tables of ``ui.data_quality``.
"""

from __future__ import annotations

import streamlit as st

from reports.data_quality import DEFAULT_WINDOW, WINDOWS
from ui import data_quality as view
from ui.access import require_page
from ui.i18n import catalog
from ui.live import panel, resilient, show_freshness

require_page("data_quality")  # 权限: stops here unless the viewer's role may see this page

T = catalog("data_quality")

st.markdown(f"### {T('title')}")
st.caption(T("intro"))
months = (
    st.segmented_control(
        T("window"), WINDOWS, default=DEFAULT_WINDOW, key="dq_window", format_func=lambda n: T("months_n", n=n)
    )
    or DEFAULT_WINDOW
)
loaded = resilient(view.load_quality, months)
show_freshness(loaded)
if not loaded.ok:
    st.stop()
model = loaded.value
note = view.window_note(model)
if note:
    st.caption(note)

with panel():
    st.subheader(T("sources"))
    if not model.imported:
        st.info(T("no_imports"))
    st.dataframe(
        view.sources_table(model),
        hide_index=True,
        width="stretch",
        column_config={T("landed_share"): st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1)},
    )
left, right = st.columns([3, 2])
with left, panel():
    st.subheader(T("missing"))
    missing = view.missing_table(model)
    st.dataframe(
        missing,
        width="stretch",
        column_config={s: st.column_config.NumberColumn(format="percent") for s in missing.columns},
    )
with right, panel():
    st.subheader(T("reasons"))
    if model.reasons.empty:
        st.caption(T("no_quarantine"))
    else:
        st.dataframe(view.reasons_table(model), hide_index=True, width="stretch")
if not model.monthly.empty:
    with panel():
        st.subheader(T("monthly"))
        st.bar_chart(model.monthly, height=260)
if not model.runs.empty:
    with panel():
        st.subheader(T("runs"))
        st.dataframe(view.runs_table(model), hide_index=True, width="stretch")
if model.quarantine_sources:
    with panel():
        st.subheader(T("sample"))
        source = st.selectbox(T("pick_source"), model.quarantine_sources, key="dq_source")
        rows = resilient(view.load_quarantine_rows, source)
        show_freshness(rows)
        if rows.ok:
            st.dataframe(view.quarantine_table(rows.value), hide_index=True, width="stretch", height=320)
