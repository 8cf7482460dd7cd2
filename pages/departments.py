"""部门考评: department scorecards and fair rankings (issue 6).

Thin layout over cached loaders. The numbers come from ``data_access.scorecard_queries.department_scorecard`` /
``street_scorecard`` (the wall's mini-ranking calls the same function); every indicator's formula is a tooltip and is
documented in docs/indicators.md. Period (``?period=week|month|custom&start=YYYY-MM-DD[&end=YYYY-MM-DD]``), ranking
indicator (``?rank=``) and department (``?dept=<code>``) are bound to the URL; unknown values are ignored with a
notice.
"""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import pandas as pd
import streamlit as st

from analytics import fairness
from analytics.indicators import DEPARTMENT_INDICATORS, INDICATORS_BY_KEY, STREET_INDICATORS
from data_access import queries
from data_access import scorecard_queries as sq
from data_access.workcal import local_now
from ui.access import require_page
from ui.db import get_engine
from ui.i18n import COMMON, Catalog, current_language
from ui.live import live_cache, panel, resilient, show_freshness
from ui.reference import category_table
from ui.scorecard_figures import (make_category_figure, make_indicator_figure, make_oe_figure, make_peer_figure,
                                  make_rank_interval_figure, make_trend_figure)
from ui.shell import current_filters

require_page("departments")     # 权限: stops here unless the viewer's role may see this page

