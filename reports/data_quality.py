"""数据质量 (the data-quality screen): per import source, rows imported and quarantined, the fields it leaves empty,
the months it covers, the latest import of each file and the quarantined rows themselves.

Entry points ``build(engine, params, *, now)`` (the whole screen but the quarantined rows) and
``quarantine_rows(engine, params, *, now)``; models hold frames, numbers and reason/field codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import Engine

from data_access import quality_queries as qq
from data_access.importer import REASONS
from data_access.queries import data_time_range

WINDOWS = (3, 12, 36)  # months; a window keeps the screen's cost independent of years of history
DEFAULT_WINDOW = 12
REASON_CODES = tuple(REASONS)  # quarantine reason codes with a label (others are shown as-is)
COVERAGE_FIELDS = tuple(qq.COVERAGE_FIELDS)  # case fields whose emptiness is reported (case_fields catalog)
SEED_SOURCE = qq.SEED_SOURCE
SAMPLE_ROWS = 200


@dataclass(frozen=True)
class QualityParams:
    months: int = DEFAULT_WINDOW

    def __post_init__(self):
        if self.months not in WINDOWS:
            raise ValueError(f"window must be one of {WINDOWS} months, not {self.months!r}")


@dataclass(frozen=True)
class Quality:
    months: int
    first: datetime | None  # the data's earliest and latest report (all sources, all time)
    last: datetime | None
    since: datetime | None  # start of the window (None: no data)
    imported: bool  # any file imported at all (else the sources are the seed's only)
    sources: pd.DataFrame  # source, cases, files, rows_total, rows_landed, rows_quarantined,
    #                                      landed_share, first_reported, last_reported, months, last_import
    missing: pd.DataFrame  # index: field code (COVERAGE_FIELDS), one column per source: share empty
    reasons: pd.DataFrame  # source, reason_code, n (most frequent first)
    runs: pd.DataFrame  # the latest run of each file (quality_queries.latest_runs)
    monthly: pd.DataFrame  # index: month 'YYYY-MM', one column per source: cases reported

    @property
    def quarantine_sources(self) -> list[str]:
        """Sources with quarantined rows, for the row sample's picker."""
        return sorted(self.reasons["source"].unique()) if not self.reasons.empty else []


def source_table(coverage: pd.DataFrame, totals: pd.DataFrame) -> pd.DataFrame:
    """Coverage and import totals per source, with the share of read rows that landed (empty without imports)."""
    table = coverage.merge(totals, on="source", how="left")
    table["landed_share"] = table["rows_landed"] / table["rows_total"].where(table["rows_total"] > 0)
    return table[
        [
            "source",
            "cases",
            "files",
            "rows_total",
            "rows_landed",
            "rows_quarantined",
            "landed_share",
            "first_reported",
            "last_reported",
            "months",
            "last_import",
        ]
    ]


def missing_shares(coverage: pd.DataFrame) -> pd.DataFrame:
    """Share of each source's cases with a field empty: fields (codes) down, sources across."""
    shares = {
        f: (coverage[f"missing_{f}"] / coverage["cases"].where(coverage["cases"] > 0)).round(3).tolist()
        for f in COVERAGE_FIELDS
    }
    return pd.DataFrame(shares, index=coverage["source"]).T


def monthly_table(volume: pd.DataFrame) -> pd.DataFrame:
    """Cases per month and source, months down, sources across (0 where a source has none that month)."""
    if volume.empty:
        return pd.DataFrame()
    return volume.pivot_table(index="month", columns="source", values="n", aggfunc="sum").fillna(0)


def build(engine: Engine, params: QualityParams = QualityParams(), *, now: datetime | None = None) -> Quality:
    """The screen for the last ``params.months`` months of the data (not of the clock: an old import still shows);
    ``now`` is not used."""
    first, last = data_time_range(engine)
    since = qq.window_start(last, params.months)
    coverage, totals = qq.source_coverage(engine, since), qq.source_import_totals(engine)
    return Quality(
        params.months,
        first,
        last,
        since,
        not totals.empty,
        source_table(coverage, totals),
        missing_shares(coverage),
        qq.quarantine_reasons(engine),
        qq.latest_runs(engine),
        monthly_table(qq.monthly_volume(engine, since=since)),
    )


@dataclass(frozen=True)
class QuarantineParams:
    source: str
    limit: int = SAMPLE_ROWS


def quarantine_rows(engine: Engine, params: QuarantineParams, *, now: datetime | None = None) -> pd.DataFrame:
    """Up to ``params.limit`` quarantined rows of one source, newest file first: file_name, row_number, reason_code,
    reason_text, raw_json."""
    return qq.quarantine_sample(engine, params.source, limit=params.limit)
