"""Engine guard-rails: bad URLs, read-only sessions, the per-query time limit and the row cap, on both dialects."""

import pytest
from sqlalchemy import exc, select, text

from data_access.engine import (
    DatabaseConfigError,
    DatabaseUnavailable,
    GridscopeDBError,
    QueryTimeout,
    RowCapExceeded,
    fetch_frame,
    make_engine,
    resolve_url,
)
from data_access.schema import Street


@pytest.mark.parametrize(
    "url, message",
    [
        ("not a url", "Cannot read the database URL"),
        ("mysql://root@localhost/x", "Unsupported database 'mysql'"),
        ("sqlite://", "in-memory"),
    ],
)
def test_bad_urls_get_a_clear_error(url, message):
    with pytest.raises(DatabaseConfigError, match=message):
        resolve_url(url)


def test_relative_sqlite_path_is_resolved_against_the_project():
    assert resolve_url("sqlite:///data/x.db").database.endswith("/data/x.db")
    assert resolve_url("postgresql://u@h/db").drivername == "postgresql+psycopg"


def test_missing_sqlite_file_is_unavailable(tmp_path):
    with pytest.raises(DatabaseUnavailable, match="does not exist"):
        make_engine(f"sqlite:///{tmp_path / 'nope.db'}")


def test_unreachable_postgres_is_unavailable():
    engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/none")
    with pytest.raises(DatabaseUnavailable, match="cannot be reached"):
        fetch_frame(engine, text("select 1"))


def test_sqlite_is_wal_with_foreign_keys(tmp_path):
    from data_access.migrate import upgrade

    writer = make_engine(f"sqlite:///{tmp_path / 'w.db'}", read_only=False)
    upgrade(writer)
    with writer.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_reader_cannot_write(reader):
    with pytest.raises(Exception, match="(?i)read.only|readonly|query_only|attempt to write"):
        with reader.begin() as conn:
            conn.execute(text("insert into dataset_info(key, value) values ('x', 'y')"))


SLOW = {
    # a recursive count that takes far longer than the limit on either dialect
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) "
    "SELECT count(*) FROM c",
    "postgresql": "SELECT pg_sleep(5)",
}


def test_slow_query_is_stopped_with_a_clear_message(db_url, dialect):
    engine = make_engine(db_url, timeout_s=0.3)
    with pytest.raises(QueryTimeout, match="longer than the 0.3 s limit"):
        fetch_frame(engine, text(SLOW[dialect]))
    # the connection is usable again afterwards
    assert fetch_frame(engine, text("select 1 as one")).iloc[0, 0] == 1


def test_too_many_rows_are_refused(writer, reader):
    from tests.builders import make_reference

    make_reference(writer)
    assert len(fetch_frame(reader, select(Street.id), row_cap=2)) == 2
    with pytest.raises(RowCapExceeded, match="more than 1 rows"):
        fetch_frame(reader, select(Street.id), row_cap=1)


# --- query log (setting query_log) ------------------------------------------------------------------------------------
def _log_lines(path):
    import json

    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_query_log_is_off_by_default(db_url, monkeypatch):
    from data_access import engine as engine_module

    monkeypatch.delenv("GRIDSCOPE_QUERY_LOG", raising=False)
    opened = dict(engine_module._log_fds)
    engine = make_engine(db_url)
    fetch_frame(engine, text("select 1 as one"))
    engine.dispose()
    assert engine_module._log_fds == opened  # no log file was opened


