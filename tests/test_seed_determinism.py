"""Same seed and end → identical rows, on SQLite and PostgreSQL alike; another seed → another world."""

from __future__ import annotations

from datetime import datetime

import pytest

from data_access.engine import make_engine
from tests.test_seed_support import build, digest, fresh_url

END = datetime(2025, 3, 31, 17, 0)
SMALL = dict(preset="tiny", end=END, days=10, n_communities=40, n_grids=120, cases_per_day=500)


def _digest(url):
    engine = make_engine(url, read_only=True, timeout_s=120)
    try:
        return digest(engine)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def digests(request, tmp_path_factory):
    out = {}
    for key, dialect, seed in (
        ("a", "sqlite", 11),
        ("b", "sqlite", 11),
        ("pg", "postgresql", 11),
        ("other", "sqlite", 12),
    ):
        url = fresh_url(dialect, request, tmp_path_factory)
        out[key + "_summary"] = build(url, seed=seed, **SMALL)
        out[key] = _digest(url)
    return out


def test_same_seed_same_rows(digests):
    assert digests["a_summary"]["cases"] > 3000
    assert digests["a"] == digests["b"]


def test_postgresql_build_is_identical_to_sqlite(digests):
    assert digests["a"] == digests["pg"]


def test_another_seed_another_world(digests):
    assert digests["a"] != digests["other"]
