"""The dashboard's PostgreSQL user can read everything and write only flag reviews and action items: the grants
block of docs/deployment.md is run as written against a fresh database, then checked by connecting as that role."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from data_access import action_items, queries, reviews
from data_access.engine import GridscopeDBError, make_engine
from data_access.migrate import upgrade
from data_access.schema import Case, FlagReview
from tests.builders import add_case, make_reference
from tests.conftest import new_database

DOC = Path(__file__).resolve().parent.parent / "docs" / "deployment.md"
DENIED = (ProgrammingError, GridscopeDBError)


def grants_sql() -> list[str]:
    """The SQL statements of the "Database grants" block in docs/deployment.md (comments dropped)."""
    section = DOC.read_text(encoding="utf-8").split("## Database grants", 1)[1]
    block = re.search(r"```sql\n(.*?)```", section, re.S).group(1)
    body = "\n".join(line for line in block.splitlines() if not line.strip().startswith("--"))
    return [s.strip() for s in body.split(";") if s.strip()]


def test_readme_shows_the_tested_grants():
    """The README's deployment section repeats the grants; they must be the ones this file runs."""
    readme = (DOC.parent.parent / "README.md").read_text(encoding="utf-8").split("## Deployment", 1)[1]
    block = re.search(r"```sql\n(.*?)```", readme, re.S).group(1)
    body = "\n".join(line.strip() for line in block.splitlines() if not line.strip().startswith("--"))
    assert [" ".join(s.split()) for s in body.split(";") if s.strip()] == [" ".join(s.split()) for s in grants_sql()]


@pytest.fixture
def reader_role(request, pg_admin):
    """The documented grants applied in a fresh migrated PostgreSQL database under a role name unique to this run;
    yields (owner engine, engine connected as the role). Roles are cluster-wide: dropped afterwards."""
    url = new_database("postgresql", request, request.getfixturevalue("tmp_path"))
    owner = make_engine(url, read_only=False)
    upgrade(owner)
    make_reference(owner)
    add_case(owner, reported_at=datetime(2024, 3, 4, 9))
    role = f"gridscope_reader_{uuid.uuid4().hex[:8]}"
    dbname = make_url(url).database
    with owner.begin() as conn:
        for stmt in grants_sql():
            stmt = stmt.replace("gridscope_reader", role).replace("DATABASE gridscope ", f'DATABASE "{dbname}" ')
            conn.execute(text(stmt))
    role_url = make_url(url).set(username=role, password="change-me").render_as_string(hide_password=False)
    engines = []

    def connect(read_only: bool):
        engine = make_engine(role_url, read_only=read_only)
        engines.append(engine)
        return engine

    yield owner, connect, role
    for engine in engines:
        engine.dispose()
    with owner.begin() as conn:
        conn.execute(text(f'DROP OWNED BY "{role}"'))
    owner.dispose()
    with pg_admin.connect() as conn:
        conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))


def test_documented_grants_have_the_statements_we_rely_on():
    sql = "\n".join(grants_sql())
    assert "GRANT SELECT ON ALL TABLES IN SCHEMA public TO gridscope_reader" in sql
    for table in ("flag_reviews", "action_items", "action_item_history"):
        assert re.search(rf"GRANT [A-Z, ]+ ON {table} TO gridscope_reader", sql), table
    assert "DELETE" not in sql and "ALL PRIVILEGES" not in sql


def test_reader_role_reads_everything_and_writes_only_reviews_and_action_items(reader_role):
    owner, connect, role = reader_role
    reader, writer = connect(True), connect(False)
    with writer.connect() as conn:
        assert conn.execute(text("select current_user")).scalar_one() == role
    # reads: the dashboard's queries work as this role
    assert queries.count_reported(reader, datetime(2024, 3, 1), datetime(2024, 4, 1)) == 1
    assert len(queries.streets(reader)) == 2
    # writes outside reviews / action items are refused by the database, not only by the app
    for stmt in (
        insert(Case).values(
            case_no="X1",
            channel="patrol",
            category_id=1,
            grid_id=11,
            community_id=1,
            street_id=1,
            lat=31.0,
            lon=121.2,
            reported_at=datetime(2024, 3, 5),
            status="in_disposal",
            updated_at=datetime(2024, 3, 5),
        ),
        update(Case).values(status="closed"),
        text("DELETE FROM case_events"),
        text("DELETE FROM flag_reviews"),
        text("UPDATE flag_reviews SET note = 'x'"),
        text("CREATE TABLE sneaky (id int)"),
        text("DROP TABLE cases"),
        text("TRUNCATE workdays"),
    ):
        with pytest.raises(DENIED, match="permission denied|must be owner"):
            with writer.begin() as conn:
                conn.execute(stmt)
    # the two permitted writes, through the same functions the pages use
    review_id = reviews.add_review(
        writer,
        unit_type="street",
        unit_id=1,
        family="A",
        status="reviewed",
        note="已电话核实",
        reviewer="张三",
        period_end=datetime(2024, 3, 31),
    )
    item = action_items.create_item(
        writer,
        department_id=1,
        text="清理暴露垃圾",
        due_date=date(2024, 3, 15),
        week=date(2024, 3, 4),
        created_by="李四",
        now=datetime(2024, 3, 4, 10),
    )
    action_items.mark_done(
        writer, item, note="已完成", week=date(2024, 3, 11), who="李四", now=datetime(2024, 3, 12, 9)
    )
    with owner.connect() as conn:
        assert conn.execute(select(FlagReview.reviewer).where(FlagReview.id == review_id)).scalar_one() == "张三"
        assert conn.execute(text("select status from action_items where id = :i"), {"i": item}).scalar_one() == "done"
        assert conn.execute(text("select count(*) from action_item_history")).scalar_one() == 2
        assert conn.execute(select(Case.status)).scalar_one() == "in_disposal"
    # the read-only session refuses even the permitted writes (pages read through it)
    with pytest.raises(DENIED):
        reviews.add_review(
            reader,
            unit_type="street",
            unit_id=1,
            family="A",
            status="reviewed",
            note="x",
            reviewer="x",
            period_end=datetime(2024, 3, 31),
        )
