"""选择性上报预警: flags for suspected selective reporting — funnel plots, flag list, evidence cards, reviews.

A flag is "worth a look" (疑似 / 建议核查), never proof: the card lists the innocent explanations to rule out first.
The flags are computed once per hour for everybody (ui/flags_cache.py); this page only lays them out. Reviews are the
page's only write (data_access/reviews.py, table flag_reviews).
"""
from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import streamlit as st

from data_access import flag_queries, reviews
from data_access.engine import GridscopeDBError
from ui.access import require_page
from ui.db import get_writer
from ui import flags_cache as fc
from ui.flag_figures import PROPORTION, funnel_indicators, make_funnel_figure, make_indicator_trend_figure
from ui.i18n import Catalog, current_language, label
from ui.live import live_cache, panel, resilient
from ui.shell import current_filters

require_page("reporting")     # 权限: stops here unless the viewer's role may see this page

T = Catalog({
    "title": ("选择性上报预警", "Selective-reporting flags"),
    "intro": ("预警只提示“值得一看”（疑似 / 建议核查），不是结论，更不是处分依据。每条预警都把单元自己上报的情况与它"
              "无法控制的来源（12345、APP、视频，或其他同类人员）比较；请先排除证据卡所列的正常原因，再安排核查。",
              "A flag means \"worth a look\" (suspected / worth checking): not a finding and never grounds for a "
              "sanction. Each flag compares what a unit reports itself with sources it does not control (12345, "
              "app, cameras, or its peers). Rule out the innocent explanations on the card before anyone checks."),
    "computing": ("正在计算预警（全区约半分钟至一分钟，每小时只算一次，所有用户共享）…",
                  "Computing the flags (about half a minute to a minute for the district; once an hour for "
                  "everybody)…"),
    "unavailable": ("预警暂时无法计算：{error}", "The flags cannot be computed right now: {error}"),
    "window": ("统计窗口 {start} 至 {end}（近 {days} 天）· 计算于 {at}",
               "Window {start} to {end} (last {days} days) · computed at {at}"),
    "m_red": ("疑似", "Suspected"), "m_amber": ("建议核查", "Worth a look"),
    "m_reviewed": ("本期已复核", "Reviewed this period"), "m_insufficient": ("数据不足的街镇/社区", "Areas without enough data"),
    "m_red_help": ("q ≤ 0.05，且连续出现或另一类指标同时异常", "q ≤ 0.05 and persistent or backed by a second family"),
    "m_amber_help": ("q值 ≤ 0.10", "q ≤ 0.10"),
    "list": ("预警列表（按强度排序）", "Flags, strongest first"),
    "no_flags": ("本期在所选范围内没有需要核查的预警。没有预警不等于没有问题：数据不足的单元见下方。",
                 "No flags in the selected area this period. No flag is not a clean bill: see the units without "
                 "enough data below."),
    "people_hidden": ("核查员与APP账号不按街镇划分，选择“全区”可见。", "Verifiers and app accounts have no street: "
                      "choose the whole district to see them."),
    "c_level": ("级别", "Level"), "c_unit": ("对象", "Unit"), "c_type": ("类型", "Type"),
    "c_street": ("所属街镇", "Street"), "c_family": ("预警类型", "Flag"), "c_reason": ("主要依据", "Main evidence"),
    "c_q": ("q值", "q"), "c_persistent": ("连续出现", "Persistent"), "c_review": ("复核", "Review"),
    "pick": ("查看证据卡", "Open the evidence card"),
    "pick_hint": ("点选列表中的一行，或在此选择。", "Select a row in the list, or pick here."),
    "card": ("证据卡", "Evidence card"),
    "observed": ("观察到的情况", "What was seen"), "chance": ("是否可能是偶然", "Could it be chance?"),
    "stats": ("本类预警 p = {p}，全区同类单元中的 q = {q}", "family p = {p}, q among similar units = {q}"),
    "persistent": ("前两期中至少一期同样异常（连续出现）", "Also unusual in one of the two earlier windows (persistent)"),
    "backed": ("另一类指标同时异常", "A second family of indicators is unusual too"),
    "trend": ("趋势（每 14 天一期，近 60 天窗口）", "Trend (a 60-day window every 14 days)"),
    "this_unit": ("本单元", "This unit"), "typical": ("类似单元通常值", "Typical of similar units"),
    "trend_none": ("前几期数据不足，暂无趋势。", "Earlier windows had too little data: no trend yet."),
    "cases": ("相关案件（最多 {n} 件）", "Cases behind it (up to {n})"),
    "cases_A": ("公众上报、但巡查未同步发现的复杂问题", "Hard problems the public reported and patrol did not log"),
    "cases_B1": ("月末最后几天巡查上报的简单案件", "Simple patrol reports in the last days of a month"),
    "cases_B2": ("最近的巡查简单案件", "Latest simple patrol reports"),
    "cases_B3": ("用时接近处置时限才结案的案件", "Closures in the last 10 % of the time limit"),
    "cases_C": ("该核查员的核查，按处置反馈后多久完成排序（分钟）", "This verifier's checks, fastest after the "
                "disposal report first (minutes)"),
    "cases_D": ("该账号的APP上报，按类别与地点排列（重复点位相邻）", "This account's app reports by category and "
                "place (repeats sit together)"),
    "cases_none": ("没有找到相关案件。", "No cases found."),
    "case_no": ("案件编号", "Case no."), "channel": ("来源", "Channel"), "category": ("类别", "Category"),
    "grid": ("网格", "Grid"), "reported": ("上报时间", "Reported"), "status": ("状态", "Status"),
    "lag": ("核查用时(分)", "Minutes to check"), "open_case": ("详情", "Open"), "view": ("查看", "view"),
    "innocent": ("请先排除的正常原因", "Innocent explanations to rule out first"),
    "innocent_A": ("人员变动（巡查力量减少）、专项整治、系统故障或数据缺失、案件分类调整。",
                   "Staffing changes (fewer inspectors), clean-up campaigns, outages or missing data, category "
                   "recoding."),
    "innocent_B": ("月末专项行动、系统补录或批量导入、人员变动、案件分类调整。",
                   "Month-end campaigns, back-filled or bulk-imported records, staffing changes, category recoding."),
    "innocent_C": ("核查方式调整（如视频远程核查）、定位设备故障、批量补录核查记录。",
                   "A change of checking method (e.g. remote video checks), GPS faults, back-filled check records."),
    "innocent_D": ("热心市民长期关注同一问题、问题确实反复出现、定位误差。",
                   "A keen citizen following one problem, a problem that really keeps coming back, location "
                   "error."),
    "not_proof": ("预警仅提示“值得一看”，需现场核查，不作为处分依据。",
                  "A flag only says \"worth a look\": check on site; never grounds for a sanction."),
    "review": ("复核", "Review"), "reviewer": ("复核人", "Reviewer"),
    "reviewer_signed_in": ("复核人：{name}（当前登录用户）", "Reviewer: {name} (signed in)"),
    "reviewer_help": ("姓名或工号；本次会话内会记住", "Name or staff number; remembered for this session"),
    "decision": ("结论", "Decision"), "note": ("说明", "Note"),
    "note_help": ("例如：已排除的原因、核查安排（最多 {n} 字）", "e.g. what was ruled out, the check arranged "
                  "(at most {n} characters)"),
    "submit": ("保存复核", "Save review"),
    "saved": ("已保存复核", "Review saved"),
    "invalid": ("未保存：{error}", "Not saved: {error}"),
    "write_failed": ("复核无法保存：{error}", "The review could not be saved: {error}"),
    "s_reviewed": ("已查看", "Reviewed"), "s_confirmed": ("核查属实", "Confirmed"),
    "s_dismissed": ("已排除（有正常原因）", "Dismissed (innocent explanation)"),
    "past": ("该单元的复核记录", "Reviews of this unit"), "past_none": ("尚无复核记录。", "No reviews yet."),
    "r_at": ("时间", "When"), "r_by": ("复核人", "By"), "r_status": ("结论", "Decision"),
    "r_family": ("预警类型", "Flag"), "r_note": ("说明", "Note"), "r_period": ("对应窗口截止", "Window end"),
    "funnels": ("漏斗图：按数据量比较同类单元", "Funnel plots: similar units by volume"),
    "funnel_hint": ("横轴为数据量（对数），纵轴为指标值；虚线为类似单元典型值，点线与实线为 95% 与 99.8% 控制限（已计入"
                    "单元间的正常差异）。颜色按本类预警的综合结论（多个指标、多期与全区多重比较）标注：红色疑似、"
                    "橙色建议核查、空心灰点数据不足，因此控制限外的点不一定有预警。",
                    "Volume (log) across, value up; dashed: the typical value; dotted and solid: 95 % and 99.8 % "
                    "limits (widened for honest differences between units). Colours show the family's overall "
                    "verdict (all its indicators, earlier windows, many units compared): red suspected, orange "
                    "worth a look, hollow grey not enough data — so a dot outside a limit need not be flagged."),
    "indicator": ("指标", "Indicator"), "unit_type": ("单元", "Units"),
    "standardised": ("该指标没有统一的典型值，按标准化得分 z 显示（越低越可疑）。",
                     "This indicator has no common typical value: shown as a z-score (lower = more suspicious)."),
    "no_units": ("本期没有此类单元的数据。", "No units of this kind this period."),
    "insufficient": ("数据不足的单元（不代表没有问题）", "Units without enough data (not a clean bill)"),
    "insufficient_hint": ("这些单元本期可比对的数据太少，既不能预警也不能排除。建议延长时间窗口或在街镇层面汇总。",
                          "Too little comparable data this period to flag or to clear. Lengthen the window or "
                          "look at the street level."),
    "insufficient_counts": ("街镇 {street} 个 · 社区 {community} 个 · 核查员 {verifier} 个 · APP账号 {app} 个",
                            "streets {street} · communities {community} · verifiers {verifier} · app accounts {app}"),
    "method": ("方法说明", "How the flags work"),
    "method_text": ("每个指标与类似单元比较（漏斗图，计入单元间正常差异）；同一类内用 Cauchy 组合检验合并，跨类 "
                    "Bonferroni，跨单元控制错误发现率（q 值）。q ≤ 0.10 为建议核查；q ≤ 0.05 且连续出现或另一类同时"
                    "异常为疑似。先检验街镇，只在有预警的街镇内检验社区。详见 docs/flags.md。",
                    "Each indicator is compared with similar units (funnel, widened for honest differences); "
                    "indicators of a family are combined with the Cauchy test, families with Bonferroni, units with "
                    "the false discovery rate (q). q ≤ 0.10: worth a look; q ≤ 0.05 and persistent or backed by a "
                    "second family: suspected. Streets first, communities only inside flagged streets. See "
                    "docs/flags.md."),
    "personal": ("APP账号属于个人信息，此处只显示部分字符。", "App account ids are personal data: partly hidden."),
})
FAMILY_ORDER = ("A", "B", "C", "D")
UNIT_TYPES = ("street", "community", "verifier", "app_reporter")
CASES_LIMIT = 20