T = Catalog({
    "title": ("部门考评", "Department scorecards"),
    "intro": ("按期处置按案件类别构成调整（O/E），名次附 95% 区间；案件量不足 {n} 件的单位只列出不排名。",
              "On-time disposal is adjusted for the case mix (O/E); ranks carry 95 % intervals; units with fewer "
              "than {n} cases are listed but not ranked."),
    "period_kind": ("考评周期", "Period"),
    "week": ("周", "Week"), "month": ("月", "Month"), "custom": ("自定义", "Custom"),
    "which_week": ("选择周", "Week"), "which_month": ("选择月份", "Month"), "date_range": ("起止日期", "Dates"),
    "week_label": ("{start} 至 {end}（第{n}周）", "{start} to {end} (week {n})"),
    "month_label": ("{y}年{m}月", "{y}-{m:02d}"),
    "rank_by": ("排名指标", "Rank by"),
    "period_caption": ("统计周期 {start} 至 {end}，超期未处置数截至 {as_of}；上期 {pstart} 至 {pend}。",
                       "Period {start} to {end}; overdue counted as of {as_of}; previous period {pstart} to {pend}."),
    "tab_rank": ("部门排名", "Department ranking"), "tab_dept": ("部门详情", "One department"),
    "tab_streets": ("街镇考评", "Streets"),
    "rank": ("名次", "Rank"), "rank_interval": ("名次区间(95%)", "Rank interval (95 %)"),
    "rank_help": ("1 = 最好。区间来自参数自助法（bootstrap）重抽样：真实名次有 95% 的可能落在区间内。",
                  "1 = best. The interval comes from a parametric bootstrap: the true rank lies in it with 95 % "
                  "probability."),
    "separation": ("区分度", "Can it be told apart?"),
    "separation_help": ("与上一名或下一名的差别在 95% 的重抽样中顺序不稳定时，标为“与相邻名次难以区分”。",
                        "'Not distinguishable' when fewer than 95 % of the bootstrap draws keep the unit in order "
                        "with the unit just above or just below."),
    "status_clear": ("名次可区分", "Clearly placed"),
    "status_tied": ("与相邻名次难以区分", "Not distinguishable from neighbours"),
    "status_low_volume": ("案件量不足，不排名", "Too few cases to rank"),
    "status_no_data": ("无应处置案件", "No cases due"),
    "change": ("较上期", "vs previous"),
    "change_help": ("上期名次 − 本期名次：正数为上升；两期都参与排名才显示。",
                    "Previous rank − this rank: positive = moved up; shown only when ranked in both periods."),
    "department": ("部门", "Department"), "street": ("街镇", "Street"),
    "grade": ("等级", "Grade"),
    "grade_help": ("综合得分 ≥ {a} 为 A，≥ {b} 为 B，≥ {c} 为 C，≥ {d} 为 D，其余为 E。",
                   "Score ≥ {a}: A, ≥ {b}: B, ≥ {c}: C, ≥ {d}: D, otherwise E."),
    "weights": ("综合得分权重：{w}", "Score weights: {w}"),
    "oe_interval": ("O/E 区间(95%)", "O/E interval (95 %)"),
    "oe_interval_help": ("按期处置 O/E 的 95% 区间（超期件数按 Poisson/Byar 近似）；整段低于 1 = 明显低于全区同类水平。",
                         "95 % interval of the on-time O/E (Byar's Poisson approximation on the late count); wholly "
                         "below 1 = clearly worse than the district on the same case mix."),
    "oe_chart": ("按期处置 O/E（按案件类别调整，点=估计，线=95%区间）",
                 "On-time O/E adjusted for case mix (dot = estimate, line = 95 % interval)"),
    "oe_reference": ("全区同类水平 = 1", "district, same mix = 1"),
    "rank_chart": ("名次与95%区间", "Rank and 95 % interval"),
    "indicator_chart": ("{name}（灰色：案件量不足未排名）", "{name} (grey: too few cases to rank)"),
    "export_csv": ("导出 CSV", "Export CSV"), "export_xlsx": ("导出 Excel", "Export Excel"),
    "no_rows": ("所选周期内没有部门案件。", "No department cases in this period."),
    "pick_department": ("选择部门", "Department"),
    "dept_header": ("{name}：O/E 第 {rank} 名（共 {n} 个参与排名）", "{name}: O/E rank {rank} of {n} ranked"),
    "dept_unranked": ("{name}：本期未参与排名（{why}）", "{name}: not ranked this period ({why})"),
    "peer_delta": ("较参与排名部门中位数", "vs median of ranked departments"),
    "peers": ("与同行比较（灰带=四分位区间，竖线=中位数）", "Against peers (band = interquartile range, tick = median)"),
    "this_department": ("本部门", "This department"), "peer_band": ("参与排名部门", "Ranked departments"),
    "trend": ("近 {n} 期走势", "Last {n} periods"),
    "trend_ontime": ("按期处置率", "On-time rate"), "trend_disposal": ("处置率", "Disposal rate"),
    "trend_oe": ("O/E（右轴）", "O/E (right axis)"),
    "categories": ("按类别：本部门按期率（点）与参照按期率（竖线）", "By category: on-time rate (dot) vs reference (tick)"),
    "categories_table": ("类别明细", "Categories"),
    "category": ("类别", "Category"), "reference": ("参照", "Reference"),
    "ref_category": ("全区该类别", "district, this category"),
    "ref_difficulty": ("全区同难度（该类别无同行）", "district, same difficulty (no peers in category)"),
    "district_rate": ("参照按期率", "Reference on-time rate"), "expected": ("期望按期数", "Expected on time"),
    "observed": ("实际按期数", "Observed on time"),
    "overdue_cases": ("超期未处置案件（当前）", "Overdue cases (now)"),
    "returned_cases": ("本期回退案件", "Cases returned this period"),
    "reworked_cases": ("本期返工案件", "Cases reworked this period"),
    "none": ("无", "None"),
    "case_no": ("案件编号", "Case no."), "status": ("状态", "Status"), "reported_at": ("上报时间", "Reported"),
    "deadline": ("处置时限", "Deadline"), "disposed_at": ("处置时间", "Disposed"), "address": ("地址", "Address"),
    "returned_at": ("回退时间", "Returned"), "note": ("回退原因", "Reason"), "overdue_by": ("已超期(天)", "Days overdue"),
    "street_intro": ("街镇作为区域考评：结案率、按期结案率、监督举报率与热线/APP“三率”；按期处置 O/E 同样按类别构成调整。",
                     "Streets as areas: closure, on-time closure, public report rate and the hotline 'three rates'; "
                     "on-time O/E adjusted for the case mix as for departments."),
    "w_disposal_rate": ("处置率", "disposal rate"), "w_ontime_rate": ("按期处置率", "on-time rate"),
    "w_rework_free": ("1−返工率", "1 − rework rate"), "w_overdue_free": ("1−超期待处置率", "1 − overdue share"),
    "w_extension_free": ("1−延期率", "1 − extension rate"),
    "bad_dates": ("自定义日期无效，已改用默认周期", "Invalid custom dates: using the default period"),
})

