"""The scorecard words and tables of ``ui.scorecards``, outside Streamlit (default language: Chinese): the ranking
table as shown and exported, the Excel file, the case lists and the category table."""

from __future__ import annotations

import io
from datetime import datetime

import pandas as pd
from openpyxl import load_workbook

from reports import departments as rd
from ui import scorecards as ui
from ui.i18n import catalog

T = catalog("departments")


def _ranked() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "code": ["a", "b"],
            "name": ["甲局", "乙局"],
            "grade": ["A", None],
            "due": [40, 5],
            "score": [91.5, None],
            "ontime_rate": [0.95, float("nan")],
            "oe": [1.02, float("nan")],
            "oe_lo": [0.98, float("nan")],
            "oe_hi": [1.05, float("nan")],
            "oe_rank": pd.array([1, None], dtype="Int64"),
            "oe_rank_lo": pd.array([1, None], dtype="Int64"),
            "oe_rank_hi": pd.array([2, None], dtype="Int64"),
            "oe_status": ["tied", "low_volume"],
            "oe_rank_change": pd.array([0, None], dtype="Int64"),
        }
    )


def test_words():
    assert ui.indicator_name("oe") == "按期处置 O/E" and ui.indicator_name("due", "street") == "应结案数"
    assert "应处置数" in ui.indicator_formula("due")
    assert ui.status_text("tied") == T("status_tied") and ui.status_text("odd") == "odd"
    assert ui.interval_text(1, 3) == "1–3" and ui.interval_text(pd.NA, 3) == "—"
    assert ui.interval_text(0.981, 1.052, "{:.3f}") == "0.981–1.052"
    assert (ui.change_text(0), ui.change_text(2), ui.change_text(-1), ui.change_text(pd.NA)) == ("±0", "+2", "-1", "—")


def test_ranking_frame_and_excel():
    frame = ui.ranking_frame(_ranked(), "oe", "name", "部门", rd.DEPARTMENT_COLUMNS, extra_first=("grade",))
    assert list(frame.columns[:6]) == [T("rank"), T("rank_interval"), T("separation"), T("change"), "部门", T("grade")]
    assert {ui.indicator_name(k) for k in ("due", "score", "ontime_rate", "oe")} | {T("oe_interval")} <= set(
        frame.columns
    )
    assert ui.indicator_name("disposal_rate") not in frame  # only the indicators the table has
    assert frame[T("oe_interval")].tolist() == ["0.980–1.050", "—"]
    assert frame[T("change")].tolist() == ["±0", "—"]
    assert set(ui.column_config(rd.DEPARTMENT_COLUMNS)) >= {T("rank"), ui.indicator_name("satisfaction_rate")}
    book = load_workbook(io.BytesIO(ui.to_xlsx(frame, "department_ranking_20260302_oe_and_a_long_tail")))
    sheet = book.worksheets[0]
    assert len(sheet.title) == 31
    rows = list(sheet.values)
    assert list(rows[0]) == list(frame.columns) and rows[1][4] == "甲局" and len(rows) == 3


def test_case_and_category_frames():
    cases = pd.DataFrame(
        {
            "case_no": ["T1"],
            "category_id": [1],
            "minor_name": ["暴露垃圾"],
            "minor_name_en": ["Exposed rubbish"],
            "reported_at": [datetime(2026, 3, 2, 9)],
            "deadline": [datetime(2026, 3, 4)],
            "disposed_at": [pd.NaT],
            "address": ["测试地址"],
            "returned_at": [datetime(2026, 3, 3)],
            "note": ["非本单位职责"],
        }
    )
    shown = ui.case_frame(cases, {"returned_at": "returned_at", "note": "note"})
    assert shown.iloc[0][T("category")] == "暴露垃圾" and shown.iloc[0][T("note")] == "非本单位职责"
    mine = pd.DataFrame(
        {
            "minor_name": ["暴露垃圾"],
            "minor_name_en": ["x"],
            "due": [10],
            "ontime": [9],
            "district_rate": [0.95],
            "expected": [9.5],
            "reference": ["difficulty"],
        }
    )
    frame, cfg = ui.category_frame(mine)
    assert frame.iloc[0][T("reference")] == T("ref_difficulty") and ui.indicator_name("due") in frame
    assert len(cfg) == 2
