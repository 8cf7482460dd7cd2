"""Bulk loading for both dialects, the non-empty guard and ``--replace``.

SQLite: the raw sqlite3 connection's ``executemany`` inside one transaction per batch, with ``synchronous=OFF``,
foreign-key checks off and a large page cache while seeding. PostgreSQL: psycopg 3 ``COPY ... FROM STDIN`` (CSV).
Rows are tuples of plain Python values built once; both paths consume the same tuples.
"""
from __future__ import annotations

import csv
import io

import numpy as np
from sqlalchemy import Engine, MetaData, literal, select

# Tables the seed never empties: the schema version and the working calendar.
KEEP_TABLES = {"alembic_version", "workdays"}

NEVER = np.int64(2 ** 62)


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
            f"the data tables and seed again.")
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
                cur.execute("PRAGMA foreign_keys=OFF")    # lets SQLite use its fast whole-table delete
                cur.execute("BEGIN")
                for t in tables:
                    cur.execute(f'DELETE FROM "{t.name}"')
                cur.execute("COMMIT")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.close()
            finally:
                raw.close()


def ts_strings(t: np.ndarray, dialect: str) -> list:
    """Epoch-second array (NEVER = NULL) → timestamp strings in the form each dialect stores."""
    t = np.asarray(t, dtype=np.int64)
    missing = t >= NEVER
    s = np.datetime_as_string(np.where(missing, 0, t).astype("datetime64[s]"), unit="s")
    s = np.char.replace(s, "T", " ")
    if dialect == "sqlite":
        # exactly SQLAlchemy's SQLite DATETIME format, so string comparisons with bound parameters agree
        s = np.char.add(s, ".000000")
    out = s.astype(object)
    out[missing] = None
    return out.tolist()


class BulkWriter:
    """Append rows to tables in batches on one raw DBAPI connection."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.dialect = engine.dialect.name
        if self.dialect == "sqlite":
            engine.dispose()        # close idle pooled connections: switching the journal mode needs the file alone
        self.raw = engine.raw_connection()
        self.rows_written = 0
        self._restore: list[str] = []
        if self.dialect == "postgresql":
            cur = self.raw.cursor()
            cur.execute("SET synchronous_commit = off")
            cur.execute("SET maintenance_work_mem = '256MB'")
            cur.close()
        if self.dialect == "sqlite":
            cur = self.raw.cursor()
            cur.execute("PRAGMA foreign_keys=OFF")
            cur.execute("PRAGMA synchronous=OFF")
            cur.execute("PRAGMA cache_size=-200000")      # 200 MB page cache while seeding
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
                cur.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                            "AND sql IS NOT NULL", (table,))
                for name, ddl in cur.fetchall():
                    self._restore.append(ddl)
                    cur.execute(f'DROP INDEX "{name}"')
            else:
                cur.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                            "WHERE conrelid = %s::regclass AND contype = 'f'", (table,))
                for name, ddl in cur.fetchall():
                    self._restore.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {ddl}')
                    cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
                cur.execute("SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s AND NOT EXISTS "
                            "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)", (table,))
                for name, ddl in cur.fetchall():
                    self._restore.insert(0, ddl)      # indexes first, then foreign keys
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

    def write(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        if not rows:
            return
        cur = self.raw.cursor()
        try:
            if self.dialect == "sqlite":
                marks = ",".join("?" * len(columns))
                cur.execute("BEGIN")
                cur.executemany(f"INSERT INTO {table} ({','.join(columns)}) VALUES ({marks})", rows)
                cur.execute("COMMIT")
            else:
                buf = io.StringIO()
                csv.writer(buf, lineterminator="\n").writerows(rows)
                with cur.copy(f"COPY {table} ({','.join(columns)}) FROM STDIN WITH (FORMAT csv)") as copy:
                    copy.write(buf.getvalue())
                self.raw.commit()
        except Exception:
            self.raw.rollback()
            raise
        finally:
            cur.close()
        self.rows_written += len(rows)

    def finish(self) -> None:
        self.restore_secondary()
        cur = self.raw.cursor()
        if self.dialect == "postgresql":
            # ids were assigned by the seed: move the sequences past them for later inserts
            for table in ("cases", "case_events", "seed_truth"):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)")
            self.raw.commit()
            cur.execute("ANALYZE")
            self.raw.commit()
        else:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("ANALYZE")
            self.raw.commit()
        cur.close()
        self.raw.close()
