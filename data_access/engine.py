"""Database engines with the guard-rails the dashboard relies on.

- SQLite: WAL journal, busy timeout (never longer than the query time limit: a file held by another process's
  lock fails like a slow query instead of hanging), foreign keys on; read-only connections use ``PRAGMA query_only``.
- PostgreSQL via psycopg 3: read-only sessions (``default_transaction_read_only``) for the dashboard; TCP keepalives
  and ``tcp_user_timeout`` (``postgres_tcp_timeout_s``) so a link that silently drops packets is closed by the
  kernel, and a connect timeout bounded by the query time limit.
- Every query has a time limit (``query_timeout_s``): PostgreSQL's ``statement_timeout``; on SQLite a progress
  handler interrupts the statement. Both surface as ``QueryTimeout`` with a plain message.
- Results are capped (``row_cap``) by ``fetch_frame``: a larger result raises ``RowCapExceeded`` instead of
  filling the server's memory.
- Optional query log (``query_log``): one JSON line per executed statement, appended by every engine of every
  process to one file (slow-query / audit log; the viewers benchmark counts queries with it).

The engine is injected everywhere (like sqlmodel): tests pass a SQLite or PostgreSQL engine, pages get theirs from
``ui`` through ``st.cache_resource``.
"""

from __future__ import annotations

import json
import math
import os
import re
import sqlite3
import threading
import time
from datetime import datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.engine.url import URL
from sqlalchemy.pool import NullPool

from core import settings


class GridscopeDBError(RuntimeError):
    """Base of the errors the UI shows as a plain message. ``code`` names what happened (screens word it from the
    catalog: ``common.po`` ``db_<code>``, with ``values`` as placeholders); ``str()`` is an English line for logs."""

    code = "error"

    def __init__(self, message: str = "", **values):
        super().__init__(message)
        self.values = values or getattr(self, "values", {})  # a subclass may have set its own first


class DatabaseConfigError(GridscopeDBError):
    """The database URL is malformed or names an unsupported database."""

    code = "config"


class DatabaseUnavailable(GridscopeDBError):
    """The database cannot be reached (server down, file missing or unreadable)."""

    code = "unreachable"


class QueryTimeout(GridscopeDBError):
    """A query ran longer than the configured time limit and was stopped."""

    code = "timeout"


class DatabaseBusy(QueryTimeout):
    """SQLite: another connection held the write lock longer than the busy timeout (an import, a migration). The
    database is reachable; trying again later works."""

    code = "busy"


class ValueOutOfRange(GridscopeDBError):
    """A value is outside what its column or parameter can hold (a 20-digit number for an integer)."""

    code = "out_of_range"


class RowCapExceeded(GridscopeDBError):
    """A query would return more rows than the configured cap."""

    code = "row_cap"


class ReadOnlyDatabase(GridscopeDBError):
    """A write reached a database that only reads (a streaming replica, or a read-only session or file)."""

    code = "read_only"


def resolve_url(url: str | None = None) -> URL:
    """Parse and normalise a database URL (relative SQLite paths are made absolute against the project)."""
    raw = url or settings.get("db_url")
    try:
        parsed = make_url(raw)
    except exc.ArgumentError as err:
        raise DatabaseConfigError(
            f"Cannot read the database URL {raw!r}. Expected e.g. 'sqlite:///data/gridscope.db' or "
            f"'postgresql+psycopg://user@host:5432/gridscope' (set GRIDSCOPE_DB_URL)."
        ) from err
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        db = parsed.database
        if not db or db == ":memory:":
            raise DatabaseConfigError("An in-memory SQLite database cannot be shared by pages; give a file path.")
        path = Path(db)
        if not path.is_absolute():
            path = settings.PROJECT_ROOT / path
        return parsed.set(database=str(path))
    if backend == "postgresql":
        if parsed.drivername != "postgresql+psycopg":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return parsed
    raise DatabaseConfigError(f"Unsupported database {backend!r} in {raw!r}: Gridscope supports SQLite and PostgreSQL.")


_SESSION_SETTING = re.compile(r"^[a-z_][a-z0-9_.]*=[A-Za-z0-9_.:-]+$")


def postgres_session_settings() -> list[str]:
    """The ``postgres_session_settings`` as ``name=value`` pairs, checked (they go into the connection options)."""
    pairs = str(settings.get("postgres_session_settings") or "").split()
    bad = [p for p in pairs if not _SESSION_SETTING.match(p)]
    if bad:
        raise ValueError(
            f"postgres_session_settings: {bad} are not name=value pairs such as jit=off "
            f"(set GRIDSCOPE_POSTGRES_SESSION_SETTINGS)"
        )
    return pairs


