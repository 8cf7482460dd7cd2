"""The wall's district map as one PNG drawn on the server (a pure function, no Streamlit).

Why not deck.gl on the wall: the wall is unattended (nobody hovers or zooms), and in the browser deck.gl costs far
more than the data it shows: its JavaScript is fetched and compiled by every new screen, 1,300 grid polygons go over
the websocket as JSON, and a machine without a GPU draws them in software WebGL (bench/RESULTS.md: seconds of browser
CPU per load). One image per data refresh, shared by every screen (``ui.live.derived``), is drawn in a fraction of a
second and served from Streamlit's own media endpoint (same host; no request leaves it). The interactive map page
keeps deck.gl (tooltips, drill-down).

Drawn at twice the size and reduced by default (Pillow draws polygons without anti-aliasing; the wall instead draws
once at its 4K size and lets the browser reduce it), in Web-Mercator, fitted to the streets given, with the same palette as the deck (``ui.deck``).
"""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw

from reports.wall import WallMap
from ui.deck import NEW_COLOUR, STATUS_COLOURS, ramp_colour
from ui.labels import draw_labels, mercator_y

SUPERSAMPLE = 2
# The wall's map is one image for every screen, drawn at the size a 4K kiosk shows it (up to Streamlit's 1,460-px
# limit, above which it re-encodes an image on every run) and fitted to its column by the browser: 850 × 730 CSS px
# on a 1080p kiosk screen, 680 × 584 beside the sidebar.
WALL_IMAGE_PX = (1460, 1254)
WALL_SHOWN_PX = 850  # its width on a 1080p kiosk screen: lines, points and labels are sized for it
WALL_LABEL_PX = round(16 * WALL_IMAGE_PX[0] / WALL_SHOWN_PX)  # 16 CSS px there
BACKGROUND = (11, 17, 24)  # the theme's backgroundColor: grid fills are blended onto it, the rest stays clear
GRID_ALPHA = 170 / 255
GRID_EDGE = (10, 20, 30, 255)
STREET_EDGE = (220, 230, 240, 235)
POINT_ALPHA = 215


