"""What the worker (``python -m worker``) writes and the pages read: job locks, the record of job runs, stored flags.

- ``job_lock(engine, name)``: at most one run of a job at a time across every worker process and host. PostgreSQL:
  ``pg_try_advisory_lock`` on a connection held for the whole run (the server releases it if the worker dies);
  SQLite: ``fcntl.flock`` on a file beside the database (the kernel releases it if the worker dies).
- ``claim_run`` / ``finish_run``: one ``job_runs`` row per job × period key (unique). A worker that gets the lock
  after another finished the period sees the row and skips; a failed run is tried again after ``retry_after``.
- ``save_flag_result`` / ``latest_flag_result`` / ``load_flag_result``: the flags as a few DataFrames stored as
  gzip'd JSON (``encode_frames``), portable across dialects and versions, that round-trips the dtypes the pages use
  (int, float with NaN, bool, pandas strings, datetimes, object columns mixing ints and strings such as unit ids).
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import json
import math
import os
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
from sqlalchemy import Engine, delete, func, insert, select, text, update

from data_access.engine import fetch_frame
from data_access.schema import FlagResult, JobRun

FRAME_FORMAT = 1  # version of the JSON layout written by encode_frames
ERROR_MAX = 2000  # characters of a failed run's error kept in job_runs


# --- locks ----------------------------------------------------------------------------------------------------------
def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_lock`` (the same in every process and on every host)."""
    digest = hashlib.blake2b(f"gridscope.job.{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_path(engine: Engine, name: str) -> Path:
    """SQLite: the lock file of job ``name``, beside the database file (e.g. ``gridscope.db.job-flags.lock``)."""
    database = Path(engine.url.database)
    return database.with_name(f"{database.name}.job-{name}.lock")


@contextmanager
def job_lock(engine: Engine, name: str) -> Iterator[bool]:
    """Try to take job ``name``'s lock without waiting; yields whether it was taken, and releases it at the end."""
    if engine.dialect.name == "postgresql":
        key = lock_key(name)
        conn = engine.connect()  # a dedicated connection: the lock belongs to its session
        try:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
            conn.commit()
            try:
                yield got
            finally:
                if got:
                    try:
                        conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                        conn.commit()
                    except Exception:  # noqa: BLE001 - never hand a locked session back to the pool
                        conn.invalidate()
        finally:
            conn.close()
        return
    path = lock_path(engine, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            got = True
        except BlockingIOError:
            got = False
        try:
            yield got
        finally:
            if got:
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


# --- the record of runs ---------------------------------------------------------------------------------------------
def claim_run(
    engine: Engine,
    job: str,
    period_key: str,
    *,
    now: datetime,
    worker: str,
    retry_after: timedelta = timedelta(minutes=5),
) -> bool:
    """Mark ``job``'s run for ``period_key`` as running, unless that period is done (or failed less than
    ``retry_after`` ago). Call it holding the job's lock: a row still "running" then is a run whose worker died."""
    with engine.begin() as conn:
        row = conn.execute(
            select(JobRun.id, JobRun.status, JobRun.started_at).where(
                JobRun.job == job, JobRun.period_key == period_key
            )
        ).first()
        if row is None:
            conn.execute(
                insert(JobRun).values(
                    job=job, period_key=period_key, status="running", started_at=now, attempts=1, worker=worker[:128]
                )
            )
            return True
        if row.status == "ok" or (row.status == "failed" and now - row.started_at < retry_after):
            return False
        conn.execute(
            update(JobRun)
            .where(JobRun.id == row.id)
            .values(
                status="running",
                started_at=now,
                finished_at=None,
                error=None,
                attempts=JobRun.attempts + 1,
                worker=worker[:128],
            )
        )
        return True


def finish_run(engine: Engine, job: str, period_key: str, *, now: datetime, error: str | None = None) -> None:
    """Record the end of a claimed run: ``ok``, or ``failed`` with the error."""
    with engine.begin() as conn:
        conn.execute(
            update(JobRun)
            .where(JobRun.job == job, JobRun.period_key == period_key)
            .values(status="failed" if error else "ok", finished_at=now, error=error[:ERROR_MAX] if error else None)
        )


def job_runs(engine: Engine, job: str | None = None, *, limit: int = 50) -> pd.DataFrame:
    """The latest runs (of ``job``, or of every job), newest first."""
    stmt = select(
        JobRun.job,
        JobRun.period_key,
        JobRun.status,
        JobRun.started_at,
        JobRun.finished_at,
        JobRun.attempts,
        JobRun.worker,
        JobRun.error,
    )
    if job is not None:
        stmt = stmt.where(JobRun.job == job)
    stmt = stmt.order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(max(1, min(int(limit), 1000)))
    return fetch_frame(engine, stmt)


# --- frames as portable bytes ---------------------------------------------------------------------------------------
def _plain(value):
    """A JSON value for one cell of an object column (ints stay ints, strings stay strings; NaN/None → null)."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return _float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (datetime, pd.Timestamp)):
        return {"t": pd.Timestamp(value).isoformat()}
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _float(value):
    value = float(value)
    if math.isnan(value):
        return None
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def _values(series: pd.Series) -> list:
    kind = series.dtype.kind
    if kind == "M":
        return [None if pd.isna(v) else pd.Timestamp(v).isoformat() for v in series]
    if kind == "m":
        return [None if pd.isna(v) else int(pd.Timedelta(v).value) for v in series]
    if kind == "f":
        return [_float(v) for v in series]
    if kind in "iu" and not isinstance(series.dtype, pd.api.extensions.ExtensionDtype):
        return [int(v) for v in series]
    if kind == "b" and not isinstance(series.dtype, pd.api.extensions.ExtensionDtype):
        return [bool(v) for v in series]
    return [_plain(v) for v in series]


def _column_doc(name, series: pd.Series) -> dict:
    doc = {"name": name, "dtype": str(series.dtype), "values": _values(series)}
    if isinstance(series.dtype, pd.CategoricalDtype):
        cats = series.dtype.categories
        doc["categories"] = {
            "dtype": str(cats.dtype),
            "values": _values(cats.to_series()),
            "ordered": bool(series.dtype.ordered),
        }
    return doc


def _column(doc: dict) -> pd.Series:
    cats = doc.get("categories")
    if cats is None:
        return _series(doc["values"], doc["dtype"], doc["name"])
    categories = pd.Index(_series(cats["values"], cats["dtype"], None))
    return pd.Series(pd.Categorical(doc["values"], categories=categories, ordered=cats["ordered"]), name=doc["name"])


def _series(values: list, dtype: str, name) -> pd.Series:
    if dtype.startswith("datetime64"):
        aware = "," in dtype  # e.g. datetime64[us, Asia/Shanghai]: ISO text with offsets
        out = pd.to_datetime(pd.Series(values, dtype=object), format="ISO8601", utc=aware)
        if aware:
            out = out.dt.tz_convert(dtype.split(",", 1)[1].strip(" ]"))
    elif dtype.startswith("timedelta64"):
        out = pd.to_timedelta(pd.Series(values, dtype=object), unit="ns")
    elif dtype == "object":
        return pd.Series(
            [pd.Timestamp(v["t"]) if isinstance(v, dict) and "t" in v else v for v in values], dtype=object, name=name
        )
    elif dtype.startswith("float"):
        out = pd.Series([np.nan if v is None else float(v) for v in values], dtype="float64")
    else:
        try:
            return pd.Series(values, dtype=dtype, name=name)
        except (TypeError, ValueError):
            out = pd.Series(values, dtype=object)
    try:
        out = out.astype(dtype)
    except (TypeError, ValueError):
        pass  # an unknown or local dtype: keep what JSON gave
    return out.rename(name)


def _frame_doc(frame: pd.DataFrame) -> dict:
    doc = {"rows": len(frame), "columns": [_column_doc(c, frame.iloc[:, i]) for i, c in enumerate(frame.columns)]}
    index = frame.index
    if not (isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1):
        doc["index"] = _column_doc(index.name, index.to_series())
    return doc


def _frame(doc: dict) -> pd.DataFrame:
    index = pd.RangeIndex(doc["rows"])
    if "index" in doc:
        index = pd.Index(_column(doc["index"]).reset_index(drop=True), name=doc["index"]["name"])
    series = [_column(c) for c in doc["columns"]]
    if not series:
        return pd.DataFrame(index=index)
    frame = pd.concat(series, axis=1, ignore_index=True)
    frame.columns = [c["name"] for c in doc["columns"]]
    frame.index = index
    return frame


def encode_frames(frames: dict[str, pd.DataFrame]) -> bytes:
    """Named DataFrames as gzip'd JSON: per column its name, dtype and values (standard JSON, no pickles)."""
    doc = {"format": FRAME_FORMAT, "frames": {name: _frame_doc(frame) for name, frame in frames.items()}}
    return gzip.compress(json.dumps(doc, allow_nan=False, separators=(",", ":")).encode("utf-8"), compresslevel=6)


def decode_frames(payload: bytes) -> dict[str, pd.DataFrame]:
    """The frames ``encode_frames`` stored, with their columns, dtypes and index."""
    doc = json.loads(gzip.decompress(bytes(payload)).decode("utf-8"))
    if doc.get("format") != FRAME_FORMAT:
        raise ValueError(f"stored frames have format {doc.get('format')!r}, this version reads {FRAME_FORMAT}")
    return {name: _frame(frame) for name, frame in doc["frames"].items()}


# --- stored flags ---------------------------------------------------------------------------------------------------
_META = (
    FlagResult.id,
    FlagResult.computed_at,
    FlagResult.period_end,
    FlagResult.window_start,
    FlagResult.window_end,
    FlagResult.method_version,
    FlagResult.seconds,
)


def save_flag_result(
    engine: Engine,
    *,
    computed_at: datetime,
    period_end: datetime,
    window: tuple[datetime, datetime],
    method_version: int,
    seconds: float,
    config: dict,
    frames: dict[str, pd.DataFrame],
    keep: int = 24,
) -> int:
    """Store one computed result and keep only the ``keep`` latest; returns its id."""
    payload = encode_frames(frames)
    with engine.begin() as conn:
        result_id = conn.execute(
            insert(FlagResult).values(
                computed_at=computed_at,
                period_end=period_end,
                window_start=window[0],
                window_end=window[1],
                method_version=int(method_version),
                seconds=float(seconds),
                config=json.dumps(config, ensure_ascii=False, default=str),
                payload=payload,
            )
        ).inserted_primary_key[0]
        kept = select(FlagResult.id).order_by(FlagResult.computed_at.desc(), FlagResult.id.desc()).limit(keep)
        conn.execute(delete(FlagResult).where(FlagResult.id.not_in(kept.scalar_subquery())))
    return int(result_id)


def _meta(row) -> dict:
    out = dict(row._mapping)
    for key in ("computed_at", "period_end", "window_start", "window_end"):
        out[key] = pd.Timestamp(out[key]).to_pydatetime()  # SQLite may hand back text
    return out


def latest_flag_result(engine: Engine, method_version: int) -> dict | None:
    """id, computed_at, period_end, window_start, window_end, method_version, seconds of the newest result of
    ``method_version`` (no payload: a cheap query pages may run often), or None."""
    with engine.connect() as conn:
        row = conn.execute(
            select(*_META)
            .where(FlagResult.method_version == int(method_version))
            .order_by(FlagResult.computed_at.desc(), FlagResult.id.desc())
            .limit(1)
        ).first()
    return None if row is None else _meta(row)


def load_flag_result(engine: Engine, result_id: int) -> dict | None:
    """One stored result with its ``config`` (dict) and ``frames`` (dict of DataFrames), or None if it is gone."""
    with engine.connect() as conn:
        row = conn.execute(
            select(*_META, FlagResult.config, FlagResult.payload).where(FlagResult.id == int(result_id))
        ).first()
    if row is None:
        return None
    out = _meta(row)
    out["config"] = json.loads(out["config"])
    out["frames"] = decode_frames(out.pop("payload"))
    return out


def flag_result_count(engine: Engine) -> int:
    """How many results are stored (every method version)."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(FlagResult)).scalar() or 0)
