"""周例会: the weekly coordination meeting review (issue 8) — headline changes, the department agenda, hotspots,
action items (督办事项) with carry-over, and the meeting pack (PDF / XLSX).

Thin layout over cached loaders; the numbers come from ``data_access.weekly_queries`` (and the scorecard queries it
reuses), the action items from ``data_access.action_items`` (the only writes, through a writer engine used for those
tables only), the pack from ``ui.meeting_pack``. The week is bound to the URL (``?week=YYYY-MM-DD``, a Monday);
unknown values are ignored with a notice. How the meeting uses the page: docs/weekly.md.
"""
from __future__ import annotations

import functools
import hashlib
from datetime import date, datetime, timedelta

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from data_access import action_items, settings
from data_access import weekly_queries as wq
from data_access.engine import make_engine
from data_access.queries import data_time_range
from data_access.workcal import local_now
from ui.access import require_page
from ui import meeting_pack
from ui.db import get_engine, get_writer
from ui.i18n import COMMON, Catalog, current_language, label
from ui.live import live_cache, panel, resilient, show_freshness

require_page("weekly")     # 权限: stops here unless the viewer's role may see this page

T = Catalog({
    "title": ("周例会", "Weekly meeting"),
    "intro": ("统计周为周一 00:00 至下周一 00:00。先看本周变化，再逐个部门过超期、回退返工、提交区级和重复发生，"
              "最后跟踪督办事项。", "A week runs Monday 00:00 to the next Monday. Headline changes first, then each "
              "department's overdue, returned/reworked, escalated and repeat cases, then the action items."),
    "week": ("统计周", "Week"), "week_label": ("{start} 至 {end}", "{start} to {end}"),
    "running": ("（本周，进行中）", " (this week, running)"),
    "bad_week": ("已忽略无效的周参数 week={value}（应为数据范围内某周的周一，如 {example}）",
                 "Ignored invalid week={value} (expected a Monday within the data, e.g. {example})"),
    "repeat_days": ("重复发生：结案后天数", "Repeat: days after closure"),
    "repeat_help": ("结案后 N 天内，同一网格、同一类别、相距 50 米以内再次上报，计为一次重复发生（结案没有“结住”）。",
                    "A new report of the same category in the same grid within 50 m, N days after a closure, counts "
                    "as a repeat (the closure did not stick)."),
    "k_new": ("新增案件", "New cases"), "k_closed": ("结案数", "Closed"),
    "k_overdue": ("超期未处置", "Overdue"), "k_ontime_rate": ("按期处置率", "On-time rate"),
    "k_satisfaction_rate": ("满意率", "Satisfaction"), "k_escalated": ("提交区级", "Escalated"),
    "h_new": ("本周上报的案件（不含作废、重复件）；箭头为较上周", "Reported this week (no cancelled/duplicates); "
              "arrow: vs last week"),
    "h_closed": ("本周结案（含自行处置、强制结案）", "Closed this week (incl. fixed on the spot, force-closed)"),
    "h_overdue": ("周末时点超过时限（含延期）仍未处置的案件数", "Past the (extended) deadline and not disposed at "
                  "the week's end"),
    "h_ontime_rate": ("按期处置数 / 应处置数（与部门考评同一口径）", "On time / due (as in the scorecards)"),
    "h_satisfaction_rate": ("(满意 + 0.9 × 基本满意) / 有效回访数", "(satisfied + 0.9 × fairly) / answered"),
    "h_escalated": ("本周提交区级协调（大循环）的次数", "Escalations to the district loop this week"),
    "avg4": ("近4周平均 {value}（较平均 {delta}）", "4-week average {value} ({delta} vs average)"),
    "tab_agenda": ("部门议程", "Department agenda"), "tab_hot": ("高发点位与时段", "Hotspots"),
    "tab_items": ("督办事项", "Action items"), "tab_export": ("导出材料", "Meeting pack"),
    "department": ("部门", "Department"), "overdue": ("超期未处置", "Overdue"), "disposed": ("处置数", "Disposed"),
    "ontime_rate": ("按期处置率", "On-time rate"), "returned": ("回退", "Returned"), "reworked": ("返工", "Reworked"),
    "escalated": ("提交区级", "Escalated"), "repeats": ("重复发生", "Repeats"),
    "open_items": ("督办未办结", "Open actions"),
    "agenda_hint": ("按超期未处置数排序；只列出本周有事项的部门。", "Most overdue first; only departments with "
                    "something on the agenda."),
    "pick_department": ("逐个部门过", "Department by department"),
    "no_agenda": ("本周没有需要上会的部门事项。", "Nothing on the agenda this week."),
    "dept_summary": ("超期未处置 {overdue} 件 · 按期处置率 {rate} · 回退 {returned} 次 · 返工 {reworked} 次 · "
                     "提交区级 {escalated} 件 · 重复发生 {repeats} 件",
                     "{overdue} overdue · on-time {rate} · {returned} returned · {reworked} reworked · "
                     "{escalated} escalated · {repeats} repeats"),
    "overdue_cases": ("超期案件（周末已超期、至今未办结）", "Overdue cases (past deadline at week end, still open)"),
    "event_cases": ("回退、返工与提交区级", "Returned, reworked and escalated"),
    "repeat_cases": ("重复发生（结案后 {n} 天内同地同类再报）", "Repeats (same place and category within {n} days)"),
    "case_no": ("案件编号", "Case no."), "category": ("类别", "Category"), "address": ("地址", "Address"),
    "deadline": ("时限", "Deadline"), "days_overdue": ("已超期(天)", "Days overdue"), "step": ("环节", "Step"),
    "at": ("时间", "Time"), "note": ("说明", "Note"), "first_case": ("原案件", "Earlier case"),
    "closed_at": ("原案件结案", "Earlier closed"), "new_case": ("新案件", "New case"),
    "days_after": ("结案后(天)", "Days after"), "grid": ("网格", "Grid"), "cases": ("案件数", "Cases"),
    "top_category": ("最多类别", "Top category"),
    "places": ("高发点位（本周上报最多的地点）", "Top places (most reports this week)"),
    "heat": ("高发时段：按星期 × 小时上报量", "Busy times: reports by weekday × hour"),
    "major": ("大类", "Major category"), "all_majors": ("全部类别", "All categories"),
    "weekdays": ("周一,周二,周三,周四,周五,周六,周日", "Mon,Tue,Wed,Thu,Fri,Sat,Sun"),
    "flags": ("本周新增预警", "New flags of the week"),
    "flags_pending": ("数据不足/计算中：预警正在后台计算，稍后刷新即可看到。",
                      "Not enough data / computing: the flags are being computed in the background."),
    "flags_other_week": ("数据不足：预警只对最近一期计算，请选最近一周查看。",
                         "Not enough data: flags are computed for the latest period only."),
    "flags_none": ("本期没有新增预警。", "No new flags this period."),
    "unit": ("单位", "Unit"), "family": ("类型", "Family"), "level": ("级别", "Level"), "what": ("情况", "What"),
    "items_of_week": ("本周督办事项（未办结的事项自动转入以后各周，直到办结）",
                      "Action items of the week (open items carry into later weeks until done)"),
    "no_items": ("本周没有督办事项。", "No action items this week."),
    "item_id": ("编号", "No."), "text": ("督办内容", "Action"), "due": ("完成期限", "Due"),
    "status": ("状态", "Status"), "from_week": ("提出周", "Raised"), "linked": ("关联案件", "Linked cases"),
    "done_note": ("办结说明", "Done note"),
    "st_new": ("本周新增", "New"), "st_carried": ("转入（第{n}周）", "Carried (week {n})"),
    "st_done": ("已办结", "Done"), "st_late": ("逾期", "Overdue"),
    "create": ("新增督办事项", "New action item"), "who": ("记录人", "Recorded by"),
    "cases_input": ("关联案件编号（可选，逗号或空格分隔）", "Linked case numbers (optional, comma or space separated)"),
    "flag_input": ("关联预警（可选，如 street:3:A）", "Linked flag (optional, e.g. street:3:A)"),
    "submit_create": ("保存督办事项", "Save action item"),
    "created": ("已新增督办事项 {id}", "Action item {id} saved"),
    "done": ("办结督办事项", "Mark an item done"), "pick_item": ("选择事项", "Item"),
    "submit_done": ("标记办结", "Mark done"), "marked_done": ("督办事项 {id} 已办结", "Action item {id} marked done"),
    "no_open": ("没有未办结的事项。", "No open items."),
    "history": ("事项记录", "Item history"),
    "h_create": ("新增", "created"), "h_carry": ("转入下周", "carried"), "h_done": ("办结", "done"),
    "h_edit": ("修改", "edited"),
    "pdf": ("下载会议材料 PDF", "Download meeting pack (PDF)"),
    "xlsx": ("下载会议材料 Excel", "Download meeting pack (Excel)"),
    "export_hint": ("材料含概况、部门议程（每个部门一节）、高发点位与时段、新增预警和督办事项；点击时生成。",
                    "The pack has the headline, one section per department, hotspots, new flags and action items; "
                    "built when clicked."),
    "write_failed": ("保存失败：{error}", "Could not save: {error}"),
    "no_data": ("数据库中还没有案件数据。", "No case data yet."),
})
HEADLINE_KEYS = wq.HEADLINE_KEYS
REPEAT_CHOICES = (7, 14, 30)


