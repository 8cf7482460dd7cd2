"""The deployment a city runs (deploy/), on loopback: a throwaway primary and its streaming replica, two Streamlit
processes reading the replica behind nginx with sticky sessions; health, stickiness, the wall in Chromium through
nginx (offline), failover when a process dies, and the dashboard's writes refused by the replica with a clear message.

One module-scoped topology (~10 s to bring up); the tests run in file order and the last one kills a process.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest
from sqlalchemy import text

from core.clock import local_now
from data_access import reviews
from data_access.engine import ReadOnlyDatabase, fetch_frame, make_engine
from data_access.migrate import upgrade
from deploy import local
from tests.browser.conftest import DONE, browser_type_launch_args  # noqa: F401 - the system Chromium for `browser`
from tests.builders import add_case, make_reference
from tests.conftest import require_component

pytestmark = pytest.mark.deployment


def _need(what: str, path) -> None:
    require_component(
        what,
        path and os.access(path, os.X_OK),
        f"{path} is not an executable: the deployment tests run it (GRIDSCOPE_PG_BIN, GRIDSCOPE_NGINX)",
    )


@pytest.fixture(scope="module")
def topology():
    for program in ("initdb", "postgres", "pg_isready", "pg_basebackup"):
        _need(f"PostgreSQL server binaries ({program})", local.PG_BIN / program)
    _need("nginx", local.NGINX)
    # Not pytest's tmp_path: its folders are closed to other accounts, and PostgreSQL runs as postgres.
    work = Path(tempfile.mkdtemp(prefix="gridscope-test-deploy-"))
    primary = None
    try:
        primary = local.throwaway_primary(work)
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=primary.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute("CREATE DATABASE gridscope")
        primary_url = primary.url("gridscope")
        writer = make_engine(primary_url, read_only=False)
        upgrade(writer)
        make_reference(writer)  # 2 streets, 8 grids: the smallest world the wall draws
        now = local_now().replace(tzinfo=None, microsecond=0)  # naive local time, as cases are stored
        for hours in (1, 5, 30, 80):
            add_case(writer, grid_id=11 + hours % 2, reported_at=now - timedelta(hours=hours))
        writer.dispose()
        with local.Deployment(
            primary_url,
            processes=2,
            replica=True,
            workdir=work / "site",
            debug_headers=True,
            extra_env={"GRIDSCOPE_STALE_AFTER_SECONDS": "3600"},
        ) as deployment:
            yield deployment
    finally:
        if primary is not None:
            primary.stop()
        shutil.rmtree(work, ignore_errors=True)


def _get(url: str, cookie: str | None = None):
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.headers, response.read()


def _backend(headers) -> str:
    """The process that answered (the last one nginx tried)."""
    return headers["X-Gridscope-Backend"].split(",")[-1].strip()


# --- configuration --------------------------------------------------------------------------------------------------
def test_rendered_nginx_site_lists_every_process():
    site = local.render_site([8501, 8502, 8503], "0.0.0.0:80")
    assert "@" not in "".join(line for line in site.splitlines() if not line.lstrip().startswith("#"))
    assert [line.strip() for line in site.splitlines() if line.strip().startswith("server 127.")] == [
        f"server 127.0.0.1:{p} max_fails=3 fail_timeout=10s;" for p in (8501, 8502, 8503)
    ]
    assert "listen 0.0.0.0:80;" in site and "hash $gridscope_node consistent;" in site
    # idle upstream connections are dropped before uvicorn's 5 s keep-alive ends (else resets count as failures)
    assert "keepalive_timeout 4s;" in site
    assert "X-Gridscope-Backend" not in site  # internal addresses only with debug_headers (tests)


def test_writes_go_to_db_write_url(monkeypatch):
    from ui.db import write_url

    monkeypatch.setenv("GRIDSCOPE_DB_URL", "postgresql+psycopg://reader@replica/gridscope")
    monkeypatch.delenv("GRIDSCOPE_DB_WRITE_URL", raising=False)
    assert write_url() == "postgresql+psycopg://reader@replica/gridscope"
    monkeypatch.setenv("GRIDSCOPE_DB_WRITE_URL", "postgresql+psycopg://reader@primary/gridscope")
    assert write_url() == "postgresql+psycopg://reader@primary/gridscope"


# --- the database: primary and streaming replica ------------------------------------------------------------------
def test_replica_is_in_recovery_and_streams_writes(topology):
    assert topology.replica_cluster.in_recovery()
    primary, replica = make_engine(topology.write_url, read_only=False), make_engine(topology.read_url)
    try:
        with primary.begin() as conn:
            conn.execute(text("insert into dataset_info(key, value) values ('replicated', 'yes')"))
        deadline = time.monotonic() + 30
        query = text("select count(*) from dataset_info where key = 'replicated'")
        while fetch_frame(replica, query).iloc[0, 0] == 0:
            assert time.monotonic() < deadline, "the write on the primary never reached the replica"
            time.sleep(0.1)
    finally:
        primary.dispose(), replica.dispose()


def test_replica_refuses_the_dashboards_writes_with_a_clear_message(topology):
    review = dict(
        unit_type="street",
        unit_id=1,
        family="A",
        indicator="A1",
        reason="A.A1.low",
        period_end=datetime(2026, 1, 1),
        status="reviewed",
        note="",
        reviewer="测试",
    )
    on_replica = make_engine(topology.read_url, read_only=False)  # even a writer session: it is a standby
    on_primary = make_engine(topology.write_url, read_only=False)
    try:
        with pytest.raises(ReadOnlyDatabase, match="db_write_url"):
            reviews.add_review(on_replica, **review)
        assert reviews.add_review(on_primary, **review) > 0
    finally:
        on_replica.dispose(), on_primary.dispose()
    # the processes read the replica and write to the primary
    for pid in topology.server_pids():
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        assert f"GRIDSCOPE_DB_URL={topology.read_url}".encode() in environ
        assert f"GRIDSCOPE_DB_WRITE_URL={topology.write_url}".encode() in environ


# --- nginx: health and sticky sessions ------------------------------------------------------------------------------
def test_health_through_nginx(topology):
    status, _, body = _get(topology.url + "/_stcore/health")
    assert (status, body) == (200, b"ok")


def test_same_cookie_same_process_and_browsers_spread_over_both(topology):
    status, headers, _ = _get(topology.url + "/")
    cookie = next(c.split(";")[0] for c in headers.get_all("Set-Cookie") if c.startswith("gridscope_node="))
    first = _backend(headers)
    # the proxy's own cookie pins a browser: every request with it lands on the first response's process
    assert {_backend(_get(topology.url + path, cookie)[1]) for path in ("/", "/_stcore/health", "/wall") * 3} == {first}
    _, again, _ = _get(topology.url + "/", cookie)
    assert not any(c.startswith("gridscope_node=") for c in again.get_all("Set-Cookie") or [])
    # twenty browsers (fixed keys, so the result does not depend on chance) use both processes, each always the same
    seen = {}
    for i in range(20):
        hits = {_backend(_get(topology.url + "/_stcore/health", f"gridscope_node=browser{i}")[1]) for _ in range(3)}
        assert len(hits) == 1, f"browser{i} moved between processes: {hits}"
        seen[i] = hits.pop()
    assert set(seen.values()) == {b.address for b in topology.backends}


# --- the wall in a browser through nginx, and failover --------------------------------------------------------------
class Wall:
    """One browser (context) on the kiosk wall through nginx, recording requests that leave the host."""

    def __init__(self, browser, topology, pinned_to: str | None = None):
        self.context = browser.new_context(viewport={"width": 1920, "height": 1080})
        if pinned_to:
            self.context.add_cookies(
                [{"name": "gridscope_node", "value": topology.sticky_key_for(pinned_to), "url": topology.url}]
            )
        self.page = self.context.new_page()
        self.outside = []
        self.sockets = []  # frames received on each websocket the page opened, in order
        self.page.on("websocket", self._on_socket)
        self.page.on(
            "request",
            lambda r: (
                self.outside.append(r.url)
                if not r.url.startswith(("data:", "blob:", "about:")) and urlparse(r.url).hostname != "127.0.0.1"
                else None
            ),
        )
        response = self.page.goto(topology.url + "/?embed=true&refresh=600", wait_until="domcontentloaded")
        self.backend = response.headers["x-gridscope-backend"].split(",")[-1].strip()

    def _on_socket(self, ws) -> None:
        index = len(self.sockets)
        self.sockets.append(0)

        def count(_frame):
            self.sockets[index] += 1

        ws.on("framereceived", count)

    def wait_for_new_session(self, after: int, timeout_s: float = 90) -> None:
        """Wait until the page has opened a websocket beyond the first ``after`` and received data on it."""
        deadline = time.monotonic() + timeout_s
        while not (len(self.sockets) > after and self.sockets[-1] > 0):
            assert time.monotonic() < deadline, f"no new session: websockets {self.sockets}"
            self.page.wait_for_timeout(250)  # lets Playwright deliver the page's events

    def wait_rendered(self) -> "Wall":
        self.page.wait_for_selector(DONE, timeout=90_000)
        self.page.wait_for_selector("text=城市运行态势", timeout=60_000)
        return self

    def exceptions(self) -> int:
        return self.page.locator("[data-testid='stException']").count()


@pytest.mark.browser
def test_wall_renders_through_nginx_from_the_replica_offline(topology, browser):
    # one browser pinned to each process, opened together so both processes render at once
    walls = [Wall(browser, topology, pinned_to=b.address) for b in topology.backends]
    try:
        for wall, backend in zip(walls, topology.backends):
            wall.wait_rendered()
            assert wall.backend == backend.address
            body = wall.page.inner_text("body")
            assert "城市运行态势" in body and "数据时间" in body and "在办案件" in body
            assert wall.exceptions() == 0
            # the map image (drawn by the process this browser is pinned to) came through nginx
            wall.page.wait_for_function(
                "() => { const i = document.querySelector(\"[data-testid='stImage'] img\");"
                " return i && i.complete && i.naturalWidth > 0; }",
                timeout=30_000,
            )
            assert wall.outside == [], f"requests left the host: {wall.outside}"
    finally:
        for wall in walls:
            wall.context.close()


@pytest.mark.browser
def test_killing_a_process_moves_new_sessions_to_the_other(topology, browser):
    victim, survivor = topology.backends
    wall = Wall(browser, topology, pinned_to=victim.address).wait_rendered()
    try:
        sockets_before = len(wall.sockets)
        victim.process.kill()  # a crash, not a clean stop
        victim.process.wait(timeout=10)
        # every browser, pinned to the dead process or not, is now served by the other
        for i in range(10):
            status, headers, body = _get(topology.url + "/_stcore/health", f"gridscope_node=browser{i}")
            assert (status, body, _backend(headers)) == (200, b"ok", survivor.address)
        fresh = Wall(browser, topology).wait_rendered()
        try:
            assert fresh.backend == survivor.address and fresh.outside == [] and fresh.exceptions() == 0
        finally:
            fresh.context.close()
        # the open wall reconnects by itself (same cookie, re-hashed to the survivor: the only process left) and
        # shows the wall again from a new session there
        wall.wait_for_new_session(after=sockets_before)
        wall.wait_rendered()
        assert "城市运行态势" in wall.page.inner_text("body") and wall.exceptions() == 0
    finally:
        wall.context.close()