# --- cached loaders (small, per card; the flags themselves come from ui.flags_cache) -------------------------------
@live_cache(ttl=600)
def flag_case_list(unit_type: str, unit_id: str, family: str, indicator: str | None, start: datetime,
                   end: datetime) -> pd.DataFrame:
    from ui.db import get_engine
    return flag_queries.flag_cases(get_engine(), unit_type, unit_id, family, start, end, indicator=indicator,
                                   limit=CASES_LIMIT)


# --- helpers ----------------------------------------------------------------------------------------------------------
def flag_key(row) -> str:
    return f"{row['unit_type']}:{reviews._unit_key(row['unit_id'])}:{row['family']}"


def level_text(level: str) -> str:
    # Text, not emoji: intranet browsers often lack an emoji font (a red/orange style colours it in the list).
    return fc.T(level)


def family_text(family: str) -> str:
    return f"{family} · {fc.T('fam_' + family)}"


def fmt_p(p) -> str:
    if p is None or not np.isfinite(float(p)):
        return "—"
    return "< 0.0001" if float(p) < 1e-4 else f"{float(p):.4f}"


def chance_en(p) -> str:
    if p is None or not np.isfinite(float(p)):
        return "Not enough data to say."
    for cut, words in ((1e-4, "1 in 10,000"), (1e-3, "1 in 1,000"), (1e-2, "1 in 100"), (5e-2, "1 in 20")):
        if float(p) < cut:
            return f"By chance in fewer than {words} similar units."
    return "Within ordinary variation."


