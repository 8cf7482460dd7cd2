"""数据质量: per import source, rows imported and quarantined, fields left empty, and the time span covered."""
from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from data_access import quality_queries as qq
from data_access.queries import data_time_range
from data_access.importer import REASONS
from ui.access import require_page
from ui.db import get_engine
from ui.i18n import Catalog
from ui.live import live_cache, panel, resilient, show_freshness

require_page("data_quality")     # 权限: stops here unless the viewer's role may see this page

T = Catalog({
    "title": ("数据质量", "Data quality"),
    "intro": ("每个数据来源导入了多少行、隔离了多少行及原因、哪些字段为空、覆盖哪段时间。导入命令见 docs/importing.md。",
              "Per source: rows imported and quarantined (and why), empty fields, and the time span covered. "
              "How to import: docs/importing.md."),
    "sources": ("数据来源", "Sources"),
    "source": ("来源", "Source"),
    "cases": ("案件数", "Cases"),
    "files": ("文件数", "Files"),
    "rows_total": ("读取行数", "Rows read"),
    "rows_landed": ("已导入", "Imported"),
    "rows_quarantined": ("已隔离", "Quarantined"),
    "landed_share": ("导入率", "Imported share"),
    "last_import": ("最近导入", "Last import"),
    "first": ("最早上报", "First report"),
    "last": ("最晚上报", "Last report"),
    "months": ("覆盖月数", "Months covered"),
    "no_imports": ("尚未导入任何文件：下表仅含演示/种子数据。", "Nothing imported yet: the table shows seeded data only."),
    "missing": ("字段缺失率（占该来源案件数）", "Empty fields (share of the source's cases)"),
    "field": ("字段", "Field"),
    "reasons": ("隔离原因", "Quarantine reasons"),
    "reason": ("原因", "Reason"),
    "count": ("行数", "Rows"),
    "no_quarantine": ("没有被隔离的行。", "No quarantined rows."),
    "sample": ("隔离行明细", "Quarantined rows"),
    "pick_source": ("选择来源", "Source"),
    "file": ("文件", "File"),
    "row": ("行号", "Row"),
    "detail": ("说明", "Detail"),
    "raw": ("原始数据", "Raw row"),
    "runs": ("导入记录（每个文件的最近一次）", "Imports (latest run of each file)"),
    "finished": ("完成时间", "Finished"),
    "profile": ("配置", "Profile"),
    "reimports": ("导入次数", "Runs"),
    "monthly": ("各月案件数（时间覆盖）", "Cases per month (time coverage)"),
    "window": ("统计范围", "Window"),
    "months_n": ("近{n}个月", "Last {n} months"),
    "window_note": ("统计最近 {n} 个月上报的案件（{since} 起）；全部数据最早 {first}、最晚 {last}。",
                    "Cases reported in the last {n} months (since {since}); all data spans {first} to {last}."),
})
WINDOWS = (3, 12, 36)      # months; a window keeps the page's cost independent of years of history
FIELD_LABELS = Catalog({
    "address": ("地址", "Address"), "description": ("描述", "Description"), "department": ("处置部门", "Department"),
    "inspector": ("监督员", "Inspector"), "dispatched_at": ("派遣时间", "Dispatched at"),
    "disposed_at": ("处置时间", "Disposed at"), "closed_at": ("结案时间", "Closed at"),
    "deadline_at": ("处置时限", "Deadline"),
})
REASON_LABELS = Catalog({
    "missing_field": ("必填字段为空", "Required field empty"), "bad_date": ("日期错误", "Bad date"),
    "bad_value": ("数值无法识别", "Unreadable value"), "unknown_category": ("未知类别", "Unknown category"),
    "unknown_value": ("未映射的来源/状态", "Unmapped channel/status"),
    "outside_district": ("不在辖区内", "Outside the district"), "duplicate": ("重复案件", "Duplicate"),
    "malformed_row": ("行格式错误", "Malformed row"),
})
QUALITY_TTL = 600     # imports are rare; the coverage query scans the case table, so refresh it slowly


@live_cache(ttl=QUALITY_TTL)
def data_range() -> tuple[datetime | None, datetime | None]:
    return data_time_range(get_engine())


@live_cache(ttl=QUALITY_TTL, max_entries=8)
def quality_overview(since: datetime | None) -> dict:
    """Per-source coverage, import totals, latest runs and quarantine reasons (small frames)."""
    engine = get_engine()
    return {"coverage": qq.source_coverage(engine, since), "totals": qq.source_import_totals(engine),
            "runs": qq.latest_runs(engine), "reasons": qq.quarantine_reasons(engine)}


@live_cache(ttl=QUALITY_TTL, max_entries=8)
def quality_monthly(since: datetime | None) -> pd.DataFrame:
    return qq.monthly_volume(get_engine(), since=since)



@live_cache(ttl=QUALITY_TTL, max_entries=16)
def quarantine_rows(source: str) -> pd.DataFrame:
    return qq.quarantine_sample(get_engine(), source, limit=200)


