"""Aggregate queries behind the selective-reporting flags (选择性上报预警, issue 7).

Every function takes the engine and a reporting window ``[start, end)`` and returns a small aggregate DataFrame
(one row per community × channel × difficulty, per verifier, per app reporter ...). The statistics live in
``analytics.flags`` and ``reports.flags`` joins the two (this module never imports analytics); nothing here
reads ``seed_truth``.

Cost rules (as in ``data_access.queries``): every query starts from a range on an indexed time column of the window
(``reported_at``, ``verified_at``), and the public-vs-patrol matching probes ``ix_cases_grid_reported``
(grid_id, reported_at) with a bounded time range, so the cost grows with the window, not with history.

Matching rule (A1, documented in docs/flags.md): a public report (hotline/app/video) and a patrol report are
"the same problem" when they are in the **same grid**, within ``match_metres`` (default 50 m) of each other, have the
**same category** and were reported within
``match_before`` before / ``match_after`` after each other (defaults 7 days each) for complex categories, within
``simple_window`` (default 24 h) for simple ones (they recur daily, so a longer window matches by chance). A public report that the source
system already marked as a duplicate of a patrol case (``duplicate_of``) is matched as well.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import Engine, and_, case, false, func, literal, or_, select
from sqlalchemy.orm import aliased

from core.domain import PUBLIC_CHANNELS
from data_access.engine import fetch_frame
from data_access.schema import Case, Category
from data_access.sql_functions import epoch_seconds, int_floor, shifted

DEFAULT_MATCH_BEFORE = timedelta(days=7)
DEFAULT_MATCH_AFTER = timedelta(days=7)
# Two reports of one problem carry (nearly) the same coordinates; two different problems of the same category in the
# same grid rarely sit within this distance. Requiring it cuts the chance-match rate of the whole-grid rule (~20 % of
# hard public reports on the seeded worlds) to ~1 %. Set it to the geocoding accuracy of the real sources; ``None``
# falls back to the whole grid.
DEFAULT_MATCH_METRES = 50.0
_REF_LAT = 31.0


def _near(o, c, metres: float | None):
    """``o`` within ``metres`` (a square, flat-earth) of ``c``; true when either has no coordinates or metres is None."""
    if metres is None:
        return literal(True)
    dlat = metres / 110_570.0
    dlon = metres / (111_320.0 * math.cos(math.radians(_REF_LAT)))
    return or_(
        o.lat.is_(None),
        c.lat.is_(None),
        o.lon.is_(None),
        c.lon.is_(None),
        and_(o.lat >= c.lat - dlat, o.lat <= c.lat + dlat, o.lon >= c.lon - dlon, o.lon <= c.lon + dlon),
    )


def _real(table=Case):
    """Reports of real problems: everything except 作废 — but a public report the command centre merged into an
    earlier case (作废 with ``duplicate_of`` set) is still a real report of a real problem and is kept."""
    return or_(table.status != "cancelled", table.duplicate_of.is_not(None))


def _period_end_ranges(start: datetime, end: datetime, last_days: int) -> list[tuple[datetime, datetime]]:
    """The last ``last_days`` calendar days of every calendar month (考核周期) overlapping [start, end)."""
    out = []
    month = datetime(start.year, start.month, 1)
    while month < end:
        nxt = datetime(month.year + (month.month == 12), month.month % 12 + 1, 1)
        lo, hi = max(nxt - timedelta(days=last_days), start), min(nxt, end)
        if lo < hi:
            out.append((lo, hi))
        month = nxt
    return out


# --- A / B: channel × difficulty counts -------------------------------------------------------------------------------
def channel_difficulty_counts(
    engine: Engine, start: datetime, end: datetime, *, period_end_days: int = 5, week_start: datetime | None = None
) -> pd.DataFrame:
    """Cases reported in [start, end) per community, channel, difficulty and week.

    Columns: ``street_id``, ``community_id``, ``channel``, ``difficulty`` (simple | complex), ``week`` (0-based
    index of 7-day blocks from ``week_start``, default ``start``), ``n`` (reports; 作废 excluded unless merged as a duplicate), ``n_period_end``
    (reported in the last ``period_end_days`` days of a calendar month), ``n_self`` (自行处置).
    Street totals are sums over its communities.
    """
    origin = week_start or start
    ranges = _period_end_ranges(start, end, period_end_days)
    in_end = or_(*(and_(Case.reported_at >= lo, Case.reported_at < hi) for lo, hi in ranges)) if ranges else false()
    week = int_floor(
        (
            epoch_seconds(Case.reported_at)
            - literal(origin.timestamp() if origin.tzinfo else (origin - datetime(1970, 1, 1)).total_seconds())
        )
        / 604800.0
    ).label("week")
    stmt = (
        select(
            Case.street_id,
            Case.community_id,
            Case.channel,
            Category.difficulty,
            week,
            func.count().label("n"),
            func.sum(case((in_end, 1), else_=0)).label("n_period_end"),
            func.sum(case((Case.status == "self_handled", 1), else_=0)).label("n_self"),
        )
        .join(Category, Category.id == Case.category_id)
        .where(Case.reported_at >= start, Case.reported_at < end, _real())
        .group_by(Case.street_id, Case.community_id, Case.channel, Category.difficulty, week)
    )
    frame = fetch_frame(engine, stmt)
    for col in ("n", "n_period_end", "n_self", "week", "street_id", "community_id"):
        frame[col] = frame[col].fillna(0).astype(int)
    return frame


def category_counts(engine: Engine, start: datetime, end: datetime, difficulty: str = "simple") -> pd.DataFrame:
    """Reports in [start, end) of ``difficulty`` categories per community × category × channel group.

    Columns: ``street_id``, ``community_id``, ``category_id``, ``grp`` (patrol | hotline | public_other: app and
    video), ``n``. Feeds B2 (patrol volume vs what the public channels predict, category by category).
    """
    grp = case(
        (Case.channel == "patrol", literal("patrol")),
        (Case.channel == "hotline", literal("hotline")),
        else_=literal("public_other"),
    ).label("grp")
    stmt = (
        select(Case.street_id, Case.community_id, Case.category_id, grp, func.count().label("n"))
        .join(Category, Category.id == Case.category_id)
        .where(
            Case.reported_at >= start,
            Case.reported_at < end,
            _real(),
            Category.difficulty == difficulty,
            or_(Case.channel == "patrol", Case.channel.in_(PUBLIC_CHANNELS)),
        )
        .group_by(Case.street_id, Case.community_id, Case.category_id, grp)
    )
    frame = fetch_frame(engine, stmt)
    for col in ("n", "street_id", "community_id", "category_id"):
        frame[col] = frame[col].fillna(0).astype(int)
    return frame


# --- A1: matched public-vs-patrol reports -----------------------------------------------------------------------------
def matched_reports(
    engine: Engine,
    start: datetime,
    end: datetime,
    *,
    match_before: timedelta = DEFAULT_MATCH_BEFORE,
    match_after: timedelta = DEFAULT_MATCH_AFTER,
    sides: tuple = ("public",),
    simple_window: timedelta = timedelta(hours=24),
    match_metres: float | None = DEFAULT_MATCH_METRES,
) -> pd.DataFrame:
    """How often reports of one side were also logged by the other side, per community × side × difficulty.

    ``side = 'public'``: public reports (hotline/app/video) in [start, end); ``n_matched`` = a patrol report of the
    same grid and category, within ``match_metres`` and within [t − match_before, t + match_after] exists (or it is
    marked a duplicate of a patrol case); ``n_other_first`` = such a patrol report exists at or before t (patrol
    found it first).
    ``side = 'patrol'``: patrol reports in [start, end); ``n_matched`` = a public report of the same grid and
    category within the same window exists (corroborated); ``n_other_first`` = the public report came first.

    Columns: ``street_id``, ``community_id``, ``side``, ``difficulty``, ``n``, ``n_matched``, ``n_other_first``.
    The flags use only the public side (the default ``sides``); the patrol side costs ~5× more (patrol is most of
    the volume) and simple categories match by chance too often to be informative.
    """
    before, after = int(match_before.total_seconds()), int(match_after.total_seconds())
    frames = []
    for side in sides:
        c = aliased(Case, name="c")
        o = aliased(Case, name="o")
        own = c.channel.in_(PUBLIC_CHANNELS) if side == "public" else c.channel == "patrol"
        other = o.channel == "patrol" if side == "public" else o.channel.in_(PUBLIC_CHANNELS)
        near_c = _near(o, c, match_metres)
        base = [
            o.grid_id == c.grid_id,
            o.category_id == c.category_id,
            other,
            _real(o),
            near_c,
            o.reported_at >= shifted(c.reported_at, -before),
        ]
        # Public side: the patrol report may come up to `after` later. Patrol side: the mirror window.
        hi = after if side == "public" else before
        lo_first = after if side == "patrol" else before
        any_match = select(literal(1)).where(*base, o.reported_at <= shifted(c.reported_at, hi)).exists()
        first = (
            select(literal(1))
            .where(
                o.grid_id == c.grid_id,
                o.category_id == c.category_id,
                other,
                _real(o),
                near_c,
                o.reported_at >= shifted(c.reported_at, -lo_first),
                o.reported_at <= c.reported_at,
            )
            .exists()
        )
        # Simple problems (garbage, parking) recur in the same grid every day: a ±7-day window would match almost
        # every simple report by chance, so simple categories use the short window ``simple_window``.
        sw = int(simple_window.total_seconds())
        near = (
            select(literal(1))
            .where(
                o.grid_id == c.grid_id,
                o.category_id == c.category_id,
                other,
                _real(o),
                near_c,
                o.reported_at >= shifted(c.reported_at, -sw),
                o.reported_at <= shifted(c.reported_at, sw),
            )
            .exists()
        )
        near_first = (
            select(literal(1))
            .where(
                o.grid_id == c.grid_id,
                o.category_id == c.category_id,
                other,
                _real(o),
                near_c,
                o.reported_at >= shifted(c.reported_at, -sw),
                o.reported_at <= c.reported_at,
            )
            .exists()
        )
        hard = Category.difficulty == "complex"
        any_match = or_(and_(hard, any_match), and_(Category.difficulty != "complex", near))
        first = or_(and_(hard, first), and_(Category.difficulty != "complex", near_first))
        if side == "public":
            dup = select(literal(1)).where(o.id == c.duplicate_of, o.channel == "patrol").exists()
            any_match = or_(any_match, dup)
        stmt = (
            select(
                c.street_id,
                c.community_id,
                literal(side).label("side"),
                Category.difficulty,
                func.count().label("n"),
                func.sum(case((any_match, 1), else_=0)).label("n_matched"),
                func.sum(case((first, 1), else_=0)).label("n_other_first"),
            )
            .join(Category, Category.id == c.category_id)
            .where(c.reported_at >= start, c.reported_at < end, own, _real(c))
            .group_by(c.street_id, c.community_id, Category.difficulty)
        )
        frames.append(fetch_frame(engine, stmt))
    frame = pd.concat(frames, ignore_index=True)
    for col in ("n", "n_matched", "n_other_first", "street_id", "community_id"):
        frame[col] = frame[col].fillna(0).astype(int)
    return frame


# --- B3: closures bunched just before the deadline --------------------------------------------------------------------
def deadline_bunching(engine: Engine, start: datetime, end: datetime) -> pd.DataFrame:
    """Cases disposed in [start, end) per community, by the share of the time limit used.

    Columns: ``street_id``, ``community_id``, ``n`` (disposed with a known duration), ``n_80_90`` (used 80–90 % of
    the limit), ``n_90_100`` (used 90–100 %: just in time). Honest work spreads smoothly over these two bands;
    closures pushed out just before the deadline pile into the second.
    """
    ratio = Case.disposal_work_hours / Category.time_limit_work_hours
    stmt = (
        select(
            Case.street_id,
            Case.community_id,
            func.count().label("n"),
            func.sum(case((and_(ratio > 0.8, ratio <= 0.9), 1), else_=0)).label("n_80_90"),
            func.sum(case((and_(ratio > 0.9, ratio <= 1.0), 1), else_=0)).label("n_90_100"),
        )
        .join(Category, Category.id == Case.category_id)
        .where(
            Case.disposed_at >= start,
            Case.disposed_at < end,
            Case.disposal_work_hours.is_not(None),
            Category.time_limit_work_hours > 0,
            Case.status.not_in(("cancelled", "self_handled")),
        )
        .group_by(Case.street_id, Case.community_id)
    )
    frame = fetch_frame(engine, stmt)
    for col in ("n", "n_80_90", "n_90_100"):
        frame[col] = frame[col].fillna(0).astype(int)
    return frame


# --- C: verification integrity ----------------------------------------------------------------------------------------
def verifier_checks(
    engine: Engine,
    start: datetime,
    end: datetime,
    *,
    instant_seconds: int = 300,
    max_speed_kmh: float = 40.0,
    min_jump_km: float = 1.0,
    ref_lat: float = 31.0,
) -> pd.DataFrame:
    """Per verifier (核查员) for checks (``verified_at``) in [start, end).

    Columns: ``verifier_id``, ``n`` (cases checked), ``n_instant`` (checked within ``instant_seconds`` of the
    disposal feedback), ``n_pairs`` (consecutive checks), ``n_impossible`` (consecutive checks more than
    ``min_jump_km`` apart that would need more than ``max_speed_kmh``), ``n_fail`` (failed checks = 返工),
    ``n_checks`` (``n + n_fail``: every failure is a check, then a later pass).
    Distances use a flat-earth approximation at ``ref_lat`` (fine within one district).
    """
    kx, ky = 111.32 * math.cos(math.radians(ref_lat)), 110.57
    t = epoch_seconds(Case.verified_at)
    prev_t = func.lag(t).over(partition_by=Case.verifier_id, order_by=(Case.verified_at, Case.id))
    prev_lat = func.lag(Case.lat).over(partition_by=Case.verifier_id, order_by=(Case.verified_at, Case.id))
    prev_lon = func.lag(Case.lon).over(partition_by=Case.verifier_id, order_by=(Case.verified_at, Case.id))
    inner = (
        select(
            Case.verifier_id.label("verifier_id"),
            t.label("t"),
            prev_t.label("prev_t"),
            Case.lat.label("lat"),
            Case.lon.label("lon"),
            prev_lat.label("prev_lat"),
            prev_lon.label("prev_lon"),
            (t - epoch_seconds(Case.disposed_at)).label("lag_s"),
            Case.rework_count.label("rework"),
        )
        .where(Case.verified_at >= start, Case.verified_at < end, Case.verifier_id.is_not(None))
        .subquery()
    )
    dist2 = ((inner.c.lat - inner.c.prev_lat) * ky) * ((inner.c.lat - inner.c.prev_lat) * ky) + (
        (inner.c.lon - inner.c.prev_lon) * kx
    ) * ((inner.c.lon - inner.c.prev_lon) * kx)
    reach = (inner.c.t - inner.c.prev_t) / 3600.0 * max_speed_kmh
    impossible = and_(inner.c.prev_t.is_not(None), dist2 > min_jump_km * min_jump_km, dist2 > reach * reach)
    stmt = select(
        inner.c.verifier_id,
        func.count().label("n"),
        func.sum(case((and_(inner.c.lag_s.is_not(None), inner.c.lag_s < instant_seconds), 1), else_=0)).label(
            "n_instant"
        ),
        func.sum(case((inner.c.prev_t.is_not(None), 1), else_=0)).label("n_pairs"),
        func.sum(case((impossible, 1), else_=0)).label("n_impossible"),
        func.sum(func.coalesce(inner.c.rework, 0)).label("n_fail"),
    ).group_by(inner.c.verifier_id)
    frame = fetch_frame(engine, stmt)
    for col in ("n", "n_instant", "n_pairs", "n_impossible", "n_fail"):
        frame[col] = frame[col].fillna(0).astype(int)
    frame["n_checks"] = frame["n"] + frame["n_fail"]
    return frame


# --- D: app reporters ---------------------------------------------------------------------------------------------------
def app_reporter_activity(
    engine: Engine, start: datetime, end: datetime, *, spot_metres: float = 50.0, recur_days: int = 7
) -> pd.DataFrame:
    """Per app reporter (市民APP账号) for app reports in [start, end).

    A "spot" is the same category at the same ~``spot_metres`` square. Columns: ``reporter_id``, ``n`` (reports),
    ``n_spots`` (distinct spots), ``max_spot`` (most reports of one spot), ``n_recur`` (reports of a spot the same
    reporter reported before, made within ``recur_days`` after that earlier report was closed, i.e. right after a
    reward would have been paid), ``n_grids`` (distinct grids).
    Reporter ids are personal data: the page shows them only to authorised roles.
    """
    cells = 111_000.0 / spot_metres
    lat_cell = int_floor(Case.lat * cells)
    lon_cell = int_floor(Case.lon * cells * math.cos(math.radians(31.0)))
    part = (Case.reporter_id, Case.category_id, lat_cell, lon_cell)
    prev_closed = func.lag(Case.closed_at).over(partition_by=part, order_by=(Case.reported_at, Case.id))
    inner = (
        select(
            Case.reporter_id.label("reporter_id"),
            Case.grid_id.label("grid_id"),
            Case.category_id.label("category_id"),
            lat_cell.label("lat_cell"),
            lon_cell.label("lon_cell"),
            epoch_seconds(Case.reported_at).label("t"),
            epoch_seconds(prev_closed).label("prev_closed_t"),
        )
        .where(Case.reported_at >= start, Case.reported_at < end, Case.channel == "app", Case.reporter_id.is_not(None))
        .subquery()
    )
    recur = and_(
        inner.c.prev_closed_t.is_not(None),
        inner.c.t >= inner.c.prev_closed_t,
        inner.c.t - inner.c.prev_closed_t <= recur_days * 86400.0,
    )
    spots = (
        select(inner.c.reporter_id, func.count().label("k"), func.sum(case((recur, 1), else_=0)).label("recur"))
        .group_by(inner.c.reporter_id, inner.c.category_id, inner.c.lat_cell, inner.c.lon_cell)
        .subquery()
    )
    per_spot = fetch_frame(
        engine,
        select(
            spots.c.reporter_id,
            func.count().label("n_spots"),
            func.sum(spots.c.k).label("n"),
            func.max(spots.c.k).label("max_spot"),
            func.sum(spots.c.recur).label("n_recur"),
        ).group_by(spots.c.reporter_id),
    )
    grids = fetch_frame(
        engine,
        select(inner.c.reporter_id, func.count(func.distinct(inner.c.grid_id)).label("n_grids")).group_by(
            inner.c.reporter_id
        ),
    )
    frame = per_spot.merge(grids, on="reporter_id", how="left")
    for col in ("n", "n_spots", "max_spot", "n_recur", "n_grids"):
        frame[col] = frame[col].fillna(0).astype(int)
    return frame[["reporter_id", "n", "n_spots", "max_spot", "n_recur", "n_grids"]]


def flag_inputs(engine: Engine, start: datetime, end: datetime, **options) -> dict[str, pd.DataFrame]:
    """All aggregates the flags need for one window, as a dict of small DataFrames: ``counts``, ``matched``,
    ``bunching``, ``verifiers``, ``reporters``, ``categories``. ``options`` may carry ``match_before``/``match_after``
    (timedelta), ``match_metres`` (float or None), ``period_end_days`` (int)."""
    return {
        "counts": channel_difficulty_counts(engine, start, end, period_end_days=options.get("period_end_days", 5)),
        "matched": matched_reports(
            engine,
            start,
            end,
            match_before=options.get("match_before", DEFAULT_MATCH_BEFORE),
            match_after=options.get("match_after", DEFAULT_MATCH_AFTER),
            match_metres=options.get("match_metres", DEFAULT_MATCH_METRES),
        ),
        "bunching": deadline_bunching(engine, start, end),
        "categories": category_counts(engine, start, end),
        "verifiers": verifier_checks(engine, start, end),
        "reporters": app_reporter_activity(engine, start, end),
    }


def match_rule_check(
    engine: Engine,
    start: datetime,
    end: datetime,
    *,
    shift: timedelta = timedelta(days=28),
    match_before: timedelta = DEFAULT_MATCH_BEFORE,
    match_after: timedelta = DEFAULT_MATCH_AFTER,
    match_metres: float | None = DEFAULT_MATCH_METRES,
) -> dict:
    """How well the grid + category + time-window rule finds the same problem, per difficulty.

    ``recall``: among public reports the command centre merged into a patrol case (``duplicate_of``: known to be the
    same problem), the share the rule matches without using the link. ``chance``: the share of public reports the
    rule matches when the patrol window is moved ``shift`` earlier (surely other problems): the false-match rate.
    Returns ``{difficulty: {"recall": ..., "n_linked": ..., "chance": ..., "n": ...}}``.
    """
    out = {}
    for diff, lo, hi in (("complex", match_before, match_after), ("simple", timedelta(hours=24), timedelta(hours=24))):
        c, o, d = aliased(Case, name="c"), aliased(Case, name="o"), aliased(Case, name="d")

        def probe(offset: int, o=o, c=c, lo=lo, hi=hi):
            return (
                select(literal(1))
                .where(
                    o.grid_id == c.grid_id,
                    o.category_id == c.category_id,
                    o.channel == "patrol",
                    _real(o),
                    _near(o, c, match_metres),
                    o.reported_at >= shifted(c.reported_at, -int(lo.total_seconds()) - offset),
                    o.reported_at <= shifted(c.reported_at, int(hi.total_seconds()) - offset),
                )
                .exists()
            )

        linked = select(literal(1)).where(d.id == c.duplicate_of, d.channel == "patrol").exists()
        stmt = (
            select(
                func.count().label("n"),
                func.sum(case((linked, 1), else_=0)).label("n_linked"),
                func.sum(case((and_(linked, probe(0)), 1), else_=0)).label("hit_linked"),
                func.sum(case((probe(int(shift.total_seconds())), 1), else_=0)).label("chance"),
            )
            .select_from(c)
            .join(Category, Category.id == c.category_id)
            .where(
                c.reported_at >= start,
                c.reported_at < end,
                c.channel.in_(PUBLIC_CHANNELS),
                _real(c),
                Category.difficulty == diff,
            )
        )
        row = fetch_frame(engine, stmt).fillna(0).iloc[0]
        n, nl = int(row["n"]), int(row["n_linked"])
        out[diff] = {
            "recall": float(row["hit_linked"]) / nl if nl else None,
            "n_linked": nl,
            "chance": float(row["chance"]) / n if n else None,
            "n": n,
        }
    return out


# --- for the flags page: the cases behind a flag -----------------------------------------------------------------
def flag_cases(
    engine: Engine,
    unit_type: str,
    unit_id,
    family: str,
    start: datetime,
    end: datetime,
    *,
    indicator: str | None = None,
    limit: int = 20,
    instant_seconds: int = 300,
    period_end_days: int = 5,
) -> pd.DataFrame:
    """The cases behind one flag, for the evidence card (at most ``limit`` rows, all inside [start, end)).

    - A (street/community): public-reported hard problems that **no** patrol report matched (same grid and category
      within ``DEFAULT_MATCH_METRES`` and ``DEFAULT_MATCH_BEFORE``/``AFTER``, or merged into a patrol case) — what
      patrol did not log.
    - B: B3 closures in the last 10 % of the time limit; otherwise patrol reports of simple problems in the last
      ``period_end_days`` days of a month (B1) or, for B2, the latest simple patrol reports.
    - C (verifier): the verifier's checks, the fastest after the disposal report first (``lag_min``).
    - D (app account): the account's app reports, grouped by category and place, so repeated spots sit together.

    Columns: ``id``, ``case_no``, ``channel``, ``category``, ``grid_id``, ``reported_at``, ``status`` (+ ``lag_min``
    for C, ``closed_at`` for D). Each query is bounded by the window and the unit (indexed columns).
    """
    limit = max(1, min(int(limit), 200))
    cols = [
        Case.id,
        Case.case_no,
        Case.channel,
        Category.minor_name.label("category"),
        Case.grid_id,
        Case.reported_at,
        Case.status,
    ]
    if unit_type in ("street", "community"):
        key = Case.street_id if unit_type == "street" else Case.community_id
        unit = key == int(float(unit_id))
        if family == "A":
            o = aliased(Case, name="o")
            before, after = int(DEFAULT_MATCH_BEFORE.total_seconds()), int(DEFAULT_MATCH_AFTER.total_seconds())
            patrol_match = (
                select(literal(1))
                .where(
                    o.grid_id == Case.grid_id,
                    o.category_id == Case.category_id,
                    o.channel == "patrol",
                    _real(o),
                    _near(o, Case, DEFAULT_MATCH_METRES),
                    o.reported_at >= shifted(Case.reported_at, -before),
                    o.reported_at <= shifted(Case.reported_at, after),
                )
                .exists()
            )
            merged = select(literal(1)).where(o.id == Case.duplicate_of, o.channel == "patrol").exists()
            stmt = (
                select(*cols)
                .join(Category, Category.id == Case.category_id)
                .where(
                    Case.reported_at >= start,
                    Case.reported_at < end,
                    unit,
                    _real(),
                    Case.channel.in_(PUBLIC_CHANNELS),
                    Category.difficulty == "complex",
                    ~patrol_match,
                    ~merged,
                )
                .order_by(Case.reported_at.desc())
                .limit(limit)
            )
        elif family == "B" and indicator == "B3":
            ratio = Case.disposal_work_hours / Category.time_limit_work_hours
            stmt = (
                select(*cols, Case.disposed_at)
                .join(Category, Category.id == Case.category_id)
                .where(
                    Case.disposed_at >= start,
                    Case.disposed_at < end,
                    unit,
                    ratio > 0.9,
                    ratio <= 1.0,
                    Category.time_limit_work_hours > 0,
                    Case.status.not_in(("cancelled", "self_handled")),
                )
                .order_by(Case.disposed_at.desc())
                .limit(limit)
            )
        elif family == "B":
            where = [
                Case.reported_at >= start,
                Case.reported_at < end,
                unit,
                _real(),
                Case.channel == "patrol",
                Category.difficulty == "simple",
            ]
            if indicator != "B2":
                ranges = _period_end_ranges(start, end, period_end_days)
                where.append(
                    or_(*(and_(Case.reported_at >= lo, Case.reported_at < hi) for lo, hi in ranges))
                    if ranges
                    else false()
                )
            stmt = (
                select(*cols)
                .join(Category, Category.id == Case.category_id)
                .where(*where)
                .order_by(Case.reported_at.desc())
                .limit(limit)
            )
        else:
            raise ValueError(f"family {family!r} does not apply to {unit_type}")
    elif unit_type == "verifier" and family == "C":
        lag = ((epoch_seconds(Case.verified_at) - epoch_seconds(Case.disposed_at)) / 60.0).label("lag_min")
        stmt = (
            select(*cols, Case.verified_at, lag)
            .join(Category, Category.id == Case.category_id)
            .where(
                Case.verified_at >= start,
                Case.verified_at < end,
                Case.verifier_id == str(unit_id),
                Case.disposed_at.is_not(None),
            )
            .order_by(lag, Case.verified_at)
            .limit(limit)
        )
    elif unit_type == "app_reporter" and family == "D":
        stmt = (
            select(*cols, Case.closed_at, Case.lat, Case.lon)
            .join(Category, Category.id == Case.category_id)
            .where(
                Case.reported_at >= start,
                Case.reported_at < end,
                Case.channel == "app",
                Case.reporter_id == str(unit_id),
            )
            .order_by(Case.category_id, Case.grid_id, Case.reported_at)
            .limit(limit)
        )
    else:
        raise ValueError(f"family {family!r} does not apply to {unit_type}")
    return fetch_frame(engine, stmt, row_cap=limit)
