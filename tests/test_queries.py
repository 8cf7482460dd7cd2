"""Aggregate queries on a small world with known answers, on both dialects, and the index plans they rely on."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, text

from data_access import queries
from tests.builders import add_case, make_reference

NOW = datetime(2026, 11, 20, 15, 0)  # a Friday


@pytest.fixture
def world(writer, reader):
    ids = make_reference(writer)
    h = lambda n: NOW - timedelta(hours=n)  # noqa: E731
    add_case(writer, reported_at=h(1), status="in_disposal", deadline_at=NOW + timedelta(hours=2))
    add_case(writer, reported_at=h(30), status="in_disposal", deadline_at=h(5), grid_id=12)  # overdue
    add_case(
        writer,
        reported_at=h(30),
        status="pending_check",
        deadline_at=h(20),
        extended_deadline_at=NOW + timedelta(days=2),
        extension_count=1,
        grid_id=12,
    )  # extended: not
    add_case(
        writer,
        reported_at=h(50),
        status="closed",
        channel="hotline",
        deadline_at=h(40),
        disposed_at=h(45),
        closed_at=h(44),
        satisfaction="satisfied",
    )  # closed in 24h? no
    add_case(
        writer,
        reported_at=h(20),
        status="closed",
        channel="hotline",
        deadline_at=h(10),
        disposed_at=h(8),
        closed_at=h(6),
        satisfaction="basic",
        rework_count=1,
    )  # late disposal
    add_case(writer, reported_at=h(3), status="self_handled", closed_at=h(3))
    add_case(writer, reported_at=h(2), status="cancelled", closed_at=h(1))
    add_case(writer, reported_at=h(100), status="parked", parked_at=h(10), deadline_at=h(90), grid_id=31)
    return ids


def test_backlog_totals_and_by_grid(world, reader):
    assert queries.backlog_totals(reader, NOW) == {"open": 3, "overdue": 1, "parked": 1}
    by_grid = queries.open_backlog_by_grid(reader, NOW).set_index("grid_id")
    assert by_grid.loc[12, "open"] == 2 and by_grid.loc[12, "overdue"] == 1
    assert queries.backlog_totals(reader, NOW, street_id=2) == {"open": 0, "overdue": 0, "parked": 1}


def test_backlog_a_day_ago_is_rebuilt_from_changes(world, reader):
    # 24 h ago open: the two reported 30 h ago, the one closed 6 h ago (reported 20 h ago: not yet), the parked one
    # (parked 10 h ago, reported 100 h ago) -> 3; overdue then: the parked one (deadline 90 h ago) and the
    # pending_check one (deadline 20 h ago, its extension was granted later but is what we know now -> not overdue)
    then = queries.backlog_at(reader, NOW - timedelta(hours=24), NOW)
    assert then == {"open": 3, "overdue": 1}


def test_counts_exclude_cancelled(world, reader):
    assert queries.count_reported(reader, NOW - timedelta(hours=24), NOW) == 3  # 1h, 20h, 3h; not the cancelled
    mix = queries.channel_mix(reader, NOW - timedelta(days=7), NOW).set_index("channel")
    assert mix.loc["hotline", "n"] == 2 and abs(mix["share"].sum() - 1) < 1e-9


def test_disposal_counts_and_satisfaction(world, reader):
    row = queries.disposal_counts(reader, NOW - timedelta(days=7), NOW, by=None).iloc[0]
    assert (row["disposed"], row["ontime"], row["rework"]) == (2, 1, 1)
    sat = queries.satisfaction_counts(reader, NOW - timedelta(days=7), NOW)
    assert (sat["satisfied"], sat["basic"], sat["answered"]) == (1, 1, 2)
    assert queries.count_closed(reader, NOW - timedelta(days=7), NOW) == 2


def test_daily_new_and_closed_has_every_day(world, reader):
    daily = queries.daily_new_and_closed(reader, datetime(2026, 11, 14), datetime(2026, 11, 21))
    assert len(daily) == 7 and daily["new"].sum() == 7 and daily["closed"].sum() == 3


def test_workdays_between_uses_the_calendar(world, reader):
    from datetime import date

    assert queries.workdays_between(reader, date(2026, 9, 30), date(2026, 10, 9)) == 2  # 8 Oct, 9 Oct


def _captured_sql(engine, fn):
    seen = []

    def grab(conn, cursor, statement, params, context, executemany):
        seen.append((statement, params))

    event.listen(engine, "before_cursor_execute", grab)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", grab)
    return seen


def _plan(reader, dialect, statement, params) -> str:
    """The query plan as text (PostgreSQL with sequential scans discouraged: the test tables are tiny)."""
    with reader.connect() as conn:
        if dialect == "sqlite":
            return " ".join(str(r) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params))
        conn.execute(text("SET enable_seqscan = off"))
        return " ".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement, params))


def test_open_backlog_uses_the_partial_index(world, reader, dialect):
    statement, params = _captured_sql(reader, lambda: queries.open_backlog_by_grid(reader, NOW))[0]
    plan = _plan(reader, dialect, statement, params)
    assert "ix_cases_open" in plan, plan


def test_window_query_uses_the_time_index(world, reader, dialect):
    statement, params = _captured_sql(reader, lambda: queries.count_reported(reader, NOW - timedelta(days=1), NOW))[0]
    plan = _plan(reader, dialect, statement, params)
    assert "ix_cases_reported_at" in plan, plan


def test_parked_count_uses_its_partial_index(world, reader, dialect):
    statements = _captured_sql(reader, lambda: queries.backlog_totals(reader, NOW))
    statement, params = next(s for s in statements if "parked" in s[0])
    plan = _plan(reader, dialect, statement, params)
    assert "ix_cases_parked" in plan, plan


def test_parked_counts_per_unit_are_answered_from_the_index(world, reader, dialect):
    """挂账 is scattered over all of history: counting it per street reads the covering partial index only
    (PostgreSQL; SQLite still checks the status in the row, but finds the rows by the partial index)."""
    from data_access import backlog_queries

    statements = _captured_sql(reader, lambda: backlog_queries.backlog_by_unit(reader, NOW, "street"))
    statement, params = next(s for s in statements if "parked" in s[0] and "street_id" in s[0])
    plan = _plan(reader, dialect, statement, params)
    assert "Index Only Scan using ix_cases_parked" in plan if dialect == "postgresql" else "ix_cases_parked" in plan, (
        plan
    )


def test_verifier_checks_of_a_window_use_the_check_time_index(world, reader, dialect):
    from data_access import flag_queries

    statement, params = _captured_sql(
        reader, lambda: flag_queries.verifier_checks(reader, NOW - timedelta(days=60), NOW)
    )[0]
    plan = _plan(reader, dialect, statement, params)
    assert "ix_cases_verified_at" in plan, plan
