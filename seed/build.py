"""Build a seeded world into a database: reference tables, cases, case_events, seed_truth, dataset_info.

The world is generated one calendar month at a time (the assessment period of padding, G2) with a Generator
derived from (seed, month), written, and forgotten: memory stays flat whatever the preset.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import Engine, insert, select

from core import settings
from core.clock import local_now
from core.workcal import WorkCalendar
from data_access.migrate import ensure_calendar, upgrade
from data_access.schema import Category, Community, DatasetInfo, Department, Grid, SeedTruth, Street, Workday
from seed import lifecycle
from seed.config import resolve
from seed.geography import build_geography
from seed.load import NEVER, BulkWriter, guard_and_clear, optional, ts_array
from seed.world import APP, CHANNEL_KEYS, HOTLINE, MEDIA, PATROL, SENSOR, SUPERIOR, VIDEO, World

CASE_COLUMNS = [
    "id",
    "case_no",
    "channel",
    "category_id",
    "grid_id",
    "community_id",
    "street_id",
    "lat",
    "lon",
    "address",
    "description",
    "reporter_id",
    "inspector_id",
    "verifier_id",
    "reported_at",
    "registered_at",
    "dispatched_at",
    "disposed_at",
    "verified_at",
    "closed_at",
    "parked_at",
    "deadline_at",
    "extended_deadline_at",
    "disposal_work_hours",
    "status",
    "department_id",
    "return_count",
    "rework_count",
    "extension_count",
    "escalated",
    "satisfaction",
    "duplicate_of",
    "updated_at",
]
EVENT_COLUMNS = ["id", "case_id", "at", "action", "from_status", "to_status", "actor_id", "department_id", "note"]
# A later public report of a problem whose earlier case is still open is merged by the command centre this often
# (duplicate_of set, status 作废); the rest stay separate cases, linked only in the world's memory.
MERGE_SHARE = 0.35
DESCRIPTION = {
    PATROL: "巡查发现{m}，位于{a}",
    HOTLINE: "市民来电反映：{a}{m}问题，希望尽快处理",
    APP: "市民APP上报：{a}发现{m}",
    VIDEO: "视频智能识别告警：疑似{m}（{a}）",
    SENSOR: "物联感知设备告警：{m}（{a}）",
    SUPERIOR: "上级转办：{a}{m}，请核实处置",
    MEDIA: "媒体舆情：{a}{m}问题被曝光",
}


def default_end() -> datetime:
    return local_now().replace(second=0, microsecond=0)


def load_calendar(engine: Engine) -> WorkCalendar:
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(Workday.day, Workday.is_workday))]
    return WorkCalendar.from_rows(rows, settings.get("work_hours"))


class Progress:
    def __init__(self, total: int, enabled: bool):
        self.total, self.enabled, self.t0 = total, enabled, time.monotonic()

    def update(self, done: int, cases: int, rows: int):
        if not self.enabled:
            return
        frac = done / max(self.total, 1)
        bar = "#" * int(30 * frac) + "-" * (30 - int(30 * frac))
        el = time.monotonic() - self.t0
        sys.stderr.write(
            f"\r[{bar}] {frac:5.1%}  {cases:,} cases  {rows:,} rows  {el:5.1f}s ({rows / max(el, 1e-6):,.0f} rows/s)"
        )
        sys.stderr.flush()

    def close(self):
        if self.enabled:
            sys.stderr.write("\n")


def build_world(
    engine: Engine,
    preset: str = "demo",
    seed: int = 1,
    end: datetime | None = None,
    replace: bool = False,
    progress: bool = False,
    drop_indexes: bool = True,
    **overrides,
) -> dict:
    """Seed ``engine``'s database with a synthetic world; returns a summary (counts, timings, world span).

    ``end`` defaults to local now rounded down to the minute; with an explicit ``end`` the data is identical for
    the same seed. Raises ``SeedRefused`` when the database holds data and ``replace`` is false (nothing touched).
    ``overrides`` replace fields of ``seed.config.WorldConfig`` (e.g. ``days=30``, ``n_grids=300``).
    """
    t_start = time.monotonic()
    cfg = resolve(preset, **overrides)
    end = (end or default_end()).replace(microsecond=0)
    start = datetime.combine((end - timedelta(days=cfg.days)).date(), datetime.min.time())
    upgrade(engine)
    ensure_calendar(engine, first_year=start.year)  # a long history (the city preset) predates the default years
    guard_and_clear(engine, replace)
    cal = load_calendar(engine)

    root = np.random.SeedSequence(seed)
    geo_ss, world_ss = root.spawn(2)
    geo = build_geography(cfg, np.random.default_rng(geo_ss))
    world = World(cfg, seed, start, end, geo, np.random.default_rng(world_ss))

    with engine.begin() as conn:
        conn.execute(insert(Street), geo.streets)
        conn.execute(insert(Community), geo.communities)
        conn.execute(insert(Grid), geo.grids)
        conn.execute(insert(Department), world.departments)
        conn.execute(insert(Category), world.categories)
        conn.execute(insert(SeedTruth), [dict(id=i + 1, **r) for i, r in enumerate(world.plan.truth)])

    writer = BulkWriter(engine)
    if drop_indexes:
        writer.drop_secondary()
    months = _months(world.start_s, world.end_s)
    bar = Progress(len(months), progress)
    next_case, next_event, n_cases, n_events = 1, 1, 0, 0
    try:
        for k, (m_from, m_to, m_end) in enumerate(months):
            rng = np.random.default_rng(np.random.SeedSequence([seed, 7919, k]))
            cases = _month_cases(world, cal, m_from, m_to, m_end, rng)
            if cases is None or not len(cases["t"]):
                continue
            ids = np.arange(next_case, next_case + len(cases["t"]), dtype=np.int64)
            cols, events = lifecycle.simulate(world, cases, ids, cal, rng, world.end_s)
            cols, events = _merge_duplicates(cases, cols, events, ids, rng, world.end_s)
            event_ids = np.arange(next_event, next_event + len(events["at"]), dtype=np.int64)
            # Python row tuples are built one batch at a time: memory stays flat even for the city preset
            status, updated = _final_state(events, len(ids))
            step = cfg.chunk_rows
            for i in range(0, len(ids), step):
                part = slice(i, i + step)
                writer.write(
                    "cases", _case_columns(world, _cut(cases, part), _cut(cols, part), status[part], updated[part])
                )
            for i in range(0, len(event_ids), step):
                part = slice(i, i + step)
                writer.write("case_events", _event_columns(_cut(events, part), event_ids[part]))
            next_case += len(ids)
            next_event += len(event_ids)
            n_cases += len(ids)
            n_events += len(event_ids)
            bar.update(k + 1, n_cases, writer.rows_written)
        seeded_at = local_now()
        with engine.begin() as conn:
            conn.execute(
                insert(DatasetInfo),
                [
                    dict(key="origin", value=f"seed:{preset}"),
                    dict(key="seed", value=str(seed)),
                    dict(key="seeded_at", value=seeded_at.isoformat(sep=" ")),
                    dict(key="world_start", value=start.isoformat(sep=" ")),
                    dict(key="world_end", value=end.isoformat(sep=" ")),
                    dict(
                        key="demo_notice",
                        value="示例数据：虚构的演示辖区与案件，不代表任何真实地区 "
                        "(synthetic demo data, not a real district)",
                    ),
                    dict(key="world_config", value=json.dumps(_jsonable(asdict(cfg)), sort_keys=True)),
                ],
            )
        writer.finish()
        _ensure_model_indexes(engine)
    except BaseException:
        writer.abort()  # leave the schema whole even when seeding fails
        raise
    finally:
        bar.close()
    elapsed = time.monotonic() - t_start
    return dict(
        preset=preset,
        seed=seed,
        start=start,
        end=end,
        cases=n_cases,
        events=n_events,
        streets=len(geo.streets),
        communities=len(geo.communities),
        grids=len(geo.grids),
        seconds=elapsed,
        rows_per_s=(n_cases + n_events) / max(elapsed, 1e-9),
    )


def _ensure_model_indexes(engine: Engine) -> None:
    """Safety net: every index the models declare on the bulk tables exists (e.g. after a seed killed mid-load)."""
    from data_access.schema import Case, CaseEvent

    with engine.begin() as conn:
        for index in (*Case.__table__.indexes, *CaseEvent.__table__.indexes):
            index.create(conn, checkfirst=True)


def _jsonable(d: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


def _months(start_s: int, end_s: int) -> list[tuple[int, int, int]]:
    """Calendar months covering [start, end]: (from, to, month end) in epoch seconds (local midnight)."""
    out = []
    m = np.datetime64(int(start_s), "s").astype("datetime64[M]")
    while True:
        a = int(m.astype("datetime64[s]").astype(np.int64))
        b = int((m + 1).astype("datetime64[s]").astype(np.int64))
        if a > end_s:
            break
        out.append((max(a, int(start_s) - int(start_s) % 86400), min(b, int(end_s) - int(end_s) % 86400 + 86400), b))
        m = m + 1
    return out


def _month_cases(world: World, cal, m_from: int, m_to: int, m_end: int, rng) -> dict | None:
    """All cases whose problem arises in the month, plus padding and farming; sorted by report time."""
    problems = world.problems(m_from, m_to, rng)
    cases = world.observe(problems, cal, rng)
    parts = [cases]
    pad = world.padding_cases(cases, m_from, m_to, m_end, cal, rng)
    if pad is not None:
        parts.append(pad)
    farm = world.farmer_cases(m_from, m_to, rng)
    if farm is not None:
        parts.append(farm)
    cases = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    keep = (cases["t"] >= world.start_s) & (cases["t"] <= world.end_s)
    order = np.flatnonzero(keep)[np.argsort(cases["t"][keep], kind="stable")]
    cases = {k: v[order] for k, v in cases.items()}
    cases["reporter"] = _reporters(world, cases, rng)
    return cases


def _reporters(world: World, cases: dict, rng) -> np.ndarray:
    """Citizen / account ids: a caller pool per grid for 12345, a few active app users per grid."""
    n = len(cases["t"])
    ch, grid = cases["channel"], cases["grid"]
    out = np.full(n, None, dtype=object)
    pop = world.grid_pop[grid]
    hot = np.flatnonzero(ch == HOTLINE)
    k = (rng.random(len(hot)) * np.maximum(20, pop[hot] / 8)).astype(int) % 10000
    out[hot] = [f"H{g + 1:05d}-{x:04d}" for g, x in zip(grid[hot].tolist(), k.tolist())]
    app = np.flatnonzero((ch == APP) & (cases["farmer"] < 0))
    k = (rng.random(len(app)) ** 2 * np.minimum(4999, np.maximum(5, pop[app] / 150))).astype(int)
    out[app] = [f"A{g + 1:05d}-{x:04d}" for g, x in zip(grid[app].tolist(), k.tolist())]
    farm = np.flatnonzero(cases["farmer"] >= 0)
    out[farm] = [world.plan.farmers[f]["reporter"] for f in cases["farmer"][farm].tolist()]
    out[ch == VIDEO] = "AI-CAM"
    out[ch == SENSOR] = "IOT"
    out[ch == SUPERIOR] = "SUPERIOR"
    out[ch == MEDIA] = "MEDIA"
    return out


def _merge_duplicates(cases, cols, events, ids, rng, end_s):
    """The command centre merges some later public reports of a problem that still has an open case at the same
    place: ``duplicate_of`` = the open case, status 作废 (cancelled). Others stay separate (truth only)."""
    prob, t0 = cases["problem"], cols["t0"]
    real = prob >= 0
    order = np.flatnonzero(real)[np.lexsort((t0[real], prob[real]))]
    if len(order) < 2:
        cols["duplicate_of"] = np.zeros(len(ids), dtype=np.int64)
        return cols, events
    p = prob[order]
    first_of = np.r_[0, np.flatnonzero(np.diff(p)) + 1]
    first_idx = np.repeat(order[first_of], np.diff(np.r_[first_of, len(order)]))
    later = order != first_idx
    cand = order[later]
    earlier = first_idx[later]
    ok = (
        np.isin(cases["channel"][cand], (HOTLINE, APP))
        & (cases["cat"][cand] == cases["cat"][earlier])
        & (cols["closed"][earlier] > t0[cand])
        & (t0[earlier] < t0[cand])
        & (rng.random(len(cand)) < MERGE_SHARE)
    )
    dup, target = cand[ok], earlier[ok]
    t_merge = t0[dup] + rng.integers(300, 3600, len(dup))
    merged_by_end = t_merge <= end_s  # a merge after the world's end has not happened yet
    dup, target, t_merge = dup[merged_by_end], target[merged_by_end], t_merge[merged_by_end]
    dup_of = np.zeros(len(ids), dtype=np.int64)
    dup_of[dup] = ids[target]
    cols["duplicate_of"] = dup_of
    if not len(dup):
        return cols, events
    is_dup = np.zeros(len(ids), dtype=bool)
    is_dup[dup] = True
    keep = ~is_dup[events["case_idx"]] | (events["action"] == lifecycle.A["report"])
    at_ok = t_merge <= end_s
    new = dict(
        case_id=ids[dup][at_ok],
        at=t_merge[at_ok],
        action=np.full(at_ok.sum(), lifecycle.A["cancel"], np.int8),
        frm=np.full(at_ok.sum(), lifecycle.S_VERIFY, np.int8),
        to=np.full(at_ok.sum(), lifecycle.S_CANCELLED, np.int8),
        actor=np.full(at_ok.sum(), "CC01", dtype=object),
        dept=np.zeros(at_ok.sum(), np.int64),
        note=np.full(at_ok.sum(), "重复上报，合并处理", dtype=object),
        case_idx=dup[at_ok],
    )
    merged = {k: np.concatenate([events[k][keep], new[k]]) for k in events}
    o = np.lexsort((lifecycle.action_rank(merged["action"]), merged["at"], merged["case_idx"]))
    merged = {k: v[o] for k, v in merged.items()}
    for name in ("registered", "dispatched", "disposed", "verified", "parked", "deadline", "ext_deadline"):
        cols[name][dup] = NEVER
    cols["closed"][dup] = np.where(at_ok, t_merge, NEVER)
    cols["disposal_wh"][dup] = np.nan
    cols["department"][dup] = 0
    cols["verifier"][dup] = None
    cols["satisfaction"][dup] = -1
    for name in ("return_count", "rework_count", "extension_count"):
        cols[name][dup] = 0
    cols["escalated"][dup] = False
    return cols, merged


def _cut(arrays: dict, part: slice) -> dict:
    return {k: v[part] for k, v in arrays.items()}


def _final_state(events, n) -> tuple[np.ndarray, np.ndarray]:
    """Status and updated_at of each case: its last event as of the world's end."""
    last = np.r_[np.flatnonzero(np.diff(events["case_idx"])), len(events["case_idx"]) - 1]
    status = np.empty(n, dtype=np.int8)
    updated = np.empty(n, dtype=np.int64)
    status[events["case_idx"][last]] = events["to"][last]
    updated[events["case_idx"][last]] = events["at"][last]
    return status, updated