# --- cached loaders -------------------------------------------------------------------------------------------------
@live_cache(ttl=300)
def data_range() -> tuple[datetime | None, datetime | None]:
    return data_time_range(get_engine())


@live_cache(ttl=300, max_entries=16)
def headline(week: date) -> pd.DataFrame:
    return wq.weekly_headline(get_engine(), week, now=local_now())


@live_cache(ttl=300, max_entries=16)
def agenda(week: date, repeat_days: int) -> dict:
    """Everything of the department agenda except the action items (which change on every write)."""
    engine, now = get_engine(), local_now()
    return {"departments": wq.department_week(engine, week, now=now),
            "overdue": wq.overdue_cases(engine, week, now=now, limit=2000),
            "events": wq.event_cases(engine, week, ("return", "check_fail", "escalate"), limit=2000),
            "repeats": wq.repeat_problems(engine, week, repeat_days=repeat_days)}


@live_cache(ttl=300, max_entries=16)
def hotspots(week: date) -> dict:
    engine = get_engine()
    return {"places": wq.top_places(engine, week), "heat": wq.weekday_hour_counts(engine, week)}


@live_cache(ttl=3600)
def department_table() -> pd.DataFrame:
    return wq.department_names(get_engine())


def week_items(week: date) -> pd.DataFrame:
    """Not cached: a handful of rows that must show a write at once."""
    return action_items.items_for_week(get_engine(), week)


