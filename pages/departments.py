"""部门考评: department scorecards and fair rankings (issue 6) — layout only.

The numbers are the screen models of ``reports.departments`` (the wall's mini-ranking calls the same scorecard); the
words, tables, exports and the period picker are ``ui.scorecards``, the charts ``ui.scorecard_figures``; every
indicator's formula is a tooltip and is documented in docs/indicators.md. Period (``?period=week|month|custom&start=
YYYY-MM-DD[&end=YYYY-MM-DD]``), ranking indicator (``?rank=``) and department (``?dept=<code>``) are kept in the URL
as codes, so a link works in either language; unknown values are ignored with a notice. (A widget bound with
``bind="query-params"`` would store its translated label in the URL instead.)
"""

from __future__ import annotations

from datetime import datetime, timedelta

import streamlit as st

from core.clock import local_now
from reports import departments as model
from reports.access import department_codes_in_scope, may_list_cases
from ui import scorecards as ui
from ui.access import require_page, viewer_scope
from ui.db import get_engine
from ui.i18n import catalog, name_column
from ui.live import live_cache, panel, resilient, show_freshness
from ui.params import choice_param, url_selectbox
from ui.safe import plain
from ui.scorecard_figures import (
    make_category_figure,
    make_indicator_figure,
    make_oe_figure,
    make_peer_figure,
    make_rank_interval_figure,
    make_trend_figure,
)
from ui.shell import current_filters

require_page("departments")  # 权限: stops here unless the viewer's role may see this page

T = catalog("departments")
TTL = 300
CHART = {"width": "stretch", "config": {"displayModeBar": False}}


@live_cache(ttl=TTL)
def load_last_report() -> datetime | None:
    return model.last_report_at(get_engine())


@live_cache(ttl=TTL, max_entries=24)
def load_scorecard(start: datetime, end: datetime, street_id: int | None) -> model.Scorecard:
    return model.build(get_engine(), model.ScorecardParams(start, end, street_id), now=local_now())


@live_cache(ttl=TTL, max_entries=12)
def load_street_scorecard(start: datetime, end: datetime) -> model.Scorecard:
    return model.streets(get_engine(), model.ScorecardParams(start, end), now=local_now())


@live_cache(ttl=TTL, max_entries=32)
def load_cases(department_id: int, start: datetime, end: datetime) -> model.DepartmentCases:
    return model.department_cases(get_engine(), model.DepartmentParams(department_id, start, end), now=local_now())


@live_cache(ttl=900, max_entries=16)
def load_trend(department_id: int, start: datetime, end: datetime):
    return model.trend(get_engine(), model.DepartmentParams(department_id, start, end), now=local_now())


def ranking_section(card: model.Scorecard, name_col: str) -> None:
    if card.table.empty:
        st.info(T("no_rows"))
        return
    key = url_selectbox(
        st,
        T("rank_by"),
        model.RANK_KEYS,
        "rank",
        "oe",
        format_func=ui.indicator_name,
        help=ui.indicator_formula(choice_param("rank", model.RANK_KEYS, "oe")),
    )
    ranked = model.ranking(card, key)
    left, right = st.columns([3, 2])
    with left, panel():
        if key == "oe":
            fig = make_oe_figure(ranked.table, name_col, title=T("oe_chart"), reference_label=T("oe_reference"))
        else:
            fig = make_indicator_figure(
                ranked.table,
                name_col,
                key,
                percent=ranked.kind == "rate",
                higher_is_better=ranked.higher_is_better,
                title=T("indicator_chart", name=ui.indicator_name(key)),
                unranked_col=f"{ranked.prefix}_ranked",
            )
        st.plotly_chart(fig, key="dept_rank_chart", **CHART)
    with right, panel():
        st.plotly_chart(
            make_rank_interval_figure(ranked.table, name_col, ranked.prefix, title=T("rank_chart")),
            key="dept_rank_interval_chart",
            **CHART,
        )
    frame = ui.ranking_frame(
        ranked.table, ranked.prefix, name_col, T("department"), model.DEPARTMENT_COLUMNS, extra_first=("grade",)
    )
    cfg = ui.column_config(model.DEPARTMENT_COLUMNS)
    th = card.settings_used["thresholds"]
    cfg[T("grade")] = st.column_config.TextColumn(
        help=T("grade_help", a=th.get("A"), b=th.get("B"), c=th.get("C"), d=th.get("D"))
    )
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config=cfg,
        key="dept_rank_table",
        height=min(40 + 35 * len(frame), 760),
    )
    st.caption(T("weights", w=", ".join(f"{T('w_' + k)} {v:.0f}" for k, v in card.settings_used["weights"].items())))
    ui.export_buttons(frame, f"department_ranking_{card.start:%Y%m%d}_{key}", "dept_export")


