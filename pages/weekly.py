"""周例会: the weekly coordination meeting review (issue 8) — headline changes, the department agenda, hotspots,
action items (督办事项) and the meeting pack (PDF / XLSX). How the meeting uses the page: docs/weekly.md.

Layout only: the numbers, THE agenda and the flags section come from the screen model ``reports.weekly`` (cached
loaders below), the pack from ``ui.meeting_pack`` (built from the same model). The week is in the URL
(``?week=YYYY-MM-DD``, a Monday the picker offers; anything else is ignored with the usual notice). The page writes
only when a viewer creates or closes an action item (writer engine); carrying open items into later weeks is the
worker's job (``reports.weekly.carry_over_action_items``).
"""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from core.clock import local_now
from reports import weekly as rw
from reports.flags import in_scope
from ui import flags_cache, meeting_pack
from ui import weekly_view as view
from ui.access import require_page, viewer_scope
from ui.db import get_engine, get_writer
from ui.i18n import catalog, current_language, name_column
from ui.live import live_cache, panel, resilient, show_freshness
from ui.params import choice_param
from ui.safe import plain

require_page("weekly")  # 权限: stops here unless the viewer's role may see this page

T = catalog("weekly")


@live_cache(ttl=300)
def week_options() -> rw.WeekOptions:
    return rw.week_options(get_engine(), now=local_now())


@live_cache(ttl=300, max_entries=16)
def headline(params: rw.WeeklyParams) -> rw.Headline:
    return rw.headline(get_engine(), params, now=local_now())


@live_cache(ttl=300, max_entries=16)
def agenda_base(params: rw.WeeklyParams) -> rw.AgendaBase:
    """Everything of the agenda but the action items (read on every render: a write must show at once)."""
    return rw.agenda_base(get_engine(), params, now=local_now())


@live_cache(ttl=300, max_entries=16)
def hotspots(params: rw.WeeklyParams) -> rw.Hotspots:
    return rw.hotspots(get_engine(), params, now=local_now())


def flag_table():
    """The flag table of the shared flags bundle, None while it is not ready (never computed here)."""
    try:
        bundle = flags_cache.flag_bundle(block=False)
    except Exception:  # noqa: BLE001 - the flags are optional on this page
        return None
    return None if bundle is None else in_scope(bundle.report.flags, viewer_scope())  # the viewer's flags only


st.title(T("title"))
st.caption(T("intro"))
now, lang = local_now(), current_language()
weeks = resilient(week_options)
if not weeks.ok:
    show_freshness(weeks)
    st.stop()
if not weeks.value.options:
    st.info(T("no_data"))
    st.stop()
options, running = weeks.value.options, weeks.value.running
raw = st.query_params.get("week")
from_url = choice_param("week", options)  # a bad value: ignored with the usual notice
if "weekly_week" not in st.session_state or (from_url and raw != st.session_state.get("_weekly_url")):
    st.session_state["weekly_week"] = from_url or weeks.value.default
left, right = st.columns([2, 1])
week = left.selectbox(
    T("week"),
    options,
    key="weekly_week",
    format_func=lambda m: (
        T("week_label", start=m.isoformat(), end=(m + timedelta(days=6)).isoformat())
        + (T("running") if m == running else "")
    ),
)
repeat_days = right.select_slider(
    T("repeat_days"), rw.REPEAT_CHOICES, value=rw.DEFAULT_REPEAT_DAYS, help=T("repeat_help"), key="weekly_repeat"
)
if raw != week.isoformat():
    st.query_params["week"] = week.isoformat()
st.session_state["_weekly_url"] = week.isoformat()
params = rw.WeeklyParams(week, repeat_days)

with panel():  # headline: this week vs the previous one and the 4-week average
    head = resilient(headline, params)
    show_freshness(head)
    if head.ok:
        for col, r in zip(st.columns(len(rw.HEADLINE_KEYS)), head.value.changes.itertuples()):
            shown, caption = view.metric(r)
            col.metric(**shown)
            col.caption(caption)

base = resilient(agenda_base, params)
name_of = dict(zip(base.value.names["department_id"], base.value.names[name_column("name")])) if base.ok else {}
items = rw.week_items(get_engine(), params)
flags = flag_table() if rw.flags_shown(week, now) else None
tab_agenda, tab_hot, tab_items, tab_export = st.tabs([T("tab_agenda"), T("tab_hot"), T("tab_items"), T("tab_export")])

with tab_agenda, panel():
    show_freshness(base)
    agenda = rw.agenda(base.value, items.items, repeat_days) if base.ok else None
    if agenda and agenda.departments.empty:
        st.info(T("no_agenda"))
    elif agenda:
        st.caption(T("agenda_hint"))
        st.dataframe(view.agenda_table(agenda.departments), hide_index=True, width="stretch", height=300)
        dept = st.selectbox(
            T("pick_department"),
            list(agenda.departments["department_id"]),
            format_func=lambda i: name_of.get(i, str(i)),
            key="weekly_dept",
        )
        st.subheader(plain(name_of.get(dept, str(dept))))
        st.markdown(view.department_summary(agenda.departments.set_index("department_id").loc[dept]))
        for heading, frame in view.case_tables(agenda.cases_of(dept), repeat_days):
            st.markdown(f"**{heading}**")
            st.dataframe(frame, hide_index=True, width="stretch")

