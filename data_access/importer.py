"""Import real case exports (CSV / XLSX) into the case database, losing nothing.

    python -m data_access.importer --profile shanghai_grid --file export.csv --db URL [--dry-run]

A *profile* (``data_access/import_profiles/*.toml``, see ``docs/importing.md``) says which source column holds which
case field, how source values map to Gridscope's channels, statuses, categories and departments, the time zone, the
date formats and the coordinate system. Every data row of the file then either **lands** (inserted, updated or
unchanged) or is **quarantined** with its row number and a reason code (``REASONS``), in the ``import_quarantine``
table and in a CSV beside the input; the summary accounts for every row.

Guarantees:
- idempotent: cases are upserted on ``case_no``, derived events are diffed, quarantine rows are keyed by
  (source, file hash, row); re-importing a file changes nothing but adds one ``import_runs`` audit row;
- batched and resumable: rows are written in batches of ``chunk_rows``, each its own transaction, so SQLite's write
  lock is free between batches (other writers, such as action items, get in); a failure keeps the batches already
  committed and writes no run row, and running the same file again completes it;
- bounded: a cell longer than ``CELL_LIMIT`` characters, a NUL character or a value its column cannot hold sends
  the row to the quarantine (never stored, never silently changed);
- SQL only with bound parameters: source values never become SQL text.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import math
import re
import sys
import time
import tomllib
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import shapely
from shapely import STRtree
from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Float,
    Integer,
    SmallInteger,
    String,
    delete,
    exc,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect

from core import domain, exports, settings
from core.clock import local_now
from core.i18n import LANGUAGES, domain_label, translate
from core.workcal import WorkCalendar
from data_access.engine import GridscopeDBError, make_engine, translate_error
from data_access.schema import Case, CaseEvent, Category, Department, Grid, ImportQuarantine, ImportRun, Workday

PROFILE_DIR = Path(__file__).resolve().parent / "import_profiles"

# Quarantine reason codes → what they mean (the summary and the data-quality page use these codes).
REASONS: dict[str, str] = {
    "missing_field": "a required field is empty",
    "bad_date": "a date cannot be read, is outside the calendar years, or is earlier than the report",
    "bad_value": "a value cannot be read (coordinates, case number too long …)",
    "unknown_category": "the source category maps to no Gridscope category",
    "unknown_value": "a channel or status value the profile does not map",
    "outside_district": "the point lies in no grid and no known grid code is given",
    "duplicate": "the case number already appeared earlier in this file",
    "malformed_row": "the row has more cells than the header",
    "cell_too_large": "a cell is longer than 4,000 characters (CELL_LIMIT)",
    "nul_byte": "a cell contains a NUL character (stripping it could merge two different values)",
    "out_of_range": "a value does not fit its database column (e.g. a 20-digit number for an integer)",
}
# Warnings: the row landed, with a caveat (counted in the summary and the import_runs row).
WARNINGS: dict[str, str] = {
    "unknown_department": "department not found: stored without a department (not quarantined, see docs)",
    "truncated": "a text value was longer than its column and was cut",
    "grid_code_unknown": "grid code not found: placed by its point instead",
    "bad_point_used_grid": "coordinates unreadable or outside the grid: placed by its grid code",
    "closed_without_time": "closed status without a closing time: the latest known time is used",
    "no_deadline": "no due date and no time to compute one from",
}
FIELDS = (
    "case_no",
    "channel",
    "category_kind",
    "category_major",
    "category_minor",
    "reported_at",
    "registered_at",
    "dispatched_at",
    "disposed_at",
    "closed_at",
    "deadline_at",
    "status",
    "address",
    "description",
    "x",
    "y",
    "grid_code",
    "inspector_id",
    "reporter_id",
    "department",
    "street_name",
    "community_name",
)
DATE_FIELDS = ("reported_at", "registered_at", "dispatched_at", "disposed_at", "closed_at", "deadline_at")
STAGES = ("registered_at", "dispatched_at", "disposed_at", "closed_at")  # must not precede reported_at
# "none" written in Chinese (无) also means an empty cell; the word lives in the catalog like every CJK text.
DEFAULT_NULLS = (
    "",
    "null",
    "none",
    "nan",
    "n/a",
    "na",
    "-",
    "--",
    translate("import_reasons", "null_word", "zh"),
    "#N/A",
)
DEFAULT_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y%m%d%H%M%S",
    "%Y-%m-%d",
    "%Y/%m/%d",
)
# Text columns of ``cases`` and their lengths (values are cut to fit, with a "truncated" warning).
TEXT_LIMITS = {"address": 128, "reporter_id": 32, "inspector_id": 32}
ENCODINGS_AUTO = ("utf-8-sig", "gb18030")  # UTF-8 (BOM or not), then GB18030 (a superset of GBK/GB2312)
DERIVED_NOTE = "import"  # case_events.note of events the importer derived (diffed on re-import)
CSV_FIELD_LIMIT = 16 * 1024 * 1024  # bytes per CSV cell the reader accepts at all (beyond: the file is refused)
# Characters per cell (any column, CSV and XLSX alike): a longer cell quarantines its row ("cell_too_large"); the
# quarantine keeps only this much of it. A 206 KB workbook once expanded into a 200 MB description.
CELL_LIMIT = 4000
# SQLite: the write lock stays free at least this long between two batches, longer than the 100 ms a waiting
# writer's busy handler sleeps between attempts, so it always gets in.
SQLITE_WRITE_GAP_S = 0.12
_ISO_LOCAL = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?")
MAX_PROFILE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


class ImportFailed(GridscopeDBError):
    """The import cannot run at all (profile, file, encoding or database problem); nothing was written."""


# --- coordinates ----------------------------------------------------------------------------------------------------
_A, _EE = 6378245.0, 0.00669342162296594323  # Krasovsky ellipsoid parameters used by GCJ-02


def _out_of_china(lon, lat):
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _gcj_delta(lon, lat):
    x, y = lon - 105.0, lat - 35.0
    dlat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    )
    rad = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(rad) ** 2
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * np.sqrt(magic)) * np.pi)
    dlon = (dlon * 180.0) / (_A / np.sqrt(magic) * np.cos(rad) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon, lat):
    """WGS84 → GCJ-02 (the offset Chinese web maps use). Returns (lon, lat), scalars or arrays like the input."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    dlon, dlat = _gcj_delta(lon, lat)
    outside = _out_of_china(lon, lat)
    out = np.where(outside, lon, lon + dlon), np.where(outside, lat, lat + dlat)
    return (float(out[0]), float(out[1])) if out[0].ndim == 0 else out


def gcj02_to_wgs84(lon, lat, *, tol: float = 1e-9, max_iter: int = 30):
    """GCJ-02 → WGS84 by fixed-point iteration of the forward transform (error ≪ 1 cm). Returns (lon, lat)."""
    glon, glat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(max_iter):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = np.asarray(flon) - glon, np.asarray(flat) - glat
        wlon, wlat = wlon - elon, wlat - elat
        if np.all(np.abs(elon) < tol) and np.all(np.abs(elat) < tol):
            break
    return (float(wlon), float(wlat)) if wlon.ndim == 0 else (wlon, wlat)


