"""``python -m seed``: the non-empty guard, --replace, and the run script's seed_if_empty."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime

import pytest

from core.settings import PROJECT_ROOT
from data_access.engine import make_engine
from seed import SeedRefused, build_world, seed_if_empty
from tests.builders import make_reference
from tests.test_seed_support import frame

SMALL = dict(end=datetime(2025, 3, 31, 17, 0), days=5, n_communities=30, n_grids=60, cases_per_day=200)


def _counts(engine) -> dict:
    return {
        t: int(frame(engine, f"SELECT count(*) AS n FROM {t}")["n"][0])
        for t in ("streets", "grids", "cases", "case_events", "dataset_info", "workdays", "alembic_version")
    }


def test_refuses_a_non_empty_database_and_touches_nothing(writer):
    make_reference(writer)
    before = _counts(writer)
    with pytest.raises(SeedRefused, match="--replace"):
        build_world(writer, preset="tiny", seed=1, **SMALL)
    assert _counts(writer) == before
    assert seed_if_empty(writer, preset="tiny") is None  # the run script leaves existing data alone
    assert _counts(writer) == before


def test_replace_empties_data_tables_but_keeps_schema_and_calendar(writer):
    make_reference(writer)
    workdays = _counts(writer)["workdays"]
    summary = build_world(writer, preset="tiny", seed=1, replace=True, **SMALL)
    after = _counts(writer)
    assert after["streets"] == 18 and after["grids"] == 60 and after["cases"] == summary["cases"] > 0
    assert after["workdays"] == workdays and after["alembic_version"] == 1
    info = dict(frame(writer, "SELECT key, value FROM dataset_info").values)
    assert info["origin"] == "seed:tiny"
    # indexes dropped for the bulk load are all back
    names = (
        set(frame(writer, "SELECT name FROM sqlite_master WHERE type = 'index'")["name"])
        if writer.dialect.name == "sqlite"
        else set(
            frame(writer, "SELECT indexname AS name FROM pg_indexes WHERE tablename IN ('cases', 'case_events')")[
                "name"
            ]
        )
    )
    assert {"ix_cases_reported_at", "ix_cases_open_grid", "ix_case_events_case_at"} <= names
    # and new rows can still be inserted with generated ids (PostgreSQL sequences moved past the seed's ids)
    with writer.begin() as conn:
        conn.exec_driver_sql("INSERT INTO seed_truth (unit_type, unit_id, behaviour) VALUES ('test', 'x', 'T')")


def test_cli_guard_message_and_exit_code(db_url):
    if not db_url.startswith("sqlite"):
        pytest.skip("the CLI wrapper is dialect-independent; the guard itself is tested on both dialects above")
    engine = make_engine(db_url, read_only=False)
    make_reference(engine)
    engine.dispose()
    cmd = [sys.executable, "-m", "seed", "--db", db_url, "--preset", "tiny", "--quiet", "--days", "3"]
    refused = subprocess.run(cmd, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "--replace" in refused.stderr and "Nothing was changed" in refused.stderr


def test_seed_if_empty_seeds_an_empty_database(writer):
    summary = seed_if_empty(writer, preset="tiny", progress=False, **SMALL)
    assert summary is not None and summary["cases"] > 0
    assert seed_if_empty(writer, preset="tiny", progress=False, **SMALL) is None