@functools.lru_cache(maxsize=4)
def _reader_for(url: str):
    """A read-only engine for the download thread (it runs outside the script, so not via st.cache_resource)."""
    return make_engine(url)


@functools.lru_cache(maxsize=4)
def _pack(url: str, week: date, repeat_days: int, stamp: str, kind: str) -> bytes:
    """The meeting pack bytes, built once per (database, week, N, action-item state); process-wide, 4 kept."""
    data = meeting_pack.collect(_reader_for(url), week, now=local_now(), repeat_days=repeat_days,
                                flags=_flag_table(week, url))
    return meeting_pack.build_pdf(data) if kind == "pdf" else meeting_pack.build_xlsx(data)


def _flag_table(week: date, url: str | None = None) -> pd.DataFrame | None:
    """New flags of the week from the shared flag cache (never computed here): red/amber flags of the latest
    period, for the last complete or the running week; None while computing or for older weeks."""
    try:
        from ui import flags_cache
    except ImportError:
        return None
    if week < wq.last_complete_week(local_now()):
        return None
    try:
        bundle = flags_cache.flag_bundle(block=False) if url is None else \
            flags_cache.get_bundle(url, flags_cache.current_period_end(), block=False)
    except Exception:  # noqa: BLE001 - the flags are optional on this page
        return None
    if bundle is None:
        return None
    flags = bundle.report.flags
    if flags.empty or "level" not in flags:
        return pd.DataFrame(columns=["单位", "类型", "级别", "情况"])
    active = flags[flags["level"].isin(("red", "amber"))]
    if "persistent" in active:                    # new = not already flagged in the earlier periods
        active = active[~active["persistent"].fillna(False).astype(bool)]
    return pd.DataFrame({"单位": active["unit_type"].astype(str) + ":" + active["unit_id"].astype(str),
                         "类型": active["family"], "级别": active["level"].map({"red": "疑似", "amber": "建议核查"}),
                         "情况": active.get("title", active["family"])}).reset_index(drop=True)