def postgres_socket_args(limit_s: float) -> dict:
    """libpq options that bound every wait on the network: a server that accepts but never answers fails within the
    query limit (``connect_timeout``, libpq's minimum is 2 s); a link that silently drops packets is closed by the
    kernel once probes or data go unacknowledged for ``postgres_tcp_timeout_s`` (statement_timeout cannot help
    there: the server never sees the query, or its answer never arrives)."""
    tcp_s = max(1.0, float(settings.get("postgres_tcp_timeout_s")))
    return {
        "connect_timeout": max(2, min(5, math.ceil(limit_s))),
        "keepalives": 1,
        "keepalives_idle": max(1, min(4, int(tcp_s / 2))),
        "keepalives_interval": max(1, min(2, int(tcp_s / 4))),
        "keepalives_count": 3,
        "tcp_user_timeout": int(tcp_s * 1000),
    }


def make_engine(url: str | URL | None = None, *, read_only: bool = True, timeout_s: float | None = None) -> Engine:
    """Create an engine with Gridscope's guard-rails. ``read_only=False`` only for seeding, imports and the few
    dashboard writes (flag reviews, action items)."""
    target = url if isinstance(url, URL) else resolve_url(url)
    limit = float(settings.get("query_timeout_s") if timeout_s is None else timeout_s)
    if target.get_backend_name() == "sqlite":
        path = Path(target.database)
        if read_only and not path.exists():
            raise DatabaseUnavailable(f"The database file {path} does not exist (run the README's first command).")
        path.parent.mkdir(parents=True, exist_ok=True)
        # The busy handler sleeps outside the progress handler's reach: cap it by the query limit.
        busy = min(settings.get("sqlite_busy_timeout_ms") / 1000, limit)
        if read_only:
            # mode=ro never creates a missing file, and no pool: a file that disappears or becomes unreadable
            # is noticed on the next query (stale banner) and picked up again when it returns.
            engine = create_engine(
                target,
                poolclass=NullPool,
                creator=lambda: sqlite3.connect(
                    f"file:{path}?mode=ro", uri=True, timeout=busy, check_same_thread=False
                ),
            )
        else:
            engine = create_engine(target, connect_args={"timeout": busy, "check_same_thread": False})
        _install_sqlite_guards(engine, read_only=read_only, timeout_s=limit)
    else:
        options = f"-c statement_timeout={int(limit * 1000)}" + "".join(
            f" -c {pair}" for pair in postgres_session_settings()
        )
        if read_only:
            options += " -c default_transaction_read_only=on"
        engine = create_engine(
            target,
            pool_pre_ping=True,
            pool_size=5,
            max_overflow=5,
            connect_args={"options": options, "application_name": "gridscope", **postgres_socket_args(limit)},
        )
    engine.info = {"read_only": read_only, "timeout_s": limit}
    log_path = settings.get("query_log")
    if log_path:
        _install_query_log(engine, _query_log_fd(log_path), read_only=read_only)
    return engine


# --- query log ------------------------------------------------------------------------------------------------------
QUERY_LOG_SQL_CHARS = 120
_log_fds: dict[Path, int] = {}
_log_fds_lock = threading.Lock()


def _query_log_fd(raw: str) -> int:
    """One append-only descriptor per log file and process, shared by all its engines and threads (never closed:
    the engines live as long as the process)."""
    path = Path(raw)
    if not path.is_absolute():
        path = settings.PROJECT_ROOT / path
    with _log_fds_lock:
        fd = _log_fds.get(path)
        if fd is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            # O_APPEND: every write lands at the current end of the file, so lines from several threads and
            # several Streamlit processes never overwrite each other; one os.write per line keeps lines whole.
            fd = _log_fds[path] = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        return fd