RANK_CHOICES = ("oe", "score", "ontime_rate", "ontime_original_rate", "disposal_rate", "overdue", "rework_rate",
                "extension_rate", "return_rate", "median_hours", "p90_hours", "satisfaction_rate")
PERIOD_KINDS = ("week", "month", "custom")
TREND_PERIODS = 8
MAX_CUSTOM_DAYS = 366
TTL = 300


def _name(ind) -> str:
    return ind.en if current_language() == "en" else ind.zh


def _formula(ind) -> str:
    return ind.formula_en if current_language() == "en" else ind.formula_zh


# --- cached loaders ---------------------------------------------------------------------------------------------------
@live_cache(ttl=TTL)
def data_range() -> tuple[datetime | None, datetime | None]:
    return queries.data_time_range(get_engine())


@live_cache(ttl=TTL, max_entries=24)
def load_scorecard(start: datetime, end: datetime, street_id: int | None) -> sq.Scorecard:
    return sq.department_scorecard(get_engine(), start, end, now=local_now(), street_id=street_id)


@live_cache(ttl=TTL, max_entries=12)
def load_street_scorecard(start: datetime, end: datetime) -> sq.Scorecard:
    return sq.street_scorecard(get_engine(), start, end, now=local_now())


@live_cache(ttl=TTL, max_entries=32)
def load_department_cases(department_id: int, start: datetime, end: datetime) -> dict[str, pd.DataFrame]:
    engine = get_engine()
    return {"overdue": sq.department_overdue_cases(engine, department_id, local_now(), limit=200),
            "returned": sq.department_returned_cases(engine, department_id, start, end, limit=200),
            "reworked": sq.department_reworked_cases(engine, department_id, start, end, limit=200)}


@live_cache(ttl=900, max_entries=16)
def load_trend(department_id: int, periods: tuple[tuple[datetime, datetime], ...]) -> pd.DataFrame:
    return sq.department_trend(get_engine(), department_id, list(periods), now=local_now())