def _case_columns(world: World, cases, cols, status, updated) -> dict[str, np.ndarray]:
    """One batch of cases as columns (``CASE_COLUMNS`` order); missing values are None / NaN / NaT."""
    n = len(cols["id"])
    status_keys = np.array(lifecycle.STATUS_KEYS, dtype=object)
    grid, point, cat = cols["grid"], cols["point"], cols["cat"]
    jitter = np.where(cases["farmer"] >= 0, 0.0, 1.0)  # farmers report the very same spot
    # a few metres of jitter, drawn from the batch's first case id: the same rows on every dialect
    wobble = np.random.default_rng(int(cols["id"][0])).random((2, n)) - 0.5 if n else np.zeros((2, 0))
    lat = world.geo.point_lat[grid, point] + jitter * wobble[0] * 1e-4
    lon = world.geo.point_lon[grid, point] + jitter * wobble[1] * 1e-4
    address = [world.geo.point_address[g][p] for g, p in zip(grid.tolist(), point.tolist())]
    minor = [world.categories[c]["minor_name"] for c in cat.tolist()]
    description = [DESCRIPTION[c].format(m=m, a=a) for c, m, a in zip(cols["channel"].tolist(), minor, address)]
    reported = ts_array(cols["t0"])
    day = np.char.replace(np.datetime_as_string(reported.astype("datetime64[D]")), "-", "").tolist()
    ids = cols["id"]
    channel_keys = np.array(CHANNEL_KEYS, dtype=object)
    sat_keys = np.array([None, *lifecycle.SATISFACTION_KEYS], dtype=object)
    dept = cols["department"]
    columns = [
        ids,
        np.array([f"SJ{d}{i:08d}" for d, i in zip(day, ids.tolist())], dtype=object),
        channel_keys[cols["channel"]],
        cat + 1,
        grid + 1,
        world.grid_comm[grid] + 1,
        world.grid_street[grid] + 1,
        np.round(lat, 6),
        np.round(lon, 6),
        np.array(address, dtype=object),
        np.array(description, dtype=object),
        cols["reporter"],
        cols["inspector"],
        cols["verifier"],
        reported,
        ts_array(cols["registered"]),
        ts_array(cols["dispatched"]),
        ts_array(cols["disposed"]),
        ts_array(cols["verified"]),
        ts_array(cols["closed"]),
        ts_array(cols["parked"]),
        ts_array(cols["deadline"]),
        ts_array(cols["ext_deadline"]),
        np.round(cols["disposal_wh"], 3),
        status_keys[status],
        optional(dept, dept > 0),
        cols["return_count"],
        cols["rework_count"],
        cols["extension_count"],
        cols["escalated"].astype(bool),
        sat_keys[cols["satisfaction"] + 1],
        optional(cols["duplicate_of"], cols["duplicate_of"] > 0),
        ts_array(updated),
    ]
    return dict(zip(CASE_COLUMNS, columns))