def projected_to_wgs84(
    x, y, *, origin_lon: float, origin_lat: float, false_easting: float = 0.0, false_northing: float = 0.0
):
    """Local plane metres (east x, north y around an origin) → WGS84 (lon, lat), by an equirectangular
    approximation (within ~1 m over 30 km). Not a substitute for a city grid's published transform parameters."""
    m_per_deg_lat = 111_132.954 - 559.822 * math.cos(2 * math.radians(origin_lat))
    m_per_deg_lon = 111_412.84 * math.cos(math.radians(origin_lat))
    return (
        origin_lon + (np.asarray(x, dtype=float) - false_easting) / m_per_deg_lon,
        origin_lat + (np.asarray(y, dtype=float) - false_northing) / m_per_deg_lat,
    )


# --- profiles -------------------------------------------------------------------------------------------------------
@dataclass
class Profile:
    """A parsed mapping profile (see docs/importing.md)."""

    name: str
    source: str
    timezone: str = "Asia/Shanghai"
    encoding: str = "auto"
    sheet: str = ""
    case_no_prefix: str = ""
    date_formats: tuple[str, ...] = DEFAULT_DATE_FORMATS
    null_values: tuple[str, ...] = DEFAULT_NULLS
    required: tuple[str, ...] = ("case_no", "reported_at", "category", "location")
    coordinates: dict = field(default_factory=lambda: {"system": "wgs84"})
    columns: dict[str, list[str]] = field(default_factory=dict)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    derive_status: bool = True
    description: str = ""

    @classmethod
    def from_dict(cls, name: str, raw: dict) -> "Profile":
        """Validate a profile's TOML content; raises ``ImportFailed`` naming the bad key."""
        known = {
            "name",
            "source",
            "description",
            "timezone",
            "encoding",
            "sheet",
            "case_no_prefix",
            "date_formats",
            "null_values",
            "required",
            "coordinates",
            "columns",
            "values",
            "defaults",
            "derive_status",
        }
        unknown = set(raw) - known
        if unknown:
            raise ImportFailed(f"profile {name}: unknown keys {sorted(unknown)}")
        columns = {}
        for key, col in (raw.get("columns") or {}).items():
            if key not in FIELDS:
                raise ImportFailed(f"profile {name}: [columns] {key!r} is not a field (one of {', '.join(FIELDS)})")
            columns[key] = [col] if isinstance(col, str) else list(col)
        source = str(raw.get("source") or name)
        if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,32}", source):
            raise ImportFailed(f"profile {name}: source {source!r} must be 1-32 letters, digits or _.:-")
        tz = str(raw.get("timezone", "Asia/Shanghai"))
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ImportFailed(f"profile {name}: unknown time zone {tz!r}") from err
        coords = dict(raw.get("coordinates") or {"system": "wgs84"})
        if coords.get("system", "wgs84") not in ("wgs84", "gcj02", "projected"):
            raise ImportFailed(f"profile {name}: coordinates.system must be wgs84, gcj02 or projected")
        if coords.get("system") == "projected" and not {"origin_lon", "origin_lat"} <= set(coords):
            raise ImportFailed(f"profile {name}: projected coordinates need origin_lon and origin_lat")
        values = {k: {str(a).strip(): b for a, b in v.items()} for k, v in (raw.get("values") or {}).items()}
        for kind in values:
            if kind not in ("channel", "status", "category", "department"):
                raise ImportFailed(f"profile {name}: [values.{kind}] is not a mapped field")
        for kind, allowed in (("channel", domain.CHANNELS), ("status", domain.STATUSES)):
            bad = {v for v in values.get(kind, {}).values() if v not in allowed}
            bad |= {raw.get("defaults", {}).get(kind)} - {None} - set(allowed)
            if bad:
                raise ImportFailed(
                    f"profile {name}: {kind} values {sorted(bad)} are not Gridscope keys ({', '.join(allowed)})"
                )
        return cls(
            name=name,
            source=source,
            timezone=tz,
            encoding=str(raw.get("encoding", "auto")),
            sheet=str(raw.get("sheet", "")),
            case_no_prefix=str(raw.get("case_no_prefix", "")),
            date_formats=tuple(raw.get("date_formats") or DEFAULT_DATE_FORMATS),
            null_values=tuple(str(v).lower() for v in raw.get("null_values", DEFAULT_NULLS)),
            required=tuple(raw.get("required") or ("case_no", "reported_at", "category", "location")),
            coordinates=coords,
            columns=columns,
            values=values,
            defaults=dict(raw.get("defaults") or {}),
            derive_status=bool(raw.get("derive_status", True)),
            description=str(raw.get("description", "")),
        )


def list_profiles() -> list[str]:
    """Names of the profiles shipped in ``data_access/import_profiles``."""
    return sorted(p.stem for p in PROFILE_DIR.glob("*.toml"))


def load_profile(name_or_path: str | Path) -> Profile:
    """A shipped profile by name (``shanghai_grid``) or any ``.toml`` file by path. Raises ``ImportFailed``."""
    text = str(name_or_path)
    if text.endswith(".toml"):
        path = Path(text)
    elif MAX_PROFILE_NAME.fullmatch(text):
        path = PROFILE_DIR / f"{text}.toml"
    else:
        raise ImportFailed(
            f"profile name {text[:80]!r}: use a shipped name ({', '.join(list_profiles())}) or a path to a .toml file"
        )
    if not path.is_file():
        raise ImportFailed(f"profile {text[:200]!r} not found (shipped: {', '.join(list_profiles())})")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ImportFailed(f"profile {path}: {err}") from err
    return Profile.from_dict(path.stem, raw)


# --- reading files --------------------------------------------------------------------------------------------------
@dataclass
class RawRow:
    number: int  # header = row 1, as a spreadsheet shows it
    values: dict[str, Any]  # header → cell
    extra: list[Any] = field(default_factory=list)  # cells beyond the header (malformed)
    flaw: Reject | None = None  # a cell too large or with a NUL: the row is quarantined whatever else it holds


def decode(data: bytes, encoding: str = "auto") -> tuple[str, str]:
    """Bytes → (text, encoding used). ``auto`` tries UTF-8 (with or without BOM), then GB18030 (covers GBK)."""
    for enc in ENCODINGS_AUTO if encoding == "auto" else (encoding,):
        try:
            return data.decode(enc), (
                "utf-8-bom"
                if enc == "utf-8-sig" and data.startswith(b"\xef\xbb\xbf")
                else "utf-8"
                if enc == "utf-8-sig"
                else enc
            )
        except (UnicodeDecodeError, LookupError):
            continue
    raise ImportFailed(f"cannot decode the file as {encoding}; set `encoding` in the profile (e.g. gb18030)")