# --- period and URL parameters ----------------------------------------------------------------------------------------
def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _month_start(day: date, back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def period_options(kind: str, anchor: date, n: int = 12) -> list[date]:
    """Start days of the last ``n`` weeks or months up to the one containing ``anchor`` (newest first)."""
    if kind == "week":
        first = _week_start(anchor)
        return [first - timedelta(weeks=i) for i in range(n)]
    return [_month_start(anchor, i) for i in range(n)]


def period_bounds(kind: str, start: date, end: date | None = None) -> tuple[datetime, datetime]:
    """[start, end) datetimes of a week, a month or a custom range (``end`` inclusive)."""
    s = datetime.combine(start, datetime.min.time())
    if kind == "week":
        return s, s + timedelta(days=7)
    if kind == "month":
        nxt = _month_start(start, -1)
        return s, datetime.combine(nxt, datetime.min.time())
    return s, datetime.combine(end, datetime.min.time()) + timedelta(days=1)


def _parse_day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _notice(name: str, value) -> None:
    st.toast(COMMON("ignored_param", name=name, value=str(value)[:40]))


def choose_period(anchor: date) -> tuple[str, datetime, datetime]:
    """The period widgets (kind + which), started from and written back to the URL; returns (kind, start, end)."""
    params = st.query_params
    kind = params.get("period", "week")
    if kind not in PERIOD_KINDS:
        _notice("period", kind)
        kind = "week"
    cols = st.columns([1.6, 2.4, 3])
    kind = cols[0].segmented_control(T("period_kind"), PERIOD_KINDS, default=kind, key="dept_period_kind",
                                     format_func=T) or "week"
    raw_start = params.get("start")
    start_day = _parse_day(raw_start)
    if kind in ("week", "month"):
        options = period_options(kind, anchor)
        default = options[1] if len(options) > 1 else options[0]       # the last complete period
        if start_day is not None and start_day in options:
            default = start_day
        elif raw_start is not None and params.get("period") == kind:
            _notice("start", raw_start)
        if kind == "week":
            def fmt(d):
                return T("week_label", start=d.isoformat(), end=(d + timedelta(days=6)).isoformat()[5:],
                         n=d.isocalendar()[1])
            label = T("which_week")
        else:
            def fmt(d):
                return T("month_label", y=d.year, m=d.month)
            label = T("which_month")
        chosen = cols[1].selectbox(label, options, index=options.index(default), format_func=fmt,
                                   key=f"dept_period_{kind}")
        start, end = period_bounds(kind, chosen)
        params["period"], params["start"] = kind, chosen.isoformat()
        params.pop("end", None)
        return kind, start, end
    end_day = _parse_day(params.get("end"))
    default = (anchor - timedelta(days=27), anchor)
    if start_day and end_day and start_day <= end_day and (end_day - start_day).days < MAX_CUSTOM_DAYS:
        default = (start_day, end_day)
    elif params.get("period") == "custom" and (raw_start is not None or params.get("end") is not None):
        st.toast(T("bad_dates"))
    picked = cols[1].date_input(T("date_range"), value=default, key="dept_period_custom",
                                max_value=anchor + timedelta(days=1))
    if not isinstance(picked, (tuple, list)) or len(picked) != 2:
        picked = default                        # the user has picked only the first day so far
    first, last = picked
    if (last - first).days >= MAX_CUSTOM_DAYS:
        first = last - timedelta(days=MAX_CUSTOM_DAYS - 1)
    start, end = period_bounds("custom", first, last)
    params["period"], params["start"], params["end"] = "custom", first.isoformat(), last.isoformat()
    return kind, start, end


def trend_periods(kind: str, start: datetime, end: datetime) -> tuple[tuple[datetime, datetime], ...]:
    """The last ``TREND_PERIODS`` periods of the same kind ending with [start, end), oldest first."""
    periods = [(start, end)]
    for _ in range(TREND_PERIODS - 1):
        periods.append(sq.previous_period(*periods[-1]))
    return tuple(reversed(periods))


# --- formatting -------------------------------------------------------------------------------------------------------
def _status_text(status: str) -> str:
    return T(f"status_{status}") if status in ("clear", "tied", "low_volume", "no_data") else status


def _interval(lo, hi, fmt="{:.0f}") -> str:
    return "—" if pd.isna(lo) or pd.isna(hi) else f"{fmt.format(lo)}–{fmt.format(hi)}"


def _change(v) -> str:
    return "—" if pd.isna(v) else ("±0" if v == 0 else f"{int(v):+d}")


def ranking_frame(table: pd.DataFrame, prefix: str, name_col: str, unit_label: str,
                  indicators, extra_first: tuple[str, ...] = ()) -> pd.DataFrame:
    """The display/export table: rank, interval, separation label, change, name, then indicators (raw values)."""
    out = pd.DataFrame({
        T("rank"): table[f"{prefix}_rank"],
        T("rank_interval"): [_interval(a, b) for a, b in zip(table[f"{prefix}_rank_lo"], table[f"{prefix}_rank_hi"])],
        T("separation"): table[f"{prefix}_status"].map(_status_text),
        T("change"): [_change(v) for v in table.get(f"{prefix}_rank_change", pd.Series([pd.NA] * len(table)))],
        unit_label: table[name_col],
    })
    for col in extra_first:
        out[T(col)] = table[col]
    for ind in indicators:
        if ind.key in table:
            out[_name(ind)] = table[ind.key]
        if ind.key == "oe":
            out[T("oe_interval")] = [_interval(a, b, "{:.3f}") for a, b in zip(table["oe_lo"], table["oe_hi"])]
    return out


def column_config(indicators) -> dict:
    """Tooltips (help=) with each indicator's formula, and number formats."""
    cfg = {
        T("rank"): st.column_config.NumberColumn(help=T("rank_help"), format="%d"),
        T("rank_interval"): st.column_config.TextColumn(help=T("rank_help")),
        T("separation"): st.column_config.TextColumn(help=T("separation_help")),
        T("change"): st.column_config.TextColumn(help=T("change_help")),
        T("oe_interval"): st.column_config.TextColumn(help=T("oe_interval_help")),
    }
    for ind in indicators:
        fmt = {"rate": "percent", "count": "%d", "hours": "%.1f", "ratio": "%.3f", "score": "%.1f"}[ind.kind]
        cfg[_name(ind)] = st.column_config.NumberColumn(help=_formula(ind), format=fmt)
    return cfg


def to_xlsx(frame: pd.DataFrame, sheet: str) -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name=sheet[:31], index=False)
    return buffer.getvalue()


