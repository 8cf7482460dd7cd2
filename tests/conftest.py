"""Shared fixtures: migrated databases on SQLite and PostgreSQL, built in code.

``db_url`` / ``engine`` are parametrised over both dialects. PostgreSQL runs against the local server
(``GRIDSCOPE_TEST_PG_URL``, default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``): a fresh database
is created for each test and dropped after.

Every real component a test needs (the PostgreSQL server, its server binaries, nginx, Chromium, poppler's pdftoppm,
a CJK font, glibc) is checked through ONE rule, ``require_component``: when it is missing the test is skipped
locally, but **fails** under CI (``CI=true``), so CI never passes without having run it. ``./gridscope test``
installs them all. A test marked ``@pytest.mark.component(name, available, why)`` is checked the same way before it
runs. Skips that are not about a missing component (a test that is about one SQL dialect only) stay plain skips.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from contextlib import closing

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from data_access.engine import make_engine
from data_access.migrate import upgrade

PG_ADMIN_URL = os.environ.get("GRIDSCOPE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def in_ci() -> bool:
    """True under CI (``CI`` set to anything but empty, 0 or false), where a missing component is a failure."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_component(name: str, available: object, why: str) -> None:
    """The one rule for a missing component: skip locally, fail under CI (``CI=true``) with a clear message.

    ``available`` is anything truthy when the component is there (a bool, a path, a version); ``why`` says what the
    test needs it for. Call it in a test or fixture, or mark a test with ``@pytest.mark.component(name, available,
    why)``.
    """
    if available:
        return
    message = f"{name} is not available: {why}"
    if in_ci():
        pytest.fail(
            f"{message}. Under CI a missing component fails the test instead of skipping it: "
            f"`./gridscope test` installs it (see system_packages in ./gridscope).",
            pytrace=False,
        )
    pytest.skip(f"{message} (`./gridscope test` installs it; under CI=true this is a failure)")


def pytest_runtest_setup(item):
    for mark in item.iter_markers("component"):
        require_component(*mark.args, **mark.kwargs)


def _pg_admin():
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as err:  # any failure means "no server"
        engine.dispose()
        reason = (str(getattr(err, "orig", None) or err).strip().splitlines() or [type(err).__name__])[0]
        require_component(
            "the PostgreSQL test server",
            False,
            f"cannot connect to {PG_ADMIN_URL} ({reason[:200]}); set GRIDSCOPE_TEST_PG_URL to use another server",
        )
    return engine


@pytest.fixture(scope="session")
def pg_admin():
    engine = _pg_admin()
    yield engine
    engine.dispose()


def new_database(dialect: str, request, tmp_path, template: str | None = None) -> str:
    """Create a database of ``dialect`` for this test (dropped afterwards) and return its URL: empty, or a copy of
    the database at URL ``template`` (a file copy on SQLite, ``CREATE DATABASE … TEMPLATE`` on PostgreSQL)."""
    if dialect == "sqlite":
        path = tmp_path / f"gridscope-{uuid.uuid4().hex[:6]}.db"
        if template:
            shutil.copyfile(make_url(template).database, path)
        return f"sqlite:///{path}"
    admin = request.getfixturevalue("pg_admin")
    name = f"gridscope_test_{uuid.uuid4().hex[:10]}"
    copy_of = f' TEMPLATE "{make_url(template).database}"' if template else ""
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{copy_of}'))

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


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory):
    """``migrated_template(dialect, request)``: the URL of a migrated, empty database of ``dialect``, made once per
    session on first use and never handed to a test itself (``db_url`` copies it). Dropped at the end."""
    made: dict[str, str] = {}
    drops = []

    def template(dialect: str, request) -> str:
        if dialect not in made:
            if dialect == "sqlite":
                url = f"sqlite:///{tmp_path_factory.mktemp('migrated-template') / 'gridscope.db'}"
            else:
                admin = request.getfixturevalue("pg_admin")
                name = f"gridscope_template_{uuid.uuid4().hex[:10]}"
                with admin.connect() as conn:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
                drops.append((admin, name))
                url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
            writer = make_engine(url, read_only=False)
            upgrade(writer)
            writer.dispose()  # no connection may stay open on a template (PostgreSQL refuses)
            if dialect == "sqlite":  # everything in the main file, so a file copy is the whole database
                with closing(sqlite3.connect(make_url(url).database)) as conn:
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            made[dialect] = url
        return made[dialect]

    yield template
    for admin, name in drops:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def db_url(dialect, request, tmp_path, migrated_template):
    """A migrated, empty Gridscope database on each dialect: this test's own copy of the session's migrated
    template, the same database as migrating anew (``test_migrations`` runs the migrations themselves on
    ``empty_db_url``) at a fraction of the cost, which most tests of the suite pay."""
    return new_database(dialect, request, tmp_path, template=migrated_template(dialect, request))


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