def read_table(path: Path, profile: Profile, data: bytes | None = None) -> tuple[list[str], list[RawRow], int, str]:
    """Read a CSV or XLSX file. Returns (header, data rows, blank rows skipped, encoding)."""
    data = path.read_bytes() if data is None else data
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        rows, encoding = _xlsx_rows(data, profile.sheet), "xlsx"
    elif path.suffix.lower() in (".csv", ".txt", ".tsv"):
        text, encoding = decode(data, profile.encoding)
        dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
        # Long free-text cells (descriptions) exceed csv's 128 KB default; bound it rather than fail.
        csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))
        rows = _checked_csv(csv.reader(io.StringIO(text, newline=""), dialect=dialect))
    else:
        raise ImportFailed(f"{path.name}: only .csv and .xlsx files can be imported")
    it = iter(rows)
    header = next(it, None)
    if not header:
        raise ImportFailed(f"{path.name}: the file is empty (no header row)")
    header = [str(h if h is not None else "").strip().lstrip("\ufeff") for h in header]
    if any("\x00" in h or len(h) > CELL_LIMIT for h in header):
        raise ImportFailed(f"{path.name}: the header row holds a NUL character or a name over {CELL_LIMIT} characters")
    while header and not header[-1]:  # XLSX pads the header to the widest row
        header.pop()
    out, blank = [], 0
    for number, cells in enumerate(it, start=2):
        cells, flaw = _screen_cells(cells, header)
        if all(_blank(c) for c in cells):
            blank += 1
            continue
        values = {h: (cells[i] if i < len(cells) else None) for i, h in enumerate(header) if h}
        # Values under no header name would be lost silently: they make the row malformed.
        extra = [c for i, c in enumerate(cells) if (i >= len(header) or not header[i]) and not _blank(c)]
        out.append(RawRow(number, values, extra, flaw))
    return header, out, blank, encoding


def _screen_cells(cells, header: list[str]) -> tuple[list, Reject | None]:
    """Cut every cell to ``CELL_LIMIT`` characters (the whole cell is never kept, not even in the quarantine) and
    name the first flaw: a cell too large, or a NUL character. NULs are kept as read, never stripped: 'A\\x001' and
    'A1' are different case numbers (PostgreSQL text cannot hold NUL, so such a row can only be quarantined; its
    raw JSON writes the NUL as \\u0000)."""
    flaw, out = None, []
    for i, cell in enumerate(cells):
        if isinstance(cell, str):
            name = header[i] if i < len(header) and header[i] else f"column {i + 1}"
            if len(cell) > CELL_LIMIT:
                flaw = flaw or Reject("cell_too_large", f"{name}: {len(cell):,} characters (at most {CELL_LIMIT:,})")
                cell = cell[:CELL_LIMIT] + f"…[cut, {len(cell):,} characters]"
            elif "\x00" in cell:
                flaw = flaw or Reject("nul_byte", f"{name}: a NUL character at position {cell.index(chr(0)) + 1}")
        out.append(cell)
    return out, flaw


def _checked_csv(reader) -> Iterator[list[str]]:
    try:
        yield from reader
    except csv.Error as err:
        raise ImportFailed(f"the CSV cannot be read near line {reader.line_num}: {err}") from err


def _blank(cell) -> bool:
    return cell is None or str(cell).strip() == ""


def _xlsx_rows(data: bytes, sheet: str) -> Iterator[tuple]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as err:
        raise ImportFailed(f"cannot open the workbook: {err}") from err
    ws = book[sheet] if sheet else book.worksheets[0]
    yield from ws.iter_rows(values_only=True)


