"""The case map's screen model on a small world with known answers, on SQLite and PostgreSQL."""

import json
from datetime import datetime, timedelta

import pandas as pd
import pytest

from reports import map as case_map
from reports.map import MEASURES, MapParams, measure_values, polygon_rings, view_streets
from tests.builders import add_case, make_reference

NOW = datetime(2026, 11, 20, 15, 0)
ALL = MapParams(days=7)


@pytest.fixture
def world(writer):
    ids = make_reference(writer)
    h = lambda n: NOW - timedelta(hours=n)  # noqa: E731
    add_case(writer, reported_at=h(1), status="in_disposal", deadline_at=NOW + timedelta(hours=2))
    add_case(writer, reported_at=h(30), status="in_disposal", deadline_at=h(5), grid_id=12)  # overdue
    add_case(
        writer,
        reported_at=h(30),
        status="pending_check",
        deadline_at=h(20),
        extended_deadline_at=NOW + timedelta(days=2),
        extension_count=1,
        grid_id=12,
    )  # extended: not
    add_case(
        writer,
        reported_at=h(50),
        status="closed",
        channel="hotline",
        deadline_at=h(40),
        disposed_at=h(45),
        closed_at=h(44),
    )  # on time
    add_case(
        writer,
        reported_at=h(20),
        status="closed",
        channel="hotline",
        deadline_at=h(10),
        disposed_at=h(8),
        closed_at=h(6),
        category_id=2,
    )  # late disposal
    add_case(writer, reported_at=h(2), status="cancelled", closed_at=h(1))
    add_case(writer, reported_at=h(5), status="pending_dispatch", channel="app", grid_id=31)
    return ids


def test_grid_measures_cover_every_grid_of_the_view(world, reader):
    grids = case_map.grid_measures(reader, ALL, now=NOW).set_index("grid_id")
    assert sorted(grids.index) == world["grids"]
    assert (grids.loc[12, "open"], grids.loc[12, "overdue"], grids.loc[12, "new"]) == (2, 1, 2)
    # grid 11: two disposals in the window, one on time; the cancelled case is not new
    assert (grids.loc[11, "disposed"], grids.loc[11, "ontime"], grids.loc[11, "new"]) == (2, 1, 3)
    assert grids.loc[22, ["open", "overdue", "new", "disposed", "ontime"]].tolist() == [0, 0, 0, 0, 0]
    assert grids.loc[11, "name"] == "网格11" and grids.loc[11, "population"] == 5000
    assert grids.loc[12, "m_overdue"] == 1 and grids.loc[12, "m_open"] == 2
    assert grids.loc[12, "m_new_per_1000"] == pytest.approx(2 / 5000 * 1000)
    assert grids.loc[11, "m_ontime"] == pytest.approx(0.5) and grids.loc[22, "m_ontime"] == 1.0  # none disposed


def test_grid_measures_apply_the_filters(world, reader):
    hotline = case_map.grid_measures(reader, MapParams(days=7, channels=("hotline",)), now=NOW).set_index("grid_id")
    assert hotline["open"].sum() == 0 and hotline.loc[11, "disposed"] == 2
    street2 = case_map.grid_measures(reader, MapParams(street_id=2, days=7), now=NOW)
    assert sorted(street2["grid_id"]) == [31, 32, 41, 42] and street2["open"].sum() == 1
    ads = case_map.grid_measures(reader, MapParams(days=7, category_ids=(2,)), now=NOW).set_index("grid_id")
    assert ads.loc[11, "disposed"] == 1 and ads.loc[11, "ontime"] == 0
    short = case_map.grid_measures(reader, MapParams(days=1), now=NOW).set_index("grid_id")
    assert short.loc[11, "disposed"] == 1 and short.loc[12, "new"] == 0  # the window is the last day


