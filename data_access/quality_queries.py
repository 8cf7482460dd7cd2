"""Data-quality aggregates for the 数据质量 page: what each import source brought in, what it lost to quarantine,
which fields it leaves empty and which time span it covers.

Like ``data_access.queries``: engine injected, small aggregates, bound parameters only, through ``fetch_frame``.
Sources are the ``cases.source`` values (the import profiles' ``source``); cases without one are the seed's
(shown as ``SEED_SOURCE``).
"""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, String, func, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from data_access.engine import fetch_frame
from data_access.schema import Case, ImportQuarantine, ImportRun

SEED_SOURCE = "seed"
# Case fields whose emptiness the page reports (field → column).
COVERAGE_FIELDS = {
    "address": Case.address,
    "description": Case.description,
    "department": Case.department_id,
    "inspector": Case.inspector_id,
    "dispatched_at": Case.dispatched_at,
    "disposed_at": Case.disposed_at,
    "closed_at": Case.closed_at,
    "deadline_at": Case.deadline_at,
}


class month_of(FunctionElement):
    """'YYYY-MM' of a timestamp on both dialects."""

    type = String()
    inherit_cache = True


@compiles(month_of, "sqlite")
def _month_of_sqlite(element, compiler, **kw):
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)})"


@compiles(month_of)
def _month_of_default(element, compiler, **kw):
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM')"


def _source():
    return func.coalesce(Case.source, literal(SEED_SOURCE)).label("source")


def window_start(last: datetime | None, months: int) -> datetime | None:
    """First day of the month ``months - 1`` months before ``last`` (the data's last report): N whole months."""
    if last is None:
        return None
    month = last.year * 12 + last.month - 1 - (months - 1)
    return datetime(month // 12, month % 12 + 1, 1)


def _since(stmt, since: datetime | None):
    # a time window keeps the cost proportional to the months shown, not to the years of history (issue 9)
    return stmt if since is None else stmt.where(Case.reported_at >= since)


def source_coverage(engine: Engine, since: datetime | None = None) -> pd.DataFrame:
    """Per source, over cases reported since ``since`` (all when None): ``source``, ``cases``, ``first_reported``,
    ``last_reported``, ``months`` (calendar months with at least one case), and ``missing_<field>`` (cases with that
    field empty) for each of ``COVERAGE_FIELDS``."""
    src = _source()
    missing = [(func.count() - func.count(col)).label(f"missing_{name}") for name, col in COVERAGE_FIELDS.items()]
    stmt = (
        select(
            src,
            func.count().label("cases"),
            func.min(Case.reported_at).label("first_reported"),
            func.max(Case.reported_at).label("last_reported"),
            func.count(func.distinct(month_of(Case.reported_at))).label("months"),
            *missing,
        )
        .group_by(src)
        .order_by(src)
    )
    frame = fetch_frame(engine, _since(stmt, since))
    for col in ["cases", "months", *(f"missing_{n}" for n in COVERAGE_FIELDS)]:
        frame[col] = frame[col].astype(int)
    return frame


def monthly_volume(engine: Engine, source: str | None = None, since: datetime | None = None) -> pd.DataFrame:
    """Cases per reporting month (``month`` 'YYYY-MM', ``source``, ``n``), for one source or all (time coverage),
    since ``since`` (all when None)."""
    month, src = month_of(Case.reported_at).label("month"), _source()
    stmt = _since(select(month, src, func.count().label("n")), since).group_by(month, src).order_by(month)
    if source == SEED_SOURCE:
        stmt = stmt.where(Case.source.is_(None))
    elif source is not None:
        stmt = stmt.where(Case.source == source)
    return fetch_frame(engine, stmt)


def latest_runs(engine: Engine) -> pd.DataFrame:
    """The latest run of each (source, file): ``source``, ``profile``, ``file_name``, ``finished_at``, ``rows_total``,
    ``rows_landed`` (inserted + updated + unchanged), ``rows_quarantined``, ``rows_blank``, ``reasons`` (dict),
    ``warnings`` (dict), ``missing`` (dict: empty input cells per field), ``min_reported_at``, ``max_reported_at``,
    ``runs`` (how often the file was imported). Re-imports of a file are not double-counted."""
    latest = (
        select(func.max(ImportRun.id).label("id"), func.count().label("runs"))
        .group_by(ImportRun.source, ImportRun.file_sha256)
        .subquery()
    )
    stmt = (
        select(
            ImportRun.source,
            ImportRun.profile,
            ImportRun.file_name,
            ImportRun.finished_at,
            ImportRun.rows_total,
            (ImportRun.rows_inserted + ImportRun.rows_updated + ImportRun.rows_unchanged).label("rows_landed"),
            ImportRun.rows_quarantined,
            ImportRun.rows_blank,
            ImportRun.reasons_json,
            ImportRun.warnings_json,
            ImportRun.missing_json,
            ImportRun.min_reported_at,
            ImportRun.max_reported_at,
            latest.c.runs,
        )
        .join(latest, latest.c.id == ImportRun.id)
        .order_by(ImportRun.finished_at.desc(), ImportRun.id.desc())
    )
    frame = fetch_frame(engine, stmt)
    for raw, name in (("reasons_json", "reasons"), ("warnings_json", "warnings"), ("missing_json", "missing")):
        frame[name] = frame[raw].map(lambda s: json.loads(s) if s else {})
    return frame.drop(columns=["reasons_json", "warnings_json", "missing_json"])


def source_import_totals(engine: Engine) -> pd.DataFrame:
    """Per source over the latest run of each file: ``source``, ``files``, ``rows_total``, ``rows_landed``,
    ``rows_quarantined``, ``last_import``."""
    runs = latest_runs(engine)
    if runs.empty:
        return pd.DataFrame(columns=["source", "files", "rows_total", "rows_landed", "rows_quarantined", "last_import"])
    return runs.groupby("source", as_index=False).agg(
        files=("file_name", "size"),
        rows_total=("rows_total", "sum"),
        rows_landed=("rows_landed", "sum"),
        rows_quarantined=("rows_quarantined", "sum"),
        last_import=("finished_at", "max"),
    )


def quarantine_reasons(engine: Engine, source: str | None = None) -> pd.DataFrame:
    """Quarantined rows per ``source`` and ``reason_code`` (``n``), most frequent first."""
    stmt = (
        select(ImportQuarantine.source, ImportQuarantine.reason_code, func.count().label("n"))
        .group_by(ImportQuarantine.source, ImportQuarantine.reason_code)
        .order_by(func.count().desc(), ImportQuarantine.reason_code)
    )
    if source is not None:
        stmt = stmt.where(ImportQuarantine.source == source)
    return fetch_frame(engine, stmt)


def quarantine_sample(engine: Engine, source: str, reason_code: str | None = None, limit: int = 100) -> pd.DataFrame:
    """Up to ``limit`` quarantined rows of a source (newest file first): ``file_name``, ``row_number``,
    ``reason_code``, ``reason_text``, ``raw_json``."""
    limit = max(1, min(int(limit), 1000))
    stmt = (
        select(
            ImportQuarantine.file_name,
            ImportQuarantine.row_number,
            ImportQuarantine.reason_code,
            ImportQuarantine.reason_text,
            ImportQuarantine.raw_json,
        )
        .where(ImportQuarantine.source == source)
        .order_by(ImportQuarantine.imported_at.desc(), ImportQuarantine.file_name, ImportQuarantine.row_number)
        .limit(limit)
    )
    if reason_code is not None:
        stmt = stmt.where(ImportQuarantine.reason_code == reason_code)
    return fetch_frame(engine, stmt, row_cap=limit)
