"""Reference data every screen shares: the units of the district (streets, communities, grids), departments,
categories, facts about the loaded data set and the working calendar.

Plain functions of the injected engine (reference tables take no ``now``); the ui layer caches them
(``ui.reference``) and turns outlines into map rings.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine

from core import settings
from core.workcal import WorkCalendar
from data_access import queries

DEMO_ORIGIN_PREFIX = "seed:"  # dataset_info.origin of a seeded (synthetic) database


def streets(engine: Engine) -> pd.DataFrame:
    """Every street: id, code, name, kind, centroid, area, population, polygon_geojson."""
    return queries.streets(engine)


def communities(engine: Engine, street_id: int | None = None) -> pd.DataFrame:
    """Every community (of one street when given): id, code, name, kind, street_id, centroid, population, outline."""
    return queries.communities(engine, street_id)


def grids(engine: Engine, street_id: int | None = None) -> pd.DataFrame:
    """Every grid (of one street when given): id, code, name, community/street ids, centroid, population, outline."""
    return queries.grids(engine, street_id)


def departments(engine: Engine) -> pd.DataFrame:
    return queries.departments(engine)


def categories(engine: Engine) -> pd.DataFrame:
    return queries.categories(engine)


def dataset_facts(engine: Engine) -> dict[str, str]:
    """Facts about the loaded data, e.g. ``{'origin': 'seed:demo', 'seeded_at': ...}``."""
    return queries.dataset_info(engine)


def is_demo(facts: dict | None) -> bool:
    """True when the data set is the synthetic demo (seeded), which every screen marks as such."""
    return bool(facts) and str(facts.get("origin", "")).startswith(DEMO_ORIGIN_PREFIX)


def work_calendar(engine: Engine) -> WorkCalendar:
    """The district's working calendar (the ``workdays`` table and the ``work_hours`` setting)."""
    return WorkCalendar.from_rows(queries.calendar_rows(engine), settings.get("work_hours"))