# --- pure helpers ---------------------------------------------------------------------------------------------------
def week_options(lo: datetime, hi: datetime, now: datetime, max_weeks: int = 26) -> list[date]:
    """Mondays the picker offers, newest first: from the week of the latest data (or now) back to the first data
    week, at most ``max_weeks``."""
    last = wq.monday_of(min(hi, now))
    first = max(wq.monday_of(lo), last - timedelta(days=7 * (max_weeks - 1)))
    out, cur = [], last
    while cur >= first:
        out.append(cur)
        cur -= timedelta(days=7)
    return out


def parse_week(raw: str | None, options: list[date]) -> date | None:
    """The Monday of ``?week=``, or None when absent, malformed, not a Monday or outside the options."""
    if not raw:
        return None
    try:
        day = date.fromisoformat(str(raw).strip()[:10])
    except ValueError:
        return None
    return day if day in options else None


def _fmt(key: str, value) -> str:
    if value is None or pd.isna(value):
        return "—"
    if key in wq.RATE_KEYS:
        return f"{value:.1%}"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _delta(key: str, value) -> str | None:
    if value is None or pd.isna(value):
        return None
    return f"{value * 100:+.1f} pp" if key in wq.RATE_KEYS else f"{value:+,.0f}"


def heat_figure(heat: pd.DataFrame) -> go.Figure:
    grid = heat.groupby(["weekday", "hour"])["n"].sum().unstack(fill_value=0) \
        .reindex(index=range(7), columns=range(24), fill_value=0)
    fig = go.Figure(go.Heatmap(z=grid.to_numpy(), x=list(range(24)), y=T("weekdays").split(","),
                               colorscale="Oranges", hovertemplate="%{y} %{x}:00 · %{z}<extra></extra>"))
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=10, b=10), yaxis=dict(autorange="reversed"),
                      xaxis=dict(dtick=2, ticksuffix=":00"))
    return fig


def item_status(row) -> str:
    if row["status_in_week"] == "done":
        return T("st_done")
    text = T("st_carried", n=int(row["weeks_open"])) if row["carried"] else T("st_new")
    return text + (" · " + T("st_late") if row["overdue"] else "")


# --- page -----------------------------------------------------------------------------------------------------------
st.title(T("title"))
st.caption(T("intro"))
now = local_now()
rng = resilient(data_range)
if not rng.ok:
    show_freshness(rng)
    st.stop()
lo, hi = rng.value
if lo is None:
    st.info(T("no_data"))
    st.stop()

options = week_options(lo, hi, now)
default = wq.last_complete_week(min(hi, now))
default = default if default in options else options[0]
raw = st.query_params.get("week")
chosen = parse_week(raw, options)
if raw and chosen is None and st.session_state.get("_weekly_bad") != raw:
    st.session_state["_weekly_bad"] = raw
    st.toast(T("bad_week", value=str(raw)[:20], example=default.isoformat()), icon=":material/warning:")
if "weekly_week" not in st.session_state or (chosen and st.session_state["weekly_week"] != chosen and
                                             st.session_state.get("_weekly_url") != raw):
    st.session_state["weekly_week"] = chosen or default
st.session_state["_weekly_url"] = raw


def _week_label(monday: date) -> str:
    text = T("week_label", start=monday.isoformat(), end=(monday + timedelta(days=6)).isoformat())
    return text + (T("running") if monday == wq.monday_of(now) else "")


left, right = st.columns([2, 1])
week = left.selectbox(T("week"), options, format_func=_week_label, key="weekly_week")
repeat_days = right.select_slider(T("repeat_days"), REPEAT_CHOICES, value=14, help=T("repeat_help"),
                                  key="weekly_repeat")