class MercatorFit:
    """Lon/lat → pixel in a ``width`` × ``height`` image that fits ``rings`` (with a margin), north up."""

    def __init__(self, rings, width: int, height: int, margin: int):
        coords = np.concatenate([np.asarray(r, dtype=float) for r in rings])
        x, y = self._merc(coords[:, 0], coords[:, 1])
        x0, x1, y0, y1 = x.min(), x.max(), y.min(), y.max()
        self.k = min((width - 2 * margin) / max(x1 - x0, 1e-9), (height - 2 * margin) / max(y1 - y0, 1e-9))
        # centre the district in the image
        self.ox = (width - self.k * (x1 - x0)) / 2 - self.k * x0
        self.oy = (height - self.k * (y1 - y0)) / 2 + self.k * y1

    @staticmethod
    def _merc(lon, lat):
        return np.radians(lon), mercator_y(lat)

    def __call__(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        x, y = self._merc(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        return self.ox + self.k * x, self.oy - self.k * y

    def ring(self, ring) -> list[tuple[float, float]]:
        coords = np.asarray(ring, dtype=float)
        x, y = self(coords[:, 0], coords[:, 1])
        return list(zip(x.tolist(), y.tolist()))


def _blend(rgba) -> tuple[int, int, int, int]:
    """A ramp colour with its alpha applied over the wall's background, opaque (so reducing the image is exact)."""
    r, g, b = (round(c * GRID_ALPHA + bg * (1 - GRID_ALPHA)) for c, bg in zip(rgba[:3], BACKGROUND))
    return r, g, b, 255


def make_district_png(
    grid_shapes: pd.DataFrame,
    grid_values: pd.DataFrame,
    street_shapes: pd.DataFrame,
    *,
    width_px: int,
    height_px: int,
    points: pd.DataFrame | None = None,
    new_since=None,
    label_px: int = 16,
    legend: str | None = None,
    supersample: int = SUPERSAMPLE,
    detail: float = 1.0,
) -> bytes:
    """The district map as PNG bytes: grids coloured by ``grid_values.value`` (ramp as ``ui.deck``: dark blue none,
    red most, 95th percentile saturates), street outlines and names, case points coloured by status (cases reported
    after ``new_since`` larger and white), and a colour bar titled ``legend`` in the lower left.

    grid_shapes: id, ring; grid_values: grid_id, value; street_shapes: name, ring, centroid_lat, centroid_lon;
    points: lat, lon, status, reported_at. ``supersample``: drawn this many times larger and reduced (anti-aliasing);
    1 for an image the browser itself reduces (the wall's, drawn for 4K and shown smaller on 1080p screens).
    ``detail``: image pixels per pixel shown, for street lines and case points (and ``label_px`` is given in image
    pixels), so an image drawn larger than a 1080p screen shows it keeps their size there.
    """
    s = max(1, int(supersample))
    k = s * max(1.0, float(detail))  # size of one shown pixel in drawing pixels
    w, h = width_px * s, height_px * s
    image = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if not len(street_shapes) and not len(grid_shapes):
        return _png(image.resize((width_px, height_px)))
    fit = MercatorFit(list(street_shapes["ring"]) or list(grid_shapes["ring"]), w, h, margin=8 * s)

    grids = grid_shapes[["id", "ring"]].merge(grid_values.rename(columns={"grid_id": "id"}), on="id", how="left")
    values = grids["value"].fillna(0)
    top = max(float(np.quantile(values, 0.95)) if len(values) else 1.0, 1e-9)
    for ring, colour in zip(grids["ring"], ramp_colour(values, vmax=top)):
        draw.polygon(fit.ring(ring), fill=_blend(colour), outline=GRID_EDGE, width=max(1, s // 2))
    for ring in street_shapes["ring"]:
        draw.line(fit.ring(ring), fill=STREET_EDGE, width=round(2 * k), joint="curve")

    if points is not None and len(points):
        x, y = fit(points["lon"], points["lat"])
        is_new = (
            (points["reported_at"] > pd.Timestamp(new_since)).to_numpy()
            if new_since is not None
            else np.zeros(len(points), dtype=bool)
        )
        order = np.argsort(is_new, kind="stable")  # new cases on top
        for i in order:
            if is_new[i]:
                r, colour = 4.5 * k, tuple(NEW_COLOUR) + (255,)
            else:
                r, colour = (
                    2.0 * k,
                    tuple(STATUS_COLOURS.get(points["status"].iat[i], [200, 200, 200])) + (POINT_ALPHA,),
                )
            draw.ellipse((x[i] - r, y[i] - r, x[i] + r, y[i] + r), fill=colour)

    if len(street_shapes):
        lx, ly = fit(street_shapes["centroid_lon"], street_shapes["centroid_lat"])
        draw_labels(draw, zip(street_shapes["name"], lx.tolist(), ly.tolist()), label_px * s)
    if legend is not None:
        _colour_bar(draw, legend, top, s, h, label_px)
    if s == 1:
        return _png(image)
    return _png(image.convert("RGBa").resize((width_px, height_px), Image.Resampling.LANCZOS).convert("RGBA"))


def make_wall_png(
    grid_shapes: pd.DataFrame, street_shapes: pd.DataFrame, data: WallMap, *, new_since, legend: str
) -> bytes:
    """The wall's map (``reports.wall.map_panel``): grids coloured by overdue cases, the last 24 h of cases as
    points (white when reported after ``new_since``), street names, and the colour bar titled ``legend``; one image
    for every screen size."""
    values = data.backlog.rename(columns={"overdue": "value"})[["grid_id", "value"]]
    return make_district_png(
        grid_shapes,
        values,
        street_shapes,
        points=data.points,
        new_since=new_since,
        width_px=WALL_IMAGE_PX[0],
        height_px=WALL_IMAGE_PX[1],
        label_px=WALL_LABEL_PX,
        legend=legend,
        supersample=1,  # the browser reduces it on 1080p
        detail=WALL_IMAGE_PX[0] / WALL_SHOWN_PX,
    )


def _colour_bar(draw: ImageDraw.ImageDraw, title: str, top: float, s: int, h: int, label_px: int) -> None:
    """The ramp from 0 to the saturating value, lower left, with its title; sized by the label size."""
    text = max(10, round(label_px * 0.8)) * s
    bar_w, bar_h = 10 * label_px * s, max(4, label_px // 2) * s
    x0, y0 = label_px * s, h - round(text * 1.6) - bar_h
    ramp = ramp_colour(pd.Series(np.linspace(0, top, bar_w)), vmax=top)
    for i, colour in enumerate(ramp):
        draw.line([(x0 + i, y0), (x0 + i, y0 + bar_h)], fill=_blend(colour))
    top_label = f"{math.ceil(top):,}+" if top > 0 else "0"
    below = y0 + bar_h + text * 0.75
    draw_labels(
        draw,
        [
            (title, x0 + bar_w / 2, y0 - text * 0.75),
            ("0", x0 + text * 0.3, below),
            (top_label, x0 + bar_w - text * 0.3 * len(top_label), below),
        ],
        text,
    )


def _png(image: Image.Image) -> bytes:
    """PNG with a 256-colour palette (alpha kept): a fifth of the bytes of full RGBA and no visible difference
    (the map is a few flat colours plus anti-aliased edges), so a screen's first load fetches ~0.2 MB, not 1 MB."""
    buffer = io.BytesIO()
    image.quantize(256, method=Image.Quantize.FASTOCTREE).save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()
