"""周例会: the screen model of the weekly coordination meeting — what the page shows and the meeting pack prints.

One meeting week runs Monday 00:00 to the next Monday 00:00 (``core.periods``), named by its Monday. The page caches
the pieces separately (``headline``, ``agenda_base``, ``hotspots``: a few queries each; the action items are read
on every render because a write must show at once) and combines them with ``agenda`` — the ONE agenda rule, which
``build`` (the whole model, what ``ui.meeting_pack`` prints) uses too, so the page and the pack list the same
departments in the same order.

Also here: the week options of the picker, the flags section (from the flags bundle the page already has), the
action items of the week with their history worded as codes, and the worker's carry-over job
(``carry_over_action_items``: a page never writes except on a viewer's explicit action). The models hold frames,
numbers and codes only; pages and the pack word them from their catalogs (``weekly.po``, ``pack.po``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
from sqlalchemy import Engine

from analytics import indicators
from core.periods import last_complete_week, monday_of, week_starts_between
from data_access import action_items
from data_access import weekly_queries as wq
from data_access.action_items import ActionItemError
from data_access.queries import data_time_range
from reports.flags import active_flags

__all__ = [
    "ActionItemError",
    "WeeklyParams",
    "WeekOptions",
    "Headline",
    "AgendaBase",
    "Agenda",
    "Hotspots",
    "WeekItems",
    "FlagsSection",
    "WeeklyModel",
    "week_options",
    "headline",
    "headline_changes",
    "agenda_base",
    "agenda",
    "agenda_table",
    "hotspots",
    "heat_grid",
    "week_items",
    "item_history",
    "flags_shown",
    "flags_section",
    "build",
    "create_item",
    "mark_done",
    "carry_over_action_items",
]

HEADLINE_KEYS = ("new", "closed", "overdue", "ontime_rate", "satisfaction_rate", "escalated")
RATE_KEYS = ("ontime_rate", "satisfaction_rate")
LOWER_IS_BETTER = ("overdue", "escalated")  # a rise is bad news (the delta is coloured the other way)
REPEAT_CHOICES = (7, 14, 30)  # 重复发生: days after a closure
DEFAULT_REPEAT_DAYS = wq.DEFAULT_REPEAT_DAYS
EVENT_ACTIONS = ("return", "check_fail", "escalate")  # 回退, 返工 (核查不通过), 提交区级 (大循环)
AGENDA_COUNTS = ("overdue", "returned", "reworked", "escalated", "repeats", "open_items")
# The agenda's order: most overdue first, then open action items, returns, repeats; ties by department code.
AGENDA_ORDER = (("overdue", False), ("open_items", False), ("returned", False), ("repeats", False), ("code", True))
LIST_LIMIT = 2000  # rows of each case list read per week
MAX_WEEKS = 26  # weeks the picker offers
FLAG_STATES = ("other_week", "pending", "none", "listed")
WHO_CODES = {action_items.WHO_MEETING: "meeting", action_items.WHO_SYSTEM: "system", "system": "system"}
MAX_TEXT, MAX_NOTE, MAX_WHO, MAX_DUE_DAYS = (
    action_items.MAX_TEXT,
    action_items.MAX_NOTE,
    action_items.MAX_WHO,
    action_items.MAX_DUE_DAYS,
)


@dataclass(frozen=True)
class WeeklyParams:
    """What the viewer chose: the meeting week (its Monday) and N of 重复发生."""

    week: date
    repeat_days: int = DEFAULT_REPEAT_DAYS

    def __post_init__(self):
        if self.week.weekday() != 0:
            raise ValueError(f"{self.week} is not a Monday")


# --- the week picker ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WeekOptions:
    """Mondays the picker offers (newest first; empty without data), the default one (the last complete week of
    the data, else the newest) and the Monday of the running week (labelled as running)."""

    options: tuple[date, ...]
    default: date | None
    running: date


def week_options(engine: Engine, *, now: datetime, max_weeks: int = MAX_WEEKS) -> WeekOptions:
    lo, hi = data_time_range(engine)
    if lo is None:
        return WeekOptions((), None, monday_of(now))
    options = tuple(week_starts_between(lo, hi, now, max_weeks))
    default = last_complete_week(min(hi, now))
    return WeekOptions(options, default if default in options else options[0], monday_of(now))


# --- headline -------------------------------------------------------------------------------------------------------
@dataclass
class Headline:
    """``weeks``: one row per week, the chosen one last (``weekly_queries.weekly_headline``); ``changes``: one row
    per ``HEADLINE_KEYS`` key (``headline_changes``)."""

    weeks: pd.DataFrame
    changes: pd.DataFrame


def headline_changes(weeks: pd.DataFrame) -> pd.DataFrame:
    """From ``weekly_headline``: one row per headline key with ``value`` (the last week), ``previous`` (the week
    before), ``avg4`` (the weeks before the last one that have data: counts averaged, rates pooled as
    Σ numerators / Σ denominators so a quiet week does not weigh as much as a busy one), ``delta_prev`` and
    ``delta_avg`` (value − previous / avg4). Missing comparisons are NaN."""
    cur, before = weeks.iloc[-1], weeks.iloc[:-1]
    prev = before.iloc[-1] if len(before) and bool(before.iloc[-1]["has_data"]) else None
    base = before[before["has_data"]]
    rows = []
    for key in HEADLINE_KEYS:
        value = float(cur[key])
        previous = float(prev[key]) if prev is not None else math.nan
        if base.empty:
            avg = math.nan
        elif key == "ontime_rate":
            avg = base["ontime"].sum() / base["due"].sum() if base["due"].sum() else math.nan
        elif key == "satisfaction_rate":
            avg = base["satisfied_points"].sum() / base["answered"].sum() if base["answered"].sum() else math.nan
        else:
            avg = float(base[key].mean())
        rows.append(
            {
                "key": key,
                "value": value,
                "previous": previous,
                "avg4": avg,
                "delta_prev": value - previous,
                "delta_avg": value - avg,
            }
        )
    return pd.DataFrame(rows)


def headline(engine: Engine, params: WeeklyParams, *, now: datetime) -> Headline:
    weeks = wq.weekly_headline(engine, params.week, now=now)
    weeks["satisfied_points"] = indicators.satisfaction_points(weeks["satisfied"], weeks["basic"])
    weeks["satisfaction_rate"] = indicators.satisfaction_rate(weeks["satisfied"], weeks["basic"], weeks["answered"])
    return Headline(weeks, headline_changes(weeks))


# --- the department agenda ------------------------------------------------------------------------------------------
@dataclass
class AgendaBase:
    """Everything the agenda needs except the action items (which change on every write): the week's department
    counts (``department_week``), the case lists, the repeats and every department's names."""

    week_departments: pd.DataFrame
    overdue: pd.DataFrame
    events: pd.DataFrame
    repeats: pd.DataFrame
    names: pd.DataFrame


