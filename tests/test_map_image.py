"""The wall's server-drawn map: right size, the palette where the data says, new cases white, no font needed."""

import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import ui.labels
from reports.wall import WallMap
from ui.deck import RAMP
from ui.map_image import BACKGROUND, GRID_ALPHA, WALL_IMAGE_PX, MercatorFit, make_district_png, make_wall_png


def _world(n_side=10):
    rows = []
    for i in range(n_side):
        for j in range(n_side):
            x, y = 121.1 + i * 0.01, 30.95 + j * 0.01
            rows.append(
                {"id": i * n_side + j, "ring": [[x, y], [x + 0.01, y], [x + 0.01, y + 0.01], [x, y + 0.01], [x, y]]}
            )
    grids = pd.DataFrame(rows)
    edge = 121.1 + n_side * 0.01, 30.95 + n_side * 0.01
    streets = pd.DataFrame(
        {
            "name": ["街道甲"],
            "centroid_lat": [30.951],
            "centroid_lon": [121.101],
            "ring": [[[121.1, 30.95], [edge[0], 30.95], [edge[0], edge[1]], [121.1, edge[1]], [121.1, 30.95]]],
        }
    )
    return grids, streets


def _pixel(png: bytes, xy) -> tuple:
    return Image.open(io.BytesIO(png)).convert("RGBA").getpixel(tuple(int(v) for v in xy))


def _centre(fit: MercatorFit, lon, lat, scale=1):
    x, y = fit(lon, lat)
    return float(x[()]) / scale, float(y[()]) / scale


def _expected(rgb) -> np.ndarray:
    return np.round(np.asarray(rgb) * GRID_ALPHA + np.asarray(BACKGROUND) * (1 - GRID_ALPHA))


def test_grids_take_the_ramp_colour_of_their_value():
    grids, streets = _world()
    values = pd.DataFrame({"grid_id": [55], "value": [9]})  # one hot grid, every other grid 0
    png = make_district_png(grids, values, streets, width_px=400, height_px=300)
    assert Image.open(io.BytesIO(png)).size == (400, 300)
    fit = MercatorFit(list(streets["ring"]), 800, 600, margin=16)  # the same fit at the 2× drawing size
    hot = _pixel(png, _centre(fit, 121.155, 31.005, 2))
    cold = _pixel(png, _centre(fit, 121.115, 30.965, 2))
    assert np.abs(np.asarray(hot[:3]) - _expected(RAMP[-1])).max() <= 3  # saturated red
    assert np.abs(np.asarray(cold[:3]) - _expected(RAMP[0])).max() <= 3  # darkest blue
    assert _pixel(png, (2, 2))[3] == 0  # outside the district: clear


def test_new_cases_are_white_and_old_ones_keep_their_status_colour():
    grids, streets = _world()
    values = pd.DataFrame({"grid_id": grids["id"], "value": 0})
    points = pd.DataFrame(
        {
            "lat": [30.985, 31.025],
            "lon": [121.135, 121.175],
            "status": ["pending_dispatch", "pending_dispatch"],
            "reported_at": pd.to_datetime(["2026-11-21 08:00", "2026-11-21 09:30"]),
        }
    )
    png = make_district_png(
        grids, values, streets, width_px=400, height_px=300, points=points, new_since=pd.Timestamp("2026-11-21 09:00")
    )
    fit = MercatorFit(list(streets["ring"]), 800, 600, margin=16)
    new = _pixel(png, _centre(fit, 121.175, 31.025, 2))
    old = _pixel(png, _centre(fit, 121.135, 30.985, 2))
    assert min(new[:3]) >= 225  # white (within the 256-colour palette)
    assert old[0] > 150 and old[2] < 120  # yellow-ish (待派遣), not white, not the grid blue


def test_draws_without_a_cjk_font_and_without_points(monkeypatch):
    grids, streets = _world(3)
    monkeypatch.setattr(ui.labels, "cjk_font_path", lambda: None)
    png = make_district_png(
        grids, pd.DataFrame({"grid_id": [], "value": []}), streets, width_px=200, height_px=150, legend="超期案件"
    )
    assert png.startswith(b"\x89PNG") and Image.open(io.BytesIO(png)).size == (200, 150)


