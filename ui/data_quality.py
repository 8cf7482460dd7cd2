"""数据质量 in words: cached loaders of the data-quality screen model (``reports.data_quality``) and its tables
labelled in the viewer's language."""

from __future__ import annotations

import pandas as pd

from core.clock import local_now
from reports import data_quality as dq
from ui.db import get_engine
from ui.i18n import catalog
from ui.live import live_cache

T = catalog("data_quality")
FIELD_LABELS = catalog("case_fields")
REASON_LABELS = catalog("import_reasons")
QUALITY_TTL = 600  # imports are rare; the coverage query scans the case table, so refresh it slowly


@live_cache(ttl=QUALITY_TTL, max_entries=8)
def load_quality(months: int) -> dq.Quality:
    return dq.build(get_engine(), dq.QualityParams(months), now=local_now())


@live_cache(ttl=QUALITY_TTL, max_entries=16)
def load_quarantine_rows(source: str) -> pd.DataFrame:
    return dq.quarantine_rows(get_engine(), dq.QuarantineParams(source), now=local_now())


def reason_label(code: str) -> str:
    """A quarantine reason's label; a code the importer does not know (an older import) is shown as itself."""
    return REASON_LABELS(code) if code in dq.REASON_CODES else code


def window_note(model: dq.Quality) -> str | None:
    if model.since is None:
        return None
    return T(
        "window_note",
        n=model.months,
        since=f"{model.since:%Y-%m-%d}",
        first=f"{model.first:%Y-%m-%d}",
        last=f"{model.last:%Y-%m-%d}",
    )


def sources_table(model: dq.Quality) -> pd.DataFrame:
    s = model.sources
    return pd.DataFrame(
        {
            T("source"): s["source"],
            T("cases"): s["cases"],
            T("files"): s["files"],
            T("rows_total"): s["rows_total"],
            T("rows_landed"): s["rows_landed"],
            T("rows_quarantined"): s["rows_quarantined"],
            T("landed_share"): s["landed_share"],
            T("first"): s["first_reported"],
            T("last"): s["last_reported"],
            T("months"): s["months"],
            T("last_import"): s["last_import"],
        }
    )


def missing_table(model: dq.Quality) -> pd.DataFrame:
    frame = model.missing.rename(index=FIELD_LABELS)
    frame.index.name = T("field")
    return frame


def reasons_table(model: dq.Quality) -> pd.DataFrame:
    r = model.reasons
    return pd.DataFrame({T("source"): r["source"], T("reason"): r["reason_code"].map(reason_label), T("count"): r["n"]})


def runs_table(model: dq.Quality) -> pd.DataFrame:
    runs = model.runs
    return pd.DataFrame(
        {
            T("finished"): runs["finished_at"],
            T("source"): runs["source"],
            T("profile"): runs["profile"],
            T("file"): runs["file_name"],
            T("rows_total"): runs["rows_total"],
            T("rows_landed"): runs["rows_landed"],
            T("rows_quarantined"): runs["rows_quarantined"],
            T("reasons"): runs["reasons"].map(lambda d: ", ".join(f"{reason_label(k)} {v}" for k, v in d.items())),
            T("first"): runs["min_reported_at"],
            T("last"): runs["max_reported_at"],
            T("reimports"): runs["runs"],
        }
    )


def quarantine_table(rows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            T("file"): rows["file_name"],
            T("row"): rows["row_number"],
            T("reason"): rows["reason_code"].map(reason_label),
            T("detail"): rows["reason_text"],
            T("raw"): rows["raw_json"],
        }
    )