def test_query_log_records_statements_from_many_threads(db_url, dialect, tmp_path, monkeypatch):
    import os
    from concurrent.futures import ThreadPoolExecutor

    log = tmp_path / "logs" / "queries.jsonl"
    monkeypatch.setenv("GRIDSCOPE_QUERY_LOG", str(log))
    reader, writer = make_engine(db_url), make_engine(db_url, read_only=False)
    marker = "select 12345 as gridscope_marker"

    def work(i):
        for _ in range(25):
            assert fetch_frame(reader, text(marker)).iloc[0, 0] == 12345

    with ThreadPoolExecutor(8) as pool:  # several sessions' threads share one engine and one file
        list(pool.map(work, range(8)))
    with writer.begin() as conn:
        conn.execute(text("insert into dataset_info(key, value) values ('logged', 'yes')"))
    with pytest.raises(GridscopeDBError):
        fetch_frame(reader, text("select * from no_such_table"))
    fetch_frame(reader, text("select :phone as phone"), {"phone": "13800138000"})
    reader.dispose(), writer.dispose()

    lines = _log_lines(log)  # every line is whole, valid JSON
    marked = [r for r in lines if r["sql"] == marker]
    assert len(marked) == 8 * 25
    assert all(r["pid"] == os.getpid() and r["ro"] is True and r["ms"] >= 0 and "error" not in r for r in marked)
    inserts = [r for r in lines if r["sql"].startswith("insert into dataset_info")]
    assert len(inserts) == 1 and inserts[0]["ro"] is False
    # bound parameter values (phone numbers, names) are never written, only the statement text
    assert "13800138000" not in log.read_text(encoding="utf-8")
    assert any(r["sql"].startswith("select %(phone)s") or r["sql"].startswith("select ?") for r in lines)
    failed = [r for r in lines if "no_such_table" in r["sql"]]
    assert len(failed) == 1 and failed[0]["error"]


def test_query_log_truncates_long_statements_to_one_line(db_url, tmp_path, monkeypatch):
    log = tmp_path / "q.jsonl"
    monkeypatch.setenv("GRIDSCOPE_QUERY_LOG", str(log))
    engine = make_engine(db_url)
    long_sql = "select\n  " + ",\n  ".join(f"{i} as c{i}" for i in range(200))
    fetch_frame(engine, text(long_sql))
    engine.dispose()
    (row,) = _log_lines(log)
    assert row["sql"].startswith("select 0 as c0, 1 as c1,") and len(row["sql"]) == 120 and "\n" not in row["sql"]


def test_postgres_session_settings_are_checked(monkeypatch):
    from data_access.engine import postgres_session_settings

    monkeypatch.setenv("GRIDSCOPE_POSTGRES_SESSION_SETTINGS", "jit=off work_mem=64MB")
    assert postgres_session_settings() == ["jit=off", "work_mem=64MB"]
    monkeypatch.setenv("GRIDSCOPE_POSTGRES_SESSION_SETTINGS", "jit=off; drop table cases")
    with pytest.raises(ValueError, match="name=value"):
        postgres_session_settings()


def test_postgres_connections_carry_the_session_settings(db_url, dialect):
    if dialect != "postgresql":
        pytest.skip("SQLite has no session settings (this test runs on the PostgreSQL variant)")
    engine = make_engine(db_url)
    assert fetch_frame(
        engine, text("select current_setting('jit') as jit, current_setting('random_page_cost') as rpc")
    ).iloc[0].tolist() == ["off", "1.1"]


# --- a database that hangs instead of failing (issue 16, finding 5) ----------------------------------------------------
LOCKER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA locking_mode=EXCLUSIVE")      # WAL readers are shut out too, like a stuck maintenance job
conn.execute("BEGIN EXCLUSIVE")
conn.execute("insert into dataset_info(key, value) values ('locked', 'yes')")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