@dataclass
class Agenda:
    """THE agenda: ``departments`` in meeting order (``agenda_table``), the case lists of the week, and ``names``
    (every department: ``department_id``, ``code``, ``name``, ``name_en``)."""

    departments: pd.DataFrame
    overdue: pd.DataFrame
    events: pd.DataFrame
    repeats: pd.DataFrame
    repeat_days: int
    names: pd.DataFrame

    def cases_of(self, department_id: int) -> dict[str, pd.DataFrame]:
        """The case lists one department answers for: ``overdue``, ``events`` (回退/返工/提交区级), ``repeats``."""

        def mine(frame):
            return frame[frame["department_id"] == department_id] if len(frame) else frame

        return {"overdue": mine(self.overdue), "events": mine(self.events), "repeats": mine(self.repeats)}


def agenda_base(engine: Engine, params: WeeklyParams, *, now: datetime) -> AgendaBase:
    return AgendaBase(
        week_departments=wq.department_week(engine, params.week, now=now),
        overdue=wq.overdue_cases(engine, params.week, now=now, limit=LIST_LIMIT),
        events=wq.event_cases(engine, params.week, EVENT_ACTIONS, limit=LIST_LIMIT),
        repeats=wq.repeat_problems(engine, params.week, repeat_days=params.repeat_days),
        names=wq.department_names(engine),
    )


def _count_by_department(frame: pd.DataFrame) -> pd.Series:
    """Rows per department id (rows without a department are nobody's)."""
    if frame.empty:
        return pd.Series(dtype=int)
    return frame["department_id"].dropna().astype(int).value_counts()


