"""``python -m seed.live``: catch-up, ticks that add and move cases, short transactions, clean stop."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

from core.clock import local_now
from core.settings import PROJECT_ROOT
from data_access.engine import make_engine
from seed import build_world
from seed.live import run
from tests.test_seed_support import frame

OPEN = ("pending_verify", "pending_register", "pending_dispatch", "in_disposal", "pending_check")


def _world(writer, hours_ago: float = 6):
    end = (local_now() - timedelta(hours=hours_ago)).replace(second=0)
    return build_world(writer, preset="tiny", seed=3, end=end, days=8, n_communities=30, n_grids=80, cases_per_day=400)


def _state(engine):
    c = frame(engine, "SELECT count(*) AS n, max(id) AS id, max(updated_at) AS upd FROM cases")
    e = frame(engine, "SELECT count(*) AS n FROM case_events")
    return int(c["n"][0]), int(c["id"][0]), str(c["upd"][0]), int(e["n"][0])


def test_catch_up_and_ticks_add_and_move_cases(writer):
    _world(writer)
    n0, id0, upd0, e0 = _state(writer)
    clock = {"t": local_now() - timedelta(hours=3)}

    def fake_now():  # a minute of real time per tick, ×600: hours of world time, whatever the weekday
        clock["t"] += timedelta(minutes=1)
        return clock["t"]

    totals = run(writer, speed=600, interval=0, ticks=3, now=fake_now)
    n1, id1, upd1, e1 = _state(writer)
    assert totals["ticks"] == 3
    assert n1 > n0 and id1 > id0 and e1 > e0 and upd1 > upd0
    # new events continue each case's story: from_status is the status the case was in
    ev = frame(
        writer,
        f"SELECT e.case_id, e.action, e.from_status, e.to_status, c.status FROM case_events e "
        f"JOIN cases c ON c.id = e.case_id WHERE e.id > {e0} ORDER BY e.id",
    )
    assert set(ev["action"]) & {"verify", "register", "dispatch", "dispose", "check_pass", "close"}
    last = ev.groupby("case_id").last()
    assert (last["to_status"] == last["status"]).all()
    # nothing in the future
    now = local_now() + timedelta(seconds=5)
    latest = frame(writer, "SELECT max(at) AS at FROM case_events")["at"][0]
    assert str(latest) <= now.isoformat(sep=" ")
    # dispatched cases got a department and deadline
    moved = frame(
        writer,
        f"SELECT status, department_id, deadline_at FROM cases WHERE id IN "
        f"(SELECT case_id FROM case_events WHERE id > {e0} AND action = 'dispatch')",
    )
    moved = moved[moved["status"] != "pending_dispatch"]  # not bounced (回退) since
    assert len(moved) and moved["department_id"].notna().all() and moved["deadline_at"].notna().all()


def test_readers_are_not_blocked_while_ticking(writer, db_url):
    _world(writer)
    reader = make_engine(db_url, read_only=True)
    errors, stop = [], threading.Event()

    def read():
        while not stop.is_set():
            try:
                frame(reader, "SELECT status, count(*) FROM cases GROUP BY status")
            except Exception as err:  # any error fails the test
                errors.append(err)

    t = threading.Thread(target=read)
    t.start()
    try:
        run(writer, speed=600, interval=0.05, ticks=20)
    finally:
        stop.set()
        t.join()
        reader.dispose()
    assert not errors


def test_cli_stops_cleanly_on_sigint(writer, db_url):
    if not db_url.startswith("sqlite"):
        import pytest

        pytest.skip("signal handling is dialect-independent; ticking is tested on both dialects above")
    _world(writer)
    writer.dispose()
    proc = subprocess.Popen(
        [sys.executable, "-m", "seed.live", "--db", db_url, "--speed", "60", "--interval", "0.5"],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Wait until it is ticking (its handlers are installed by then; a loaded machine may take long to import).
    seen, deadline = [], time.time() + 120
    while time.time() < deadline:
        line = proc.stderr.readline()
        seen.append(line)
        if "tick 1:" in line or not line:
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    err = "".join(seen) + err
    assert proc.returncode == 0, err
    assert "seed.live stopped" in out and "Traceback" not in err