with tab_hot, panel():
    hot = resilient(hotspots, params)
    show_freshness(hot)
    if hot.ok:
        st.markdown(f"**{T('places')}**")
        st.dataframe(view.places_table(hot.value.places), hide_index=True, width="stretch")
        st.markdown(f"**{T('heat')}**")
        majors = hot.value.majors
        if len(majors):
            major_names = dict(zip(majors["major_code"], majors[name_column("major_name")]))
            major = st.selectbox(
                T("major"),
                [None, *majors["major_code"]],
                key="weekly_major",
                format_func=lambda c: T("all_majors") if c is None else major_names.get(c, c),
            )
            st.plotly_chart(
                view.make_heat_figure(rw.heat_grid(hot.value.heat, major)),
                config={"displayModeBar": False},
                key="weekly_heat",
            )
    st.markdown(f"**{T('flags')}**")
    section = rw.flags_section(params, flags, now=now)
    if section.state == "listed":
        st.dataframe(view.flags_table(section.flags), hide_index=True, width="stretch")
    elif section.state == "pending":
        st.info(T("flags_pending"), icon=":material/hourglass_top:")
    else:
        st.caption(T("flags_other_week" if section.state == "other_week" else "flags_none"))

with tab_items, panel():
    its = items.items
    st.markdown(f"**{T('items_of_week')}**")
    if its.empty:
        st.caption(T("no_items"))
    else:
        st.dataframe(view.items_table(its, name_of), hide_index=True, width="stretch", key="weekly_items_table")
    c1, c2 = st.columns(2)
    with c1.form("weekly_create", clear_on_submit=True):
        st.markdown(f"**{T('create')}**")
        new_dept = st.selectbox(
            T("department"), list(name_of), format_func=lambda i: name_of.get(i, str(i)), key="weekly_new_dept"
        )
        new_text = st.text_area(T("text"), max_chars=rw.MAX_TEXT, key="weekly_new_text", height=90)
        new_due = st.date_input(
            T("due"),
            value=week + timedelta(days=13),
            min_value=week,
            max_value=now.date() + timedelta(days=rw.MAX_DUE_DAYS),
            key="weekly_new_due",
        )
        new_cases = st.text_input(T("cases_input"), max_chars=800, key="weekly_new_cases")
        new_flag = st.text_input(T("flag_input"), max_chars=64, key="weekly_new_flag")
        new_who = st.text_input(T("who"), max_chars=rw.MAX_WHO, key="weekly_new_who")
        if st.form_submit_button(T("submit_create"), type="primary"):
            try:
                item_id = rw.create_item(
                    get_writer(),
                    department_id=new_dept,
                    text=new_text,
                    due_date=new_due,
                    week=week,
                    created_by=new_who,
                    case_numbers=new_cases,
                    flag_ref=new_flag,
                    now=local_now(),
                )
                st.session_state["weekly_flash"] = T("created", id=item_id)
                st.rerun()
            except rw.ActionItemError as err:
                st.error(view.rejected(err))
            except Exception as err:  # noqa: BLE001 - a database failure is a message, not a traceback
                st.error(T("write_failed", error=plain(str(err).splitlines()[0][:160])))
    with c2.form("weekly_done", clear_on_submit=True):
        st.markdown(f"**{T('done')}**")
        texts = dict(zip(items.open["id"].astype(int), items.open["text"])) if len(items.open) else {}
        pick = st.selectbox(
            T("pick_item"), list(texts), key="weekly_done_item", format_func=lambda i: f"{i} · {texts.get(i, '')[:40]}"
        )
        note = st.text_area(T("done_note"), max_chars=rw.MAX_NOTE, key="weekly_done_note", height=90)
        who = st.text_input(T("who"), max_chars=rw.MAX_WHO, key="weekly_done_who")
        if st.form_submit_button(T("submit_done")):
            try:
                if pick is None:
                    st.warning(T("no_open"))
                else:
                    rw.mark_done(get_writer(), pick, note=note, week=week, who=who, now=local_now())
                    st.session_state["weekly_flash"] = T("marked_done", id=pick)
                    st.rerun()
            except rw.ActionItemError as err:
                st.error(view.rejected(err))
            except Exception as err:  # noqa: BLE001
                st.error(T("write_failed", error=plain(str(err).splitlines()[0][:160])))
    if st.session_state.get("weekly_flash"):
        st.success(st.session_state.pop("weekly_flash"))
    if len(its):
        with st.expander(T("history")):
            st.dataframe(
                view.history_table(rw.item_history(get_engine(), list(its["id"]))), hide_index=True, width="stretch"
            )

with tab_export, panel():
    st.caption(T("export_hint"))
    stem, pack = T("pack_file", week=week.isoformat()), dict(now=now, lang=lang, items=items.items, flags=flags)
    b1, b2 = st.columns(2)
    b1.download_button(
        T("pdf"),
        data=meeting_pack.download("pdf", get_engine(), params, **pack),
        file_name=f"{stem}.pdf",
        mime="application/pdf",
        icon=":material/picture_as_pdf:",
        on_click="ignore",
        key="weekly_pdf",
    )
    b2.download_button(
        T("xlsx"),
        data=meeting_pack.download("xlsx", get_engine(), params, **pack),
        file_name=f"{stem}.xlsx",
        icon=":material/table_view:",
        on_click="ignore",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="weekly_xlsx",
    )