def status_text(status) -> str:
    return T(f"s_{status}") if status in reviews.STATUSES else ""


def review_lookup(since: datetime) -> dict:
    loaded = resilient(fc.current_reviews, since)
    if not loaded.ok:
        return {}
    return {(r["unit_type"], str(r["unit_id"]), r["family"]): r for _, r in loaded.value.iterrows()}


def flag_table(active: pd.DataFrame, names: dict, latest: dict) -> pd.DataFrame:
    def street_of(r):
        if r["unit_type"] != "community" or pd.isna(r["street_id"]):
            return ""
        return fc.unit_label("street", r["street_id"], names)

    return pd.DataFrame({
        T("c_level"): [level_text(v) for v in active["level"]],
        T("c_unit"): [fc.unit_label(r["unit_type"], r["unit_id"], names) for _, r in active.iterrows()],
        T("c_type"): [fc.T(v) for v in active["unit_type"]],
        T("c_street"): [street_of(r) for _, r in active.iterrows()],
        T("c_family"): [family_text(v) for v in active["family"]],
        T("c_reason"): [fc.short_reason(r) for _, r in active.iterrows()],
        T("c_q"): [fmt_p(q) for q in active["q"]],
        T("c_persistent"): active["persistent"].astype(bool),
        T("c_review"): [status_text(latest[fc._key_of(r)]["status"]) if fc._key_of(r) in latest else ""
                        for _, r in active.iterrows()],
    })


