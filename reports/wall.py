"""态势大屏 screen model: the KPI strip, the district map's data, the worst grids, the channel mix, the 30-day trend
and the department ranking (docs/architecture.md).

Four entry points, one per panel group, because they refresh at different rates and fail alone: the page caches
each (``ui.live``), so N screens cost one query set per refresh interval. The flags panel reads the stored results
of the flags job (``ui.flags_cache``), not this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import Engine

from analytics import indicators
from core import settings
from data_access import queries
from reports import departments

RATE_DAYS = 30  # KPI rates, channel mix, trend and department ranking: the last 30 days
WORST_GRIDS = 10
RANKED_SHOWN = 5  # the ranking shows the best and the worst five departments
RANKING_DRAWS = 200  # bootstrap draws of the ranking (the departments page uses more; the wall shows no intervals)


@dataclass(frozen=True)
class WallParams:
    street_id: int | None = None  # None: the whole district


@dataclass(frozen=True)
class Kpi:
    """One KPI tile: ``key`` names the figure (and is the catalog key of its title), ``previous`` is the value it is
    compared with (``versus`` says which: vs_yesterday, vs_day_ago, vs_week_ago), ``tone`` whether the change is
    good news (good, bad, neutral). Counts are whole numbers; rates (``is_rate``) are fractions or None."""

    key: str
    value: float | int | None
    previous: float | int | None
    versus: str
    is_rate: bool
    tone: str

    @property
    def change(self) -> float | int | None:
        return None if self.value is None or self.previous is None else self.value - self.previous


@dataclass(frozen=True)
class WallMap:
    """The map and the worst-grids table: ``backlog`` per grid with open cases (grid_id, open, overdue), ``points``
    reported in the last 24 h (lat, lon, status, reported_at …), ``worst`` the grids with most overdue then open
    cases (grid_id, grid, street, overdue, open)."""

    backlog: pd.DataFrame
    points: pd.DataFrame
    worst: pd.DataFrame


@dataclass(frozen=True)
class SidePanels:
    """``channels``: cases reported per channel code (channel, n, share), largest first; ``trend``: new and closed
    per day (day, new, closed)."""

    channels: pd.DataFrame
    trend: pd.DataFrame


def tone(change: float | None, good_when_up: bool | None) -> str:
    """Whether a change is good news: good, bad, or neutral (no change, nothing to compare, or ``good_when_up`` None:
    a change that is neither)."""
    if change is None or change == 0 or good_when_up is None:
        return "neutral"
    return "good" if (change > 0) == good_when_up else "bad"


def _kpi(key: str, value, previous, versus: str, *, is_rate: bool, good_when_up: bool | None) -> Kpi:
    change = None if value is None or previous is None else value - previous
    return Kpi(key, value, previous, versus, is_rate, tone(change, good_when_up))


def _rates(engine: Engine, end: datetime, overdue: int, street_id: int | None) -> dict[str, float | None]:
    """按期处置率, 结案率 and 满意率 of the 30 days before ``end``. 结案率 = closed / (disposed + overdue), with the
    overdue stock of now (there is no history of it) for both the current and the previous week's rate."""
    start = end - timedelta(days=RATE_DAYS)
    disposal = queries.disposal_counts(engine, start, end, by=None, street_id=street_id).iloc[0]
    disposed, closed = int(disposal["disposed"]), queries.count_closed(engine, start, end, street_id)
    due = disposed + overdue
    return {
        "ontime": int(disposal["ontime"]) / disposed if disposed else None,
        "closure": closed / due if due else None,
        "satisfaction": _satisfaction(queries.satisfaction_counts(engine, start, end, street_id)),
    }


def _satisfaction(counts: dict) -> float | None:
    """满意率 (analytics.indicators), None when nobody answered."""
    value = indicators.satisfaction_rate(counts["satisfied"], counts["basic"], counts["answered"])
    return None if math.isnan(value) else value


def kpis(engine: Engine, params: WallParams, *, now: datetime) -> tuple[Kpi, ...]:
    """The KPI strip, in order: new today (vs the same time yesterday), open and overdue backlog (vs 24 h ago),
    on-time disposal, closure and satisfaction rates of 30 days (vs the 30 days to a week ago)."""
    street_id = params.street_id
    today, day_ago, week_ago = queries.now_floor(now), now - timedelta(days=1), now - timedelta(days=7)
    totals = queries.backlog_totals(engine, now, street_id)
    before = queries.backlog_at(engine, day_ago, now, street_id)
    rates = _rates(engine, now, totals["overdue"], street_id)
    rates_before = _rates(engine, week_ago, totals["overdue"], street_id)
    new_today = queries.count_reported(engine, today, now, street_id)
    new_yesterday = queries.count_reported(engine, today - timedelta(days=1), day_ago, street_id)
    return (
        _kpi("new_today", new_today, new_yesterday, "vs_yesterday", is_rate=False, good_when_up=None),
        *(
            _kpi(key, totals[key], before[key], "vs_day_ago", is_rate=False, good_when_up=False)
            for key in ("open", "overdue")
        ),
        *(
            _kpi(key, rates[key], rates_before[key], "vs_week_ago", is_rate=True, good_when_up=True)
            for key in ("ontime", "closure", "satisfaction")
        ),
    )


def map_panel(engine: Engine, params: WallParams, *, now: datetime) -> WallMap:
    """Per-grid open/overdue counts, the last 24 h of cases as points, and the worst grids with their names."""
    backlog = queries.open_backlog_by_grid(engine, now, params.street_id)
    points = queries.recent_case_points(
        engine, now - timedelta(hours=24), params.street_id, limit=settings.get("map_max_points")
    )
    top = backlog.sort_values(["overdue", "open"], ascending=False).head(WORST_GRIDS)
    names = queries.grid_labels(engine, grid_ids=top["grid_id"].tolist())
    worst = top.merge(names.rename(columns={"id": "grid_id", "name": "grid"}), on="grid_id")
    return WallMap(
        backlog=backlog,
        points=points,
        worst=worst[["grid_id", "grid", "street", "overdue", "open"]].reset_index(drop=True),
    )


def side_panels(engine: Engine, params: WallParams, *, now: datetime) -> SidePanels:
    """Channel mix and new vs closed per day over the last 30 days (the trend's days: the 30 whole days up to
    today, today included)."""
    start = now - timedelta(days=RATE_DAYS)
    return SidePanels(
        channels=queries.channel_mix(engine, start, now, params.street_id),
        trend=queries.daily_new_and_closed(engine, queries.now_floor(start) + timedelta(days=1), now, params.street_id),
    )


def department_ranking(engine: Engine, params: WallParams, *, now: datetime) -> pd.DataFrame:
    """The departments page's own case-mix-adjusted ranking (O/E of on-time disposal, 30 days), cut to the best and
    the worst ``RANKED_SHOWN`` ranked departments, best first: department_id, name, name_en, oe."""
    card = departments.scorecard(
        engine,
        now - timedelta(days=RATE_DAYS),
        now,
        now=now,
        street_id=params.street_id,
        with_previous=False,
        draws=RANKING_DRAWS,
    )
    ranked = card.table[card.table["oe_ranked"]][["department_id", "name", "name_en", "oe"]]
    shown = pd.concat([ranked.head(RANKED_SHOWN), ranked.tail(RANKED_SHOWN)]).drop_duplicates("department_id")
    return shown.reset_index(drop=True)
