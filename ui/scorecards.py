"""Words, tables and exports of the scorecard screens (部门考评 / 街镇考评), built from the models of
``reports.departments`` (codes and numbers) in the viewer's language.

Indicator names and formulas come from the ``indicators`` catalog (``<scope>.<key>``, ``<scope>.<key>.formula``;
scope ``department`` or ``street``), everything else from ``departments``. ``ranking_frame`` is the table the page
shows and the CSV / Excel files hold (``to_csv`` / ``to_xlsx`` write them through ``core.exports``); the case lists, the category table and
the indicator tiles of the department view and the period picker are here too.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
import streamlit as st

from core import exports
from core import params as parse
from core.periods import PERIOD_KINDS, period_bounds
from reports import departments as model
from ui.i18n import catalog, name_column
from ui.params import choice_param

T = catalog("departments")
INDICATOR_TEXT = catalog("indicators")
STATUSES = ("clear", "tied", "low_volume", "no_data")  # separation codes of analytics.fairness.rank_units
NUMBER_FORMATS = {"rate": "percent", "count": "%d", "hours": "%.1f", "ratio": "%.3f", "score": "%.1f"}
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- words ------------------------------------------------------------------------------------------------------------
def indicator_name(key: str, scope: str = "department") -> str:
    return INDICATOR_TEXT(f"{scope}.{key}")


def indicator_formula(key: str, scope: str = "department") -> str:
    return INDICATOR_TEXT(f"{scope}.{key}.formula")


def status_text(status: str) -> str:
    return T(f"status_{status}") if status in STATUSES else status


def interval_text(lo, hi, fmt: str = "{:.0f}") -> str:
    return "—" if pd.isna(lo) or pd.isna(hi) else f"{fmt.format(lo)}–{fmt.format(hi)}"


def change_text(value) -> str:
    return "—" if pd.isna(value) else ("±0" if value == 0 else f"{int(value):+d}")


# --- the ranking table (screen, CSV, Excel) ---------------------------------------------------------------------------
def ranking_frame(
    table: pd.DataFrame,
    prefix: str,
    name_col: str,
    unit_label: str,
    indicators,
    *,
    scope: str = "department",
    extra_first: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Rank, interval, separation, change, name, then the indicators (raw values) of a ranked scorecard table;
    ``indicators`` are the table's indicator definitions (``reports.departments.DEPARTMENT_COLUMNS`` …)."""
    out = pd.DataFrame(
        {
            T("rank"): table[f"{prefix}_rank"],
            T("rank_interval"): [
                interval_text(a, b) for a, b in zip(table[f"{prefix}_rank_lo"], table[f"{prefix}_rank_hi"])
            ],
            T("separation"): table[f"{prefix}_status"].map(status_text),
            T("change"): [change_text(v) for v in table.get(f"{prefix}_rank_change", pd.Series([pd.NA] * len(table)))],
            unit_label: table[name_col],
        }
    )
    for col in extra_first:
        out[T(col)] = table[col]
    for ind in indicators:
        if ind.key in table:
            out[indicator_name(ind.key, scope)] = table[ind.key]
        if ind.key == "oe":
            out[T("oe_interval")] = [interval_text(a, b, "{:.3f}") for a, b in zip(table["oe_lo"], table["oe_hi"])]
    return out


def column_config(indicators, scope: str = "department") -> dict:
    """Tooltips (help=) with each indicator's formula, and number formats, for ``ranking_frame``."""
    cfg = {
        T("rank"): st.column_config.NumberColumn(help=T("rank_help"), format="%d"),
        T("rank_interval"): st.column_config.TextColumn(help=T("rank_help")),
        T("separation"): st.column_config.TextColumn(help=T("separation_help")),
        T("change"): st.column_config.TextColumn(help=T("change_help")),
        T("oe_interval"): st.column_config.TextColumn(help=T("oe_interval_help")),
    }
    for ind in indicators:
        cfg[indicator_name(ind.key, scope)] = st.column_config.NumberColumn(
            help=indicator_formula(ind.key, scope), format=NUMBER_FORMATS[ind.kind]
        )
    return cfg


def to_xlsx(frame: pd.DataFrame, sheet: str) -> bytes:
    """The table as an Excel workbook of one sheet (the name cut to Excel's 31 characters); formula-like text stays
    text (``core.exports``)."""
    return exports.xlsx_bytes({sheet: frame})


def to_csv(frame: pd.DataFrame) -> bytes:
    """The table as CSV (UTF-8 with BOM, so Excel reads the Chinese); formula-like text neutralised."""
    return exports.csv_bytes(frame)


def export_buttons(frame: pd.DataFrame, stem: str, key: str) -> None:
    """CSV (UTF-8 with BOM, so Excel reads the Chinese) and Excel downloads of the table as shown."""
    left, right, _ = st.columns([1, 1, 4])
    left.download_button(
        T("export_csv"),
        to_csv(frame),
        f"{stem}.csv",
        "text/csv",
        key=f"{key}_csv",
        on_click="ignore",
    )
    right.download_button(
        T("export_xlsx"), to_xlsx(frame, stem), f"{stem}.xlsx", XLSX_MIME, key=f"{key}_xlsx", on_click="ignore"
    )


