"""Cached loaders of reference data shared by several pages (streets, grid shapes, departments, categories)."""
from __future__ import annotations

import pandas as pd

from data_access import queries
from ui.db import get_engine
from ui.deck import polygon_rings
from ui.live import live_cache

REFERENCE_TTL = 600   # reference tables change rarely; a new seed shows up within 10 minutes


@live_cache(ttl=REFERENCE_TTL)
def street_table() -> pd.DataFrame:
    """Streets with outline rings (for maps) — 18 rows in the demo district."""
    frame = queries.streets(get_engine())
    frame["ring"] = frame["polygon_geojson"].map(polygon_rings)
    return frame.drop(columns=["polygon_geojson"])


@live_cache(ttl=REFERENCE_TTL)
def grid_shapes(street_id: int | None = None) -> pd.DataFrame:
    """Grid id, code, name, community/street, population, centroid and outline ring (no case data)."""
    frame = queries.grids(get_engine(), street_id)
    frame["ring"] = frame["polygon_geojson"].map(polygon_rings)
    return frame.drop(columns=["polygon_geojson"])


@live_cache(ttl=REFERENCE_TTL)
def department_table() -> pd.DataFrame:
    return queries.departments(get_engine())


@live_cache(ttl=REFERENCE_TTL)
def category_table() -> pd.DataFrame:
    return queries.categories(get_engine())


@live_cache(ttl=REFERENCE_TTL)
def dataset_facts() -> dict:
    return queries.dataset_info(get_engine())


def is_demo(facts: dict | None) -> bool:
    return bool(facts) and str(facts.get("origin", "")).startswith("seed:")
