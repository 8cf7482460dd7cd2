"""Engine guard-rails: bad URLs, read-only sessions, the per-query time limit and the row cap, on both dialects."""
import pytest
from sqlalchemy import select, text

from data_access.engine import (DatabaseConfigError, DatabaseUnavailable, QueryTimeout, RowCapExceeded,
                                fetch_frame, make_engine, resolve_url)
from data_access.schema import Street


@pytest.mark.parametrize("url, message", [
    ("not a url", "Cannot read the database URL"),
    ("mysql://root@localhost/x", "Unsupported database 'mysql'"),
    ("sqlite://", "in-memory"),
])
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
