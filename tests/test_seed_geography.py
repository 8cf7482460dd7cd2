"""The demo district's geometry: counts, valid polygons, a gap-free tiling and exact nesting (seed/geography.py)."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest
import shapely
from shapely.geometry import shape

from seed.config import resolve
from seed.geography import build_geography


@pytest.fixture(scope="module")
def demo_geo():
    return build_geography(resolve("demo"), np.random.default_rng(np.random.SeedSequence(1).spawn(2)[0]))


def _polys(rows):
    return [shape(json.loads(r["polygon_geojson"])) for r in rows]


def test_counts_match_the_settings(demo_geo):
    cfg = resolve("demo")
    assert len(demo_geo.streets) == cfg.n_streets == 18
    assert Counter(s["kind"] for s in demo_geo.streets) == {"subdistrict": 6, "town": 11, "industrial": 1}
    assert len(demo_geo.communities) == cfg.n_communities == 304
    assert len(demo_geo.grids) == cfg.n_grids == 1322
    assert set(Counter(c["kind"] for c in demo_geo.communities)) == {"neighborhood", "village", "park"}
    assert len({g["code"] for g in demo_geo.grids}) == 1322 and all(len(g["code"]) == 15 for g in demo_geo.grids)


def test_counts_are_overridable():
    geo = build_geography(resolve("demo", n_communities=40, n_grids=150), np.random.default_rng(3))
    assert (len(geo.streets), len(geo.communities), len(geo.grids)) == (18, 40, 150)


def test_polygons_are_valid_single_polygons(demo_geo):
    for rows in (demo_geo.streets, demo_geo.communities, demo_geo.grids):
        polys = _polys(rows)
        assert all(p.geom_type == "Polygon" and p.is_valid and p.area > 0 for p in polys)


def test_grids_tile_the_district_without_gaps_or_overlaps(demo_geo):
    # areas in the local km plane (exact), then the written lon/lat polygons for overlaps
    total = sum(g["area_km2"] for g in demo_geo.grids)
    assert abs(total - 604.65) / 604.65 < 0.005
    assert abs(sum(s["area_km2"] for s in demo_geo.streets) - 604.65) / 604.65 < 0.005
    grids = _polys(demo_geo.grids)
    union = shapely.union_all(grids)
    summed = sum(p.area for p in grids)
    assert abs(union.area - summed) / summed < 0.005  # overlaps would make the union smaller
    district = shapely.union_all(_polys(demo_geo.streets))
    assert abs(union.area - district.area) / district.area < 0.005  # gaps would make it smaller than the district
    tree = shapely.STRtree(grids)
    left, right = tree.query(grids, predicate="intersects")
    pairs = left < right
    overlap = sum(grids[a].intersection(grids[b]).area for a, b in zip(left[pairs], right[pairs]))
    assert overlap / summed < 1e-4


def _inside(child, parent) -> bool:
    """``child`` ⊂ ``parent`` up to the stored coordinate precision (1e-7°, about 1 cm)."""
    return child.difference(parent).area <= child.length * 2e-7


def test_nesting_is_exact(demo_geo):
    streets, comms, grids = (_polys(demo_geo.streets), _polys(demo_geo.communities), _polys(demo_geo.grids))
    for g, p in zip(demo_geo.grids, grids):
        parent = comms[g["community_id"] - 1]
        assert _inside(p, parent)
        assert demo_geo.communities[g["community_id"] - 1]["street_id"] == g["street_id"]
    for c, p in zip(demo_geo.communities, comms):
        assert _inside(p, streets[c["street_id"] - 1])
    # children fill their parent
    by_comm = Counter()
    for g in demo_geo.grids:
        by_comm[g["community_id"]] += g["area_km2"]
    for c in demo_geo.communities:
        assert by_comm[c["id"]] == pytest.approx(c["area_km2"], rel=1e-6)


def test_urban_core_has_small_grids_and_people(demo_geo):
    area = {k: np.median([g["area_km2"] for g in demo_geo.grids if g["kind"] == k]) for k in ("urban", "rural")}
    assert area["urban"] * 3 < area["rural"]
    assert sum(g["population"] for g in demo_geo.grids) == pytest.approx(1_900_000, rel=0.01)
    assert {g["land_use"] for g in demo_geo.grids} >= {"residential", "commercial", "industrial", "rural"}
