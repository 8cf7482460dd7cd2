"""Bulk loading for both dialects, the non-empty guard and ``--replace``.

SQLite: the raw sqlite3 connection's ``executemany`` inside one transaction per batch, with ``synchronous=OFF``,
foreign-key checks off and a large page cache while seeding. PostgreSQL: psycopg 3 ``COPY ... FROM STDIN`` of CSV
written by Arrow, on a loader thread that overlaps with generation. Both paths take the same batches of numpy
columns (NULL as None / NaN / NaT), so both dialects hold the same rows.
"""

from __future__ import annotations

import queue
import threading

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy import Engine, MetaData, literal, select

# Tables the seed never empties: the schema version and the working calendar.
KEEP_TABLES = {"alembic_version", "workdays"}

NEVER = np.int64(2**62)


class SeedRefused(RuntimeError):
    """The target database already holds data and ``replace`` was not given."""


def data_tables(engine: Engine) -> list:
    """Every data table of the database (reflected, so tables added by later migrations are included),
    children before parents."""
    meta = MetaData()
    meta.reflect(bind=engine)
    return [t for t in reversed(meta.sorted_tables) if t.name not in KEEP_TABLES]


def non_empty_tables(engine: Engine) -> list[str]:
    out = []
    with engine.connect() as conn:
        for table in data_tables(engine):
            if conn.execute(select(literal(1)).select_from(table).limit(1)).first() is not None:
                out.append(table.name)
    return out


