"""pydeck map builders: pure functions from small frames to a ``pdk.Deck`` (easy to test, no Streamlit).

Offline by construction: ``map_provider=None`` with pydeck's default ``map_style`` sentinel ("__MAP_STYLE__") loads no
basemap at all. Beware: an explicit ``map_style=None`` serialises as ``mapStyle: null``, and Streamlit's frontend
then substitutes an internet (CARTO) basemap; only the sentinel makes it drop the basemap. The district is drawn from
our own grid and street polygons; the browser test fails on any request leaving the host.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pydeck as pdk

from ui.labels import label_overlay

# Dark-screen palette: low values recede, high values glow.
RAMP = np.array([[30, 60, 90], [40, 120, 140], [250, 200, 60], [240, 110, 40], [220, 40, 60]], dtype=float)
STATUS_COLOURS = {
    "pending_verify": [160, 160, 170],
    "pending_register": [160, 160, 170],
    "pending_dispatch": [250, 200, 60],
    "in_disposal": [80, 170, 250],
    "pending_check": [170, 120, 250],
    "closed": [90, 200, 120],
    "self_handled": [90, 200, 120],
    "force_closed": [90, 200, 120],
    "parked": [200, 120, 80],
}
CHANNEL_COLOURS = {
    "patrol": [80, 170, 250],
    "hotline": [250, 200, 60],
    "app": [240, 110, 160],
    "video": [120, 220, 200],
    "sensor": [170, 120, 250],
    "superior": [250, 130, 60],
    "media": [200, 200, 200],
}
CATEGORICAL = [
    [80, 170, 250],
    [250, 200, 60],
    [240, 110, 160],
    [120, 220, 200],
    [170, 120, 250],
    [250, 130, 60],
    [150, 210, 90],
    [230, 80, 80],
    [110, 140, 250],
    [210, 170, 120],
    [90, 200, 120],
    [200, 200, 200],
]
NEW_COLOUR = [255, 255, 255]


def ramp_colour(values: pd.Series, vmax: float | None = None, alpha: int = 170) -> list[list[int]]:
    """Map values ≥ 0 onto the palette (0 → darkest); vmax defaults to the 95th percentile (outliers saturate)."""
    v = values.fillna(0).to_numpy(dtype=float)
    top = vmax if vmax else max(float(np.quantile(v, 0.95)) if len(v) else 1.0, 1e-9)
    x = np.clip(v / top, 0, 1) * (len(RAMP) - 1)
    lo = np.floor(x).astype(int)
    hi = np.minimum(lo + 1, len(RAMP) - 1)
    rgb = RAMP[lo] + (RAMP[hi] - RAMP[lo]) * (x - lo)[:, None]
    return [[int(r), int(g), int(b), alpha] for r, g, b in rgb]


def view_for(rings, width_px: int = 900, height_px: int = 600) -> pdk.ViewState:
    """A view that fits the given outlines (Web-Mercator zoom from their bounding box)."""
    coords = np.concatenate([np.asarray(r, dtype=float) for r in rings])
    lon0, lat0 = coords.min(axis=0)
    lon1, lat1 = coords.max(axis=0)
    span_lon = max(lon1 - lon0, 1e-3)
    span_lat = max((lat1 - lat0) / math.cos(math.radians((lat0 + lat1) / 2)), 1e-3)
    # deck.gl's Web-Mercator world is 512 px wide at zoom 0
    zoom = min(math.log2(360 * width_px / 512 / span_lon), math.log2(360 * height_px / 512 / span_lat)) - 0.05
    return pdk.ViewState(latitude=(lat0 + lat1) / 2, longitude=(lon0 + lon1) / 2, zoom=zoom, pitch=0, bearing=0)


def point_colours(points: pd.DataFrame, colour_by: str, new_since=None) -> list[list[int]]:
    """RGBA per point by ``status``, ``channel`` or ``major_code``; cases newer than ``new_since`` are white."""
    if colour_by == "status":
        base = [STATUS_COLOURS.get(v, [200, 200, 200]) for v in points["status"]]
    elif colour_by == "channel":
        base = [CHANNEL_COLOURS.get(v, [200, 200, 200]) for v in points["channel"]]
    else:
        base = [
            CATEGORICAL[int(v) % len(CATEGORICAL)] if str(v).isdigit() else [200, 200, 200] for v in points[colour_by]
        ]
    is_new = (
        (points["reported_at"] > pd.Timestamp(new_since)).to_numpy()
        if new_since is not None
        else np.zeros(len(points), dtype=bool)
    )
    return [NEW_COLOUR + [255] if n else c + [200] for c, n in zip(base, is_new)]


def street_label_layer(street_shapes: pd.DataFrame, size_px: int = 16) -> pdk.Layer:
    """Street names as one image over the streets' bounding box (see ui/labels.py); an ASCII-only TextLayer
    when the server has no CJK font."""
    coords = np.concatenate([np.asarray(r, dtype=float) for r in street_shapes["ring"]])
    (west, south), (east, north) = coords.min(axis=0), coords.max(axis=0)
    labels = tuple(zip(street_shapes["name"], street_shapes["centroid_lat"], street_shapes["centroid_lon"]))
    url = label_overlay(
        labels, (float(west), float(south), float(east), float(north)), width_px=1800, font_px=size_px * 2
    )
    if url is not None:
        # Quoted, so pydeck passes the string through instead of turning it into an accessor expression.
        return pdk.Layer(
            "BitmapLayer", id="street-names", image=f"'{url}'", bounds=[west, south, east, north], pickable=False
        )
    data = street_shapes[["name", "centroid_lat", "centroid_lon"]]
    return pdk.Layer(
        "TextLayer",
        id="street-names",
        data=data,
        get_position=["centroid_lon", "centroid_lat"],
        get_text="name",
        get_size=size_px,
        get_color=[240, 245, 250, 235],
    )


def make_district_deck(
    grid_shapes: pd.DataFrame,
    grid_values: pd.DataFrame,
    street_shapes: pd.DataFrame,
    *,
    value_label: str,
    points: pd.DataFrame | None = None,
    new_since=None,
    colour_by: str = "status",
    community_shapes: pd.DataFrame | None = None,
    show: tuple[str, ...] = ("grids", "streets", "points"),
    selected_grid: int | None = None,
    tooltip_html: str | None = None,
    height_px: int = 600,
    width_px: int = 900,
    street_label_size: int = 16,
) -> pdk.Deck:
    """The district map: grid polygons coloured by ``grid_values.value``, street (and community) outlines and
    names, optional case points (new ones since ``new_since`` drawn larger and white).

    grid_shapes: id, name, ring (list of [lon, lat]); grid_values: grid_id, value; street_shapes and
    community_shapes: name, ring, centroid_lat, centroid_lon; points: lat, lon, status, channel, reported_at, ...
    ``show`` picks layers among grids, streets, communities, points. The view fits the streets given.
    """
    layers = []
    if "grids" in show:
        grids = grid_shapes[["id", "name", "ring"]].merge(
            grid_values.rename(columns={"grid_id": "id"}), on="id", how="left"
        )
        grids["value"] = grids["value"].fillna(0).round(2)
        grids["fill"] = ramp_colour(grids["value"])
        grids["value_label"] = value_label
        layers.append(
            pdk.Layer(
                "PolygonLayer",
                id="grids",
                data=grids,
                get_polygon="ring",
                get_fill_color="fill",
                get_line_color=[10, 20, 30, 160],
                line_width_min_pixels=0.5,
                stroked=True,
                filled=True,
                pickable=True,
                auto_highlight=True,
            )
        )
        if selected_grid is not None:
            chosen = grid_shapes.loc[grid_shapes["id"] == selected_grid, ["name", "ring"]]
            layers.append(
                pdk.Layer(
                    "PathLayer",
                    id="selected-grid",
                    data=chosen,
                    get_path="ring",
                    get_color=[255, 255, 255, 255],
                    width_min_pixels=3,
                )
            )
    if "communities" in show and community_shapes is not None:
        layers.append(
            pdk.Layer(
                "PathLayer",
                id="community-borders",
                data=community_shapes[["name", "ring"]],
                get_path="ring",
                get_color=[160, 180, 200, 150],
                width_min_pixels=0.8,
            )
        )
    if "streets" in show:
        layers += [
            pdk.Layer(
                "PathLayer",
                id="street-borders",
                data=street_shapes[["name", "ring"]],
                get_path="ring",
                get_color=[220, 230, 240, 230],
                width_min_pixels=1.6,
            ),
            street_label_layer(street_shapes, street_label_size),
        ]
    if "points" in show and points is not None and len(points):
        pts = points.copy()
        pts["colour"] = point_colours(pts, colour_by, new_since)
        pts["radius"] = np.where([c[:3] == NEW_COLOUR for c in pts["colour"]], 160.0, 70.0)  # metres
        keep = [c for c in ("lat", "lon", "colour", "radius", "case_no", "minor_name") if c in pts.columns]
        layers.append(
            pdk.Layer(
                "ScatterplotLayer",
                id="cases",
                data=pts[keep],
                get_position=["lon", "lat"],
                get_fill_color="colour",
                get_radius="radius",
                radius_min_pixels=1.5,
                radius_max_pixels=9,
                pickable="case_no" in keep,
            )
        )
        # radius_units="pixels" made software-rendered (headless) Chromium stall for half a minute; metres with
        # pixel bounds look the same on the wall.
    return pdk.Deck(
        layers=layers,
        map_provider=None,
        initial_view_state=view_for(street_shapes["ring"], width_px, height_px) if len(street_shapes) else None,
        tooltip={
            "html": tooltip_html or "<b>{name}</b><br/>{value_label}: {value}",
            "style": {"backgroundColor": "#111820", "color": "#eef"},
        },
    )


def picked_id(state, layer: str) -> int | None:
    """The id of the object clicked in ``layer`` from a ``st.pydeck_chart`` selection state (a dict or an object
    with ``selection.objects``), else None."""
    if state is None:
        return None
    get = lambda obj, key: obj.get(key, {}) if isinstance(obj, dict) else getattr(obj, key, {})  # noqa: E731
    picked = get(get(state, "selection"), "objects").get(layer) or []
    return int(picked[0]["id"]) if picked and "id" in picked[0] else None


def deck_payload_bytes(deck: pdk.Deck) -> int:
    """Size of the JSON spec the browser receives."""
    return len(deck.to_json().encode("utf-8"))