def _reason_label(code: str) -> str:
    return REASON_LABELS(code) if code in REASONS else code


def sources_table(data: dict) -> None:
    st.subheader(T("sources"))
    cov, totals = data["coverage"], data["totals"]
    if totals.empty:
        st.info(T("no_imports"))
    table = cov.merge(totals, on="source", how="left")
    share = table["rows_landed"] / table["rows_total"].where(table["rows_total"] > 0)
    st.dataframe(pd.DataFrame({
        T("source"): table["source"], T("cases"): table["cases"], T("files"): table["files"],
        T("rows_total"): table["rows_total"], T("rows_landed"): table["rows_landed"],
        T("rows_quarantined"): table["rows_quarantined"], T("landed_share"): share,
        T("first"): table["first_reported"], T("last"): table["last_reported"], T("months"): table["months"],
        T("last_import"): table["last_import"],
    }), hide_index=True, width="stretch",
        column_config={T("landed_share"): st.column_config.ProgressColumn(format="percent", min_value=0,
                                                                          max_value=1)})


def missing_table(data: dict) -> None:
    st.subheader(T("missing"))
    cov = data["coverage"]
    rows = {FIELD_LABELS(f): (cov[f"missing_{f}"] / cov["cases"].where(cov["cases"] > 0)).round(3).tolist()
            for f in qq.COVERAGE_FIELDS}
    frame = pd.DataFrame(rows, index=cov["source"]).T
    frame.index.name = T("field")
    st.dataframe(frame, width="stretch",
                 column_config={s: st.column_config.NumberColumn(format="percent") for s in frame.columns})


def reasons_table(data: dict) -> None:
    st.subheader(T("reasons"))
    reasons = data["reasons"]
    if reasons.empty:
        st.caption(T("no_quarantine"))
        return
    st.dataframe(pd.DataFrame({T("source"): reasons["source"],
                               T("reason"): reasons["reason_code"].map(_reason_label),
                               T("count"): reasons["n"]}), hide_index=True, width="stretch")


def runs_table(data: dict) -> None:
    runs = data["runs"]
    if runs.empty:
        return
    st.subheader(T("runs"))
    st.dataframe(pd.DataFrame({
        T("finished"): runs["finished_at"], T("source"): runs["source"], T("profile"): runs["profile"],
        T("file"): runs["file_name"], T("rows_total"): runs["rows_total"], T("rows_landed"): runs["rows_landed"],
        T("rows_quarantined"): runs["rows_quarantined"],
        T("reasons"): runs["reasons"].map(lambda d: ", ".join(f"{_reason_label(k)} {v}" for k, v in d.items())),
        T("first"): runs["min_reported_at"], T("last"): runs["max_reported_at"], T("reimports"): runs["runs"],
    }), hide_index=True, width="stretch")


def quarantine_detail(data: dict) -> None:
    sources = sorted(data["reasons"]["source"].unique()) if not data["reasons"].empty else []
    if not sources:
        return
    st.subheader(T("sample"))
    source = st.selectbox(T("pick_source"), sources, key="dq_source")
    loaded = resilient(quarantine_rows, source)
    if not loaded.ok:
        show_freshness(loaded)
        return
    rows = loaded.value
    st.dataframe(pd.DataFrame({T("file"): rows["file_name"], T("row"): rows["row_number"],
                               T("reason"): rows["reason_code"].map(_reason_label), T("detail"): rows["reason_text"],
                               T("raw"): rows["raw_json"]}), hide_index=True, width="stretch", height=320)


def monthly_chart(since: datetime | None) -> None:
    loaded = resilient(quality_monthly, since)
    if not loaded.ok or loaded.value.empty:
        return
    st.subheader(T("monthly"))
    wide = loaded.value.pivot_table(index="month", columns="source", values="n", aggfunc="sum").fillna(0)
    st.bar_chart(wide, height=260)


# --- page -------------------------------------------------------------------------------------------------------------
st.markdown(f"### {T('title')}")
st.caption(T("intro"))
months = st.segmented_control(T("window"), WINDOWS, default=12, key="dq_window",
                              format_func=lambda n: T("months_n", n=n)) or 12
span = resilient(data_range)
first, last = span.value if span.ok else (None, None)
since = qq.window_start(last, months)
if since is not None:
    st.caption(T("window_note", n=months, since=f"{since:%Y-%m-%d}", first=f"{first:%Y-%m-%d}",
                 last=f"{last:%Y-%m-%d}"))
overview = resilient(quality_overview, since)
if not overview.ok:
    show_freshness(overview)
else:
    show_freshness(overview)
    with panel():
        sources_table(overview.value)
    left, right = st.columns([3, 2])
    with left:
        with panel():
            missing_table(overview.value)
    with right:
        with panel():
            reasons_table(overview.value)
    with panel():
        monthly_chart(since)
    with panel():
        runs_table(overview.value)
    with panel():
        quarantine_detail(overview.value)
