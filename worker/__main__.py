"""The worker: runs the periodic jobs of worker/jobs.py (the flags first) once per deployment.

    python -m worker                       # run until stopped: every job checked every minute, first at once
    python -m worker --once                # run every job that is due now, then exit (cron, tests)
    python -m worker --job flags --every flags=60 --check 5      # a short schedule (demos, tests)
    python -m worker --status              # the latest runs

One worker per deployment is enough and two are safe: each run takes the job's lock and records its period in
``job_runs``, so a period is computed once whatever the number of workers (docs/deployment.md, "Worker"). The
database is ``--db``, else the setting ``db_write_url``, else ``db_url`` (the worker writes: point it at the primary).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import signal
import sys
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from core import settings
from data_access import job_store
from data_access.engine import make_engine
from worker import jobs as registry
from worker.runner import check

log = logging.getLogger("worker")


def _seconds(pairs: list[str], what: str) -> dict[str, float]:
    out = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        try:
            out[name] = float(value)
        except ValueError:
            raise SystemExit(f"--{what} {pair!r}: expected JOB=SECONDS, e.g. flags=60") from None
    return out


def selected_jobs(args) -> list[registry.Job]:
    try:
        chosen = registry.by_name(args.job)
    except KeyError as err:
        raise SystemExit(str(err.args[0])) from None
    every = _seconds(args.every, "every")
    out = []
    for job in chosen:
        changes = {}
        if job.name in every:
            changes["every"] = timedelta(seconds=every[job.name])
        if args.check:
            changes["check"] = timedelta(seconds=args.check)
        out.append(dataclasses.replace(job, **changes))
    return out


def serve(jobs: list[registry.Job], engine) -> None:
    """Check every job every ``job.check`` (the first check at once) until SIGTERM / Ctrl-C."""
    zone = ZoneInfo(settings.get("timezone"))
    scheduler = BlockingScheduler(timezone=zone)
    for job in jobs:
        # First check at once (a fresh demo shows flags within a minute or two, not an hour later);
        # max_instances=1 + coalesce: a check still running when the next is due is neither doubled nor queued.
        scheduler.add_job(
            check,
            IntervalTrigger(seconds=job.check.total_seconds(), timezone=zone),
            args=(job, engine),
            id=job.name,
            name=job.name,
            next_run_time=datetime.now(zone),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=int(job.check.total_seconds()) + 1,
        )

    def stop(_signum, _frame):
        log.info("stopping")
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    log.info("worker started: %s", ", ".join(f"{j.name} every {j.every} (checked every {j.check})" for j in jobs))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m worker", description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="database URL (default: setting db_write_url, else db_url)")
    ap.add_argument("--once", action="store_true", help="run every job that is due now, then exit")
    ap.add_argument("--job", action="append", default=[], help="only this job (repeatable; default: all)")
    ap.add_argument(
        "--every", action="append", default=[], metavar="JOB=SECONDS", help="override a job's period (demos, tests)"
    )
    ap.add_argument("--check", type=float, help="seconds between checks of every job (default: each job's own)")
    ap.add_argument("--status", action="store_true", help="print the latest runs and exit")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    # "skipped: maximum number of running instances" while a long run goes on is expected (coalesce), not news
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    jobs = selected_jobs(args)
    url = args.db or settings.get("db_write_url") or settings.get("db_url")
    engine = make_engine(url, read_only=False, timeout_s=max(j.query_timeout_s for j in jobs))
    log.info("database %s", engine.url.render_as_string(hide_password=True))
    try:
        if args.status:
            print(job_store.job_runs(engine).to_string(index=False))
            return 0
        if args.once:
            outcomes = {job.name: check(job, engine) for job in jobs}
            log.info("done: %s", outcomes)
            return 1 if {"failed", "error"} & set(outcomes.values()) else 0
        serve(jobs, engine)
        return 0
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