def test_measure_values():
    frame = pd.DataFrame(
        {
            "population": [1000, 0],
            "open": [3, 0],
            "overdue": [1, 0],
            "new": [5, 2],
            "disposed": [4, 0],
            "ontime": [3, 0],
        }
    )
    assert measure_values(frame, "m_open").tolist() == [3, 0]
    assert measure_values(frame, "m_overdue").tolist() == [1, 0]
    assert measure_values(frame, "m_new_per_1000").tolist() == [5.0, 0.0]  # no population: 0, not infinity
    assert measure_values(frame, "m_ontime").tolist() == [0.75, 1.0]  # nothing disposed: on time
    assert set(MEASURES) == {"m_overdue", "m_open", "m_new_per_1000", "m_ontime"}
    with pytest.raises(ValueError):
        measure_values(frame, "m_unknown")


def test_points_of_a_window_and_over_the_cap(world, reader, monkeypatch):
    day = case_map.points(reader, ALL, timedelta(hours=24), now=NOW)
    assert day.n == 3 and len(day.frame) == 3  # 1 h, 20 h and 5 h ago; not the cancelled case
    assert {"lat", "lon", "status", "channel", "major_code", "case_no", "reported_at"} <= set(day.frame.columns)
    app = case_map.points(reader, MapParams(channels=("app",)), timedelta(hours=24), now=NOW)
    assert app.n == 1 and app.frame["channel"].tolist() == ["app"]
    monkeypatch.setenv("GRIDSCOPE_MAP_MAX_POINTS", "2")
    capped = case_map.points(reader, ALL, timedelta(hours=24), now=NOW)
    assert (capped.n, capped.cap, capped.frame) == (3, 2, None)


def test_grid_cases_most_overdue_first_with_the_deadline_after_extensions(world, reader):
    cases = case_map.grid_cases(reader, ALL, 12, now=NOW)
    assert list(cases.columns) == [
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
    assert cases["status"].tolist() == ["in_disposal", "pending_check"]
    assert cases["overdue"].tolist() == [True, False]
    assert pd.Timestamp(cases["deadline"].iloc[1]) == pd.Timestamp(NOW + timedelta(days=2))  # the extended one
    assert cases["department"].iloc[0] == "城管执法局"
    assert case_map.grid_cases(reader, MapParams(statuses=("pending_check",)), 12, now=NOW)["status"].tolist() == [
        "pending_check"
    ]
    assert case_map.grid_cases(reader, ALL, 22, now=NOW).empty


def test_community_shapes_have_rings(world, reader):
    shapes = case_map.community_shapes(reader)
    assert len(shapes) == 4 and "polygon_geojson" not in shapes.columns
    assert shapes["ring"].map(len).eq(5).all()
    assert len(case_map.community_shapes(reader, 1)) == 2


def test_view_streets_is_one_street_or_all():
    streets = pd.DataFrame({"id": [1, 2], "name": ["a", "b"]})
    assert view_streets(streets, None) is streets
    assert view_streets(streets, 2)["name"].tolist() == ["b"] and view_streets(streets, 2).index.tolist() == [0]


def test_params_make_the_case_filter():
    flt = MapParams(
        street_id=1,
        channels=("hotline",),
        statuses=("in_disposal",),
        major_code="01",
        category_ids=(1,),
        department_ids=(2,),
    ).case_filter()
    assert (flt.street_id, flt.channels, flt.statuses, flt.major_code, flt.category_ids, flt.department_ids) == (
        1,
        ("hotline",),
        ("in_disposal",),
        "01",
        (1,),
        (2,),
    )
    with pytest.raises(ValueError):
        MapParams(channels=("nonsense",)).case_filter()


def test_polygon_rings_reads_polygons_and_multipolygons():
    poly = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}
    multi = {
        "type": "MultiPolygon",
        "coordinates": [[[[0, 0], [1, 0], [0, 0]]], [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]],
    }
    assert polygon_rings(json.dumps(poly)) == poly["coordinates"][0]
    assert len(polygon_rings(json.dumps(multi))) == 5