def department_section(card: model.Scorecard, name_col: str) -> None:
    codes = department_codes_in_scope(card.table, viewer_scope())  # a department head: their own only
    if not codes:
        st.info(T("no_rows"))
        return
    names = dict(zip(card.table["code"], card.table[name_col]))
    code = url_selectbox(
        st, T("pick_department"), codes, "dept", model.default_department(card), format_func=names.__getitem__
    )
    view = model.department_view(card, code)
    row = view.row
    if row["oe_ranked"]:
        st.subheader(T("dept_header", name=plain(row[name_col]), rank=int(row["oe_rank"]), n=view.n_ranked))
    else:
        st.subheader(T("dept_unranked", name=plain(row[name_col]), why=ui.status_text(row["oe_status"])))
    st.caption(
        f"{T('separation')}: {ui.status_text(row['oe_status'])} · {T('rank_interval')} "
        f"{ui.interval_text(row['oe_rank_lo'], row['oe_rank_hi'])} · {T('change')} "
        f"{ui.change_text(row['oe_rank_change'])}"
    )
    for first in (0, 6):  # two rows of six tiles
        for col, (_, metric) in zip(st.columns(6), view.metrics.iloc[first : first + 6].iterrows()):
            ui.metric_tile(col, metric)

    department_id = int(row["department_id"])
    left, right = st.columns(2)
    with left, panel():
        labels = {k: ui.indicator_name(k) for k in view.peers["key"]}
        st.plotly_chart(
            make_peer_figure(
                view.peers, labels, title=T("peers"), unit_label=T("this_department"), peer_label=T("peer_band")
            ),
            key="dept_peer_chart",
            **CHART,
        )
    with right, panel():
        trend = resilient(load_trend, department_id, card.start, card.end)
        if trend.ok:
            series = {"ontime_rate": T("trend_ontime"), "disposal_rate": T("trend_disposal"), "oe": T("trend_oe")}
            st.plotly_chart(
                make_trend_figure(
                    trend.value,
                    series,
                    percent_cols=("ontime_rate", "disposal_rate"),
                    title=T("trend", n=model.TREND_PERIODS),
                ),
                key="dept_trend_chart",
                **CHART,
            )
        else:
            show_freshness(trend)
    with panel():
        if len(view.categories):
            st.plotly_chart(
                make_category_figure(
                    view.categories,
                    name_column("minor_name"),
                    title=T("categories"),
                    labels=(T("this_department"), T("reference")),
                ),
                key="dept_category_chart",
                **CHART,
            )
            with st.expander(T("categories_table")):
                frame, cfg = ui.category_frame(view.categories)
                st.dataframe(frame, hide_index=True, width="stretch", column_config=cfg)

    cases = resilient(load_cases, department_id, card.start, card.end)
    if not cases.ok:
        show_freshness(cases)
        return
    if may_list_cases(viewer_scope(), department_id=department_id):
        ui.case_tabs(cases.value)
    else:  # the wall kiosk: how many, never which (no case numbers, addresses or return notes)
        for col, kind in zip(st.columns(3), ("overdue", "returned", "reworked")):
            col.metric(T(kind + "_cases"), len(getattr(cases.value, kind)))


def street_section(start: datetime, end: datetime) -> None:
    loaded = resilient(load_street_scorecard, start, end)
    if not loaded.ok:
        show_freshness(loaded)
        return
    card = loaded.value
    st.caption(T("street_intro"))
    if card.table.empty:
        st.info(T("no_rows"))
        return
    with panel():
        st.plotly_chart(
            make_oe_figure(card.table, "name", title=T("oe_chart"), reference_label=T("oe_reference")),
            key="street_oe_chart",
            **CHART,
        )
    frame = ui.ranking_frame(card.table, "oe", "name", T("street"), model.STREET_COLUMNS, scope="street")
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        key="street_table",
        height=min(40 + 35 * len(frame), 760),
        column_config=ui.column_config(model.STREET_COLUMNS, scope="street"),
    )
    ui.export_buttons(frame, f"street_ranking_{start:%Y%m%d}", "street_export")


# --- page -------------------------------------------------------------------------------------------------------------
st.title(T("title"))
last = resilient(load_last_report)
now = local_now()
start, end = ui.period_picker(model.anchor_day(last.value if last.ok else None, now))
loaded = resilient(load_scorecard, start, end, current_filters().street_id)
if loaded.error:  # only a failed refresh is news: the cache is refreshed every TTL on purpose
    show_freshness(loaded)
if not loaded.ok:
    st.stop()
card = loaded.value
name_col = name_column("name")
pstart, pend = card.previous or (start, end)
st.caption(
    T(
        "period_caption",
        start=f"{start:%Y-%m-%d}",
        end=f"{end - timedelta(seconds=1):%Y-%m-%d}",
        as_of=f"{card.as_of:%Y-%m-%d %H:%M}",
        pstart=f"{pstart:%Y-%m-%d}",
        pend=f"{pend - timedelta(seconds=1):%Y-%m-%d}",
    )
    + " "
    + T("intro", n=card.settings_used["min_volume"])
)
tab_rank, tab_dept, tab_streets = st.tabs([T("tab_rank"), T("tab_dept"), T("tab_streets")])
with tab_rank, panel():
    ranking_section(card, name_col)
with tab_dept, panel():
    department_section(card, name_col)
with tab_streets, panel():
    street_section(start, end)
