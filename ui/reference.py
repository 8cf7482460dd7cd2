"""Cached loaders of reference data shared by several pages (streets, grid shapes, departments, categories, the
data set's facts, the working calendar); the data come from ``reports.reference``."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.workcal import WorkCalendar
from reports import reference
from reports.map import polygon_rings
from ui.db import get_engine
from ui.live import live_cache

REFERENCE_TTL = 600  # reference tables change rarely; a new seed shows up within 10 minutes


def _with_rings(frame: pd.DataFrame) -> pd.DataFrame:
    frame["ring"] = frame["polygon_geojson"].map(polygon_rings)
    return frame.drop(columns=["polygon_geojson"])


@live_cache(ttl=REFERENCE_TTL)
def street_table() -> pd.DataFrame:
    """Streets with outline rings (for maps) — 18 rows in the demo district."""
    return _with_rings(reference.streets(get_engine()))


@live_cache(ttl=REFERENCE_TTL)
def grid_shapes(street_id: int | None = None) -> pd.DataFrame:
    """Grid id, code, name, community/street, population, centroid and outline ring (no case data)."""
    return _with_rings(reference.grids(get_engine(), street_id))


@live_cache(ttl=REFERENCE_TTL)
def department_table() -> pd.DataFrame:
    return reference.departments(get_engine())


@live_cache(ttl=REFERENCE_TTL)
def category_table() -> pd.DataFrame:
    return reference.categories(get_engine())


@live_cache(ttl=REFERENCE_TTL)
def dataset_facts() -> dict:
    return reference.dataset_facts(get_engine())


def is_demo(facts: dict | None) -> bool:
    return reference.is_demo(facts)


@st.cache_resource(ttl=86400, show_spinner=False)
def work_calendar() -> WorkCalendar:
    """The working calendar, built once a day per process (SLA clocks of case files)."""
    return reference.work_calendar(get_engine())