def hold_exclusive_lock(path, seconds: float = 60):
    """Another process holding an exclusive lock on the SQLite file (killed by the caller)."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", LOCKER, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_sqlite_busy_wait_is_capped_by_the_query_time_limit(tmp_path, monkeypatch):
    import time

    from data_access.migrate import upgrade

    monkeypatch.setenv("GRIDSCOPE_SQLITE_BUSY_TIMEOUT_MS", "10000")
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    writer = make_engine(url, read_only=False)
    upgrade(writer)
    writer.dispose()
    locker = hold_exclusive_lock(tmp_path / "locked.db")
    try:
        engine = make_engine(url, timeout_s=1)
        started = time.monotonic()
        with pytest.raises(QueryTimeout, match="locked by another") as caught:  # busy, not "cannot be reached"
            fetch_frame(engine, text("select count(*) from dataset_info"))
        assert caught.value.code == "busy"
        assert time.monotonic() - started < 2.5  # the 1 s query limit, not the 10 s busy timeout
    finally:
        locker.kill()
        locker.wait()
    assert fetch_frame(engine, text("select count(*) as n from dataset_info")).iloc[0, 0] == 0  # lock gone: works


def test_postgres_sockets_have_keepalives_and_a_tcp_user_timeout(db_url, dialect, monkeypatch):
    """A link that silently drops packets is noticed by the kernel (keepalive probes unanswered, unacknowledged data)
    instead of leaving a query waiting for ever."""
    if dialect != "postgresql":
        pytest.skip("TCP settings of PostgreSQL connections (this test runs on the PostgreSQL variant)")
    import socket

    monkeypatch.setenv("GRIDSCOPE_POSTGRES_TCP_TIMEOUT_S", "8")
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            sock = socket.socket(fileno=__import__("os").dup(raw.pgconn.socket))
            try:
                assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
                assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT) == 8000
                assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) <= 4
                assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL) <= 2
            finally:
                sock.close()
    finally:
        engine.dispose()


def test_postgres_server_that_accepts_but_never_answers_fails_within_the_limit():
    """The connection attempt itself is bounded by the query limit (libpq's connect_timeout, at least 2 s)."""
    import socket
    import time

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)  # the kernel completes the handshake; nobody ever answers
    try:
        engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{server.getsockname()[1]}/none", timeout_s=2)
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailable, match="cannot be reached"):
            fetch_frame(engine, text("select 1"))
        assert time.monotonic() - started < 4
    finally:
        server.close()


def test_errors_say_what_happened_not_always_unreachable(db_url, tmp_path, monkeypatch):
    """A 20-digit value, a file locked by another writer and a slow query each get their own plain error (each with
    a ``code`` the screens word from the catalog); only a database that cannot be reached says so."""
    from data_access import engine as eng

    reader = make_engine(db_url, timeout_s=0.3)
    with pytest.raises(eng.ValueOutOfRange, match="out of range") as caught:
        fetch_frame(reader, text("select cast(:v as integer) as n"), {"v": 10**20})
    assert caught.value.code == "out_of_range" and "reach" not in str(caught.value)
    assert isinstance(
        eng.translate_error(OverflowError("Python int too large to convert"), reader), eng.ValueOutOfRange
    )
    locked = eng.translate_error(exc.OperationalError("x", {}, Exception("database is locked")), reader)
    assert isinstance(locked, eng.QueryTimeout) and locked.code == "busy" and "reach" not in str(locked)
    slow = eng.translate_error(exc.OperationalError("x", {}, Exception("interrupted")), reader)
    assert isinstance(slow, eng.QueryTimeout) and slow.code == "timeout" and slow.values == {"seconds": "0.3"}
    gone = eng.translate_error(exc.OperationalError("x", {}, Exception("connection refused")), reader)
    assert isinstance(gone, eng.DatabaseUnavailable) and gone.code == "unreachable"
    reader.dispose()


def test_screens_word_each_error_by_its_code():
    """The banner text comes from the catalog by code: a timeout or a 20-digit value never reads 'cannot connect'."""
    from data_access import engine as eng
    from ui.live import error_text

    slow = eng.QueryTimeout("slow", seconds="3")
    assert error_text(slow) == "查询超过 3 秒的时限，已停止；请缩小时间范围或筛选条件"
    for err in (slow, eng.DatabaseBusy("locked", seconds="3"), eng.ValueOutOfRange("too big")):
        assert "无法连接" not in error_text(err)
    assert error_text(eng.DatabaseUnavailable("connection refused")) == "数据库无法连接（connection refused）"
    assert error_text(RuntimeError("other\nline")) == "other"