def export_buttons(frame: pd.DataFrame, stem: str, key: str) -> None:
    left, right, _ = st.columns([1, 1, 4])
    left.download_button(T("export_csv"), frame.to_csv(index=False).encode("utf-8-sig"), f"{stem}.csv",
                         "text/csv", key=f"{key}_csv", on_click="ignore")
    right.download_button(T("export_xlsx"), to_xlsx(frame, stem), f"{stem}.xlsx",
                          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key=f"{key}_xlsx",
                          on_click="ignore")


# --- sections ---------------------------------------------------------------------------------------------------------
def rank_selector() -> str:
    raw = st.query_params.get("rank", "oe")
    if raw not in RANK_CHOICES:
        _notice("rank", raw)
        raw = "oe"
    key = st.selectbox(T("rank_by"), RANK_CHOICES, index=RANK_CHOICES.index(raw), key="dept_rank_by",
                       format_func=lambda k: _name(INDICATORS_BY_KEY[k]),
                       help=_formula(INDICATORS_BY_KEY[raw]))
    st.query_params["rank"] = key
    return key


def ranked_table(card: sq.Scorecard, key: str) -> tuple[pd.DataFrame, str]:
    """The table with rank columns for ``key`` (``oe``/``score`` come ranked; others are ranked here) and the
    prefix of those columns."""
    if key in ("oe", "score"):
        return card.table, key
    ind = INDICATORS_BY_KEY[key]
    eligible = card.table["due"] >= card.settings_used["min_volume"]
    table = fairness.rank_by_indicator(card.table, key, ind, eligible, prefix="sel")
    if card.previous_table is not None and len(card.previous_table):
        prev = card.previous_table
        prev = fairness.rank_by_indicator(prev, key, ind, prev["due"] >= card.settings_used["min_volume"],
                                          prefix="sel", draws=50)
        table = fairness.rank_change(table, prev, "department_id", "sel_rank", "sel_ranked", out="sel_rank_change")
    return table.sort_values(["sel_rank", "code"], na_position="last", ignore_index=True), "sel"