def agenda_table(
    week_departments: pd.DataFrame, repeats: pd.DataFrame, items: pd.DataFrame, names: pd.DataFrame
) -> pd.DataFrame:
    """The departments on the meeting's agenda — anything overdue, returned, reworked, escalated, repeated, or an
    open action item — one row each with ``department_id``, ``code``, ``name``, ``name_en``, the week's counts
    (``disposed``, ``ontime``, ``overdue``, ``due``, ``ontime_rate``, ``returned``, ``reworked``, ``escalated``),
    ``repeats`` and ``open_items``, in meeting order (``AGENDA_ORDER``)."""
    repeat_n = _count_by_department(repeats)
    open_n = _count_by_department(items[items["status_in_week"] == "open"] if len(items) else items)
    ids = set(week_departments["department_id"].astype(int)) | set(repeat_n.index) | set(open_n.index)
    table = names[names["department_id"].isin(ids)].merge(week_departments, on="department_id", how="left")
    for col in ("disposed", "ontime", "overdue", "returned", "reworked", "escalated", "due"):
        table[col] = pd.to_numeric(table[col]).fillna(0).astype(int)
    table["repeats"] = table["department_id"].map(repeat_n).fillna(0).astype(int)
    table["open_items"] = table["department_id"].map(open_n).fillna(0).astype(int)
    table = table[table[list(AGENDA_COUNTS)].sum(axis=1) > 0]
    by, ascending = zip(*AGENDA_ORDER)
    return table.sort_values(list(by), ascending=list(ascending), kind="stable", ignore_index=True)


def agenda(base: AgendaBase, items: pd.DataFrame, repeat_days: int) -> Agenda:
    """The agenda of the week from its base and the week's action items (``WeekItems.items``)."""
    return Agenda(
        agenda_table(base.week_departments, base.repeats, items, base.names),
        base.overdue,
        base.events,
        base.repeats,
        repeat_days,
        base.names,
    )


# --- hotspots -------------------------------------------------------------------------------------------------------
@dataclass
class Hotspots:
    """``places``: 高发点位 (``top_places``); ``heat``: reports per major category × weekday × hour; ``majors``: the
    major categories of ``heat``, most reports first (``major_code``, ``major_name``, ``major_name_en``, ``n``)."""

    places: pd.DataFrame
    heat: pd.DataFrame
    majors: pd.DataFrame


def hotspots(engine: Engine, params: WeeklyParams, *, now: datetime) -> Hotspots:
    heat = wq.weekday_hour_counts(engine, params.week)
    majors = (
        heat.groupby(["major_code", "major_name", "major_name_en"], as_index=False, dropna=False)["n"]
        .sum()
        .sort_values(["n", "major_code"], ascending=[False, True], ignore_index=True)
        if len(heat)
        else pd.DataFrame(columns=["major_code", "major_name", "major_name_en", "n"])
    )
    return Hotspots(wq.top_places(engine, params.week), heat, majors)


def heat_grid(heat: pd.DataFrame, major_code: str | None = None) -> pd.DataFrame:
    """Reports per weekday (rows 0 = Monday … 6) × hour (columns 0 … 23) of one major category (all when None)."""
    shown = heat if major_code is None else heat[heat["major_code"] == major_code]
    return (
        shown.groupby(["weekday", "hour"])["n"]
        .sum()
        .unstack(fill_value=0)
        .reindex(index=range(7), columns=range(24), fill_value=0)
        .astype(int)
    )


# --- action items ---------------------------------------------------------------------------------------------------
@dataclass
class WeekItems:
    """The action items of the week (``action_items.items_for_week`` plus ``linked_case_nos``, the case numbers
    of ``linked_case_ids``): open ones first (new or carried), then those closed during or after the week."""

    items: pd.DataFrame

    @property
    def open(self) -> pd.DataFrame:
        return self.items[self.items["status_in_week"] == "open"] if len(self.items) else self.items


def week_items(engine: Engine, params: WeeklyParams) -> WeekItems:
    items = action_items.items_for_week(engine, params.week)
    if items.empty:
        return WeekItems(items.assign(linked_case_nos=[]))
    numbers = action_items.case_numbers(engine, [i for ids in items["linked_case_ids"] for i in ids])
    return WeekItems(
        items.assign(linked_case_nos=items["linked_case_ids"].map(lambda ids: [numbers.get(i, str(i)) for i in ids]))
    )


def _note(action: str, note) -> tuple[str | None, dict]:
    """A history note as (key, values): ``carried``; ``edited_text`` / ``edited_due`` / ``edited_both`` with
    ``text`` / ``due``; (None, {}) for the user's own text (and for rows stored before notes were codes)."""
    if action == "carry":
        return "carried", {}
    if action == "edit" and isinstance(note, str) and note.startswith("{"):
        try:
            changed = json.loads(note)
        except ValueError:
            return None, {}
        kind = "both" if {"text", "due_date"} <= changed.keys() else "text" if "text" in changed else "due"
        return f"edited_{kind}", {"text": changed.get("text", ""), "due": changed.get("due_date", "")}
    return None, {}