if st.query_params.get("week") != week.isoformat():
    st.query_params["week"] = week.isoformat()
    st.session_state["_weekly_url"] = week.isoformat()

# headline: this week vs the previous one and the 4-week average
with panel():
    weeks = resilient(headline, week)
    show_freshness(weeks)
    if weeks.ok:
        changes = wq.headline_changes(weeks.value).set_index("key")
        cols = st.columns(len(HEADLINE_KEYS))
        for col, key in zip(cols, HEADLINE_KEYS):
            r = changes.loc[key]
            inverse = key in ("overdue", "escalated")
            col.metric(T(f"k_{key}"), _fmt(key, r["value"]), _delta(key, r["delta_prev"]),
                       delta_color="inverse" if inverse else "normal", help=T(f"h_{key}"))
            col.caption(T("avg4", value=_fmt(key, r["avg4"]), delta=_delta(key, r["delta_avg"]) or "—"))

names = resilient(department_table)
name_of = dict(zip(names.value["department_id"], names.value["name" if current_language() == "zh" else "name_en"]
                   )) if names.ok else {}
tab_agenda, tab_hot, tab_items, tab_export = st.tabs([T("tab_agenda"), T("tab_hot"), T("tab_items"),
                                                     T("tab_export")])
items = week_items(week)

with tab_agenda, panel():
    ag = resilient(agenda, week, repeat_days)
    show_freshness(ag)
    if ag.ok:
        depts, repeats = ag.value["departments"], ag.value["repeats"]
        rep_n = repeats.groupby("department_id").size() if len(repeats) else pd.Series(dtype=int)
        open_n = items[items["status_in_week"] == "open"].groupby("department_id").size() if len(items) \
            else pd.Series(dtype=int)
        ids = set(depts["department_id"]) | {int(i) for i in rep_n.index} | {int(i) for i in open_n.index}
        table = pd.DataFrame({"department_id": sorted(ids)}).merge(depts, on="department_id", how="left")
        for c in ("overdue", "disposed", "returned", "reworked", "escalated"):
            table[c] = table[c].fillna(0).astype(int)
        table["repeats"] = table["department_id"].map(rep_n).fillna(0).astype(int)
        table["open_items"] = table["department_id"].map(open_n).fillna(0).astype(int)
        table = table[table[["overdue", "returned", "reworked", "escalated", "repeats", "open_items"]].sum(axis=1)
                      > 0].sort_values(["overdue", "open_items", "returned"], ascending=False, ignore_index=True)
        if table.empty:
            st.info(T("no_agenda"))
        else:
            st.caption(T("agenda_hint"))
            st.dataframe(pd.DataFrame({
                T("department"): table["department_id"].map(name_of), T("overdue"): table["overdue"],
                T("disposed"): table["disposed"], T("ontime_rate"): table["ontime_rate"].map(
                    lambda v: _fmt("ontime_rate", v)),
                T("returned"): table["returned"], T("reworked"): table["reworked"],
                T("escalated"): table["escalated"], T("repeats"): table["repeats"],
                T("open_items"): table["open_items"]}), hide_index=True, width="stretch", height=300)
            dept = st.selectbox(T("pick_department"), list(table["department_id"]),
                                format_func=lambda i: name_of.get(i, str(i)), key="weekly_dept")
            row = table[table["department_id"] == dept].iloc[0]
            st.subheader(name_of.get(dept, str(dept)))
            st.markdown(T("dept_summary", overdue=int(row["overdue"]), rate=_fmt("ontime_rate", row["ontime_rate"]),
                          returned=int(row["returned"]), reworked=int(row["reworked"]),
                          escalated=int(row["escalated"]), repeats=int(row["repeats"])))
            cat = "category_en" if current_language() == "en" else "category"
            od = ag.value["overdue"][ag.value["overdue"]["department_id"] == dept]
            st.markdown(f"**{T('overdue_cases')}**")
            st.dataframe(pd.DataFrame({T("case_no"): od["case_no"], T("category"): od[cat],
                                       T("address"): od["address"], T("deadline"): od["deadline"],
                                       T("days_overdue"): od["days_overdue"]}), hide_index=True, width="stretch")
            ev = ag.value["events"][ag.value["events"]["department_id"] == dept]
            st.markdown(f"**{T('event_cases')}**")
            st.dataframe(pd.DataFrame({T("case_no"): ev["case_no"], T("step"): ev["action"].map(
                lambda a: label("actions", a)), T("at"): ev["at"], T("category"): ev[cat], T("note"): ev["note"]}),
                hide_index=True, width="stretch")
            rp = repeats[repeats["department_id"] == dept] if len(repeats) else repeats
            st.markdown(f"**{T('repeat_cases', n=repeat_days)}**")
            st.dataframe(pd.DataFrame({T("new_case"): rp.get("case_no", []), T("first_case"): rp.get(
                "first_case_no", []), T("closed_at"): rp.get("first_closed_at", []),
                T("category"): rp.get(cat, []), T("grid"): rp.get("grid", []), T("address"): rp.get("address", []),
                T("days_after"): rp.get("days_after", [])}), hide_index=True, width="stretch")

