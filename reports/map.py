"""案件地图 screen model: grid measures, case points, outlines and one grid's open cases (docs/architecture.md).

Also the outlines of every map (the wall's image too): GeoJSON becomes rings of [lon, lat] here (``polygon_rings``,
used by the reference loaders of ``ui.reference`` as well), so the figure builders in ``ui`` only draw.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import Engine

from analytics.sla import effective_deadline
from core import settings
from data_access import backlog_queries, queries
from data_access.case_filter import CaseFilter

# What the viewer picks; each code is also the catalog key of its label (map.po).
MEASURES = ("m_overdue", "m_open", "m_new_per_1000", "m_ontime")
POINT_WINDOWS = {"p_none": None, "p_1h": timedelta(hours=1), "p_24h": timedelta(hours=24), "p_7d": timedelta(days=7)}
COLOUR_BY = {"c_status": "status", "c_channel": "channel", "c_major": "major_code"}
LAYERS = ("l_grids", "l_streets", "l_communities", "l_points")
DEFAULT_LAYERS = ("l_grids", "l_streets", "l_points")
CASE_LIST_LIMIT = 500  # one grid's open cases listed under the map


@dataclass(frozen=True)
class MapParams:
    """The viewer's choices that change the data (the measure, colours and layers only change the drawing)."""

    street_id: int | None = None
    days: int = 30  # window of "new" and of on-time disposal
    channels: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    major_code: str | None = None
    category_ids: tuple[int, ...] = ()
    department_ids: tuple[int, ...] = ()

    def case_filter(self) -> CaseFilter:
        return CaseFilter(
            street_id=self.street_id,
            channels=self.channels,
            statuses=self.statuses,
            major_code=self.major_code,
            category_ids=self.category_ids,
            department_ids=self.department_ids,
        )


@dataclass(frozen=True)
class Points:
    """Case points of a window: ``frame`` is None when there are more than ``cap`` (then only ``n`` is known)."""

    n: int
    cap: int
    frame: pd.DataFrame | None


# --- outlines ----------------------------------------------------------------------------------------------------------
def polygon_rings(geojson: str) -> list:
    """Outer ring of a GeoJSON Polygon (or of each part of a MultiPolygon: the largest is kept)."""
    geom = json.loads(geojson)
    if geom["type"] == "Polygon":
        return geom["coordinates"][0]
    return max((p[0] for p in geom["coordinates"]), key=len)


def _with_rings(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(ring=frame["polygon_geojson"].map(polygon_rings)).drop(columns=["polygon_geojson"])


def view_streets(streets: pd.DataFrame, street_id: int | None) -> pd.DataFrame:
    """The streets a map of the view draws (and fits): one street, or all of them."""
    return streets if street_id is None else streets[streets["id"] == street_id].reset_index(drop=True)


def community_shapes(engine: Engine, street_id: int | None = None) -> pd.DataFrame:
    """Community (居委/村委) outlines of the view: id, name, centroid, ring."""
    return _with_rings(queries.communities(engine, street_id))


# --- measures per grid -------------------------------------------------------------------------------------------------
def measure_values(frame: pd.DataFrame, measure: str) -> pd.Series:
    """The value of one measure per row of a frame with population, open, overdue, new, disposed, ontime."""
    if measure == "m_open":
        return frame["open"].astype(float)
    if measure == "m_overdue":
        return frame["overdue"].astype(float)
    if measure == "m_new_per_1000":
        return (frame["new"] / frame["population"].where(frame["population"] > 0) * 1000).fillna(0.0)
    if measure == "m_ontime":  # a grid without disposals counts as on time
        return (frame["ontime"] / frame["disposed"].where(frame["disposed"] > 0)).fillna(1.0)
    raise ValueError(f"unknown measure {measure!r}")


def grid_measures(engine: Engine, params: MapParams, *, now: datetime) -> pd.DataFrame:
    """Every grid of the view: grid_id, name, population, the counts (open and overdue now; new, disposed and
    ontime in the last ``params.days`` days; 0 where none) and one column per measure of ``MEASURES``."""
    counts = backlog_queries.grid_measures(engine, now, now - timedelta(days=params.days), now, params.case_filter())
    grids = queries.grid_labels(engine, params.street_id)[["id", "name", "population"]]
    out = grids.rename(columns={"id": "grid_id"}).merge(counts, on="grid_id", how="left")
    columns = ["open", "overdue", "new", "disposed", "ontime"]
    out[columns] = out[columns].fillna(0).astype(int)
    out["population"] = out["population"].fillna(0)
    for measure in MEASURES:
        out[measure] = measure_values(out, measure)
    return out


# --- points and one grid's cases ---------------------------------------------------------------------------------------
def points(engine: Engine, params: MapParams, window: timedelta, *, now: datetime) -> Points:
    """Cases reported in the last ``window`` as points, or only their count when they exceed the
    ``map_max_points`` cap (the page then says so instead of drawing them)."""
    start, cap, flt = now - window, int(settings.get("map_max_points")), params.case_filter()
    n = backlog_queries.count_cases(engine, start, now, flt)
    frame = backlog_queries.case_points(engine, start, now, flt, limit=cap) if n <= cap else None
    return Points(n=n, cap=cap, frame=frame)


def grid_cases(engine: Engine, params: MapParams, grid_id: int, *, now: datetime) -> pd.DataFrame:
    """Open cases of one grid, most overdue first (at most ``CASE_LIST_LIMIT``): case_no, status, minor_name,
    minor_name_en, department, reported_at, deadline (after extensions), overdue (bool), address."""
    frame = backlog_queries.open_cases(engine, now, grid_id=grid_id, flt=params.case_filter(), limit=CASE_LIST_LIMIT)
    frame = frame.assign(
        deadline=effective_deadline(frame["deadline_at"], frame["extended_deadline_at"]),
        overdue=frame["overdue"].astype(bool),
    )
    return frame[
        [
            "case_no",
            "status",
            "minor_name",
            "minor_name_en",
            "department",
            "reported_at",
            "deadline",
            "overdue",
            "address",
        ]
    ].reset_index(drop=True)
