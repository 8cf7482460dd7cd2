"""The demo district's geography: streets ⊃ communities ⊃ grids that tile a Songjiang-sized district.

Every level is a Voronoi partition of its parent, clipped to the parent: the children tile the parent with no gaps
or overlaps and nest exactly by construction. The district outline is convex, so every clipped cell is convex and
stays a single Polygon. Seeds are denser in the urban core (small grids) than in the countryside (large grids).
Work happens in a local kilometre plane; lon/lat only at the end.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Polygon

from seed.config import CENTER_LAT, CENTER_LON, DISTRICT_CODE, WorldConfig

KM_PER_DEG_LAT = 110.95
KM_PER_DEG_LON = 111.32 * math.cos(math.radians(CENTER_LAT))
CORE = np.array([1.5, 1.0])  # urban core (新城) offset from the district centre, km
POINTS_PER_GRID = 128  # precomputed case locations per grid (distinct spots for distinct problems)

# Fictional names in the model district's style (this is demo data, not Songjiang).
SUBDISTRICT_NAMES = ["岳松", "永丰源", "方塔", "中山湖", "广林", "九里", "云间", "华阳", "泗水"]
TOWN_NAMES = [
    "泗泾湾",
    "佘峰",
    "车墩桥",
    "新桥浜",
    "洞泾港",
    "九亭湖",
    "泖河",
    "石湖",
    "新浜塘",
    "叶榭港",
    "昆山湾",
    "天马",
    "五厍",
    "仓桥",
    "大港",
    "张泽",
    "塔汇",
    "华阳桥",
]
INDUSTRIAL_NAMES = ["松南工业区", "东部新兴产业园", "西部科技园"]
COMMUNITY_STEMS = [
    "荣乐",
    "松汇",
    "谷阳",
    "西林",
    "鹿鸣",
    "茸城",
    "玉树",
    "方舟",
    "春申",
    "梅园",
    "菊园",
    "兰亭",
    "新凯",
    "泰晤",
    "德丰",
    "明中",
    "金玉",
    "银泽",
    "乐都",
    "文诚",
    "龙马",
    "三新",
    "祥和",
    "永安",
    "民强",
    "长兴",
    "光辉",
    "新华",
    "庄浜",
    "塘桥",
    "胡家",
    "沈泾",
    "徐厍",
    "李塔",
    "陆家",
    "钱桥",
]
ROAD_STEMS = [
    "人民",
    "中山",
    "荣乐",
    "谷阳",
    "玉树",
    "新松江",
    "沪松",
    "文翔",
    "广富林",
    "江学",
    "乐都",
    "梅家浜",
    "思贤",
    "茸梅",
    "松卫",
    "辰花",
    "九干",
    "北松",
    "嘉松",
    "泗陈",
    "车亭",
    "莘砖",
    "叶新",
    "新浜",
]


@dataclass
class Geography:
    streets: list[dict]
    communities: list[dict]
    grids: list[dict]
    district_km2: float
    # per grid (index = position in ``grids``): candidate case locations and their addresses
    point_lat: np.ndarray  # [G, POINTS_PER_GRID]
    point_lon: np.ndarray
    point_address: list[list[str]]
    point_xy: np.ndarray  # [G, POINTS_PER_GRID, 2] km, for travel distances


def _district_outline(rng: np.random.Generator, area_km2: float) -> Polygon:
    """A convex, slightly irregular outline of the requested area (about 30 × 25 km for Songjiang)."""
    angles = np.sort(rng.uniform(0, 2 * np.pi, 40))
    radius = 1 + 0.08 * rng.standard_normal(40)
    pts = np.c_[15.5 * radius * np.cos(angles), 12.5 * radius * np.sin(angles)]
    hull = MultiPoint(pts).convex_hull
    scale = math.sqrt(area_km2 / hull.area)
    return shapely.affinity.scale(hull, scale, scale, origin=(0, 0))


def _density(xy: np.ndarray, core_sigma: float = 4.5) -> np.ndarray:
    """Relative intensity of people and activity: a dense urban core plus a rural floor."""
    d2 = ((xy - CORE) ** 2).sum(axis=-1)
    return 0.5 + 3.0 * np.exp(-d2 / (2 * core_sigma**2))


def _sample_in(poly: Polygon, n: int, rng: np.random.Generator, weighted: bool = True) -> np.ndarray:
    """n points inside ``poly`` (rejection sampling, optionally by the density field)."""
    minx, miny, maxx, maxy = poly.bounds
    out = np.empty((0, 2))
    while len(out) < n:
        cand = np.c_[rng.uniform(minx, maxx, 4 * n + 16), rng.uniform(miny, maxy, 4 * n + 16)]
        keep = shapely.contains_xy(poly, cand[:, 0], cand[:, 1])
        if weighted:
            dens = _density(cand)
            keep &= rng.uniform(0, dens.max() + 1e-9, len(cand)) < dens
        out = np.vstack([out, cand[keep]])
    return out[:n]


def _partition(parent: Polygon, seeds: np.ndarray) -> list[Polygon]:
    """Voronoi cells of ``seeds`` clipped to ``parent``, in seed order."""
    if len(seeds) == 1:
        return [parent]
    cells = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=parent.buffer(1.0), ordered=True)
    out = []
    for cell in cells.geoms:
        piece = cell.intersection(parent)
        if piece.geom_type != "Polygon":  # convex ∩ convex is convex; guard against degenerate slivers anyway
            piece = max(getattr(piece, "geoms", [piece]), key=lambda g: g.area)
        out.append(piece)
    return out


def _allocate(total: int, weights: np.ndarray, minimum: int) -> np.ndarray:
    """Split ``total`` into integer parts proportional to ``weights`` (largest remainder), each ≥ ``minimum``."""
    n = len(weights)
    spare = total - minimum * n
    if spare < 0:
        raise ValueError(f"cannot give {n} units at least {minimum} of {total}")
    raw = spare * weights / weights.sum()
    parts = np.floor(raw).astype(int)
    parts[np.argsort(-(raw - parts))[: spare - parts.sum()]] += 1
    return parts + minimum


def _to_lonlat(geom):
    return shapely.transform(
        geom, lambda xy: np.c_[CENTER_LON + xy[:, 0] / KM_PER_DEG_LON, CENTER_LAT + xy[:, 1] / KM_PER_DEG_LAT]
    )


def _geojson(poly_km: Polygon) -> str:
    ll = _to_lonlat(poly_km)
    ring = [[round(x, 7), round(y, 7)] for x, y in ll.exterior.coords]  # 1e-7° ≈ 1 cm
    return json.dumps({"type": "Polygon", "coordinates": [ring]}, separators=(",", ":"))


def _centroid(poly_km: Polygon) -> tuple[float, float]:
    c = poly_km.centroid
    return CENTER_LAT + c.y / KM_PER_DEG_LAT, CENTER_LON + c.x / KM_PER_DEG_LON


def build_geography(cfg: WorldConfig, rng: np.random.Generator) -> Geography:
    outline = _district_outline(rng, cfg.area_km2)

    # --- streets: 街道 around the core, 镇 on an outer ring, 工业区 in between -------------------------------------
    kinds = ["subdistrict"] * cfg.n_subdistricts + ["industrial"] * cfg.n_industrial + ["town"] * cfg.n_towns
    seeds = []
    for i in range(cfg.n_subdistricts):
        a = 2 * np.pi * i / max(cfg.n_subdistricts, 1) + rng.uniform(-0.2, 0.2)
        seeds.append(CORE + (2.8 if i else 0.6) * np.array([np.cos(a), np.sin(a)]) * rng.uniform(0.8, 1.2))
    for i in range(cfg.n_industrial):
        a = rng.uniform(-0.6, 0.6) + 2 * np.pi * i / max(cfg.n_industrial, 1)
        seeds.append(CORE + 7.0 * np.array([np.cos(a), np.sin(a)]))
    for i in range(cfg.n_towns):
        a = 2 * np.pi * i / max(cfg.n_towns, 1) + rng.uniform(-0.15, 0.15)
        seeds.append(np.array([11.0 * np.cos(a), 9.0 * np.sin(a)]) * rng.uniform(0.85, 1.05))
    street_polys = _partition(outline, np.array(seeds))

    names = {
        "subdistrict": [n + "街道" for n in SUBDISTRICT_NAMES],
        "town": [n + "镇" for n in TOWN_NAMES],
        "industrial": list(INDUSTRIAL_NAMES),
    }
    counters = {k: 0 for k in names}

    # Communities and grids are allocated by density mass, so the core gets many small units.
    probe = _sample_in(outline, 20_000, rng, weighted=False)
    probe_dens = _density(probe)
    street_mass = np.array(
        [probe_dens[shapely.contains_xy(p, probe[:, 0], probe[:, 1])].sum() + 1.0 for p in street_polys]
    )
    n_comm = _allocate(cfg.n_communities, street_mass**0.8, 2 if cfg.n_communities >= 2 * len(street_polys) else 1)

    comm_polys, comm_street, comm_kind = [], [], []
    for s, (poly, k) in enumerate(zip(street_polys, n_comm)):
        for cpoly in _partition(poly, _sample_in(poly, int(k), rng)):
            comm_polys.append(cpoly)
            comm_street.append(s)
            if kinds[s] == "industrial":
                comm_kind.append("park")
            elif kinds[s] == "subdistrict":
                comm_kind.append("neighborhood" if rng.random() < 0.93 else "park")
            else:  # towns: the town centre is 居委, the rest 村委
                comm_kind.append(
                    "neighborhood"
                    if _density(np.array(cpoly.centroid.coords[0])) > 1.2 or rng.random() < 0.2
                    else ("park" if rng.random() < 0.2 else "village")
                )
    comm_mass = np.array([probe_dens[shapely.contains_xy(p, probe[:, 0], probe[:, 1])].sum() + 0.5 for p in comm_polys])
    # villages get few, large grids (natural villages); the urban core many small ones
    kind_weight = np.array([{"neighborhood": 1.0, "park": 0.5, "village": 0.25}[k] for k in comm_kind])
    n_grid = _allocate(cfg.n_grids, comm_mass * kind_weight, 1)

    # --- rows --------------------------------------------------------------------------------------------------
    street_codes = [f"{DISTRICT_CODE}{i + 1:03d}" for i in range(len(street_polys))]
    streets, communities, grids = [], [], []
    grid_polys = []
    comm_counter = np.zeros(len(street_polys), dtype=int)
    for c, cpoly in enumerate(comm_polys):
        s = comm_street[c]
        comm_counter[s] += 1
        code = f"{street_codes[s]}{comm_counter[s]:02d}"
        stem = COMMUNITY_STEMS[(c * 7 + s) % len(COMMUNITY_STEMS)]
        suffix = {"neighborhood": "居委会", "village": "村", "park": "园区"}[comm_kind[c]]
        name = f"{stem}{comm_counter[s]}{suffix}" if comm_kind[c] != "village" else f"{stem}{comm_counter[s]}村"
        lat, lon = _centroid(cpoly)
        communities.append(
            dict(
                id=c + 1,
                code=code,
                name=name,
                kind=comm_kind[c],
                street_id=s + 1,
                polygon_geojson=_geojson(cpoly),
                centroid_lat=lat,
                centroid_lon=lon,
                area_km2=cpoly.area,
                population=0,
            )
        )
        for j, gpoly in enumerate(_partition(cpoly, _sample_in(cpoly, int(n_grid[c]), rng))):
            grid_polys.append(gpoly)
            gx, gy = gpoly.centroid.coords[0]
            dens = float(_density(np.array([gx, gy])))
            rural = comm_kind[c] == "village"
            if comm_kind[c] == "park":
                land_use = "industrial" if rng.random() < 0.85 else "commercial"
            elif rural:
                land_use = "rural" if rng.random() < 0.85 else ("green" if rng.random() < 0.5 else "residential")
            else:
                land_use = rng.choice(
                    ["residential", "commercial", "public", "green", "residential"],
                    p=[0.45, 0.2 + 0.05 * (dens > 3), 0.1, 0.05, 0.2 - 0.05 * (dens > 3)],
                )
            lat, lon = _centroid(gpoly)
            grids.append(
                dict(
                    id=len(grids) + 1,
                    code=f"{code}{j + 1:04d}",
                    name=f"{name}第{j + 1}网格",
                    kind="rural" if rural else "urban",
                    community_id=c + 1,
                    street_id=s + 1,
                    polygon_geojson=_geojson(gpoly),
                    centroid_lat=lat,
                    centroid_lon=lon,
                    area_km2=gpoly.area,
                    population=0,
                    land_use=str(land_use),
                    _density=dens,
                )
            )

    # Population: people per km² follows the density field (residential higher, industrial/green lower).
    lu_people = {"residential": 1.0, "commercial": 0.6, "public": 0.4, "green": 0.1, "industrial": 0.15, "rural": 0.35}
    raw = np.array([g["area_km2"] * g["_density"] ** 1.3 * lu_people[g["land_use"]] for g in grids])
    pop = np.round(raw / raw.sum() * cfg.population).astype(int)
    for g, p in zip(grids, pop):
        g["population"] = int(max(p, 30))
        del g["_density"]
    for c in communities:
        c["population"] = 0
    for g in grids:
        communities[g["community_id"] - 1]["population"] += g["population"]
    for s, poly in enumerate(street_polys):
        kind = kinds[s]
        name = names[kind][counters[kind] % len(names[kind])]
        counters[kind] += 1
        lat, lon = _centroid(poly)
        streets.append(
            dict(
                id=s + 1,
                code=street_codes[s],
                name=name,
                kind=kind,
                polygon_geojson=_geojson(poly),
                centroid_lat=lat,
                centroid_lon=lon,
                area_km2=poly.area,
                population=sum(c["population"] for c in communities if c["street_id"] == s + 1),
            )
        )

    # Candidate case locations inside each grid, with a made-up street address for each.
    G = len(grids)
    xy = np.empty((G, POINTS_PER_GRID, 2))
    addresses = []
    for i, gpoly in enumerate(grid_polys):
        xy[i] = _sample_in(gpoly, POINTS_PER_GRID, rng, weighted=False)
        s = streets[grids[i]["street_id"] - 1]["name"]
        roads = [ROAD_STEMS[(i * 3 + k) % len(ROAD_STEMS)] + ("路" if k % 2 == 0 else "街") for k in range(3)]
        nums = rng.integers(1, 999, POINTS_PER_GRID)
        addresses.append([f"{s}{roads[k % 3]}{nums[k]}号附近" for k in range(POINTS_PER_GRID)])
    return Geography(
        streets=streets,
        communities=communities,
        grids=grids,
        district_km2=outline.area,
        point_lat=CENTER_LAT + xy[..., 1] / KM_PER_DEG_LAT,
        point_lon=CENTER_LON + xy[..., 0] / KM_PER_DEG_LON,
        point_address=addresses,
        point_xy=xy,
    )