def _event_columns(events, event_ids) -> dict[str, np.ndarray]:
    status_keys = np.array(lifecycle.STATUS_KEYS, dtype=object)
    action_keys = np.array(lifecycle.ACTION_KEYS, dtype=object)
    frm = events["frm"].astype(int)
    dept = events["dept"]
    columns = [
        event_ids,
        events["case_id"],
        ts_array(events["at"]),
        action_keys[events["action"]],
        np.where(frm >= 0, status_keys[np.maximum(frm, 0)], None),
        status_keys[events["to"]],
        events["actor"],
        optional(dept, dept > 0),
        events["note"],
    ]
    return dict(zip(EVENT_COLUMNS, columns))


def seed_if_empty(
    engine: Engine, preset: str = "demo", seed: int = 1, progress: bool = True, **overrides
) -> dict | None:
    """For the run script: seed ``preset`` when the database has no data yet; returns the summary or None.

    Safe on every start: a database with any data (seeded, imported or real) is left untouched."""
    from seed.load import non_empty_tables

    upgrade(engine)
    if non_empty_tables(engine):
        return None
    return build_world(engine, preset=preset, seed=seed, progress=progress, **overrides)


__all__ = ["build_world", "seed_if_empty", "CASE_COLUMNS", "EVENT_COLUMNS"]