with tab_hot, panel():
    hot = resilient(hotspots, week)
    show_freshness(hot)
    if hot.ok:
        places = hot.value["places"]
        st.markdown(f"**{T('places')}**")
        top_cat = "top_category_en" if current_language() == "en" else "top_category"
        st.dataframe(pd.DataFrame({T("grid"): places["grid"], T("address"): places["address"],
                                   T("cases"): places["n"], T("top_category"): places[top_cat]}),
                     hide_index=True, width="stretch")
        heat = hot.value["heat"]
        st.markdown(f"**{T('heat')}**")
        if len(heat):
            name_col = "major_name_en" if current_language() == "en" else "major_name"
            majors = heat.groupby(["major_code", name_col])["n"].sum().sort_values(ascending=False)
            choices = ["*"] + [code for code, _ in majors.index]
            major_names = {code: name for code, name in majors.index}
            major = st.selectbox(T("major"), choices, key="weekly_major",
                                 format_func=lambda c: T("all_majors") if c == "*" else major_names.get(c, c))
            shown = heat if major == "*" else heat[heat["major_code"] == major]
            st.plotly_chart(heat_figure(shown), config={"displayModeBar": False}, key="weekly_heat")
    st.markdown(f"**{T('flags')}**")
    if week < wq.last_complete_week(now):
        st.caption(T("flags_other_week"))
    else:
        flags = _flag_table(week)
        if flags is None:
            st.info(T("flags_pending"), icon=":material/hourglass_top:")
        elif flags.empty:
            st.caption(T("flags_none"))
        else:
            st.dataframe(flags, hide_index=True, width="stretch")