# --- the evidence card ----------------------------------------------------------------------------------------------
def cases_section(row, window) -> None:
    fam, ind = row["family"], row["indicator"]
    what = {"A": "cases_A", "C": "cases_C", "D": "cases_D"}.get(fam) or \
        f"cases_{ind if ind in ('B1', 'B2', 'B3') else 'B1'}"
    st.markdown(f"**{T('cases', n=CASES_LIMIT)}** · {T(what)}")
    loaded = resilient(flag_case_list, row["unit_type"], reviews._unit_key(row["unit_id"]), fam,
                       ind if isinstance(ind, str) else None, window[0], window[1])
    if not loaded.ok:
        st.caption(loaded.error or "—")
        return
    cases = loaded.value
    if cases.empty:
        st.caption(T("cases_none"))
        return
    table = pd.DataFrame({T("case_no"): cases["case_no"],
                          T("channel"): cases["channel"].map(lambda c: label("channels", c)),
                          T("category"): cases["category"], T("grid"): cases["grid_id"],
                          T("reported"): cases["reported_at"],
                          T("status"): cases["status"].map(lambda s: label("statuses", s))})
    if "lag_min" in cases:
        table[T("lag")] = cases["lag_min"].astype(float).round(1)
    table[T("open_case")] = [f"/backlog?case={int(i)}" for i in cases["id"]]
    st.dataframe(table, hide_index=True, width="stretch", height=min(36 + 35 * len(table), 290),
                 column_config={T("open_case"): st.column_config.LinkColumn(display_text=T("view"))})