def _install_query_log(engine: Engine, fd: int, *, read_only: bool) -> None:
    # The start time is kept on the connection (a stack, for statements run from inside another statement's
    # events); a connection is used by one thread at a time, so no lock is needed until the single write.
    def write(statement: str, started: float | None, error: str | None = None) -> None:
        now = time.time()
        record = {
            "t": datetime.fromtimestamp(now).isoformat(timespec="milliseconds"),
            "ts": round(now, 3),
            "pid": os.getpid(),
            "ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
            "ro": read_only,
            "sql": " ".join(statement.split())[:QUERY_LOG_SQL_CHARS],
        }
        if error:
            record["error"] = error
        # Parameter values are never logged: they can hold names, phone numbers or free text of case files.
        try:
            os.write(fd, (json.dumps(record, ensure_ascii=False) + "\n").encode())
        except OSError:
            pass  # a full disk or a removed file must not fail the dashboard's queries

    @event.listens_for(engine, "before_cursor_execute")
    def _log_start(conn, _cursor, _statement, _params, _context, _many):
        conn.info.setdefault("gridscope_log_t0", []).append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _log_end(conn, _cursor, statement, _params, _context, _many):
        stack = conn.info.get("gridscope_log_t0")
        write(statement, stack.pop() if stack else None)

    @event.listens_for(engine, "handle_error")
    def _log_error(ctx):
        if ctx.statement is None or ctx.is_pre_ping:  # connection failures are not statements
            return
        conn = ctx.connection
        stack = conn.info.get("gridscope_log_t0") if conn is not None else None
        write(ctx.statement or "", stack.pop() if stack else None, type(ctx.original_exception).__name__)


def _install_sqlite_guards(engine: Engine, *, read_only: bool, timeout_s: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # pysqlite opens transactions itself; let SQLAlchemy's BEGIN handling stay predictable.
        cur = dbapi_conn.cursor()
        if not read_only:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        if read_only:
            cur.execute("PRAGMA query_only=ON")
        cur.close()

    @event.listens_for(engine, "before_cursor_execute")
    def _start_clock(conn, _cursor, _statement, _params, _context, _many):
        deadline = time.monotonic() + timeout_s
        # Called every ~10k VM steps; a non-zero return interrupts the statement ("interrupted").
        conn.connection.dbapi_connection.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)

    @event.listens_for(engine, "after_cursor_execute")
    def _stop_clock(conn, _cursor, _statement, _params, _context, _many):
        conn.connection.dbapi_connection.set_progress_handler(None, 0)


def translate_error(err: Exception, engine: Engine) -> GridscopeDBError:
    """Turn a driver error into one of Gridscope's plain errors: unreachable, timed out, busy (SQLite lock), value
    out of range, read-only, old schema. Only a database that cannot be reached is reported as unreachable."""
    if isinstance(err, GridscopeDBError):
        return err
    detail = str(getattr(err, "orig", err)).strip()
    text = detail.lower()
    limit = engine.info.get("timeout_s")
    if "interrupted" in text or "statement timeout" in text or "canceling statement" in text:
        return QueryTimeout(
            f"The query took longer than the {limit:g} s limit and was stopped "
            f"(setting query_timeout_s). Narrow the time window or filters.",
            seconds=f"{limit:g}",
        )
    if "database is locked" in text or "database is busy" in text or "database table is locked" in text:
        return DatabaseBusy(
            f"The database is locked by another connection's write (an import, a migration) that did not finish "
            f"within {limit:g} s; try again in a moment.",
            seconds=f"{limit:g}",
        )
    if isinstance(err, OverflowError) or "out of range" in text or "too large to convert" in text:
        # sqlite3 refuses Python ints beyond 64 bits before sending; PostgreSQL says "integer out of range".
        return ValueOutOfRange(f"A value is out of range for the database: {detail.splitlines()[0][:200]}")
    if "read-only transaction" in text or "readonly database" in text:
        # PostgreSQL says this for a read-only session and for every write on a hot-standby replica.
        return ReadOnlyDatabase(
            "The database refused the write: it is read-only (a read replica?). Flag reviews and "
            "action items must go to the primary: set db_write_url (GRIDSCOPE_DB_WRITE_URL)."
        )
    if "no such column" in text or ("column" in text and "does not exist" in text):
        return GridscopeDBError(
            "The database schema is older than this version of Gridscope: run `python -m data_access.migrate`."
        )
    if isinstance(err, exc.OperationalError) or isinstance(err, exc.InterfaceError):
        return DatabaseUnavailable(f"The case database cannot be reached: {detail}")
    return GridscopeDBError(str(err))


def fetch_frame(engine: Engine, stmt, params: dict | None = None, *, row_cap: int | None = None) -> pd.DataFrame:
    """Run a SELECT and return a DataFrame, refusing results over the row cap and translating driver errors."""
    cap = int(settings.get("row_cap") if row_cap is None else row_cap)
    try:
        with engine.connect() as conn:
            result = conn.execute(stmt, params or {})
            rows = result.fetchmany(cap + 1)
            columns = list(result.keys())
    except (exc.DBAPIError, OverflowError) as err:
        raise translate_error(err, engine) from err
    if len(rows) > cap:
        raise RowCapExceeded(
            f"The query returned more than {cap:,} rows (setting row_cap); narrow the filters or aggregate."
        )
    return pd.DataFrame.from_records(rows, columns=columns)