def ranking_section(card: sq.Scorecard, name_col: str) -> None:
    if card.table.empty:
        st.info(T("no_rows"))
        return
    key = rank_selector()
    table, prefix = ranked_table(card, key)
    ind = INDICATORS_BY_KEY[key]
    left, right = st.columns([3, 2])
    with left:
        with panel():
            if key == "oe":
                fig = make_oe_figure(table, name_col, title=T("oe_chart"), reference_label=T("oe_reference"))
            else:
                fig = make_indicator_figure(table, name_col, key, percent=ind.kind == "rate",
                                            higher_is_better=ind.higher_is_better,
                                            title=T("indicator_chart", name=_name(ind)),
                                            unranked_col=f"{prefix}_ranked")
            st.plotly_chart(fig, width="stretch", config={"displayModeBar": False}, key="dept_rank_chart")
    with right:
        with panel():
            st.plotly_chart(make_rank_interval_figure(table, name_col, prefix, title=T("rank_chart")),
                            width="stretch", config={"displayModeBar": False}, key="dept_rank_interval_chart")
    frame = ranking_frame(table, prefix, name_col, T("department"), DEPARTMENT_INDICATORS, extra_first=("grade",))
    cfg = column_config(DEPARTMENT_INDICATORS)
    th = card.settings_used["thresholds"]
    cfg[T("grade")] = st.column_config.TextColumn(help=T("grade_help", a=th.get("A"), b=th.get("B"),
                                                         c=th.get("C"), d=th.get("D")))
    st.dataframe(frame, hide_index=True, width="stretch", column_config=cfg, key="dept_rank_table",
                 height=min(40 + 35 * len(frame), 760))
    weights = ", ".join(f"{T('w_' + k)} {v:.0f}" for k, v in card.settings_used["weights"].items())
    st.caption(T("weights", w=weights))
    export_buttons(frame, f"department_ranking_{card.start:%Y%m%d}_{key}", "dept_export")


def pick_department(table: pd.DataFrame, name_col: str) -> pd.Series | None:
    if table.empty:
        return None
    codes = list(table.sort_values("code")["code"])
    names = dict(zip(table["code"], table[name_col]))
    # default: the department at the bottom of the O/E ranking (whom the meeting will ask first)
    ranked = table[table["oe_ranked"]].sort_values("oe_rank")
    default = ranked["code"].iloc[-1] if len(ranked) else codes[0]
    raw = st.query_params.get("dept")
    if raw is not None and raw not in codes:
        _notice("dept", raw)
    elif raw is not None:
        default = raw
    code = st.selectbox(T("pick_department"), codes, index=codes.index(default), format_func=lambda c: names[c],
                        key="dept_pick")
    st.query_params["dept"] = code
    return table[table["code"] == code].iloc[0]


def _peer_values(row: pd.Series, table: pd.DataFrame) -> pd.DataFrame:
    peers = table[table["oe_ranked"]]
    rows = []
    for key in ("disposal_rate", "ontime_rate", "ontime_original_rate", "rework_rate", "extension_rate",
                "return_rate", "satisfaction_rate"):
        if pd.isna(row[key]):
            continue
        rows.append({"label": _name(INDICATORS_BY_KEY[key]), "value": row[key], "median": peers[key].median(),
                     "q1": peers[key].quantile(0.25), "q3": peers[key].quantile(0.75)})
    return pd.DataFrame(rows, columns=["label", "value", "median", "q1", "q3"])


def _metric(col, key: str, row: pd.Series, peers: pd.DataFrame) -> None:
    ind = INDICATORS_BY_KEY[key]
    value = row[key]
    median = peers[key].median() if len(peers) else float("nan")
    if ind.kind == "rate":
        text = "—" if pd.isna(value) else f"{value:.1%}"
        delta = None if pd.isna(value) or pd.isna(median) else f"{(value - median) * 100:+.1f} pt"
    elif ind.kind == "count":
        text = f"{int(value):,}"
        delta = None
    else:
        text = "—" if pd.isna(value) else f"{value:.2f}" if ind.kind == "ratio" else f"{value:.1f}"
        delta = None if pd.isna(value) or pd.isna(median) else f"{value - median:+.2f}"
    colour = "normal" if ind.higher_is_better else "inverse"
    col.metric(_name(ind), text, delta, delta_color=colour if delta else "off",
               help=_formula(ind) + ("" if delta is None else f"\n\n{T('peer_delta')}"))


