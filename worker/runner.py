"""Running one job for one period, once per deployment: lock, check the record of runs, run, record.

``run_due(job, engine, now)`` is what the scheduler calls every ``job.check``; it returns what happened:

- ``locked``: another worker holds the job's lock (it is running this job right now): nothing to do;
- ``done``: this period's run is already recorded as ok (by this or another worker), or failed a moment ago;
- ``ok`` / ``failed``: this worker ran the job for the period and recorded the outcome in ``job_runs``;
- ``error`` (``check`` only): the lock or the record could not be reached (database down, schema not migrated).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from datetime import datetime

from sqlalchemy import Engine

from core.clock import local_now
from data_access import job_store
from worker.jobs import Job

log = logging.getLogger("worker")

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


def run_due(job: Job, engine: Engine, now: datetime | None = None) -> str:
    """Run ``job`` for the period of ``now`` unless it is running elsewhere or that period is done."""
    now = now or local_now()
    key = job.period_key(now)
    with job_store.job_lock(engine, job.name) as got:
        if not got:
            log.debug("%s %s: locked by another worker", job.name, key)
            return "locked"
        if not job_store.claim_run(engine, job.name, key, now=now, worker=WORKER_ID, retry_after=job.retry_after):
            log.debug("%s %s: already done", job.name, key)
            return "done"
        log.info("%s %s: running", job.name, key)
        t0 = time.monotonic()
        try:
            summary = job.run(engine, now)
        except Exception as err:
            log.exception("%s %s: failed after %.1f s", job.name, key, time.monotonic() - t0)
            message = f"{type(err).__name__}: {err}".strip()
            _finish(engine, job, key, message)
            return "failed"
        _finish(engine, job, key, None)
        log.info("%s %s: ok in %.1f s %s", job.name, key, time.monotonic() - t0, summary or "")
        return "ok"


def check(job: Job, engine: Engine) -> str:
    """``run_due`` for the scheduler: a database that cannot be reached (or is not migrated) is one log line per
    check and ``error``, not a traceback; the next check tries again."""
    try:
        return run_due(job, engine)
    except Exception as err:  # noqa: BLE001 - the worker keeps running until the database is back
        text = str(err).splitlines()[0][:300] if str(err) else type(err).__name__
        if "no such table" in text or ("relation" in text and "does not exist" in text):
            text += " (run `python -m data_access.migrate` first)"
        log.error("%s: cannot check the job: %s", job.name, text)
        return "error"


def _finish(engine: Engine, job: Job, key: str, error: str | None) -> None:
    try:
        job_store.finish_run(engine, job.name, key, now=local_now(), error=error)
    except Exception:
        log.exception("%s %s: could not record the end of the run", job.name, key)
