"""The registry of periodic jobs: one ``Job`` entry per job, run by the worker (``python -m worker``).

A job runs **at most once per period** for the whole deployment, however many workers, Streamlit processes or hosts
there are: each run takes the job's lock (PostgreSQL advisory lock / SQLite file lock) and records itself in
``job_runs`` under its period key, unique per job (data_access/job_store.py). The worker looks every ``check``
whether the current period's run is still due, so a worker started late (or after a restart) catches up at once.

To add a job (alerts, deliveries, source sync, the weekly action-item carry-over …): write ``run(engine, now)`` in
its ``reports`` (or ``data_access``) module and add one ``Job`` below. ``engine`` writes to the primary and has
``query_timeout_s`` per query; ``now`` is the district's local time (naive). Return a small dict for the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy import Engine

from reports import flags, weekly

# Periods are aligned to this Monday 00:00 (local time): hourly jobs run once per clock hour, daily ones once per
# calendar day, weekly ones once per Monday-to-Sunday week (shifted by ``offset``).
EPOCH = datetime(2024, 1, 1)


@dataclass(frozen=True)
class Job:
    name: str  # unique; the lock and job_runs use it
    every: timedelta  # the period: the job runs once per period
    run: Callable[[Engine, datetime], Any]  # run(engine, now) -> a small dict for the log (or None)
    offset: timedelta = timedelta(0)  # periods start at EPOCH + offset + k × every
    check: timedelta = timedelta(minutes=1)  # how often the worker looks whether the run is due
    version: str = ""  # part of the period key: a new version runs again at once
    query_timeout_s: float = 300.0
    retry_after: timedelta = timedelta(minutes=5)  # a failed run is tried again this long after it started

    def period_start(self, now: datetime) -> datetime:
        """Start of the period ``now`` falls in."""
        origin = EPOCH + self.offset
        return origin + ((now - origin) // self.every) * self.every

    def period_key(self, now: datetime) -> str:
        """Unique per job and period, e.g. ``2026-12-05T10:00:00/v1`` (at most 64 characters)."""
        key = f"{self.period_start(now):%Y-%m-%dT%H:%M:%S}"
        return f"{key}/v{self.version}" if self.version else key


JOBS: tuple[Job, ...] = (
    # 选择性上报预警: recomputed every hour (cases keep arriving); pages only read the stored result.
    Job(
        "flags",
        every=flags.EVERY,
        run=flags.compute_and_store,
        version=str(flags.METHOD_VERSION),
        query_timeout_s=flags.QUERY_TIMEOUT_S,
    ),
    # 督办事项: open action items carried into the meeting weeks (history 'carry'), daily at 00:05; idempotent.
    Job("action_item_carry", every=timedelta(days=1), offset=timedelta(minutes=5), run=weekly.carry_over_action_items),
)


def by_name(names: list[str] | None = None) -> list[Job]:
    """The registered jobs named (all when ``names`` is empty); an unknown name is an error."""
    known = {job.name: job for job in JOBS}
    if not names:
        return list(JOBS)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise KeyError(f"unknown job(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[n] for n in names]