def _case_table(frame: pd.DataFrame, cats: pd.DataFrame, extra: dict[str, str] | None = None) -> None:
    if frame.empty:
        st.caption(T("none"))
        return
    names = dict(zip(cats["id"], cats["minor_name_en" if current_language() == "en" else "minor_name"]))
    deadline = frame["extended_deadline_at"].fillna(frame["deadline_at"])
    shown = pd.DataFrame({T("case_no"): frame["case_no"], T("category"): frame["category_id"].map(names),
                          T("reported_at"): frame["reported_at"], T("deadline"): deadline,
                          T("disposed_at"): frame["disposed_at"], T("address"): frame["address"]})
    for col, key in (extra or {}).items():
        shown[T(key)] = frame[col]
    st.dataframe(shown, hide_index=True, width="stretch", height=min(38 + 35 * len(shown), 300))


def department_section(card: sq.Scorecard, name_col: str, kind: str) -> None:
    row = pick_department(card.table, name_col)
    if row is None:
        st.info(T("no_rows"))
        return
    table = card.table
    peers = table[table["oe_ranked"]]
    if row["oe_ranked"]:
        st.subheader(T("dept_header", name=row[name_col], rank=int(row["oe_rank"]), n=len(peers)))
    else:
        st.subheader(T("dept_unranked", name=row[name_col], why=_status_text(row["oe_status"])))
    st.caption(f"{T('separation')}: {_status_text(row['oe_status'])} · {T('rank_interval')} "
               f"{_interval(row['oe_rank_lo'], row['oe_rank_hi'])} · {T('change')} {_change(row['oe_rank_change'])}")
    first = st.columns(6)
    for col, key in zip(first, ("oe", "score", "due", "disposal_rate", "ontime_rate", "overdue")):
        _metric(col, key, row, peers)
    second = st.columns(6)
    for col, key in zip(second, ("ontime_original_rate", "rework_rate", "extension_rate", "return_rate",
                                 "median_hours", "satisfaction_rate")):
        _metric(col, key, row, peers)

    department_id = int(row["department_id"])
    cats_ref = resilient(category_table)
    left, right = st.columns(2)
    with left:
        with panel():
            values = _peer_values(row, table)
            st.plotly_chart(make_peer_figure(values, title=T("peers"), unit_label=T("this_department"),
                                             peer_label=T("peer_band")),
                            width="stretch", config={"displayModeBar": False}, key="dept_peer_chart")
    with right:
        with panel():
            trend = resilient(load_trend, department_id, trend_periods(kind, card.start, card.end))
            if trend.ok:
                shown = trend.value[trend.value["due"].fillna(0) > 0]     # periods before the data began are empty
                st.plotly_chart(make_trend_figure(shown, {"ontime_rate": T("trend_ontime"),
                                                                "disposal_rate": T("trend_disposal"),
                                                                "oe": T("trend_oe")},
                                                  percent_cols=("ontime_rate", "disposal_rate"),
                                                  title=T("trend", n=TREND_PERIODS)),
                                width="stretch", config={"displayModeBar": False}, key="dept_trend_chart")
            else:
                show_freshness(trend)

    with panel():
        mine = card.by_category[card.by_category["department_id"] == department_id].copy()
        if cats_ref.ok and len(mine):
            ref = cats_ref.value
            names = dict(zip(ref["id"], ref["minor_name_en" if current_language() == "en" else "minor_name"]))
            mine["label"] = mine["category_id"].map(names).fillna(mine["category_id"].astype(str))
            st.plotly_chart(make_category_figure(mine, "label", title=T("categories"),
                                                 labels=(T("this_department"), T("reference"))),
                            width="stretch", config={"displayModeBar": False}, key="dept_category_chart")
            with st.expander(T("categories_table")):
                st.dataframe(pd.DataFrame({
                    T("category"): mine["label"], _name(INDICATORS_BY_KEY["due"]): mine["due"],
                    T("observed"): mine["ontime"], T("district_rate"): mine["district_rate"],
                    T("expected"): mine["expected"],
                    T("reference"): mine["reference"].map({"category": T("ref_category"),
                                                           "difficulty": T("ref_difficulty")})}),
                    hide_index=True, width="stretch",
                    column_config={T("district_rate"): st.column_config.NumberColumn(format="percent"),
                                   T("expected"): st.column_config.NumberColumn(format="%.1f")})

    cases = resilient(load_department_cases, department_id, card.start, card.end)
    if not cases.ok:
        show_freshness(cases)
        return
    cat_frame = cats_ref.value if cats_ref.ok else pd.DataFrame(columns=["id", "minor_name", "minor_name_en"])
    tabs = st.tabs([f"{T('overdue_cases')} ({len(cases.value['overdue'])})",
                    f"{T('returned_cases')} ({len(cases.value['returned'])})",
                    f"{T('reworked_cases')} ({len(cases.value['reworked'])})"])
    with tabs[0]:
        _case_table(cases.value["overdue"], cat_frame)
    with tabs[1]:
        _case_table(cases.value["returned"], cat_frame, {"returned_at": "returned_at", "note": "note"})
    with tabs[2]:
        _case_table(cases.value["reworked"], cat_frame)


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
        st.plotly_chart(make_oe_figure(card.table, "name", title=T("oe_chart"), reference_label=T("oe_reference")),
                        width="stretch", config={"displayModeBar": False}, key="street_oe_chart")
    frame = ranking_frame(card.table, "oe", "name", T("street"), STREET_INDICATORS)
    st.dataframe(frame, hide_index=True, width="stretch", column_config=column_config(STREET_INDICATORS),
                 key="street_table", height=min(40 + 35 * len(frame), 760))
    export_buttons(frame, f"street_ranking_{start:%Y%m%d}", "street_export")


