"""Tiny Gridscope worlds built in code, for tests with known answers.

``make_reference(engine)`` writes 2 streets × 2 communities × 2 grids (unit squares near 31.0°N 121.2°E),
3 departments and 4 categories. ``add_case(engine, ...)`` writes one case with sensible defaults; pass any
``cases`` column to override. Everything returns plain ids so tests stay readable.

``in_processes(calls)`` runs expensive, independent set-ups (seeding a world, evaluating one) side by side, one
process per call up to the machine's cores; ``build_worlds(jobs)`` seeds several databases that way. The worlds are
exactly the ones a serial build makes: only the wall time changes.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from functools import partial

from sqlalchemy import insert

from data_access.schema import Case, CaseEvent, Category, Community, DatasetInfo, Department, Grid, Street

_case_no = itertools.count(1)


def _square(lon0: float, lat0: float, size: float) -> tuple[str, float, float]:
    ring = [[lon0, lat0], [lon0 + size, lat0], [lon0 + size, lat0 + size], [lon0, lat0 + size], [lon0, lat0]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]}), lat0 + size / 2, lon0 + size / 2


def make_reference(engine) -> dict:
    """Write the reference tables; return ids: streets, communities, grids (lists), departments, categories (dicts)."""
    ids = {"streets": [], "communities": [], "grids": []}
    with engine.begin() as conn:
        for s in range(2):
            poly, lat, lon = _square(121.2 + 0.02 * s, 31.0, 0.02)
            conn.execute(
                insert(Street),
                [
                    dict(
                        id=s + 1,
                        code=f"310117{s + 1:03d}",
                        name=f"测试街道{s + 1}",
                        kind="subdistrict",
                        polygon_geojson=poly,
                        centroid_lat=lat,
                        centroid_lon=lon,
                        area_km2=4.0,
                        population=20000,
                    )
                ],
            )
            ids["streets"].append(s + 1)
            for c in range(2):
                cid = s * 2 + c + 1
                poly, lat, lon = _square(121.2 + 0.02 * s + 0.01 * c, 31.0, 0.01)
                conn.execute(
                    insert(Community),
                    [
                        dict(
                            id=cid,
                            code=f"310117{s + 1:03d}{c + 1:02d}",
                            name=f"测试社区{cid}",
                            kind="neighborhood",
                            street_id=s + 1,
                            polygon_geojson=poly,
                            centroid_lat=lat,
                            centroid_lon=lon,
                            area_km2=1.0,
                            population=10000,
                        )
                    ],
                )
                ids["communities"].append(cid)
                for g in range(2):
                    gid = cid * 10 + g + 1
                    poly, lat, lon = _square(121.2 + 0.02 * s + 0.01 * c, 31.0 + 0.005 * g, 0.005)
                    conn.execute(
                        insert(Grid),
                        [
                            dict(
                                id=gid,
                                code=f"310117{s + 1:03d}{c + 1:02d}{g + 1:04d}",
                                name=f"网格{gid}",
                                kind="urban",
                                community_id=cid,
                                street_id=s + 1,
                                polygon_geojson=poly,
                                centroid_lat=lat,
                                centroid_lon=lon,
                                area_km2=0.25,
                                population=5000,
                                land_use="residential",
                            )
                        ],
                    )
                    ids["grids"].append(gid)
        depts = {"cg": (1, "城管执法局", "bureau"), "lh": (2, "绿化市容局", "bureau"), "sw": (3, "水务局", "bureau")}
        conn.execute(
            insert(Department),
            [
                dict(id=i, code=code, name=name, name_en=code, kind=kind, street_id=None)
                for code, (i, name, kind) in depts.items()
            ],
        )
        cats = {
            "garbage": (1, "0101", "event", "01", "市容环境", "暴露垃圾", "simple", 1, 4.0),
            "ads": (2, "0201", "event", "02", "宣传广告", "非法小广告", "simple", 2, 8.0),
            "building": (3, "0104", "event", "01", "市容环境", "私搭乱建", "complex", 1, 120.0),
            "manhole": (4, "1101", "component", "11", "公用设施", "井盖", "complex", 3, 40.0),
        }
        conn.execute(
            insert(Category),
            [
                dict(
                    id=i,
                    code=code,
                    kind=kind,
                    major_code=mc,
                    major_name=mj,
                    minor_name=mn,
                    difficulty=d,
                    multi_department=d == "complex",
                    default_department_id=dep,
                    time_limit_work_hours=lim,
                )
                for i, code, kind, mc, mj, mn, d, dep, lim in cats.values()
            ],
        )
        conn.execute(insert(DatasetInfo), [dict(key="origin", value="tests")])
    ids["departments"] = {k: v[0] for k, v in depts.items()}
    ids["categories"] = {k: v[0] for k, v in cats.items()}
    return ids


def add_case(engine, *, grid_id: int = 11, reported_at: datetime, events: list[dict] | None = None, **fields) -> int:
    """Insert one case (defaults: patrol, category 1, department 1, status in_disposal) and its events."""
    community_id, street_id = grid_id // 10, (grid_id // 10 + 1) // 2
    row = dict(
        case_no=f"T{next(_case_no):08d}",
        channel="patrol",
        category_id=1,
        grid_id=grid_id,
        community_id=community_id,
        street_id=street_id,
        lat=31.0,
        lon=121.2,
        address="测试地址",
        description="测试",
        reported_at=reported_at,
        registered_at=reported_at,
        status="in_disposal",
        department_id=1,
        updated_at=reported_at,
    )
    row.update(fields)
    with engine.begin() as conn:
        case_id = conn.execute(insert(Case).values(**row).returning(Case.id)).scalar_one()
        if events:
            conn.execute(insert(CaseEvent), [dict(case_id=case_id, **e) for e in events])
    return case_id


def in_processes(calls: list) -> list:
    """Call each of ``calls`` (module-level functions or ``functools.partial`` of them, with picklable results) and
    return their results in order, in fresh processes side by side when the machine has more than one core.

    For set-ups that take tens of seconds of CPU each (seeding, evaluating a world): the suite itself runs serially,
    so on a 2-core machine the second core would otherwise idle. Processes are spawned (not forked), so a test
    session's threads and open connections are never copied into them; each inherits the environment.
    """
    workers = min(len(calls), os.cpu_count() or 1)
    if workers <= 1:
        return [call() for call in calls]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(call) for call in calls]
        return [f.result() for f in futures]


def _build_world(url: str, build: dict) -> dict:
    from data_access.engine import make_engine
    from seed import build_world

    writer = make_engine(url, read_only=False, timeout_s=3600)
    try:
        return build_world(writer, **build)
    finally:
        writer.dispose()


def build_worlds(jobs: dict) -> dict:
    """Seed several empty databases at once: ``{key: (url, build_world keyword arguments)}`` → ``{key: summary}``.

    Give an explicit ``end`` for worlds that must be equal: the default (now) could differ between two builds.
    """
    keys = list(jobs)
    summaries = in_processes([partial(_build_world, *jobs[k]) for k in keys])
    return dict(zip(keys, summaries))
