"""The one writer of every CSV and Excel file Gridscope produces (meeting pack, backlog, rankings, quarantine).

Exported text comes from the case database — addresses, notes, return reasons, action items, case numbers, names —
and whoever reports a case or edits a source system chooses it. A spreadsheet program runs a cell that starts like a
formula (``=HYPERLINK("http://…?leak="&B2)``, ``-2+3+cmd|' /C calc'!A0``), so every text cell whose first character
is one of ``FORMULA_LEADS`` is neutralised here, with no exemption (``-2`` as TEXT is neutralised too; a negative
NUMBER stays a number):

- CSV: a leading apostrophe (shown by Excel, so the text stays visible and is never evaluated); every text field is
  quoted, so a semicolon-separated locale cannot split ``a;=1+1`` into a second cell that starts with ``=``;
- XLSX: the cell is a plain string (never type ``f``) with Excel's quote-prefix style — what typing ``'`` in Excel
  does: the text is kept exactly and shown as text. Characters that XML cannot hold become U+FFFD instead of
  breaking the file.

Numbers, dates and empty values are written as such: only text is touched. Lives in ``core`` so the importer
(data_access) and the presentation layer (ui) share it; nothing else in the project may write CSV or Excel
(``tests/test_exports.py`` checks the tree).
"""

from __future__ import annotations

import csv
import io
import math
from datetime import date, datetime, timedelta
from typing import IO, Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

# = + - @, tab and CR (OWASP's list), LF (what an XML reader turns a CR into), their full-width forms (＝ ＋ － ＠,
# typed by Chinese and Japanese input methods) and the small forms (﹦ ﹢ ﹣ ﹫).
_ASCII_LEADS = "=+-@"
FORMULA_LEADS = frozenset(
    [*_ASCII_LEADS, "\t", "\r", "\n"]
    + [chr(ord(c) + 0xFEE0) for c in _ASCII_LEADS]  # full-width: U+FF1D U+FF0B U+FF0D U+FF20
    + [chr(c) for c in (0xFE66, 0xFE62, 0xFE63, 0xFE6B)]  # small forms
)
SHEET_NAME_MAX = 31  # Excel's limit
_COLUMN_WIDTH_MAX = 60


def formula_like(text: str) -> bool:
    """Whether a spreadsheet could take ``text`` for a formula (its first character is a formula lead)."""
    return text[:1] in FORMULA_LEADS


def csv_text(text: str) -> str:
    """``text`` as a CSV field a person may open in Excel: an apostrophe before a formula lead."""
    return "'" + text if formula_like(text) else text


def _csv_value(value: Any) -> Any:
    """One CSV field: numbers as numbers (unquoted), empty values empty, text neutralised (and quoted)."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return None if isinstance(value, float) and math.isnan(value) else value
    if isinstance(value, (datetime, date, timedelta, pd.Timedelta)):
        return str(value)
    return csv_text(str(value))


def write_csv(out: IO[str], header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> None:
    """Rows as CSV into a text stream (open it with ``newline=""``), fields made safe by ``_csv_value``."""
    writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    writer.writerow([_csv_value(h) for h in header])
    writer.writerows([_csv_value(v) for v in row] for row in rows)


def write_csv_file(path, header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> None:
    """``write_csv`` into a file, UTF-8 with a BOM so Excel shows the Chinese."""
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        write_csv(fh, header, rows)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A table as CSV bytes (UTF-8 with a BOM, no index column)."""
    buffer = io.StringIO()
    write_csv(buffer, list(frame.columns), frame.itertuples(index=False, name=None))
    return buffer.getvalue().encode("utf-8-sig")


def _xml_safe(value: Any) -> Any:
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value) if isinstance(value, str) else value


def _xml_safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Control characters XML cannot hold (openpyxl would refuse the whole file) replaced, in cells and headers."""
    out = frame.copy()
    out.columns = [_xml_safe(c) for c in frame.columns]
    for i in range(out.shape[1]):
        column = out.iloc[:, i]
        if not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_datetime64_any_dtype(column)):
            out.isetitem(i, column.map(_xml_safe))
    return out


def _neutralise_sheet(sheet) -> None:
    """No formula survives: a cell openpyxl took for one (text starting with ``=``) and any text starting with a
    formula lead becomes a quote-prefixed string holding the exact text."""
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f" or (isinstance(cell.value, str) and formula_like(cell.value)):
                cell.data_type = "s"
                cell.quotePrefix = True


def xlsx_bytes(sheets: Mapping[str, pd.DataFrame], *, fit_widths: bool = False) -> bytes:
    """Tables as an Excel workbook, one sheet each in order (names cut to Excel's 31 characters, no index column).
    ``fit_widths`` sizes each column to its header and first 200 values."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            title = str(name)[:SHEET_NAME_MAX]
            _xml_safe_frame(frame).to_excel(writer, sheet_name=title, index=False)
            sheet = writer.book.worksheets[-1]  # the one just written (openpyxl may have renamed it)
            _neutralise_sheet(sheet)
            if fit_widths:
                for i, col in enumerate(frame.columns, start=1):
                    values = frame.iloc[:200, i - 1]
                    width = max([len(str(col))] + [len(str(v)) for v in values]) if len(frame) else 8
                    letter = sheet.cell(row=1, column=i).column_letter
                    sheet.column_dimensions[letter].width = min(_COLUMN_WIDTH_MAX, width * 1.6 + 2)
    return buffer.getvalue()