def item_history(engine: Engine, item_ids: list[int]) -> pd.DataFrame:
    """History rows of the items (``item_id``, ``at``, ``week``, ``action``, ``note``, ``who``, oldest first) plus
    ``note_key`` / ``note_args`` (a note stored as a code: worded by the screen; None = show ``note``) and
    ``who_key`` (``meeting`` / ``system`` for the codes the application records; None = show ``who``)."""
    hist = action_items.history(engine, [int(i) for i in item_ids])
    notes = [_note(a, n) for a, n in zip(hist["action"], hist["note"])]
    return hist.assign(
        note_key=[k for k, _ in notes], note_args=[v for _, v in notes], who_key=hist["who"].map(WHO_CODES)
    )


def create_item(writer: Engine, **fields) -> int:
    """A viewer's new action item (``action_items.create_item``; raises ``ActionItemError``)."""
    return action_items.create_item(writer, **fields)


def mark_done(writer: Engine, item_id: int, **fields) -> None:
    """A viewer closes an action item (``action_items.mark_done``; raises ``ActionItemError``)."""
    action_items.mark_done(writer, item_id, **fields)


def carry_over_action_items(engine: Engine, now: datetime) -> dict:
    """The worker's job (daily, and at start): note once per item and week that a week's meeting shows an item
    still open from an earlier week (history ``carry``) — for the running week and the last complete one, the
    weeks a meeting looks at. Idempotent: carrying a week again adds nothing. ``engine`` must be able to write."""
    weeks = (last_complete_week(now), monday_of(now))
    added = {week.isoformat(): action_items.record_carry(engine, week, now=now) for week in weeks}
    return {"carried": sum(added.values()), "weeks": added}


# --- new flags of the week ------------------------------------------------------------------------------------------
@dataclass
class FlagsSection:
    """``state``: ``other_week`` (flags are computed for the latest period only: not shown for older weeks),
    ``pending`` (not computed yet), ``none`` or ``listed``; ``flags``: the new red/amber flags (``unit_type``,
    ``unit_id``, ``unit`` = ``unit_type:unit_id`` as action items refer to it, ``family``, ``level``), strongest
    first."""

    state: str
    flags: pd.DataFrame


FLAG_COLUMNS = ["unit_type", "unit_id", "unit", "family", "level"]


def flags_shown(week: date, now: datetime) -> bool:
    """Whether the week is recent enough for the current flags (the last complete week or the running one)."""
    return week >= last_complete_week(now)


def flags_section(params: WeeklyParams, flags: pd.DataFrame | None, *, now: datetime) -> FlagsSection:
    """The flags that are new in the current period (active — ``reports.flags.active_flags`` — and not already
    flagged in the earlier periods) from the flag table of the bundle (``FlagReport.flags``; None = not ready)."""
    empty = pd.DataFrame(columns=FLAG_COLUMNS)
    if not flags_shown(params.week, now):
        return FlagsSection("other_week", empty)
    if flags is None:
        return FlagsSection("pending", empty)
    if flags.empty or "level" not in flags:
        return FlagsSection("none", empty)
    new = active_flags(flags)
    if "persistent" in new:
        new = new[~new["persistent"].fillna(False).astype(bool)]
    if new.empty:
        return FlagsSection("none", empty)
    out = new.assign(unit=new["unit_type"].astype(str) + ":" + new["unit_id"].astype(str))
    return FlagsSection("listed", out[FLAG_COLUMNS].reset_index(drop=True))


# --- the whole screen (the meeting pack) ----------------------------------------------------------------------------
@dataclass
class WeeklyModel:
    """Everything the meeting shows for one week: what ``ui.meeting_pack`` prints."""

    params: WeeklyParams
    generated_at: datetime
    headline: Headline
    agenda: Agenda
    hotspots: Hotspots
    items: WeekItems
    flags: FlagsSection


def build(engine: Engine, params: WeeklyParams, *, now: datetime, flags: pd.DataFrame | None = None) -> WeeklyModel:
    """The weekly model; ``flags`` is the flag table of the current bundle (None: not computed yet)."""
    items = week_items(engine, params)
    return WeeklyModel(
        params=params,
        generated_at=now,
        headline=headline(engine, params, now=now),
        agenda=agenda(agenda_base(engine, params, now=now), items.items, params.repeat_days),
        hotspots=hotspots(engine, params, now=now),
        items=items,
        flags=flags_section(params, flags, now=now),
    )
