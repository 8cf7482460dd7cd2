"""网格积案: the open backlog, street → community → grid → case list → case file, with export."""
from __future__ import annotations

import io
from datetime import timedelta

import pandas as pd
import streamlit as st

from analytics.sla import sla_clock
from data_access import backlog_queries, queries, settings
from data_access.case_filter import CaseFilter
from data_access.workcal import WorkCalendar, local_now
from ui.access import case_allowed, require_page
from ui.auth import current_user
from ui.db import get_engine
from ui.i18n import Catalog, label, name_column
from ui.live import live_cache, resilient, show_freshness
from ui.reference import street_table
from ui.shell import current_filters

require_page("backlog")     # 权限: stops here unless the viewer's role may see this page

T = Catalog({
    "title": ("网格积案", "Backlogs"),
    "level_street": ("街镇", "Streets"), "level_community": ("社区/村", "Communities"), "level_grid": ("网格", "Grids"),
    "name": ("名称", "Name"), "open": ("在办", "Open"), "overdue": ("超期", "Overdue"),
    "age_0_1": ("0–1个工作日", "0–1 wd"), "age_1_3": ("1–3个工作日", "1–3 wd"), "age_3_7": ("3–7个工作日", "3–7 wd"),
    "age_over_7": (">7个工作日", "> 7 wd"), "oldest": ("最早在办案件", "Oldest open"), "parked": ("挂账", "Parked"),
    "change": ("较上周", "vs last week"), "per_1000": ("每千人在办", "Open per 1,000"),
    "search": ("按名称筛选", "Filter by name"), "only_overdue": ("只看有超期的", "Only units with overdue cases"),
    "pick_hint": ("选中一行可逐级下钻。", "Select a row to drill down."),
    "back": ("返回上一级", "Up one level"), "district": ("全区", "District"),
    "cases_of": ("{name} 的在办案件", "Open cases of {name}"),
    "case_no": ("案件编号", "Case no."), "status": ("状态", "Status"), "category": ("类别", "Category"),
    "department": ("处置部门", "Department"), "reported": ("上报时间", "Reported"), "deadline": ("处置时限", "Deadline"),
    "address": ("地址", "Address"),
    "case_file": ("案件详情 {no}", "Case {no}"), "timeline": ("流转记录", "Timeline"),
    "original_deadline": ("原始时限", "Original deadline"), "extended_deadline": ("延期后时限", "Extended deadline"),
    "no_extension": ("未延期", "not extended"),
    "sla": ("当前阶段时限进度：已用 {used:.1f} / {limit:.1f} 工作时（{pct:.0%}）",
            "Stage clock: {used:.1f} of {limit:.1f} working hours used ({pct:.0%})"),
    "sla_none": ("当前阶段无处置时限", "No deadline for the current stage"),
    "at": ("时间", "Time"), "action": ("环节", "Step"), "actor": ("操作人", "Actor"), "note": ("备注", "Note"),
    "field": ("字段", "Field"), "value": ("内容", "Value"),
    "csv": ("导出 CSV", "Export CSV"), "xlsx": ("导出 Excel", "Export Excel"),
    "not_found": ("找不到案件 {id}", "Case {id} not found"),
})
LEVEL_NAMES = {"street": "level_street", "community": "level_community", "grid": "level_grid"}
SLA_COLOURS = {"green": "green", "yellow": "orange", "red": "red"}


# --- cached loaders -------------------------------------------------------------------------------------------------
@live_cache
def unit_backlog(level: str, parent_id: int | None, street_id: int | None) -> pd.DataFrame:
    now = local_now()
    return backlog_queries.backlog_by_unit(get_engine(), now, level, parent_id, CaseFilter(street_id=street_id),
                                           week_ago=now - timedelta(days=7))


@live_cache(ttl=600)
def unit_names(level: str) -> pd.DataFrame:
    """id, name, population (and street_id / community_id) of every unit at ``level``."""
    engine = get_engine()
    if level == "street":
        return queries.streets(engine)[["id", "name", "population"]]
    if level == "community":
        return queries.communities(engine)[["id", "name", "population", "street_id"]]
    return queries.grids(engine)[["id", "name", "population", "community_id", "street_id"]]


@live_cache
def grid_cases(grid_id: int) -> pd.DataFrame:
    return backlog_queries.open_cases(get_engine(), local_now(), grid_id=grid_id)


