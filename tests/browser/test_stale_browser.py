"""A wall in front of a database that hangs instead of failing (issue 16, finding 5), in a real browser against a real
``streamlit run``: an SQLite file held by another process's exclusive lock, a PostgreSQL link that silently stops
carrying packets (a TCP forwarder switched to blackhole mode), and the Streamlit server itself frozen (SIGSTOP).

Each time the wall must look stale within twice its refresh interval — the server's stale banner (a refresh has a
deadline; a loader that misses it counts as failed) or the browser's own warning on the data-time line (a CSS
animation the server restarts with every render) — and come back by itself when the hang ends.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy.engine import make_url

from core.clock import local_now
from data_access.engine import make_engine
from data_access.migrate import upgrade
from tests.browser.conftest import DONE, start_server
from tests.builders import add_case, make_reference
from tests.conftest import new_database
from tests.test_engine import hold_exclusive_lock

pytestmark = pytest.mark.browser

REFRESH = 3  # seconds (?refresh=3): a hang must show within 2 × 3 s
BANNER = "数据库暂时无法连接"
ENV = {
    "GRIDSCOPE_CACHE_TTL_SECONDS": "1",
    "GRIDSCOPE_QUERY_TIMEOUT_S": "1",
    "GRIDSCOPE_STALE_AFTER_SECONDS": "30",
    "GRIDSCOPE_SQLITE_BUSY_TIMEOUT_MS": "10000",
}


class Forwarder:
    """A loopback TCP forwarder that can stop carrying bytes without closing anything (a blackholed link: the client
    sees an open connection that never answers) and carry them on again later (the link is back)."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.flowing = threading.Event()
        self.flowing.set()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                self.flowing.wait()  # blackhole: bytes are held, never answered, never refused
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.flowing.set()
        self.server.close()


def _build(url: str) -> None:
    engine = make_engine(url, read_only=False)
    upgrade(engine)
    make_reference(engine)
    now = local_now().replace(tzinfo=None, microsecond=0)
    for hours in (1, 4, 30):
        add_case(
            engine,
            reported_at=now - timedelta(hours=hours),
            dispatched_at=now - timedelta(hours=hours),
            deadline_at=now + timedelta(hours=6),
        )
    engine.dispose()


STATE_JS = (
    """() => ({
    banner: document.body.innerText.includes('%s'),
    flag: [...document.querySelectorAll('.gs-stale-flag')].some(e => getComputedStyle(e).visibility === 'visible'),
    line: !!document.querySelector('.gs-freshness'),
})"""
    % BANNER
)


class Wall:
    def __init__(self, browser, server):
        self.context = browser.new_context(viewport={"width": 1920, "height": 1080})
        self.page = self.context.new_page()
        self.page.goto(f"{server.url}/?embed=true&refresh={REFRESH}", wait_until="domcontentloaded")
        self.page.wait_for_selector(DONE, timeout=120_000)
        self.page.wait_for_selector("text=在办案件", timeout=60_000)
        self.page.wait_for_selector(".gs-freshness", state="attached", timeout=30_000)

    def state(self) -> dict:
        return self.page.evaluate(STATE_JS)

    def seconds_until(self, condition, limit: float) -> float | None:
        """Seconds until ``condition(state)`` holds (polled every 0.2 s), None if not within ``limit``."""
        started = time.monotonic()
        while time.monotonic() - started < limit:
            if condition(self.state()):
                return time.monotonic() - started
            self.page.wait_for_timeout(200)
        return None

    def assert_fresh(self, within: float = 30) -> None:
        took = self.seconds_until(lambda s: s["line"] and not s["banner"] and not s["flag"], within)
        assert took is not None, f"the wall did not recover within {within} s: {self.state()}"
        assert "在办案件" in self.page.inner_text("body")
        assert self.page.locator("[data-testid='stException']").count() == 0

    def assert_stale_within_two_refreshes(self, what: str) -> float:
        took = self.seconds_until(lambda s: s["banner"] or s["flag"], 2 * REFRESH + 1)  # +1 s: polling, paint
        assert took is not None, f"{what}: the wall still looked live after {2 * REFRESH + 1} s: {self.state()}"
        assert "在办案件" in self.page.inner_text("body")  # the last good figures stay on screen
        print(f"{what}: stale after {took:.1f} s ({self.state()})")
        return took


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_a_hung_database_or_server_makes_the_wall_stale_within_two_refreshes(browser, request, tmp_path, dialect):
    url = new_database(dialect, request, tmp_path)
    _build(url)
    forwarder = None
    if dialect == "postgresql":
        parsed = make_url(url)
        forwarder = Forwarder((parsed.host or "127.0.0.1", parsed.port or 5432))
        request.addfinalizer(forwarder.close)
        url = parsed.set(host="127.0.0.1", port=forwarder.port).render_as_string(hide_password=False)
    server = start_server(url, tmp_path, ENV)
    wall = None
    try:
        wall = Wall(browser, server)
        wall.assert_fresh()
        if dialect == "sqlite":
            # 1. another process holds an exclusive lock on the file for as long as it likes
            locker = hold_exclusive_lock(make_url(url).database)
            try:
                wall.assert_stale_within_two_refreshes("exclusive SQLite lock")
                assert wall.seconds_until(lambda s: s["banner"], 4 * REFRESH) is not None  # the server says so
            finally:
                locker.kill()
                locker.wait()
            wall.assert_fresh()
            # 2. the Streamlit server itself hangs: only the browser can tell
            os.kill(server.process.pid, signal.SIGSTOP)
            try:
                wall.assert_stale_within_two_refreshes("frozen server")
                assert wall.state()["flag"]
            finally:
                os.kill(server.process.pid, signal.SIGCONT)
            wall.assert_fresh(within=60)
        else:
            # 3. the link to PostgreSQL silently stops carrying packets
            forwarder.flowing.clear()
            try:
                wall.assert_stale_within_two_refreshes("blackholed PostgreSQL link")
                assert wall.seconds_until(lambda s: s["banner"], 4 * REFRESH) is not None
            finally:
                forwarder.flowing.set()
            wall.assert_fresh(within=60)
    finally:
        if wall is not None:
            wall.context.close()
        server.process.terminate()
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.process.kill()
        print(server.log_path.read_text()[-2000:], file=sys.stderr)