# --- the department view ----------------------------------------------------------------------------------------------
def metric_tile(col, metric: pd.Series) -> None:
    """One indicator tile: the department's value and, for rates and ratios, its distance to the peers' median."""
    key, kind, value, median = metric["key"], metric["kind"], metric["value"], metric["median"]
    if kind == "rate":
        text = "—" if pd.isna(value) else f"{value:.1%}"
        delta = None if pd.isna(value) or pd.isna(median) else f"{(value - median) * 100:+.1f} pt"
    elif kind == "count":
        text, delta = f"{int(value):,}", None
    else:
        text = "—" if pd.isna(value) else f"{value:.2f}" if kind == "ratio" else f"{value:.1f}"
        delta = None if pd.isna(value) or pd.isna(median) else f"{value - median:+.2f}"
    colour = "normal" if metric["higher_is_better"] else "inverse"
    col.metric(
        indicator_name(key),
        text,
        delta,
        delta_color=colour if delta else "off",
        help=indicator_formula(key) + ("" if delta is None else f"\n\n{T('peer_delta')}"),
    )


def case_frame(frame: pd.DataFrame, extra: dict[str, str] | None = None) -> pd.DataFrame:
    """A case list of ``reports.departments.DepartmentCases`` with its column names; ``extra`` maps further model
    columns to catalog keys."""
    shown = pd.DataFrame(
        {
            T("case_no"): frame["case_no"],
            T("category"): frame[name_column("minor_name")],
            T("reported_at"): frame["reported_at"],
            T("deadline"): frame["deadline"],
            T("disposed_at"): frame["disposed_at"],
            T("address"): frame["address"],
        }
    )
    for col, key in (extra or {}).items():
        shown[T(key)] = frame[col]
    return shown


def category_frame(mine: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The department's categories (due, on time, district rate, expected, reference class) and their formats."""
    frame = pd.DataFrame(
        {
            T("category"): mine[name_column("minor_name")],
            indicator_name("due"): mine["due"],
            T("observed"): mine["ontime"],
            T("district_rate"): mine["district_rate"],
            T("expected"): mine["expected"],
            T("reference"): mine["reference"].map({"category": T("ref_category"), "difficulty": T("ref_difficulty")}),
        }
    )
    return frame, {
        T("district_rate"): st.column_config.NumberColumn(format="percent"),
        T("expected"): st.column_config.NumberColumn(format="%.1f"),
    }


def case_tabs(lists: model.DepartmentCases) -> None:
    """The department's late, returned and reworked cases, one tab each (with its count)."""
    extra = {"returned": {"returned_at": "returned_at", "note": "note"}}
    kinds = ("overdue", "returned", "reworked")
    tabs = st.tabs([f"{T(n + '_cases')} ({len(getattr(lists, n))})" for n in kinds])
    for tab, n in zip(tabs, kinds):
        with tab:
            frame = getattr(lists, n)
            if frame.empty:
                st.caption(T("none"))
            else:
                shown = case_frame(frame, extra.get(n))
                st.dataframe(shown, hide_index=True, width="stretch", height=min(38 + 35 * len(shown), 300))


# --- the period -------------------------------------------------------------------------------------------------------
def period_picker(anchor: date) -> tuple[datetime, datetime]:
    """The period widgets (kind + which week / month / days), started from the URL (``?period=&start=&end=``, as
    codes and ISO days) and written back to it; returns [start, end). Unknown values are ignored with a notice."""
    qp, cols = st.query_params, st.columns([1.6, 2.4, 3])
    kind = (
        cols[0].segmented_control(
            T("period_kind"),
            PERIOD_KINDS,
            default=choice_param("period", PERIOD_KINDS, "week"),
            key="dept_period_kind",
            format_func=T,
        )
        or "week"
    )
    if kind != "custom":
        options, default = model.period_choices(kind, anchor)
        iso = [d.isoformat() for d in options]
        # a start day left from another kind of period is dropped quietly; one meant for this kind with a notice
        asked = choice_param("start", iso) if qp.get("period") == kind else parse.parse_choice(qp.get("start"), iso)
        default = date.fromisoformat(asked) if asked else default
        if kind == "week":
            label = T("which_week")

            def fmt(d: date) -> str:
                return T(
                    "week_label", start=d.isoformat(), end=(d + timedelta(days=6)).isoformat()[5:], n=d.isocalendar()[1]
                )
        else:
            label = T("which_month")

            def fmt(d: date) -> str:
                return T("month_label", y=d.year, m=d.month)

        chosen = cols[1].selectbox(
            label, options, index=options.index(default), format_func=fmt, key=f"dept_period_{kind}"
        )
        qp["period"], qp["start"] = kind, chosen.isoformat()
        qp.pop("end", None)
        return period_bounds(kind, chosen)
    default, asked = model.custom_range(parse.parse_date(qp.get("start")), parse.parse_date(qp.get("end")), anchor)
    if not asked and qp.get("period") == "custom" and (qp.get("start") is not None or qp.get("end") is not None):
        st.toast(T("bad_dates"))
    picked = cols[1].date_input(
        T("date_range"), value=default, key="dept_period_custom", max_value=anchor + timedelta(days=1)
    )
    if not isinstance(picked, (tuple, list)) or len(picked) != 2:
        picked = default  # the user has picked only the first day so far
    first, last = model.clamp_custom(*picked)
    qp["period"], qp["start"], qp["end"] = "custom", first.isoformat(), last.isoformat()
    return period_bounds("custom", first, last)