@live_cache
def case_record(case_id: int) -> dict:
    engine = get_engine()
    return {"file": backlog_queries.case_file(engine, case_id),
            "timeline": backlog_queries.case_timeline(engine, case_id)}


@st.cache_resource(ttl=86400, show_spinner=False)
def work_calendar() -> WorkCalendar:
    return WorkCalendar.from_rows(queries.calendar_rows(get_engine()), settings.get("work_hours"))


# --- pure helpers ---------------------------------------------------------------------------------------------------
def backlog_view(backlog: pd.DataFrame, names: pd.DataFrame) -> pd.DataFrame:
    """Join names and population, add per-1,000 and change columns; worst (most overdue) first."""
    # Every unit of the level is listed (a street with no backlog is news too), inside the parent when given.
    out = names.rename(columns={"id": "unit_id"}).merge(backlog, on="unit_id", how="left")
    counts = [c for c in backlog.columns if c not in ("unit_id", "oldest_reported_at")]
    out[counts] = out[counts].fillna(0).astype(int)
    out["per_1000"] = (out["open"] / out["population"].where(out["population"] > 0) * 1000).round(1)
    out["change"] = out["open"] - out.get("open_week_ago", out["open"])
    return out.sort_values(["overdue", "open"], ascending=False, ignore_index=True)


def to_xlsx(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, sheet_name="backlog")
    return buffer.getvalue()


def _int_param(name: str) -> int | None:
    raw = st.query_params.get(name)
    return int(raw) if raw and raw.isdigit() else None


# --- page -----------------------------------------------------------------------------------------------------------
filters = current_filters()
community_id, grid_id, case_id = _int_param("community"), _int_param("grid"), _int_param("case")
grids_all = resilient(unit_names, "grid")
if grid_id is not None and grids_all.ok and community_id is None:
    match = grids_all.value[grids_all.value["id"] == grid_id]
    community_id = int(match.iloc[0]["community_id"]) if not match.empty else None
level = "grid" if community_id is not None else "community" if filters.street_id is not None else "street"
parent = community_id if level == "grid" else filters.street_id if level == "community" else None

st.subheader(T("title"))
streets, communities = resilient(street_table), resilient(unit_names, "community")
crumbs = [T("district")]
if filters.street_id is not None and streets.ok:
    crumbs += streets.value.loc[streets.value["id"] == filters.street_id, "name"].tolist()
if community_id is not None and communities.ok:
    crumbs += communities.value.loc[communities.value["id"] == community_id, "name"].tolist()
st.caption(" › ".join(crumbs))
if community_id is not None and st.button(T("back"), icon=":material/arrow_upward:"):
    for key in ("community", "grid", "case"):
        st.query_params.pop(key, None)
    st.rerun()

backlog, names = resilient(unit_backlog, level, parent, filters.street_id), resilient(unit_names, level)
if not (backlog.ok and names.ok):
    show_freshness(backlog if not backlog.ok else names)
    st.stop()
show_freshness(backlog)
units = names.value
if level == "community":
    units = units[units["street_id"] == parent]
elif level == "grid":
    units = units[units["community_id"] == parent]
view = backlog_view(backlog.value, units)
left, right = st.columns([2, 1])
needle = left.text_input(T("search"), max_chars=40)
if right.toggle(T("only_overdue")):
    view = view[view["overdue"] > 0]
if needle:
    view = view[view["name"].str.contains(needle, regex=False, na=False)]
table = pd.DataFrame({
    T("name"): view["name"], T("open"): view["open"], T("overdue"): view["overdue"],
    T("age_0_1"): view["age_0_1"], T("age_1_3"): view["age_1_3"], T("age_3_7"): view["age_3_7"],
    T("age_over_7"): view["age_over_7"], T("oldest"): view["oldest_reported_at"], T("parked"): view["parked"],
    T("change"): view["change"], T("per_1000"): view["per_1000"]})
st.markdown(f"**{T(LEVEL_NAMES[level])}** · {T('pick_hint')}")
picked = st.dataframe(table, hide_index=True, width="stretch", height=380, on_select="rerun",
                      selection_mode="single-row", key=f"backlog_{level}_{parent}")
rows = picked.selection.rows if picked and picked.selection else []
if rows:
    chosen = int(view.iloc[rows[0]]["unit_id"])
    if level == "street":
        st.query_params["street"] = str(chosen)      # the sidebar picks it up on the rerun
    elif level == "community":
        st.query_params["community"] = str(chosen)
    else:
        st.query_params["grid"] = str(chosen)
        grid_id = chosen
    if level != "grid":
        st.rerun()