def review_section(row, bundle) -> None:
    st.markdown(f"**{T('review')}**")
    from ui.auth import current_user
    user = current_user()
    # Who: the signed-in user when there are logins; in the demo (no login) a typed name, remembered per session.
    signed_in = user.name if user is not None and user.source not in ("demo", "kiosk") and user.name else None
    with st.form(f"review_{flag_key(row)}", clear_on_submit=True, border=False):
        if signed_in:
            st.caption(T("reviewer_signed_in", name=signed_in))
            reviewer = signed_in
        else:
            reviewer = st.text_input(T("reviewer"), value=st.session_state.get("flag_reviewer", ""),
                                     max_chars=reviews.REVIEWER_MAX, help=T("reviewer_help"))
        decision = st.radio(T("decision"), reviews.STATUSES, format_func=status_text, horizontal=True)
        note = st.text_area(T("note"), max_chars=reviews.NOTE_MAX, height=90,
                            help=T("note_help", n=reviews.NOTE_MAX))
        submitted = st.form_submit_button(T("submit"), icon=":material/rate_review:")
    if submitted:
        if not signed_in:
            st.session_state["flag_reviewer"] = (reviewer or "").strip()[:reviews.REVIEWER_MAX]
        try:
            reviews.add_review(get_writer(), unit_type=row["unit_type"], unit_id=row["unit_id"],
                               family=row["family"], indicator=row["indicator"], reason=row["reason"],
                               period_end=bundle.period_end, status=decision, note=note, reviewer=reviewer)
        except reviews.ReviewError as err:
            st.error(T("invalid", error=err), icon=":material/error:")
        except GridscopeDBError as err:
            st.error(T("write_failed", error=str(err).splitlines()[0][:200]), icon=":material/error:")
        else:
            fc.forget_reviews()
            st.toast(T("saved"), icon=":material/check:")
    past = resilient(fc.unit_reviews, row["unit_type"], reviews._unit_key(row["unit_id"]))
    st.markdown(f"**{T('past')}**")
    if not past.ok:
        st.caption(past.error or "—")
    elif past.value.empty:
        st.caption(T("past_none"))
    else:
        p = past.value
        st.dataframe(pd.DataFrame({T("r_at"): p["created_at"], T("r_by"): p["reviewer"],
                                   T("r_status"): p["status"].map(status_text),
                                   T("r_family"): p["family"].map(family_text), T("r_note"): p["note"],
                                   T("r_period"): pd.to_datetime(p["period_end"]).dt.date}),
                     hide_index=True, width="stretch", height=min(36 + 35 * len(p), 220))


def evidence_card(row, bundle, names) -> None:
    zh = current_language() == "zh"
    fam, ind = row["family"], row["indicator"]
    with st.container(border=True):
        badge = {"red": "red", "amber": "orange"}.get(row["level"], "gray")
        kind = f" · {fc.T(row['unit_type'])}" if row["unit_type"] in ("street", "community") else ""
        st.markdown(f":{badge}-badge[{fc.T(row['level'])}] "
                    f"**{fc.unit_label(row['unit_type'], row['unit_id'], names)}**{kind} · {family_text(fam)}")
        st.markdown(f"##### {row['title'] if zh else fc.T(row['level']) + ': ' + fc.T('fam_' + fam)}")
        st.markdown(f"**{T('observed')}**  \n" + (row["observed_text"] if zh else fc.short_reason(row)))
        st.markdown(f"**{T('chance')}**  \n" + (row["chance_text"] if zh else chance_en(row["family_p"])))
        extra = [T("persistent")] if row["persistent"] else []
        extra += [T("backed")] if row["backed"] else []
        st.caption(" · ".join([T("stats", p=fmt_p(row["family_p"]), q=fmt_p(row["q"]))] + extra))
        st.markdown(f"**{T('trend')}**")
        if isinstance(ind, str):
            hist = bundle.history
            points = hist[(hist["unit_type"] == row["unit_type"]) & (hist["unit_id"].astype(str) ==
                          reviews._unit_key(row["unit_id"])) & (hist["indicator"] == ind) & hist["enough"]]
            if len(points) >= 2:
                fig = make_indicator_trend_figure(hist, row["unit_type"], reviews._unit_key(row["unit_id"]), ind,
                                                  labels={"observed": T("this_unit"), "expected": T("typical")},
                                                  height=190)
                st.plotly_chart(fig, width="stretch", config={"displayModeBar": False}, key=f"trend_{flag_key(row)}")
            else:
                st.caption(T("trend_none"))
        with panel():
            cases_section(row, bundle.report.window)
        st.markdown(f"**{T('innocent')}**")
        st.warning(T(f"innocent_{fam}") + " " + T("not_proof"), icon=":material/fact_check:")
        with panel():
            review_section(row, bundle)