@pytest.mark.component("a CJK font (fonts-noto-cjk)", ui.labels.cjk_font_path(), "map labels are drawn with it")
def test_labels_and_legend_draw_with_a_font():
    grids, streets = _world(3)
    values = pd.DataFrame({"grid_id": grids["id"], "value": 1})
    bare = make_district_png(grids, values, streets, width_px=300, height_px=300)
    labelled = make_district_png(grids, values, streets, width_px=300, height_px=300, label_px=16, legend="超期案件")
    assert bare != labelled


def test_without_supersampling_the_image_is_drawn_at_its_own_size():
    """The wall's single image (shown reduced on 1080p, at about its size on 4K) is drawn directly, at the size
    asked, with the same colours where the data says."""
    grids, streets = _world()
    values = pd.DataFrame({"grid_id": [55], "value": [9]})
    png = make_district_png(grids, values, streets, width_px=400, height_px=300, supersample=1)
    assert Image.open(io.BytesIO(png)).size == (400, 300)
    fit = MercatorFit(list(streets["ring"]), 400, 300, margin=8)
    assert np.abs(np.asarray(_pixel(png, _centre(fit, 121.155, 31.005))[:3]) - _expected(RAMP[-1])).max() <= 3
    assert np.abs(np.asarray(_pixel(png, _centre(fit, 121.115, 30.965))[:3]) - _expected(RAMP[0])).max() <= 3
    assert _pixel(png, (2, 2))[3] == 0


def test_detail_scales_points_for_an_image_shown_smaller():
    """The wall's image is drawn at 1,460 px and shown at 850 on 1080p: its points are drawn larger by that ratio,
    so they keep their size on screen."""
    grids, streets = _world()
    values = pd.DataFrame({"grid_id": grids["id"], "value": 0})
    points = pd.DataFrame(
        {
            "lat": [30.985],
            "lon": [121.135],
            "status": ["pending_dispatch"],
            "reported_at": pd.to_datetime(["2026-11-21 09:30"]),
        }
    )

    def white_pixels(detail):
        png = make_district_png(
            grids,
            values,
            streets,
            width_px=400,
            height_px=300,
            points=points,
            new_since=pd.Timestamp("2026-11-21 09:00"),
            supersample=1,
            detail=detail,
        )
        rgba = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))
        x, y = (round(v) for v in _centre(MercatorFit(list(streets["ring"]), 400, 300, margin=8), 121.135, 30.985))
        around = rgba[y - 15 : y + 16, x - 15 : x + 16, :3]  # the point only, not the street's white label
        return int((around.min(axis=2) > 240).sum())

    small, large = white_pixels(1.0), white_pixels(2.0)
    assert small > 0 and 3 <= large / small <= 5  # twice the radius: about four times the area


def test_wall_png_colours_grids_by_their_overdue_cases():
    """The wall's image of its model (``reports.wall.map_panel``): drawn at the 4K size, overdue counts coloured."""
    grids, streets = _world()
    data = WallMap(
        backlog=pd.DataFrame({"grid_id": [55], "open": [12], "overdue": [9]}),
        points=pd.DataFrame({"lat": [], "lon": [], "status": [], "reported_at": pd.to_datetime([])}),
        worst=pd.DataFrame(),
    )
    png = make_wall_png(grids, streets, data, new_since=pd.Timestamp("2026-11-21 09:00"), legend="超期案件")
    assert Image.open(io.BytesIO(png)).size == WALL_IMAGE_PX
    fit = MercatorFit(list(streets["ring"]), *WALL_IMAGE_PX, margin=8)
    assert np.abs(np.asarray(_pixel(png, _centre(fit, 121.155, 31.005))[:3]) - _expected(RAMP[-1])).max() <= 3
    assert np.abs(np.asarray(_pixel(png, _centre(fit, 121.115, 30.965))[:3]) - _expected(RAMP[0])).max() <= 3