with tab_items, panel():
    st.markdown(f"**{T('items_of_week')}**")
    if week == wq.monday_of(now) or week == wq.last_complete_week(now):
        try:        # note once that this week's meeting showed the still-open older items (history 'carry')
            action_items.record_carry(get_writer(), week, now=now)
        except Exception:  # noqa: BLE001 - the history note is not worth failing the page for
            pass
    linked_nos = action_items.case_numbers(get_engine(), [i for ids in items.get("linked_case_ids", [])
                                                          for i in ids]) if len(items) else {}
    if items.empty:
        st.caption(T("no_items"))
    else:
        st.dataframe(pd.DataFrame({
            T("item_id"): items["id"], T("department"): items["department_id"].map(name_of),
            T("text"): items["text"], T("due"): items["due_date"], T("status"): items.apply(item_status, axis=1),
            T("from_week"): items["created_week"],
            T("linked"): items["linked_case_ids"].map(lambda ids: ", ".join(linked_nos.get(i, str(i)) for i in ids)),
            T("done_note"): items["done_note"]}), hide_index=True, width="stretch", key="weekly_items_table")
    c1, c2 = st.columns(2)
    with c1.form("weekly_create", clear_on_submit=True):
        st.markdown(f"**{T('create')}**")
        dept_ids = list(names.value["department_id"]) if names.ok else []
        new_dept = st.selectbox(T("department"), dept_ids, format_func=lambda i: name_of.get(i, str(i)),
                                key="weekly_new_dept")
        new_text = st.text_area(T("text"), max_chars=action_items.MAX_TEXT, key="weekly_new_text", height=90)
        new_due = st.date_input(T("due"), value=week + timedelta(days=13), min_value=week,
                                max_value=now.date() + timedelta(days=action_items.MAX_DUE_DAYS),
                                key="weekly_new_due")
        new_cases = st.text_input(T("cases_input"), max_chars=800, key="weekly_new_cases")
        new_flag = st.text_input(T("flag_input"), max_chars=64, key="weekly_new_flag")
        new_who = st.text_input(T("who"), max_chars=action_items.MAX_WHO, key="weekly_new_who")
        if st.form_submit_button(T("submit_create"), type="primary"):
            try:
                item_id = action_items.create_item(get_writer(), department_id=new_dept, text=new_text,
                                                   due_date=new_due, week=week, created_by=new_who,
                                                   case_numbers=new_cases, flag_ref=new_flag, now=local_now())
                st.session_state["weekly_flash"] = T("created", id=item_id)
                st.rerun()
            except action_items.ActionItemError as err:
                st.error(str(err))
            except Exception as err:  # noqa: BLE001 - a database failure is a message, not a traceback
                st.error(T("write_failed", error=str(err).splitlines()[0][:160]))
    open_items = items[items["status_in_week"] == "open"] if len(items) else items
    with c2.form("weekly_done", clear_on_submit=True):
        st.markdown(f"**{T('done')}**")
        open_ids = [int(i) for i in open_items["id"]] if len(open_items) else []
        texts = dict(zip(open_items["id"].astype(int), open_items["text"])) if len(open_items) else {}
        pick = st.selectbox(T("pick_item"), open_ids, key="weekly_done_item",
                            format_func=lambda i: f"{i} · {texts.get(i, '')[:40]}")
        note = st.text_area(T("done_note"), max_chars=action_items.MAX_NOTE, key="weekly_done_note", height=90)
        who = st.text_input(T("who"), max_chars=action_items.MAX_WHO, key="weekly_done_who")
        if st.form_submit_button(T("submit_done")):
            if pick is None:
                st.warning(T("no_open"))
            else:
                try:
                    action_items.mark_done(get_writer(), pick, note=note, week=week, who=who, now=local_now())
                    st.session_state["weekly_flash"] = T("marked_done", id=pick)
                    st.rerun()
                except action_items.ActionItemError as err:
                    st.error(str(err))
                except Exception as err:  # noqa: BLE001
                    st.error(T("write_failed", error=str(err).splitlines()[0][:160]))
    if st.session_state.get("weekly_flash"):
        st.success(st.session_state.pop("weekly_flash"))
    if len(items):
        with st.expander(T("history")):
            hist = action_items.history(get_engine(), [int(i) for i in items["id"]])
            st.dataframe(pd.DataFrame({T("item_id"): hist["item_id"], T("at"): hist["at"],
                                       T("week"): hist["week"], T("step"): hist["action"].map(
                                           lambda a: T(f"h_{a}")), T("note"): hist["note"],
                                       T("who"): hist["who"]}), hide_index=True, width="stretch")

with tab_export, panel():
    st.caption(T("export_hint"))
    url = settings.get("db_url")
    stamp = hashlib.sha1(items[["id", "status"]].to_csv().encode() if len(items) else b"").hexdigest()[:12] \
        + f"{now:%Y%m%d%H}"
    stem = f"周例会材料_{week.isoformat()}"
    b1, b2 = st.columns(2)
    b1.download_button(T("pdf"), data=lambda: _pack(url, week, repeat_days, stamp, "pdf"),
                       file_name=f"{stem}.pdf", mime="application/pdf", icon=":material/picture_as_pdf:",
                       on_click="ignore", key="weekly_pdf")
    b2.download_button(T("xlsx"), data=lambda: _pack(url, week, repeat_days, stamp, "xlsx"),
                       file_name=f"{stem}.xlsx", icon=":material/table_view:", on_click="ignore",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="weekly_xlsx")
