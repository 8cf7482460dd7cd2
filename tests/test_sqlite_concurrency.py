"""SQLite with the live simulator writing and several dashboard readers (issue 10): no "database is locked", and the
readers see the new cases arrive.

``python -m seed.live`` runs in a subprocess with a short tick interval (many small write transactions); reader
threads run the wall's queries through read-only engines for ``GRIDSCOPE_TEST_LOCK_SECONDS`` (default 50 s).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

from core.clock import local_now
from data_access import queries
from data_access.engine import make_engine
from seed import build_world

ROOT = Path(__file__).resolve().parent.parent
READ_SECONDS = float(os.environ.get("GRIDSCOPE_TEST_LOCK_SECONDS", "50"))
READERS = 4


def wall_queries(engine) -> int:
    """The wall's query set (the same calls pages/wall.py makes); returns the newest case id seen."""
    now = local_now()
    queries.backlog_totals(engine, now)
    queries.backlog_at(engine, now - timedelta(days=1), now)
    queries.count_reported(engine, queries.now_floor(now), now)
    queries.disposal_counts(engine, now - timedelta(days=30), now, by="department_id")
    queries.channel_mix(engine, now - timedelta(days=30), now)
    queries.open_backlog_by_grid(engine, now)
    points = queries.recent_case_points(engine, now - timedelta(hours=24), limit=100_000)
    queries.daily_new_and_closed(engine, now - timedelta(days=30), now)
    return int(points["id"].max()) if "id" in points and len(points) else 0


def test_live_writer_and_readers_never_lock(tmp_path):
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    writer = make_engine(url, read_only=False)
    from data_access.migrate import upgrade

    upgrade(writer)
    end = (local_now() - timedelta(hours=2)).replace(second=0)
    build_world(writer, preset="tiny", seed=5, end=end, days=8, n_communities=30, n_grids=80, cases_per_day=400)
    writer.dispose()

    log = (tmp_path / "live.log").open("w")
    live = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "seed.live",
            "--db",
            url,
            "--speed",
            "600",
            "--interval",
            "0.2",
            "--catch-up-hours",
            "2",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    errors: list[str] = []
    seen: list[list[int]] = [[] for _ in range(READERS)]
    rounds = [0] * READERS
    slowest = [0.0]
    stop = threading.Event()

    def reader(i: int):
        engine = make_engine(url, read_only=True)
        try:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    seen[i].append(wall_queries(engine))
                except Exception as err:  # every failure is a finding
                    errors.append(f"{type(err).__name__}: {err}")
                slowest[0] = max(slowest[0], time.monotonic() - started)
                rounds[i] += 1
        finally:
            engine.dispose()

    threads = [threading.Thread(target=reader, args=(i,), daemon=True) for i in range(READERS)]
    try:
        time.sleep(1.0)  # the simulator's catch-up transaction starts first
        for t in threads:
            t.start()
        time.sleep(READ_SECONDS)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
        live.send_signal(signal.SIGTERM)
        try:
            live.wait(timeout=30)
        except subprocess.TimeoutExpired:
            live.kill()
        log.close()
    live_log = (tmp_path / "live.log").read_text()
    assert "locked" not in live_log.lower(), live_log[-2000:]
    assert not [e for e in errors if "locked" in e.lower() or "busy" in e.lower()], errors[:5]
    assert not errors, errors[:5]
    assert all(r >= 3 for r in rounds), rounds
    # the readers saw the simulator's new cases arrive while they were reading
    assert all(max(s) > s[0] for s in seen), [(s[0], max(s)) for s in seen]
    print(
        f"\nreaders: {rounds} rounds, slowest round {slowest[0]:.2f} s, newest case ids "
        f"{[(s[0], max(s)) for s in seen]}"
    )