# --- funnels ----------------------------------------------------------------------------------------------------------
def funnel_tab(family: str, bundle, names: dict, selected) -> None:
    ind_rows = bundle.report.indicators
    choices = [i for i in funnel_indicators(ind_rows, family)
               if i not in bundle.report.config.context_only or i in PROPORTION]
    if not choices:
        st.caption(T("no_units"))
        return
    left, right = st.columns([2, 1])
    default = selected["indicator"] if selected is not None and selected["family"] == family and \
        selected["indicator"] in choices else choices[0]
    ind = left.selectbox(T("indicator"), choices, index=choices.index(default), key=f"funnel_ind_{family}",
                         format_func=lambda i: f"{i} · {fc.T('ind_' + i)}" if f"ind_{i}" in fc.T.entries else i)
    types = [t for t in UNIT_TYPES if ((ind_rows["family"] == family) & (ind_rows["indicator"] == ind)
                                       & (ind_rows["unit_type"] == t)).any()]
    unit_type = right.radio(T("unit_type"), types, format_func=fc.T, horizontal=True, key=f"funnel_type_{family}") \
        if len(types) > 1 else types[0]
    fam_flags = bundle.report.flags[bundle.report.flags["family"] == family]
    levels = dict(zip(zip(fam_flags["unit_type"], fam_flags["unit_id"]), fam_flags["level"]))
    rows = ind_rows[(ind_rows["family"] == family) & (ind_rows["unit_type"] == unit_type)]
    unit_names = {(t, u): fc.unit_label(t, u, names) for t, u in zip(rows["unit_type"], rows["unit_id"])}
    highlight = (selected["unit_type"], selected["unit_id"]) if selected is not None else None
    if ind not in PROPORTION:
        st.caption(T("standardised"))
    labels = None if current_language() == "zh" else {
        "red": fc.T("red"), "amber": fc.T("amber"), "none": fc.T("none"), "insufficient": fc.T("insufficient"),
        "volume": "Volume", "value": "Value", "z": "z-score (lower = more suspicious)", "target": "Typical value",
        "limit95": "95 % limit", "limit998": "99.8 % limit", "selected": "Selected"}
    fig = make_funnel_figure(ind_rows, family, indicator=ind, unit_type=unit_type, levels=levels, names=unit_names,
                             highlight=highlight, labels=labels, height=400)
    st.plotly_chart(fig, width="stretch", config={"displayModeBar": False}, key=f"funnel_{family}")


def insufficient_section(flags: pd.DataFrame, names: dict, street_id) -> None:
    units = flags.drop_duplicates(["unit_type", "unit_id"])
    thin = units[units["unit_level"] == "insufficient"]
    counts = thin["unit_type"].value_counts()
    with st.expander(f"{T('insufficient')} · {len(thin[thin['unit_type'].isin(('street', 'community'))])}"):
        st.caption(T("insufficient_hint"))
        st.markdown(T("insufficient_counts", street=int(counts.get("street", 0)),
                      community=int(counts.get("community", 0)), verifier=int(counts.get("verifier", 0)),
                      app=int(counts.get("app_reporter", 0))))
        areas = thin[thin["unit_type"].isin(("street", "community"))]
        if street_id is not None:
            areas = areas[areas["street_id"] == street_id]
        if len(areas):
            st.dataframe(pd.DataFrame({
                T("c_unit"): [fc.unit_label(t, u, names) for t, u in zip(areas["unit_type"], areas["unit_id"])],
                T("c_type"): [fc.T(t) for t in areas["unit_type"]]}), hide_index=True, width="stretch",
                height=min(36 + 35 * len(areas), 260))


# --- page -------------------------------------------------------------------------------------------------------------
st.subheader(T("title"))
st.caption(T("intro"))
try:
    with st.spinner(T("computing"), show_time=True):
        bundle = fc.flag_bundle(block=True)