exports = st.columns([1, 1, 6])
exports[0].download_button(T("csv"), table.to_csv(index=False).encode("utf-8-sig"), "gridscope-backlog.csv",
                           "text/csv", icon=":material/download:")
exports[1].download_button(T("xlsx"), to_xlsx(table), "gridscope-backlog.xlsx",
                           "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                           icon=":material/download:")

if level == "grid" and grid_id is not None:
    grid_name = names.value.loc[names.value["id"] == grid_id, "name"]
    st.markdown(f"**{T('cases_of', name=grid_name.iloc[0] if len(grid_name) else grid_id)}**")
    cases = resilient(grid_cases, grid_id)
    if cases.ok:
        frame = cases.value
        viewer = current_user()
        if viewer is not None and viewer.role == "department_head":
            # 权限: a department head lists and opens only their own department's cases
            frame = frame[frame["department_id"] == viewer.department_id].reset_index(drop=True)
        case_table = pd.DataFrame({
            T("case_no"): frame["case_no"], T("status"): frame["status"].map(lambda s: label("statuses", s)),
            T("category"): frame[name_column("minor_name")], T("department"): frame["department"],
            T("reported"): frame["reported_at"],
            T("deadline"): frame["extended_deadline_at"].fillna(frame["deadline_at"]),
            T("overdue"): frame["overdue"].astype(bool), T("address"): frame["address"]})
        chosen_case = st.dataframe(case_table, hide_index=True, width="stretch", height=300, on_select="rerun",
                                   selection_mode="single-row", key=f"cases_{grid_id}")
        if chosen_case and chosen_case.selection and chosen_case.selection.rows:
            case_id = int(frame.iloc[chosen_case.selection.rows[0]]["id"])
            st.query_params["case"] = str(case_id)

viewer = current_user()
if case_id is not None and viewer is not None and not case_allowed(viewer, case_id):
    st.warning(T("not_found", id=case_id))
    case_id = None
if case_id is not None:
    record = resilient(case_record, case_id)
    if record.ok and record.value["file"] is None:
        st.warning(T("not_found", id=case_id))
    elif record.ok:
        file, timeline = record.value["file"], record.value["timeline"]
        st.markdown(f"#### {T('case_file', no=file['case_no'])}")
        deadline = file["extended_deadline_at"] if pd.notna(file["extended_deadline_at"]) else file["deadline_at"]
        started = file["dispatched_at"] if pd.notna(file["dispatched_at"]) else file["registered_at"]
        clock = sla_clock(work_calendar(), None if pd.isna(started) else pd.Timestamp(started).to_pydatetime(),
                          None if pd.isna(deadline) else pd.Timestamp(deadline).to_pydatetime(), local_now())
        if clock is None:
            st.caption(T("sla_none"))
        else:
            colour = SLA_COLOURS[clock.colour]
            text = T("sla", used=clock.used_hours, limit=clock.limit_hours, pct=clock.fraction)
            st.markdown(f":{colour}-badge[{text}]")
            st.progress(min(clock.fraction, 1.0))
        info, events = st.columns([1, 1.3])
        shown = {k: v for k, v in file.items() if not k.endswith("_id") or k in ("reporter_id", "inspector_id",
                                                                                  "verifier_id")}
        shown["status"] = label("statuses", file["status"])
        shown["channel"] = label("channels", file["channel"])
        shown[T("original_deadline")] = file["deadline_at"]
        shown[T("extended_deadline")] = file["extended_deadline_at"] if pd.notna(
            file["extended_deadline_at"]) else T("no_extension")
        info.dataframe(pd.DataFrame({T("field"): list(shown), T("value"): [str(v) for v in shown.values()]}),
                       hide_index=True, width="stretch", height=520)
        events.markdown(f"**{T('timeline')}**")
        events.dataframe(pd.DataFrame({
            T("at"): timeline["at"], T("action"): timeline["action"].map(lambda a: label("actions", a)),
            T("status"): timeline["to_status"].map(lambda s: label("statuses", s)),
            T("department"): timeline["department"], T("actor"): timeline["actor_id"],
            T("note"): timeline["note"]}), hide_index=True, width="stretch", height=520)