# --- reference data from the database -------------------------------------------------------------------------------
class Reference:
    """Grids (with an STRtree), categories, departments and the working calendar, loaded once per import."""

    def __init__(self, conn: Connection):
        grids = conn.execute(
            select(
                Grid.id,
                Grid.code,
                Grid.community_id,
                Grid.street_id,
                Grid.polygon_geojson,
                Grid.centroid_lat,
                Grid.centroid_lon,
            ).order_by(Grid.id)
        ).all()
        if not grids:
            raise ImportFailed(
                "the database has no grids: load the reference tables (district, grids, categories) "
                "before importing cases"
            )
        self.grid_rows = grids
        self.grid_by_code = {str(g.code): i for i, g in enumerate(grids)}
        self.tree = STRtree([shapely.from_geojson(g.polygon_geojson) for g in grids])
        cats = conn.execute(
            select(
                Category.id,
                Category.code,
                Category.kind,
                Category.major_name,
                Category.minor_name,
                Category.major_name_en,
                Category.minor_name_en,
                Category.time_limit_work_hours,
            )
        ).all()
        self.category_limit = {c.id: c.time_limit_work_hours for c in cats}
        self.cat_by_code = {c.code: c.id for c in cats}
        self.cat_by_kind_names, self.cat_by_names, minor = {}, {}, {}
        for c in cats:
            for major, name in ((c.major_name, c.minor_name), (c.major_name_en, c.minor_name_en)):
                if not name:
                    continue
                key = _norm(name)
                minor.setdefault(key, set()).add(c.id)
                if major:
                    self.cat_by_names.setdefault((_norm(major), key), set()).add(c.id)
                    for kind in (c.kind, domain_label("category_kinds", c.kind, "zh")):
                        self.cat_by_kind_names[(_norm(kind), _norm(major), key)] = c.id
        self.cat_by_minor = {k: next(iter(v)) for k, v in minor.items() if len(v) == 1}
        self.cat_by_names = {k: next(iter(v)) for k, v in self.cat_by_names.items() if len(v) == 1}
        depts = conn.execute(select(Department.id, Department.code, Department.name, Department.name_en)).all()
        self.dept = {}
        for d in depts:
            for key in (d.code, d.name, d.name_en):
                if key:
                    self.dept.setdefault(_norm(key), d.id)
        days = conn.execute(select(Workday.day, Workday.is_workday).order_by(Workday.day)).all()
        self.calendar = (
            WorkCalendar.from_rows([{"day": d, "is_workday": w} for d, w in days], settings.get("work_hours"))
            if days
            else None
        )
        self.first_day = days[0][0] if days else date(1900, 1, 1)
        self.last_day = days[-1][0] if days else date(2999, 12, 31)
        if isinstance(self.first_day, str):  # SQLite may hand back ISO strings for DATE
            self.first_day, self.last_day = date.fromisoformat(self.first_day), date.fromisoformat(self.last_day)

    def locate(self, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
        """Index into ``grid_rows`` of the grid containing each point (boundary counts; lowest id wins), -1 if none."""
        result = np.full(len(lons), -1, dtype=np.int64)
        if not len(lons):
            return result
        pts = shapely.points(lons, lats)
        src, tgt = self.tree.query(pts, predicate="intersects")
        order = np.lexsort((tgt, src))  # per point, the smallest grid index first
        src, tgt = src[order], tgt[order]
        first = np.unique(src, return_index=True)[1]
        result[src[first]] = tgt[first]
        return result


def _norm(value) -> str:
    return re.sub(r"\s+", " ", str(value)).strip().lower()


def _code_aliases(kind: str, codes) -> dict[str, str]:
    """Normalised code and catalog labels (every language) → code."""
    return {
        _norm(alias): code
        for code in codes
        for alias in (code, *(domain_label(kind, code, lang) for lang in LANGUAGES))
    }


# --- row transformation ----------------------------------------------------------------------------------------------
class Reject(Exception):
    def __init__(self, code: str, text: str):
        super().__init__(text)
        self.code, self.text = code, text


@dataclass
class Staged:
    """A row that passed the checks that need no geometry; ``case`` is completed after grid placement."""

    row: RawRow
    case: dict
    lon: float | None
    lat: float | None
    grid_code: str | None
    warnings: list[str] = field(default_factory=list)


class RowMapper:
    """Turns raw rows into case dicts following one profile, against one database's reference data."""

    def __init__(self, profile: Profile, header: list[str], ref: Reference):
        self.p, self.ref = profile, ref
        lookup = {_norm(h): h for h in header if h}
        # Field → the first candidate column present in the file (case-insensitive), or None.
        self.col = {
            f: next((lookup[_norm(c)] for c in profile.columns.get(f, []) if _norm(c) in lookup), None) for f in FIELDS
        }
        self.src_tz, self.dst_tz = ZoneInfo(profile.timezone), ZoneInfo(settings.get("timezone"))
        self.nulls = set(profile.null_values)
        self.maps = {k: {_norm(a): b for a, b in v.items()} for k, v in profile.values.items()}
        # A code or its label in either language (监督员巡查, "In disposal" …) maps to the code.
        self.auto_channel = _code_aliases("channels", domain.CHANNELS)
        self.auto_status = _code_aliases("statuses", domain.STATUSES)
        self.missing = Counter()

    def mapped_columns(self) -> dict[str, str]:
        return {f: c for f, c in self.col.items() if c}

    def get(self, row: RawRow, name: str):
        """The cell for a field, or None when the column is absent or the value is a null marker."""
        col = self.col.get(name)
        if col is None:
            return None
        value = row.values.get(col)
        if value is None:
            return None
        if isinstance(value, str):
            value = value.strip()
            if value.lower() in self.nulls:
                return None
        return value

    def parse_time(self, value, name: str) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            parsed = value
        elif isinstance(value, date):
            parsed = datetime(value.year, value.month, value.day)
        elif isinstance(value, (int, float)) and 20000 < float(value) < 80000:  # an Excel serial day number
            parsed = datetime(1899, 12, 30) + timedelta(days=float(value))
        else:
            text = str(value).strip()
            parsed = None
            if _ISO_LOCAL.fullmatch(text):  # the common case, ~20x faster than strptime
                try:
                    parsed = datetime.fromisoformat(text)
                except ValueError:
                    parsed = None
            for fmt in () if parsed else self.p.date_formats:
                try:
                    parsed = datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
            if parsed is None:
                try:
                    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
                except ValueError:
                    raise Reject("bad_date", f"{name}: cannot read {text[:40]!r} as a date") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=self.src_tz)
        local = parsed.astimezone(self.dst_tz).replace(tzinfo=None, microsecond=0)
        if not self.ref.first_day <= local.date() <= self.ref.last_day:
            raise Reject(
                "bad_date",
                f"{name}: {local:%Y-%m-%d} is outside the calendar years "
                f"({self.ref.first_day.year}–{self.ref.last_day.year})",
            )
        return local

    def map_value(self, kind: str, raw, auto: dict[str, str]) -> str | None:
        if raw is None:
            return self.p.defaults.get(kind)
        key = _norm(raw)
        hit = self.maps.get(kind, {}).get(key) or auto.get(key)
        if hit is None:
            hit = self.p.defaults.get(f"unmapped_{kind}")
        if hit is None:
            raise Reject("unknown_value", f"{kind}: {str(raw)[:60]!r} is not mapped in the profile")
        return hit

    def category(self, row: RawRow) -> int:
        kind, major, minor = (self.get(row, f) for f in ("category_kind", "category_major", "category_minor"))
        if major is None and minor is None:
            raise Reject("missing_field", "category: empty")
        major_n, minor_n = _norm(major) if major is not None else None, _norm(minor) if minor is not None else None
        keys = [k for k in (f"{major_n}/{minor_n}" if major_n and minor_n else None, minor_n, major_n) if k]
        targets = next((self.maps["category"][k] for k in keys if k in self.maps.get("category", {})), None)
        if targets is not None:
            for target in [targets] if isinstance(targets, str) else targets:
                found = self._category_by_name(None, *(_split_target(target)))
                if found is not None:
                    return found
            raise Reject(
                "unknown_category",
                f"category: profile maps {keys[0]!r} to {targets!r}, which is not in the categories table",
            )
        found = self._category_by_name(_norm(kind) if kind is not None else None, major_n, minor_n)
        if found is None:
            raise Reject(
                "unknown_category",
                f"category: {'/'.join(str(x) for x in (major, minor) if x)[:80]!r} matches no Gridscope category",
            )
        return found

    def _category_by_name(self, kind, major, minor) -> int | None:
        r = self.ref
        if minor is not None:
            if kind and major and (kind, major, minor) in r.cat_by_kind_names:
                return r.cat_by_kind_names[(kind, major, minor)]
            if major and (major, minor) in r.cat_by_names:
                return r.cat_by_names[(major, minor)]
            if minor in r.cat_by_minor:
                return r.cat_by_minor[minor]
        for code in (minor, major):
            if code is not None and code.upper() in r.cat_by_code:
                return r.cat_by_code[code.upper()]
        return None

    def department(self, row: RawRow, warnings: list[str]) -> int | None:
        raw = self.get(row, "department")
        if raw is None:
            return None
        target = self.maps.get("department", {}).get(_norm(raw), raw)
        for t in [target] if isinstance(target, str) else target:
            if _norm(t) in self.ref.dept:
                return self.ref.dept[_norm(t)]
        warnings.append("unknown_department")
        return None

    def text(self, row: RawRow, name: str, warnings: list[str], limit: int | None = None) -> str | None:
        value = self.get(row, name)
        if value is None:
            return None
        value = str(value)
        if limit is not None and len(value) > limit:
            warnings.append("truncated")
            value = value[:limit]
        return value

    def stage(self, row: RawRow) -> Staged:
        """Checks and conversions of one row (everything but grid placement). Raises ``Reject``."""
        for f in (
            "case_no",
            "reported_at",
            "x",
            "y",
            "grid_code",
            "category_minor",
            "category_major",
            "status",
            "channel",
            "address",
            "department",
        ):
            if self.col.get(f) and self.get(row, f) is None:
                self.missing[f] += 1
        if row.flaw is not None:
            raise row.flaw
        if row.extra:
            raise Reject("malformed_row", f"{len(row.extra)} cell(s) beyond the header (a stray separator?)")
        warnings: list[str] = []
        case_no = self.get(row, "case_no")
        for need in self.p.required:
            if need == "location":
                if (self.get(row, "x") is None or self.get(row, "y") is None) and self.get(row, "grid_code") is None:
                    raise Reject("missing_field", "location: no coordinates and no grid code")
            elif need == "category":
                if self.get(row, "category_major") is None and self.get(row, "category_minor") is None:
                    raise Reject("missing_field", "category: empty")
            elif self.get(row, need) is None:
                raise Reject("missing_field", f"{need}: empty")
        case_no = self.p.case_no_prefix + (_plain_number(case_no) if case_no is not None else "")
        if len(case_no) > 32:
            raise Reject("bad_value", f"case_no: {case_no[:40]!r}… is longer than 32 characters")
        times = {f: self.parse_time(self.get(row, f), f) for f in DATE_FIELDS}
        for f in STAGES:
            if times[f] is not None and times[f] < times["reported_at"]:
                raise Reject(
                    "bad_date",
                    f"{f} {times[f]:%Y-%m-%d %H:%M} is earlier than reported_at {times['reported_at']:%Y-%m-%d %H:%M}",
                )
        channel = self.map_value("channel", self.get(row, "channel"), self.auto_channel)
        if channel is None:
            raise Reject("missing_field", "channel: empty and the profile has no default")
        status = self._status(row, times)
        category_id = self.category(row)
        lon = lat = None
        x, y = self.get(row, "x"), self.get(row, "y")
        grid_code = self.get(row, "grid_code")
        grid_code = _plain_number(grid_code) if grid_code is not None else None
        if x is not None and y is not None:
            try:
                lon, lat = float(x), float(y)
                if not (math.isfinite(lon) and math.isfinite(lat)):
                    raise ValueError
            except (TypeError, ValueError):
                if grid_code is None:
                    raise Reject("bad_value", f"coordinates: cannot read ({str(x)[:20]!r}, {str(y)[:20]!r})") from None
                warnings.append("bad_point_used_grid")
                lon = lat = None
            if lon == 0 and lat == 0:  # exports write 0,0 for "no position"
                lon = lat = None
        if status in domain.CLOSED_STATUSES + ("cancelled",) and times["closed_at"] is None:
            warnings.append("closed_without_time")
            times["closed_at"] = max(t for t in times.values() if t is not None)
        registered = times["registered_at"]
        if registered is None and status not in ("pending_verify", "pending_register", "cancelled"):
            registered = times["reported_at"]  # 立案 time not exported: the platform registers on report
        case = dict(
            case_no=case_no,
            channel=channel,
            category_id=category_id,
            status=status,
            address=self.text(row, "address", warnings, TEXT_LIMITS["address"]),
            description=self.text(row, "description", warnings),
            reporter_id=self.text(row, "reporter_id", warnings, TEXT_LIMITS["reporter_id"]),
            inspector_id=self.text(row, "inspector_id", warnings, TEXT_LIMITS["inspector_id"]),
            reported_at=times["reported_at"],
            registered_at=registered,
            dispatched_at=times["dispatched_at"],
            disposed_at=times["disposed_at"],
            closed_at=times["closed_at"],
            deadline_at=times["deadline_at"],
            department_id=self.department(row, warnings),
            source=self.p.source,
        )
        return Staged(row, case, lon, lat, grid_code, warnings)

    def _status(self, row: RawRow, times: dict) -> str:
        raw = self.get(row, "status")
        if raw is None and self.p.derive_status and "status" not in self.p.defaults:
            # No status exported: the furthest stage with a time.
            return (
                "closed"
                if times["closed_at"]
                else "pending_check"
                if times["disposed_at"]
                else "in_disposal"
                if times["dispatched_at"]
                else "pending_dispatch"
            )
        status = self.map_value("status", raw, self.auto_status)
        if status is None:
            raise Reject("missing_field", "status: empty and the profile has no default")
        return status

    def to_wgs84(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Source coordinates (arrays, the profile's system) → WGS84 (lon, lat) arrays."""
        system = self.p.coordinates.get("system", "wgs84")
        if system == "gcj02" and len(x):
            return gcj02_to_wgs84(x, y)
        if system == "projected":
            c = self.p.coordinates
            return projected_to_wgs84(
                x,
                y,
                origin_lon=float(c["origin_lon"]),
                origin_lat=float(c["origin_lat"]),
                false_easting=float(c.get("false_easting", 0)),
                false_northing=float(c.get("false_northing", 0)),
            )
        return x, y


def _split_target(target: str) -> tuple[str | None, str | None]:
    """A value-map target: a category code ('1101'), a minor name ('暴露垃圾') or 'major/minor'."""
    if "/" in target:
        major, minor = target.split("/", 1)
        return _norm(major), _norm(minor)
    return None, _norm(target)


def _plain_number(value) -> str:
    """Cell → identifier text; XLSX numbers like 310117001.0 lose the '.0'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# --- events derived from a case's timestamps -------------------------------------------------------------------------
_FINAL_ACTION = {"closed": "close", "force_closed": "force_close", "self_handled": "self_handle", "cancelled": "cancel"}


def derive_events(case: dict) -> list[dict]:
    """The lifecycle events a case's timestamps imply (one per known stage), as ``case_events`` dicts without
    ``case_id``; marked with ``note = 'import'`` so a re-import can diff them."""
    chain, previous = [], None
    steps = [
        ("report", case["reported_at"], "pending_register"),
        ("register", case["registered_at"], "pending_dispatch"),
        ("dispatch", case["dispatched_at"], "in_disposal"),
        ("dispose", case["disposed_at"], "pending_check"),
    ]
    if case["closed_at"] is not None and case["status"] in _FINAL_ACTION:
        steps.append((_FINAL_ACTION[case["status"]], case["closed_at"], case["status"]))
    for action, at, to_status in steps:
        if at is None:
            continue
        chain.append(
            dict(
                at=at,
                action=action,
                from_status=previous,
                to_status=to_status,
                department_id=case["department_id"] if action in ("dispatch", "dispose") else None,
                actor_id=None,
                note=DERIVED_NOTE,
            )
        )
        previous = to_status
    return chain


# --- the import -----------------------------------------------------------------------------------------------------
CASE_COLUMNS = (
    "case_no",
    "channel",
    "category_id",
    "grid_id",
    "community_id",
    "street_id",
    "lat",
    "lon",
    "address",
    "description",
    "reporter_id",
    "inspector_id",
    "reported_at",
    "registered_at",
    "dispatched_at",
    "disposed_at",
    "closed_at",
    "deadline_at",
    "disposal_work_hours",
    "status",
    "department_id",
    "updated_at",
    "source",
)


@dataclass
class ImportSummary:
    """What one import did: every data row is counted once in inserted/updated/unchanged/quarantined."""

    profile: str
    source: str
    file: str
    encoding: str
    dry_run: bool
    rows_total: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    blank: int = 0
    reasons: Counter = field(default_factory=Counter)
    warnings: Counter = field(default_factory=Counter)
    missing: Counter = field(default_factory=Counter)
    min_reported_at: datetime | None = None
    max_reported_at: datetime | None = None
    quarantine_csv: str | None = None
    run_id: int | None = None
    quarantine: list[dict] = field(default_factory=list, repr=False)

    @property
    def quarantined(self) -> int:
        return sum(self.reasons.values())

    @property
    def landed(self) -> int:
        return self.inserted + self.updated + self.unchanged

    @property
    def accounted(self) -> bool:
        """True when every data row is either landed or quarantined."""
        return self.rows_total == self.landed + self.quarantined

    def as_dict(self) -> dict:
        return {
            "profile": self.profile,
            "source": self.source,
            "file": self.file,
            "encoding": self.encoding,
            "dry_run": self.dry_run,
            "rows_total": self.rows_total,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "quarantined": self.quarantined,
            "blank": self.blank,
            "reasons": dict(self.reasons),
            "warnings": dict(self.warnings),
            "min_reported_at": self.min_reported_at,
            "max_reported_at": self.max_reported_at,
            "quarantine_csv": self.quarantine_csv,
            "accounted": self.accounted,
        }

    def text(self) -> str:
        """The human-readable summary printed by the CLI."""

        def fmt(counter):
            return ", ".join(f"{k} {v}" for k, v in counter.most_common()) or "none"

        lines = [
            f"{'DRY RUN: nothing written. ' if self.dry_run else ''}Import {self.file} with profile "
            f"{self.profile} (source {self.source}, encoding {self.encoding})",
            f"  rows read      {self.rows_total:>8,}"
            + (f"   (+{self.blank} blank lines skipped)" if self.blank else ""),
            f"  inserted       {self.inserted:>8,}",
            f"  updated        {self.updated:>8,}",
            f"  unchanged      {self.unchanged:>8,}",
            f"  quarantined    {self.quarantined:>8,}   ({fmt(self.reasons)})",
            f"  warnings       {sum(self.warnings.values()):>8,}   ({fmt(self.warnings)})",
            f"  every row accounted for: {'yes' if self.accounted else 'NO'} "
            f"({self.rows_total} = {self.landed} landed + {self.quarantined} quarantined)",
        ]
        if self.min_reported_at:
            lines.append(
                f"  reported_at    {self.min_reported_at:%Y-%m-%d %H:%M} … {self.max_reported_at:%Y-%m-%d %H:%M}"
            )
        if self.quarantine_csv:
            lines.append(f"  quarantine CSV {self.quarantine_csv}")
        return "\n".join(lines)


def import_file(
    engine: Engine,
    profile: Profile | str,
    path: str | Path,
    *,
    dry_run: bool = False,
    quarantine_csv: str | Path | None = None,
    chunk_rows: int = 1000,
    now: datetime | None = None,
) -> ImportSummary:
    """Import one CSV/XLSX file, ``chunk_rows`` rows per transaction. Returns the summary; raises ``ImportFailed``
    (nothing written) when the profile, file or database cannot be used. A failure mid-file rolls back its batch
    and is re-raised; the batches before it stay (no run row is written) and importing the file again completes it.

    ``quarantine_csv``: where to write the quarantined rows (default ``<file>.quarantine.csv`` beside the input;
    written only when rows were quarantined, also on a dry run)."""
    profile = load_profile(profile) if isinstance(profile, str) else profile
    path = Path(path)
    if not path.is_file():
        raise ImportFailed(f"file not found: {path}")
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    header, rows, blank, encoding = read_table(path, profile, data)
    started = now or local_now()
    summary = ImportSummary(
        profile.name, profile.source, path.name, encoding, dry_run, rows_total=len(rows), blank=blank
    )
    missing_tables = {"cases", "import_runs", "import_quarantine", "grids"} - set(inspect(engine).get_table_names())
    if missing_tables:
        raise ImportFailed(f"the database lacks tables {sorted(missing_tables)}: run `python -m data_access.migrate`")
    with engine.connect() as conn:
        with conn.begin():  # reading only: no lock held once the reference data is in memory
            ref = Reference(conn)
        mapper = RowMapper(profile, header, ref)
        if mapper.col["case_no"] is None and "case_no" in profile.required:
            raise ImportFailed(
                f"{path.name}: none of the case-number columns {profile.columns.get('case_no')} is in the file header"
            )
        batch = _Batches(conn, dry_run)
        seen: dict[str, int] = {}
        for first in range(0, len(rows), chunk_rows):
            cases = _transform(rows[first : first + chunk_rows], mapper, ref, summary, seen)
            if not cases:  # every row of this batch quarantined
                continue
            with batch():
                _write_chunk(conn, cases, summary)
            times = [c["reported_at"] for c in cases] + [summary.min_reported_at, summary.max_reported_at]
            times = [t for t in times if t is not None]
            if times:
                summary.min_reported_at, summary.max_reported_at = min(times), max(times)
        summary.missing = mapper.missing
        if not dry_run:
            _write_quarantine(conn, summary, profile, path.name, sha, started, batch, chunk_rows)
            finished = local_now() if now is None else now
            run = dict(
                source=profile.source,
                profile=profile.name,
                file_name=path.name[:255],
                file_sha256=sha,
                started_at=started,
                finished_at=finished,
                rows_total=summary.rows_total,
                rows_inserted=summary.inserted,
                rows_updated=summary.updated,
                rows_unchanged=summary.unchanged,
                rows_quarantined=summary.quarantined,
                rows_blank=summary.blank,
                reasons_json=json.dumps(dict(summary.reasons)),
                warnings_json=json.dumps(dict(summary.warnings)),
                missing_json=json.dumps(dict(summary.missing), ensure_ascii=False),
                min_reported_at=summary.min_reported_at,
                max_reported_at=summary.max_reported_at,
            )
            with batch():  # last: a run row means the whole file landed
                summary.run_id = conn.execute(
                    ImportRun.__table__.insert().values(**run).returning(ImportRun.__table__.c.id)
                ).scalar_one()
    if summary.quarantine:
        target = Path(quarantine_csv) if quarantine_csv else path.with_name(path.stem + ".quarantine.csv")
        write_quarantine_csv(target, header, summary.quarantine)
        summary.quarantine_csv = str(target)
    return summary


def _transform(
    rows: list[RawRow], mapper: RowMapper, ref: Reference, summary: ImportSummary, seen: dict[str, int] | None = None
) -> list[dict]:
    """Stage, place and complete every row; rejected rows go to ``summary.quarantine``. Returns case dicts.
    ``seen`` (case_no → first row) carries duplicate detection from one batch of a file to the next."""
    staged: list[Staged] = []
    seen = {} if seen is None else seen
    for row in rows:
        try:
            s = mapper.stage(row)
            first = seen.get(s.case["case_no"])
            if first is not None:
                raise Reject("duplicate", f"case_no {s.case['case_no']!r} already on row {first}")
            seen[s.case["case_no"]] = row.number
            staged.append(s)
        except Reject as rej:
            _quarantine(summary, row, rej)
    # Coordinate conversion and grid placement, vectorised: one STRtree query for every row with a point.
    with_point = [i for i, s in enumerate(staged) if s.lon is not None]
    lons, lats = mapper.to_wgs84(
        np.array([staged[i].lon for i in with_point], dtype=float),
        np.array([staged[i].lat for i in with_point], dtype=float),
    )
    for i, lon, lat in zip(with_point, np.atleast_1d(lons).tolist(), np.atleast_1d(lats).tolist()):
        staged[i].lon, staged[i].lat = lon, lat
    found = ref.locate(np.array([staged[i].lon for i in with_point]), np.array([staged[i].lat for i in with_point]))
    by_point = dict(zip(with_point, found.tolist()))
    placed: list[Staged] = []
    for i, s in enumerate(staged):
        idx = -1
        if s.grid_code is not None:
            idx = ref.grid_by_code.get(s.grid_code, -1)
            if idx < 0 and by_point.get(i, -1) >= 0:
                s.warnings.append("grid_code_unknown")
        if idx < 0:
            idx = by_point.get(i, -1)
        elif i in by_point and by_point[i] < 0:
            s.warnings.append("bad_point_used_grid")
            s.lon = None
        if idx < 0:
            where = f"point ({s.lon:.6f}, {s.lat:.6f}) is in no grid" if s.lon is not None else "no point"
            code = f"; grid code {s.grid_code!r} unknown" if s.grid_code is not None else ""
            _quarantine(summary, s.row, Reject("outside_district", where + code))
            continue
        g = ref.grid_rows[idx]
        case = s.case
        case.update(
            grid_id=g.id,
            community_id=g.community_id,
            street_id=g.street_id,
            lon=s.lon if s.lon is not None else g.centroid_lon,
            lat=s.lat if s.lat is not None else g.centroid_lat,
        )
        placed.append(s)
    _complete_times(placed, ref, summary)
    out = []
    for s in placed:
        reject = s.case.pop("_reject", None) or _misfit(s.case)
        if reject is not None:
            _quarantine(summary, s.row, reject)
            continue
        summary.warnings.update(set(s.warnings))
        out.append(s.case)
    return out


def _column_bounds() -> dict[str, tuple]:
    """``cases`` column → what it can hold, from the schema: ("int", lo, hi) with PostgreSQL's ranges (the stricter
    dialect), ("text", max length) or ("float",)."""
    bounds = {}
    for name in CASE_COLUMNS:
        kind = Case.__table__.c[name].type
        if isinstance(kind, Integer):
            bits = 16 if isinstance(kind, SmallInteger) else 64 if isinstance(kind, BigInteger) else 32
            bounds[name] = ("int", -(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
        elif isinstance(kind, String) and kind.length:
            bounds[name] = ("text", kind.length)
        elif isinstance(kind, Float):
            bounds[name] = ("float",)
    return bounds


def _misfit(case: dict) -> Reject | None:
    """The last gate before writing: a value its column cannot hold becomes an ``out_of_range`` quarantine of this
    row instead of a database error that fails the whole batch (whatever code path produced the value)."""
    for name, bound in _COLUMN_BOUNDS.items():
        value = case.get(name)
        if value is None or isinstance(value, bool):
            continue
        if bound[0] == "int" and isinstance(value, int) and not bound[1] <= value <= bound[2]:
            return Reject(
                "out_of_range", f"{name}: {str(value)[:40]} does not fit a {bound[2].bit_length() + 1}-bit integer"
            )
        if bound[0] == "text" and isinstance(value, str) and len(value) > bound[1]:
            return Reject("out_of_range", f"{name}: {len(value)} characters, the column holds {bound[1]}")
        if bound[0] == "float" and isinstance(value, float) and not math.isfinite(value):
            return Reject("out_of_range", f"{name}: {value} is not a finite number")
    return None


_COLUMN_BOUNDS = _column_bounds()


def _complete_times(placed: list[Staged], ref: Reference, summary: ImportSummary) -> None:
    """Fill, vectorised over all rows: the deadline (from the category's 处置时限 in working hours when the source
    has none), disposal working hours, and ``updated_at`` (the latest known time, so a re-import computes the same
    value). A row whose deadline falls outside the calendar gets ``case['_reject']``."""
    cal = ref.calendar
    need, bases, hours = [], [], []
    for k, s in enumerate(placed):
        case = s.case
        case["disposal_work_hours"] = None
        case["updated_at"] = max(
            case[f]
            for f in ("reported_at", "registered_at", "dispatched_at", "disposed_at", "closed_at")
            if case[f] is not None
        )
        if case["deadline_at"] is None and case["status"] not in ("self_handled", "cancelled"):
            limit = ref.category_limit.get(case["category_id"])
            if cal is not None and limit:
                need.append(k)
                bases.append(case["dispatched_at"] or case["registered_at"] or case["reported_at"])
                hours.append(float(limit))
            else:
                s.warnings.append("no_deadline")
    if need:
        try:
            deadlines = (
                cal.add_work_hours(np.array(bases, dtype="datetime64[s]"), np.array(hours))
                .astype("datetime64[s]")
                .tolist()
            )
        except ValueError:  # some deadline beyond the calendar: find which, one by one
            deadlines = []
            for base, h in zip(bases, hours):
                try:
                    deadlines.append(cal.add_work_hours(base, h))
                except ValueError as err:
                    deadlines.append(Reject("bad_date", f"deadline: {err}"))
        for k, deadline in zip(need, deadlines):
            if isinstance(deadline, Reject):
                placed[k].case["_reject"] = deadline
            else:
                placed[k].case["deadline_at"] = deadline.replace(microsecond=0)
    timed = [s.case for s in placed if s.case["dispatched_at"] and s.case["disposed_at"]]
    if cal is not None and timed:
        spans = cal.work_hours_between(
            np.array([c["dispatched_at"] for c in timed], dtype="datetime64[s]"),
            np.array([c["disposed_at"] for c in timed], dtype="datetime64[s]"),
        )
        for case, span in zip(timed, np.round(spans, 4).tolist()):
            case["disposal_work_hours"] = span


def _quarantine(summary: ImportSummary, row: RawRow, rej: Reject) -> None:
    summary.reasons[rej.code] += 1
    raw = {k: _jsonable(v) for k, v in row.values.items()}
    if row.extra:
        raw["_extra"] = [_jsonable(v) for v in row.extra]
    summary.quarantine.append({"row_number": row.number, "reason_code": rej.code, "reason_text": rej.text, "raw": raw})


def _jsonable(value):
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


class _Batches:
    """``with batch():`` = one write transaction (rolled back on a dry run). On SQLite the write lock is then left
    free for at least ``SQLITE_WRITE_GAP_S`` before the next batch writes, so a waiting writer always gets in."""

    def __init__(self, conn: Connection, dry_run: bool):
        self.conn, self.dry_run = conn, dry_run
        self.gap = SQLITE_WRITE_GAP_S if conn.dialect.name == "sqlite" else 0.0
        self.last_end: float | None = None

    @contextmanager
    def __call__(self):
        if self.last_end is not None and self.gap:
            time.sleep(max(0.0, self.last_end + self.gap - time.monotonic()))
        transaction = self.conn.begin()
        try:
            yield
        except BaseException:
            transaction.rollback()
            raise
        else:
            (transaction.rollback if self.dry_run else transaction.commit)()
        finally:
            self.last_end = time.monotonic()


def _upsert(conn: Connection):
    table = Case.__table__
    ins = (pg_dialect.insert if conn.dialect.name == "postgresql" else sqlite_dialect.insert)(table)
    changed = [table.c[c].is_distinct_from(ins.excluded[c]) for c in CASE_COLUMNS if c != "case_no"]
    return ins.on_conflict_do_update(
        index_elements=[table.c.case_no],
        set_={c: ins.excluded[c] for c in CASE_COLUMNS if c != "case_no"},
        where=or_(*changed),
    )


def _write_chunk(conn: Connection, chunk: list[dict], summary: ImportSummary) -> None:
    table = Case.__table__
    numbers = [c["case_no"] for c in chunk]
    existing = {
        r.case_no: r
        for r in conn.execute(select(*(table.c[c] for c in ("id",) + CASE_COLUMNS)).where(table.c.case_no.in_(numbers)))
    }
    for case in chunk:
        old = existing.get(case["case_no"])
        if old is None:
            summary.inserted += 1
        elif all(_same(getattr(old, c), case[c]) for c in CASE_COLUMNS):
            summary.unchanged += 1
        else:
            summary.updated += 1
    conn.execute(_upsert(conn), [{c: case[c] for c in CASE_COLUMNS} for case in chunk])
    ids = dict(conn.execute(select(table.c.case_no, table.c.id).where(table.c.case_no.in_(numbers))).all())
    # Derived events: insert the missing, delete the stale; identical ones keep their ids.
    ev = CaseEvent.__table__
    keycols = ("case_id", "at", "action", "from_status", "to_status", "department_id")
    have = {}
    for r in conn.execute(
        select(ev.c.id, *(ev.c[k] for k in keycols)).where(
            ev.c.case_id.in_(list(ids.values())), ev.c.note == DERIVED_NOTE
        )
    ):
        have[tuple(_key_value(getattr(r, k)) for k in keycols)] = r.id
    want = {}
    for case in chunk:
        for e in derive_events(case):
            e["case_id"] = ids[case["case_no"]]
            want[tuple(_key_value(e[k]) for k in keycols)] = e
    stale = [i for k, i in have.items() if k not in want]
    if stale:
        conn.execute(delete(ev).where(ev.c.id.in_(stale)))
    new = [e for k, e in want.items() if k not in have]
    if new:
        conn.execute(ev.insert(), new)


def _key_value(v):
    if isinstance(v, str) and len(v) >= 19 and v[4] == "-" and v[10] in " T":
        try:
            return datetime.fromisoformat(v)
        except ValueError:
            return v
    return v


def _same(a, b) -> bool:
    if a == b:
        return True
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(float(a), float(b), rel_tol=0, abs_tol=1e-9)
    return _key_value(a) == _key_value(b)


def _write_quarantine(
    conn: Connection,
    summary: ImportSummary,
    profile: Profile,
    file_name: str,
    sha: str,
    now: datetime,
    batch: _Batches,
    chunk_rows: int = 1000,
) -> None:
    """Make ``import_quarantine`` hold exactly this file's quarantined rows (insert new, update changed reasons,
    delete rows that now land), ``chunk_rows`` changes per write transaction."""
    q = ImportQuarantine.__table__
    with conn.begin():
        have = {
            r.row_number: r
            for r in conn.execute(
                select(q.c.id, q.c.row_number, q.c.reason_code, q.c.reason_text, q.c.raw_json).where(
                    q.c.source == profile.source, q.c.file_sha256 == sha
                )
            )
        }
    want = {item["row_number"]: item for item in summary.quarantine}
    gone = [r.id for n, r in have.items() if n not in want]
    new, changed = [], []
    for n, item in want.items():
        raw = json.dumps(item["raw"], ensure_ascii=False, default=str)  # a NUL is written as \u0000
        old = have.get(n)
        if old is None:
            new.append(
                dict(
                    source=profile.source,
                    file_name=file_name[:255],
                    file_sha256=sha,
                    row_number=n,
                    reason_code=item["reason_code"],
                    reason_text=item["reason_text"],
                    raw_json=raw,
                    imported_at=now,
                )
            )
        elif (old.reason_code, old.reason_text, old.raw_json) != (item["reason_code"], item["reason_text"], raw):
            changed.append((old.id, item["reason_code"], item["reason_text"], raw))
    for first in range(0, max(len(gone), len(new), len(changed)), chunk_rows):
        with batch():
            if gone[first : first + chunk_rows]:
                conn.execute(delete(q).where(q.c.id.in_(gone[first : first + chunk_rows])))
            for qid, code, text, raw in changed[first : first + chunk_rows]:
                conn.execute(
                    update(q)
                    .where(q.c.id == qid)
                    .values(reason_code=code, reason_text=text, raw_json=raw, imported_at=now)
                )
            if new[first : first + chunk_rows]:
                conn.execute(q.insert(), new[first : first + chunk_rows])


def write_quarantine_csv(target: Path, header: list[str], items: list[dict]) -> None:
    """The quarantined rows as CSV (UTF-8 with BOM, so Excel shows Chinese): row, reason code, reason, then the
    original columns; written by ``core.exports``, which keeps formula-like text from running in Excel."""
    columns = [h for h in header if h]
    rows = (
        [
            item["row_number"],
            item["reason_code"],
            item["reason_text"],
            *(item["raw"].get(c) for c in columns),
            json.dumps(item["raw"]["_extra"], ensure_ascii=False) if "_extra" in item["raw"] else "",
        ]
        for item in sorted(items, key=lambda x: x["row_number"])
    )
    exports.write_csv_file(target, ["row", "reason_code", "reason", *columns, "_extra"], rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m data_access.importer", description=__doc__.splitlines()[0])
    ap.add_argument(
        "--profile", required=True, help=f"shipped profile ({', '.join(list_profiles())}) or a path to a .toml profile"
    )
    ap.add_argument("--file", required=True, help="the export to import (.csv or .xlsx)")
    ap.add_argument("--db", help="database URL (default: setting db_url)")
    ap.add_argument("--dry-run", action="store_true", help="check and count everything, write nothing to the database")
    ap.add_argument("--quarantine-csv", help="where to write quarantined rows (default: <file>.quarantine.csv)")
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = ap.parse_args(argv)
    engine = None
    try:
        engine = make_engine(args.db, read_only=False)
        summary = import_file(engine, args.profile, args.file, dry_run=args.dry_run, quarantine_csv=args.quarantine_csv)
    except (GridscopeDBError, exc.DBAPIError) as err:
        shown = translate_error(err, engine) if isinstance(err, exc.DBAPIError) else err
        after = (
            "nothing written"
            if isinstance(err, ImportFailed)
            else "batches written before it stay; run the same file again to complete it"
        )
        print(f"import failed ({after}): {shown}", file=sys.stderr)
        return 1
    print(json.dumps(summary.as_dict(), default=str, ensure_ascii=False) if args.json else summary.text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
