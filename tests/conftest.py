"""Shared fixtures: migrated databases on SQLite and PostgreSQL, built in code.

``db_url`` / ``engine`` are parametrised over both dialects. PostgreSQL runs against the local server
(``GRIDSCOPE_TEST_PG_URL``, default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``): a fresh database
is created for each test and dropped after. If the server cannot be reached the PostgreSQL tests are skipped
locally, but **fail** under CI (``CI=true``), so CI never passes without them.
"""
from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from data_access.engine import make_engine
from data_access.migrate import upgrade

PG_ADMIN_URL = os.environ.get("GRIDSCOPE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _pg_admin():
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as err:  # noqa: BLE001 - any failure means "no server"
        engine.dispose()
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL test server unreachable at {PG_ADMIN_URL}: {err}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}")
    return engine


@pytest.fixture(scope="session")
def pg_admin():
    engine = _pg_admin()
    yield engine
    engine.dispose()


def new_database(dialect: str, request, tmp_path) -> str:
    """Create an empty database of ``dialect`` for this test (dropped afterwards) and return its URL."""
    if dialect == "sqlite":
        return f"sqlite:///{tmp_path / f'gridscope-{uuid.uuid4().hex[:6]}.db'}"
    admin = request.getfixturevalue("pg_admin")
    name = f"gridscope_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    request.addfinalizer(drop)
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def dialect(request):
    return request.param


@pytest.fixture
def empty_db_url(dialect, request, tmp_path):
    """An empty database (no schema) on each dialect."""
    return new_database(dialect, request, tmp_path)


@pytest.fixture
def db_url(empty_db_url):
    """A migrated, empty Gridscope database on each dialect."""
    writer = make_engine(empty_db_url, read_only=False)
    upgrade(writer)
    writer.dispose()
    return empty_db_url


@pytest.fixture
def writer(db_url):
    engine = make_engine(db_url, read_only=False)
    yield engine
    engine.dispose()


@pytest.fixture
def reader(db_url):
    engine = make_engine(db_url, read_only=True)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def tiny_world_url(tmp_path_factory) -> str:
    """A seeded tiny world in SQLite (seed.build_world, preset 'tiny'), built once per test session; read-only use."""
    from seed import build_world
    path = tmp_path_factory.mktemp("tiny-world") / "gridscope.db"
    engine = make_engine(f"sqlite:///{path}", read_only=False)
    upgrade(engine)
    build_world(engine, preset="tiny", seed=7)
    engine.dispose()
    return f"sqlite:///{path}"


def copy_world(source_url: str, target_dir) -> str:
    """A private, writable copy of a seeded SQLite world (a file copy is ~100× faster than seeding again)."""
    import shutil
    from pathlib import Path
    target = Path(target_dir) / "gridscope.db"
    shutil.copyfile(source_url.removeprefix("sqlite:///"), target)
    return f"sqlite:///{target}"


def clear_app_caches() -> None:
    """Empty every cache a page run fills (Streamlit's data and resource caches, the last-good store)."""
    import streamlit as st

    from ui import live
    st.cache_data.clear()
    st.cache_resource.clear()
    live.clear_last_good()


@pytest.fixture
def app_db(tiny_world_url, monkeypatch):
    """Point the dashboard at the tiny world, with empty caches before and after (for AppTest page tests)."""
    monkeypatch.setenv("GRIDSCOPE_DB_URL", tiny_world_url)
    clear_app_caches()
    yield tiny_world_url
    clear_app_caches()
