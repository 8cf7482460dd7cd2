"""Migrations create the schema on empty databases of both dialects, upgrade step by step, and match the models."""

from datetime import date

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select

from core import settings
from data_access.engine import make_engine
from data_access.migrate import alembic_config, ensure_calendar, upgrade
from data_access.schema import Base, Workday


def test_fresh_database_gets_every_table(db_url):
    engine = make_engine(db_url, read_only=False)
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    engine.dispose()


def test_no_drift_between_models_and_migrations(db_url):
    engine = make_engine(db_url, read_only=False)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


def test_upgrade_revision_by_revision(empty_db_url):
    engine = make_engine(empty_db_url, read_only=False)
    revisions = [r.revision for r in ScriptDirectory.from_config(alembic_config()).walk_revisions()][::-1]
    for rev in revisions:
        upgrade(engine, rev)
    upgrade(engine)  # already at head: a no-op
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    assert current == revisions[-1]
    engine.dispose()


def test_calendar_filled_for_the_configured_years(db_url):
    engine = make_engine(db_url)
    with engine.connect() as conn:
        lo, hi, n = conn.execute(select(func.min(Workday.day), func.max(Workday.day), func.count())).one()
    assert str(lo) == f"{settings.get('calendar_first_year')}-01-01"
    assert str(hi) == f"{settings.get('calendar_last_year')}-12-31"
    assert n > 365 * 10
    engine.dispose()


def test_calendar_widened_for_old_data_survives_later_upgrades(empty_db_url):
    engine = make_engine(empty_db_url, read_only=False)
    upgrade(engine)
    first = settings.get("calendar_first_year")
    assert ensure_calendar(engine, first_year=first - 3) > 0
    assert ensure_calendar(engine, first_year=first - 3) == 0  # already covered: nothing rewritten
    upgrade(engine)  # a later migration keeps the wider table
    with engine.connect() as conn:
        lo, hi, n = conn.execute(select(func.min(Workday.day), func.max(Workday.day), func.count())).one()
    assert str(lo)[:10] == f"{first - 3}-01-01"
    assert n == (date.fromisoformat(str(hi)[:10]) - date.fromisoformat(str(lo)[:10])).days + 1
    engine.dispose()
