"""Helpers shared by the seed tests (no tests here): seeded databases on both dialects and row digests."""

from __future__ import annotations

import hashlib

import pandas as pd

from data_access.engine import make_engine


def fresh_url(dialect: str, request, tmp_path_factory) -> str:
    """An empty database of ``dialect`` that lives as long as the requesting fixture."""
    from tests.conftest import new_database

    return new_database(dialect, request, tmp_path_factory.mktemp("seed"))


def frame(engine, sql: str) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.exec_driver_sql(sql)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def canonical(df: pd.DataFrame) -> pd.DataFrame:
    """Dialect-neutral values: timestamps as 'YYYY-MM-DD HH:MM:SS', booleans as 0/1, floats rounded."""
    out = df.copy()
    for c in out.columns:
        s = out[c]
        if c.endswith("_at") or c == "at":
            out[c] = pd.to_datetime(s, format="ISO8601").dt.strftime("%Y-%m-%d %H:%M:%S").fillna("")
        elif s.dtype == bool or c == "escalated":
            out[c] = s.astype(int)
        elif s.dtype.kind == "f":
            out[c] = s.round(5)
    return out.astype(str)


def digest(engine) -> str:
    """A hash of every case and event row (in id order), comparable across dialects."""
    h = hashlib.sha256()
    for sql in (
        "SELECT * FROM cases ORDER BY id",
        "SELECT * FROM case_events ORDER BY id",
        "SELECT unit_type, unit_id, behaviour, params_json, start_at, end_at FROM seed_truth ORDER BY id",
        "SELECT id, code, polygon_geojson, population, land_use FROM grids ORDER BY id",
    ):
        df = canonical(frame(engine, sql))
        h.update(pd.util.hash_pandas_object(df, index=False).values.tobytes())
    return h.hexdigest()


def build(url: str, **kwargs):
    from seed import build_world

    writer = make_engine(url, read_only=False, timeout_s=600)
    try:
        return build_world(writer, **kwargs)
    finally:
        writer.dispose()
