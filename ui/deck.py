"""pydeck map builders: pure functions from small frames to a ``pdk.Deck`` (easy to test, no Streamlit).

Offline by construction: ``map_provider=None`` loads no basemap at all (``map_style=None`` alone would still fetch
internet tiles). The district is drawn from our own grid and street polygons.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pydeck as pdk

# Dark-screen palette: low values recede, high values glow.
RAMP = np.array([[30, 60, 90], [40, 120, 140], [250, 200, 60], [240, 110, 40], [220, 40, 60]], dtype=float)
STATUS_COLOURS = {
    "pending_verify": [160, 160, 170], "pending_register": [160, 160, 170], "pending_dispatch": [250, 200, 60],
    "in_disposal": [80, 170, 250], "pending_check": [170, 120, 250], "closed": [90, 200, 120],
    "self_handled": [90, 200, 120], "force_closed": [90, 200, 120], "parked": [200, 120, 80],
}
NEW_COLOUR = [255, 255, 255]
FONT = "'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', 'PingFang SC', sans-serif"


def polygon_rings(geojson: str) -> list:
    """Outer ring of a GeoJSON Polygon (or of each part of a MultiPolygon: the largest is kept)."""
    geom = json.loads(geojson)
    if geom["type"] == "Polygon":
        return geom["coordinates"][0]
    return max((p[0] for p in geom["coordinates"]), key=len)


def ramp_colour(values: pd.Series, vmax: float | None = None, alpha: int = 170) -> list[list[int]]:
    """Map values ≥ 0 onto the palette (0 → darkest); vmax defaults to the 95th percentile (outliers saturate)."""
    v = values.fillna(0).to_numpy(dtype=float)
    top = vmax if vmax else max(float(np.quantile(v, 0.95)) if len(v) else 1.0, 1e-9)
    x = np.clip(v / top, 0, 1) * (len(RAMP) - 1)
    lo = np.floor(x).astype(int)
    hi = np.minimum(lo + 1, len(RAMP) - 1)
    rgb = RAMP[lo] + (RAMP[hi] - RAMP[lo]) * (x - lo)[:, None]
    return [[int(r), int(g), int(b), alpha] for r, g, b in rgb]


def view_for(lat: pd.Series, lon: pd.Series, width_px: int = 900, height_px: int = 600) -> pdk.ViewState:
    """A view that fits the given coordinates (Web-Mercator zoom from the bounding box)."""
    lat0, lat1, lon0, lon1 = lat.min(), lat.max(), lon.min(), lon.max()
    span_lon = max(lon1 - lon0, 1e-3)
    span_lat = max((lat1 - lat0) / math.cos(math.radians((lat0 + lat1) / 2)), 1e-3)
    zoom = min(math.log2(360 * width_px / 256 / span_lon), math.log2(360 * height_px / 256 / span_lat)) - 0.15
    return pdk.ViewState(latitude=(lat0 + lat1) / 2, longitude=(lon0 + lon1) / 2, zoom=zoom, pitch=0, bearing=0)


def make_district_deck(grid_shapes: pd.DataFrame, grid_values: pd.DataFrame, street_shapes: pd.DataFrame, *,
                       value_label: str, points: pd.DataFrame | None = None, new_since=None,
                       tooltip_html: str | None = None, height_px: int = 600, width_px: int = 900,
                       street_label_size: int = 16) -> pdk.Deck:
    """The district map: grid polygons coloured by ``grid_values.value``, street outlines and names, optional
    case points (new ones since ``new_since`` drawn larger and white).

    grid_shapes: id, name, ring (list of [lon, lat]); grid_values: grid_id, value; street_shapes: name, ring,
    centroid_lat, centroid_lon; points: lat, lon, status, reported_at.
    """
    grids = grid_shapes.merge(grid_values.rename(columns={"grid_id": "id"}), on="id", how="left")
    grids["value"] = grids["value"].fillna(0)
    grids["fill"] = ramp_colour(grids["value"])
    grids["value_label"] = value_label
    layers = [
        pdk.Layer("PolygonLayer", id="grids", data=grids[["id", "name", "ring", "value", "fill", "value_label"]],
                  get_polygon="ring", get_fill_color="fill", get_line_color=[10, 20, 30, 160],
                  line_width_min_pixels=0.5, stroked=True, filled=True, pickable=True, auto_highlight=True),
        pdk.Layer("PathLayer", id="street-borders", data=street_shapes[["name", "ring"]], get_path="ring",
                  get_color=[220, 230, 240, 230], width_min_pixels=1.6, pickable=False),
        pdk.Layer("TextLayer", id="street-names", data=street_shapes[["name", "centroid_lat", "centroid_lon"]],
                  get_position=["centroid_lon", "centroid_lat"], get_text="name", get_size=street_label_size,
                  get_color=[240, 245, 250, 235], font_family=FONT, character_set="auto",
                  outline_width=3, outline_color=[0, 0, 0, 200], font_settings={"sdf": True}, pickable=False),
    ]
    if points is not None and len(points):
        pts = points[["lat", "lon", "status", "reported_at"]].copy()
        is_new = (pts["reported_at"] > pd.Timestamp(new_since)) if new_since is not None else pd.Series(False,
                                                                                                     pts.index)
        pts["colour"] = [NEW_COLOUR + [255] if n else STATUS_COLOURS.get(s, [200, 200, 200]) + [200]
                         for s, n in zip(pts["status"], is_new)]
        pts["radius"] = np.where(is_new, 5, 2.2)
        pts = pts.drop(columns=["reported_at"])
        layers.append(pdk.Layer("ScatterplotLayer", id="cases", data=pts, get_position=["lon", "lat"],
                                get_fill_color="colour", get_radius="radius", radius_units="pixels",
                                pickable=False))
    return pdk.Deck(layers=layers, map_provider=None, map_style=None,
                    initial_view_state=view_for(street_shapes["centroid_lat"], street_shapes["centroid_lon"],
                                                width_px, height_px) if len(street_shapes) else None,
                    tooltip={"html": tooltip_html or "<b>{name}</b><br/>{value_label}: {value}",
                             "style": {"backgroundColor": "#111820", "color": "#eef"}})


def deck_payload_bytes(deck: pdk.Deck) -> int:
    """Size of the JSON spec the browser receives."""
    return len(deck.to_json().encode("utf-8"))