def guard_and_clear(engine: Engine, replace: bool) -> None:
    """Refuse a non-empty database unless ``replace``; with ``replace`` empty every data table."""
    busy = non_empty_tables(engine)
    if busy and not replace:
        raise SeedRefused(
            f"The database {engine.url.render_as_string(hide_password=True)} already holds data "
            f"(tables: {', '.join(sorted(busy))}). Nothing was changed. Pass --replace (replace=True) to empty "
            f"the data tables and seed again."
        )
    if busy:
        tables = data_tables(engine)
        if engine.dialect.name == "postgresql":
            # TRUNCATE: a row-by-row DELETE re-checks the self-referencing duplicate_of key for every row
            with engine.begin() as conn:
                conn.exec_driver_sql("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables))
        else:
            raw = engine.raw_connection()
            try:
                cur = raw.cursor()
                cur.execute("PRAGMA foreign_keys=OFF")  # lets SQLite use its fast whole-table delete
                cur.execute("BEGIN")
                for t in tables:
                    cur.execute(f'DELETE FROM "{t.name}"')
                cur.execute("COMMIT")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.close()
            finally:
                raw.close()


def ts_array(t: np.ndarray) -> np.ndarray:
    """Epoch seconds (NEVER = did not happen) → datetime64[s] with NaT for NULL."""
    t = np.asarray(t, dtype=np.int64)
    return np.where(t >= NEVER, np.iinfo(np.int64).min, t).astype("datetime64[s]")  # int64 min is NaT


def optional(values: np.ndarray, present: np.ndarray) -> np.ndarray:
    """An integer column with NULL where not ``present`` (object array of ints and None)."""
    return np.where(present, values, None)


def _sqlite_values(col: np.ndarray) -> list:
    """A column in the form SQLite stores: SQLAlchemy's DATETIME text, 0/1 booleans, None for NULL."""
    if col.dtype.kind == "M":
        missing = np.isnat(col)
        s = np.char.add(np.char.replace(np.datetime_as_string(col, unit="s"), "T", " "), ".000000").astype(object)
        s[missing] = None  # exactly SQLAlchemy's format, so comparisons with bound parameters agree
        return s.tolist()
    if col.dtype.kind == "f":
        return np.where(np.isnan(col), None, col).tolist()
    if col.dtype.kind == "b":
        return col.astype(int).tolist()
    return col.tolist()


def _csv_bytes(columns: dict[str, np.ndarray]) -> bytes:
    """Columns → CSV for ``COPY ... (FORMAT csv)``, written by Arrow's C++ writer (the Python csv module was the
    slowest step of seeding). Every value is quoted and NULLs are left empty and unquoted: PostgreSQL reads an
    unquoted empty field as NULL and a quoted one as an empty string."""
    table = pa.table({name: pa.array(col, from_pandas=True) for name, col in columns.items()})
    buf = pa.BufferOutputStream()
    pa_csv.write_csv(table, buf, pa_csv.WriteOptions(include_header=False, quoting_style="all_valid"))
    return buf.getvalue().to_pybytes()


class BulkWriter:
    """Append rows to tables in batches on one raw DBAPI connection."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.dialect = engine.dialect.name
        if self.dialect == "sqlite":
            engine.dispose()  # close idle pooled connections: switching the journal mode needs the file alone
        self.raw = engine.raw_connection()
        self.rows_written = 0
        self._restore: list[str] = []
        self._queue: queue.Queue = queue.Queue(maxsize=3)  # bounded: memory stays flat while the server lags
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        if self.dialect == "postgresql":
            cur = self.raw.cursor()
            cur.execute("SET synchronous_commit = off")
            cur.execute("SET maintenance_work_mem = '1GB'")
            cur.close()
        if self.dialect == "sqlite":
            cur = self.raw.cursor()
            cur.execute("PRAGMA foreign_keys=OFF")
            cur.execute("PRAGMA synchronous=OFF")
            cur.execute("PRAGMA cache_size=-200000")  # 200 MB page cache while seeding
            cur.execute("PRAGMA temp_store=MEMORY")
            # No WAL while bulk loading: every page would be written twice (WAL, then checkpoint). Back to WAL in
            # finish(). Seeding is a one-off with no readers to protect.
            try:
                cur.execute("PRAGMA journal_mode=OFF")
            except Exception:  # noqa: BLE001 - another connection (e.g. a running dashboard) holds the file: keep WAL
                pass
            cur.close()

    def drop_secondary(self, tables: tuple[str, ...] = ("cases", "case_events")) -> None:
        """Drop secondary indexes (and, on PostgreSQL, foreign keys) of the bulk tables; ``finish`` recreates them
        from their saved DDL. Building an index once after the load is much faster than maintaining it per row."""
        cur = self.raw.cursor()
        self._restore = []
        for table in tables:
            if self.dialect == "sqlite":
                cur.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
                    (table,),
                )
                for name, ddl in cur.fetchall():
                    self._restore.append(ddl)
                    cur.execute(f'DROP INDEX "{name}"')
            else:
                cur.execute(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = %s::regclass AND contype = 'f'",
                    (table,),
                )
                for name, ddl in cur.fetchall():
                    self._restore.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {ddl}')
                    cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
                cur.execute(
                    "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s AND NOT EXISTS "
                    "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
                    (table,),
                )
                for name, ddl in cur.fetchall():
                    self._restore.insert(0, ddl)  # indexes first, then foreign keys
                    cur.execute(f'DROP INDEX "{name}"')
        self.raw.commit()
        cur.close()

    def restore_secondary(self) -> None:
        cur = self.raw.cursor()
        for ddl in getattr(self, "_restore", []):
            cur.execute(ddl)
        self.raw.commit()
        cur.close()
        self._restore = []

    def write(self, table: str, columns: dict[str, np.ndarray]) -> None:
        """Append one batch of rows given as columns. PostgreSQL: the COPY runs on a background thread so the next
        batch is generated while the server ingests this one (two cores: one generates, one loads)."""
        n = len(next(iter(columns.values()), ()))
        if not n:
            return
        names = ",".join(columns)
        if self.dialect == "sqlite":
            rows = list(zip(*(_sqlite_values(np.asarray(c)) for c in columns.values())))
            cur = self.raw.cursor()
            try:
                cur.execute("BEGIN")
                cur.executemany(f"INSERT INTO {table} ({names}) VALUES ({','.join('?' * len(columns))})", rows)
                cur.execute("COMMIT")
            except Exception:
                self.raw.rollback()
                raise
            finally:
                cur.close()
            self.rows_written += n
            return
        self._put((f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv)", _csv_bytes(columns), n))

    def _put(self, item) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._copy_loop, name="seed-copy", daemon=True)
            self._thread.start()
        while True:
            if self._error is not None:
                raise RuntimeError("loading into PostgreSQL failed") from self._error
            try:
                self._queue.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def _copy_loop(self) -> None:
        cur = self.raw.cursor()
        try:
            while (item := self._queue.get()) is not None:
                sql, data, n = item
                with cur.copy(sql) as copy:
                    copy.write(data)
                self.raw.commit()
                self.rows_written += n
        except BaseException as err:  # noqa: BLE001 - handed to the producer, which raises it
            self._error = err
            try:
                self.raw.rollback()
            except Exception:  # noqa: BLE001
                pass
            while self._queue.get() is not None:  # unblock the producer until it notices
                pass
        finally:
            cur.close()

    def drain(self) -> None:
        """Wait until every queued batch is in the database; re-raise a loading error."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        if self._error is not None:
            err, self._error = self._error, None
            raise RuntimeError("loading into PostgreSQL failed") from err

    def abort(self) -> None:
        """After a failure elsewhere: stop the loader thread and leave the schema whole."""
        try:
            self.drain()
        except Exception:  # noqa: BLE001 - the original error is the one to report
            pass
        try:
            self.raw.rollback()
            self.restore_secondary()
            self.raw.close()
        except Exception:  # noqa: BLE001
            pass

    def finish(self) -> None:
        self.drain()
        self.restore_secondary()
        cur = self.raw.cursor()
        if self.dialect == "postgresql":
            # ids were assigned by the seed: move the sequences past them for later inserts
            for table in ("cases", "case_events", "seed_truth"):
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"
                )
            self.raw.commit()
            # VACUUM, not only ANALYZE: it sets the visibility map, without which PostgreSQL cannot answer counts
            # from an index alone (the 挂账 count at 10 M cases: 104 ms reading 17 k heap pages → 2 ms), and it
            # writes the hint bits that the first dashboard queries would otherwise write. 35 s at 10 M cases.
            cur.close()
            self.raw.driver_connection.autocommit = True  # VACUUM refuses to run in a transaction
            cur = self.raw.cursor()
            cur.execute("VACUUM (ANALYZE)")
        else:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("ANALYZE")
            self.raw.commit()
        cur.close()
        self.raw.close()