# --- page -------------------------------------------------------------------------------------------------------------
def main() -> None:
    st.title(T("title"))
    rng = resilient(data_range)
    now = local_now()
    hi = rng.value[1] if rng.ok and rng.value[1] is not None else now
    anchor = min(hi, now).date()
    kind, start, end = choose_period(anchor)
    street_id = current_filters().street_id
    loaded = resilient(load_scorecard, start, end, street_id)
    if loaded.error:            # only a failed refresh is news: the cache is refreshed every TTL on purpose
        show_freshness(loaded)
    if not loaded.ok:
        return
    card = loaded.value
    name_col = "name_en" if current_language() == "en" else "name"
    if name_col == "name_en":
        card.table[name_col] = card.table[name_col].fillna(card.table["name"])
    pstart, pend = card.previous or (start, end)
    st.caption(T("period_caption", start=f"{start:%Y-%m-%d}", end=f"{end - timedelta(seconds=1):%Y-%m-%d}",
                 as_of=f"{card.as_of:%Y-%m-%d %H:%M}", pstart=f"{pstart:%Y-%m-%d}",
                 pend=f"{pend - timedelta(seconds=1):%Y-%m-%d}") + " " +
               T("intro", n=card.settings_used["min_volume"]))
    tab_rank, tab_dept, tab_streets = st.tabs([T("tab_rank"), T("tab_dept"), T("tab_streets")])
    with tab_rank:
        with panel():
            ranking_section(card, name_col)
    with tab_dept:
        with panel():
            department_section(card, name_col, kind)
    with tab_streets:
        with panel():
            street_section(start, end)


main()