except Exception as err:  # noqa: BLE001 - the page says why, never a traceback
    st.error(T("unavailable", error=str(err).splitlines()[0][:200] if str(err) else type(err).__name__),
             icon=":material/warning:")
    st.stop()

report = bundle.report
start, end = report.window
st.caption(T("window", start=f"{start:%Y-%m-%d}", end=f"{end:%Y-%m-%d}", days=(end - start).days,
             at=f"{bundle.computed_at:%Y-%m-%d %H:%M}"))
street_id = current_filters().street_id
names = resilient(fc.unit_names).value or {}
latest = review_lookup(start)

active = fc.active_flags(report.flags)
if street_id is not None:
    active = active[active["unit_type"].isin(("street", "community")) & (active["street_id"] == street_id)]
units = report.flags.drop_duplicates(["unit_type", "unit_id"])
thin_areas = units[(units["unit_level"] == "insufficient") & units["unit_type"].isin(("street", "community"))]
if street_id is not None:
    thin_areas = thin_areas[thin_areas["street_id"] == street_id]
m = st.columns(4)
m[0].metric(T("m_red"), int((active["level"] == "red").sum()), help=T("m_red_help"))
m[1].metric(T("m_amber"), int((active["level"] == "amber").sum()), help=T("m_amber_help"))
m[2].metric(T("m_reviewed"), sum(1 for _, r in active.iterrows() if fc._key_of(r) in latest))
m[3].metric(T("m_insufficient"), len(thin_areas))

left, right = st.columns([1.1, 1], gap="medium")
selected = None
with left:
    st.markdown(f"**{T('list')}**")
    if street_id is not None:
        st.caption(T("people_hidden"))
    if active.empty:
        st.info(T("no_flags"), icon=":material/info:")
    else:
        table = flag_table(active, names, latest)
        if (active["unit_type"] == "app_reporter").any():
            st.caption(T("personal"))
        colours = {fc.T("red"): "color: #ff6b6b; font-weight: 600", fc.T("amber"): "color: #f0b43c"}
        styled = table.style.map(lambda v: colours.get(v, ""), subset=[T("c_level")])
        picked = st.dataframe(styled, hide_index=True, width="stretch", height=min(38 + 35 * len(table), 460),
                              on_select="rerun", selection_mode="single-row", key="flag_list")
        keys = [flag_key(r) for _, r in active.iterrows()]
        rows = list(picked.selection.rows) if picked and picked.selection else []
        # A row clicked in the list drives the picker below (once per click, so the picker stays usable).
        if rows and rows != st.session_state.get("_flag_rows_applied"):
            st.session_state["flag_pick"] = keys[rows[0]]
        st.session_state["_flag_rows_applied"] = rows
        wanted = st.query_params.get("flag")
        if "flag_pick" not in st.session_state and wanted in keys:
            st.session_state["flag_pick"] = wanted         # a shared link opens its card
        if st.session_state.get("flag_pick") not in keys:
            st.session_state["flag_pick"] = keys[0]
        labels = {flag_key(r): f"{level_text(r['level'])} · {fc.unit_label(r['unit_type'], r['unit_id'], names)}"
                                f" · {family_text(r['family'])}" for _, r in active.iterrows()}
        pick = st.selectbox(T("pick"), keys, format_func=labels.get, key="flag_pick", help=T("pick_hint"))
        st.query_params["flag"] = pick
        selected = active.iloc[keys.index(pick)]
    # The funnels sit under the list: the evidence card on the right is the long column.
    st.markdown(f"**{T('funnels')}**")
    st.caption(T("funnel_hint"))
    families = [f for f in FAMILY_ORDER if (report.indicators["family"] == f).any()]
    if families:
        tabs = st.tabs([family_text(f) for f in families])
        for tab, fam in zip(tabs, families):
            with tab, panel():
                funnel_tab(fam, bundle, names, selected)
with right:
    if selected is not None:
        st.markdown(f"**{T('card')}**")
        evidence_card(selected, bundle, names)
insufficient_section(report.flags, names, street_id)
with st.expander(T("method")):
    st.markdown(T("method_text"))
