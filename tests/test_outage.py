"""Keeping working through a database outage (issue 10): the wall keeps its last good figures under a stale banner,
shows no traceback, and recovers by itself when the database is back.

- SQLite: the database file is moved away (root ignores chmod 000, so "unreadable" is simulated by absence and by a
  file whose header is garbage), then put back.
- PostgreSQL: the shared test server is never stopped. The app reaches its database through a small TCP proxy
  started here; killing the proxy drops every open connection and refuses new ones (what a server stop or a
  network cut looks like to the client), starting it again on the same port is the server coming back.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
from datetime import timedelta
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy.engine import make_url
from streamlit.testing.v1 import AppTest

from core.clock import local_now
from data_access.engine import make_engine
from data_access.migrate import upgrade
from tests.builders import add_case, make_reference
from tests.conftest import clear_app_caches, new_database

ROOT = Path(__file__).resolve().parent.parent
STALE = "数据库暂时无法连接"


class TcpProxy:
    """A loopback TCP forwarder that can be killed (all connections dropped, port closed) and restarted."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._server: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(32)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return  # closed by kill()
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def kill(self) -> None:
        if self._server is not None:
            try:  # wakes the blocked accept(); close() alone leaves the port listening on Linux
                self._server.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._server.close()
            self._server = None
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


def _build(url: str) -> None:
    engine = make_engine(url, read_only=False)
    upgrade(engine)
    make_reference(engine)
    now = local_now()
    for hours, status in ((2, "in_disposal"), (30, "in_disposal"), (50, "closed")):
        reported = now - timedelta(hours=hours)
        add_case(
            engine,
            reported_at=reported,
            status=status,
            dispatched_at=reported,
            deadline_at=now + timedelta(hours=5),
            closed_at=reported + timedelta(hours=3) if status == "closed" else None,
        )
    engine.dispose()


def _clear_all():
    clear_app_caches()


def open_backlog(at: AppTest) -> str | None:
    for el in at.get("html"):
        m = re.search(r"data-testid='kpi'.*?<div[^>]*>在办案件</div><div[^>]*>(.*?)</div>", el.proto.body)
        if m:
            return m.group(1)
    return None


def refresh(at: AppTest) -> AppTest:
    """The next refresh after the cache's TTL ran out (cleared here so the test does not wait for it)."""
    st.cache_data.clear()
    return at.run()


def banner(at: AppTest) -> bool:
    return any(STALE in w.value for w in at.warning)


def assert_outage_then_recovery(at: AppTest, break_db, restore_db) -> None:
    at.run()
    assert not at.exception and not banner(at)
    assert open_backlog(at) == "2"
    break_db()
    for _ in range(2):  # stays up through several refreshes of the outage
        refresh(at)
        assert not at.exception, at.exception
        assert banner(at), [w.value for w in at.warning]
        assert open_backlog(at) == "2"  # the last good figures are still on screen
    restore_db()
    refresh(at)
    assert not at.exception
    assert not banner(at), [w.value for w in at.warning]
    assert open_backlog(at) == "2"


@pytest.fixture(autouse=True)
def clean_caches():
    _clear_all()
    yield
    _clear_all()


def wall_app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)


def test_sqlite_file_moved_away_and_back(tmp_path, monkeypatch):
    db = tmp_path / "outage.db"
    _build(f"sqlite:///{db}")
    monkeypatch.setenv("GRIDSCOPE_DB_URL", f"sqlite:///{db}")
    away = tmp_path / "outage.away"
    assert_outage_then_recovery(wall_app(), lambda: os.rename(db, away), lambda: os.rename(away, db))


def test_sqlite_file_unreadable_garbage_header(tmp_path, monkeypatch):
    db = tmp_path / "outage.db"
    _build(f"sqlite:///{db}")
    monkeypatch.setenv("GRIDSCOPE_DB_URL", f"sqlite:///{db}")
    good = tmp_path / "good.copy"

    def corrupt():
        shutil.copy(db, good)
        with db.open("r+b") as fh:  # "file is not a database": what an unreadable file looks like
            fh.write(b"\x00garbage" * 16)

    assert_outage_then_recovery(wall_app(), corrupt, lambda: shutil.copy(good, db))


def test_postgresql_connection_cut_and_back(request, tmp_path, monkeypatch):
    url = new_database("postgresql", request, tmp_path)
    _build(url)
    parsed = make_url(url)
    proxy = TcpProxy((parsed.host or "127.0.0.1", parsed.port or 5432))
    proxy.start()
    request.addfinalizer(proxy.kill)
    monkeypatch.setenv(
        "GRIDSCOPE_DB_URL", parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    )
    monkeypatch.setenv("GRIDSCOPE_QUERY_TIMEOUT_S", "5")
    at = wall_app()
    assert_outage_then_recovery(at, proxy.kill, proxy.start)
