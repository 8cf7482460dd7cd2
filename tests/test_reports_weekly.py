"""The weekly screen model (reports.weekly) on both dialects over a tiny hand-made world with known answers: week
options, headline comparisons, THE agenda (the page's path and the pack's path order departments identically),
hotspots, the flags section, action items with coded history, and the idempotent carry-over job."""

from __future__ import annotations

import io
import math
from datetime import date, datetime, timedelta

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import func, select

from core.i18n import translate
from data_access import action_items
from data_access.schema import ActionItemHistory
from reports import weekly as rw
from tests.builders import add_case, make_reference
from ui import meeting_pack

WEEK = date(2026, 3, 2)  # a Monday
NOW = datetime(2026, 3, 20, 12, 0)  # two weeks later: WEEK is neither running nor the last complete week
LAT, LON = 31.0, 121.2
CG, LH, SW = 1, 2, 3  # departments by code: cg < lh < sw


@pytest.fixture
def world(writer):
    """lh: one case overdue at the week's end and an open action item; sw: one return and one repeat (its closure
    came back); cg: one return. Old page order (ties by id) was lh, cg, sw; the agenda's is lh, sw, cg."""
    make_reference(writer)
    add_case(
        writer,
        grid_id=22,
        reported_at=datetime(2026, 2, 20, 9),
        department_id=LH,
        deadline_at=datetime(2026, 2, 25, 9),
        address="丁路4号",
    )
    add_case(
        writer,
        grid_id=12,
        reported_at=datetime(2026, 3, 3, 10),
        department_id=CG,
        address="乙路2号",
        events=[
            dict(
                at=datetime(2026, 3, 3, 11),
                action="return",
                from_status="in_disposal",
                to_status="pending_dispatch",
                department_id=CG,
                note="非本单位职责",
            )
        ],
    )
    add_case(
        writer,
        grid_id=21,
        reported_at=datetime(2026, 3, 4, 10),
        department_id=SW,
        address="丙路3号",
        events=[
            dict(
                at=datetime(2026, 3, 4, 11),
                action="return",
                from_status="in_disposal",
                to_status="pending_dispatch",
                department_id=SW,
                note=None,
            )
        ],
    )
    # sw closed a case on Tuesday; the same problem came back at the same spot on Thursday (a repeat)
    add_case(
        writer,
        grid_id=11,
        reported_at=datetime(2026, 3, 2, 9),
        status="closed",
        lat=LAT,
        lon=LON,
        department_id=SW,
        disposed_at=datetime(2026, 3, 3, 9),
        deadline_at=datetime(2026, 3, 3, 12),
        closed_at=datetime(2026, 3, 3, 10),
        address="甲路1号",
    )
    add_case(
        writer, grid_id=11, reported_at=datetime(2026, 3, 5, 14), lat=LAT, lon=LON, address="甲路1号", category_id=1
    )
    item = action_items.create_item(
        writer,
        department_id=LH,
        text="清理丁路堆物",
        due_date=date(2026, 3, 13),
        week=WEEK,
        now=datetime(2026, 3, 4, 9),
    )
    return {"item": item}


def test_week_options(world, reader):
    weeks = rw.week_options(reader, now=NOW)
    # data from 20 Feb to Thursday 5 Mar; now is later: the picker ends with the week of the latest data, and
    # the default is the last week complete in the data (the one before it)
    assert weeks.options == (WEEK, date(2026, 2, 23), date(2026, 2, 16))
    assert weeks.default == date(2026, 2, 23) and weeks.running == date(2026, 3, 16)
    assert rw.week_options(reader, now=NOW, max_weeks=2).options == (WEEK, date(2026, 2, 23))


def test_week_options_without_data(db_url, reader):
    weeks = rw.week_options(reader, now=NOW)
    assert weeks.options == () and weeks.default is None


def test_params_need_a_monday():
    with pytest.raises(ValueError):
        rw.WeeklyParams(date(2026, 3, 3))


def test_headline_changes(world, reader):
    head = rw.headline(reader, rw.WeeklyParams(WEEK), now=NOW)
    assert list(head.weeks["week"])[-1] == WEEK and len(head.weeks) == 5
    changes = head.changes.set_index("key")
    assert list(changes.index) == list(rw.HEADLINE_KEYS)
    assert changes.loc["new", "value"] == 4
    assert math.isnan(changes.loc["new", "previous"])  # the week before has no data
    # the only earlier week with data is 16 Feb (one report): the average leaves out the empty weeks before
    assert changes.loc["new", "avg4"] == pytest.approx(1.0) and changes.loc["new", "delta_avg"] == pytest.approx(3.0)
    assert changes.loc["ontime_rate", "value"] == pytest.approx(0.5)  # 1 on time / (1 disposed + 1 overdue)
    assert math.isnan(changes.loc["satisfaction_rate", "avg4"])  # nobody answered a survey


def test_headline_changes_pool_rates():
    weeks = pd.DataFrame(
        {
            "week": [date(2026, 2, 9), date(2026, 2, 16), WEEK],
            "has_data": [True, True, True],
            "new": [10, 20, 30],
            "closed": [0, 0, 0],
            "overdue": [0, 0, 0],
            "escalated": [0, 0, 0],
            "ontime": [1, 9, 5],
            "due": [1, 19, 10],
            "ontime_rate": [1.0, 9 / 19, 0.5],
            "satisfied_points": [0, 0, 0],
            "answered": [0, 0, 0],
            "satisfaction_rate": [math.nan] * 3,
        }
    )
    changes = rw.headline_changes(weeks).set_index("key")
    assert changes.loc["ontime_rate", "avg4"] == pytest.approx(10 / 20)  # pooled, not the mean of 1.0 and 0.47
    assert changes.loc["new", "avg4"] == 15 and changes.loc["new", "delta_prev"] == 10


def _page_agenda(reader, params) -> rw.Agenda:
    """What pages/weekly.py does: the cached base, the items read on every render, then THE agenda."""
    base = rw.agenda_base(reader, params, now=NOW)
    return rw.agenda(base, rw.week_items(reader, params).items, params.repeat_days)


def test_agenda_order_and_counts(world, reader):
    agenda = _page_agenda(reader, rw.WeeklyParams(WEEK))
    d = agenda.departments
    assert list(d["department_id"]) == [LH, SW, CG]
    assert d.set_index("department_id").loc[LH, ["overdue", "open_items"]].tolist() == [1, 1]
    assert d.set_index("department_id").loc[SW, ["returned", "repeats", "disposed"]].tolist() == [1, 1, 1]
    assert set(agenda.cases_of(LH)["overdue"]["address"]) == {"丁路4号"}
    assert agenda.cases_of(CG)["repeats"].empty and len(agenda.cases_of(SW)["repeats"]) == 1
    assert len(agenda.names) == 3


def test_page_and_pack_order_departments_identically(world, reader):
    params = rw.WeeklyParams(WEEK)
    page = _page_agenda(reader, params).departments
    model = rw.build(reader, params, now=NOW)
    assert list(model.agenda.departments["department_id"]) == list(page["department_id"])
    # the pack prints the model: its agenda sheet lists the same names in the same order
    book = openpyxl.load_workbook(io.BytesIO(meeting_pack.build_xlsx(model)))
    sheet = translate("pack", "sheet_agenda", "zh")
    assert [r[0] for r in book[sheet].iter_rows(min_row=2, values_only=True)] == list(page["name"])


def test_agenda_without_items_or_events(db_url, writer, reader):
    make_reference(writer)
    add_case(
        writer,
        reported_at=datetime(2026, 3, 3, 9),
        status="closed",
        closed_at=datetime(2026, 3, 3, 10),
        disposed_at=datetime(2026, 3, 3, 10),
        deadline_at=datetime(2026, 3, 4, 10),
    )
    agenda = _page_agenda(reader, rw.WeeklyParams(WEEK))
    assert agenda.departments.empty  # disposed on time: nothing to answer for


def test_hotspots(world, reader):
    hot = rw.hotspots(reader, rw.WeeklyParams(WEEK), now=NOW)
    assert hot.places.iloc[0]["address"] == "甲路1号" and hot.places.iloc[0]["n"] == 2
    assert list(hot.majors["major_code"]) == ["01"] and hot.majors.iloc[0]["n"] == 4
    grid = rw.heat_grid(hot.heat)
    assert grid.shape == (7, 24) and grid.to_numpy().sum() == 4
    assert grid.loc[0, 9] == 1 and grid.loc[3, 14] == 1  # Monday 9:00, Thursday 14:00
    assert rw.heat_grid(hot.heat, "99").to_numpy().sum() == 0


def test_flags_section():
    flags = pd.DataFrame(
        {
            "unit_type": ["street", "street", "community", "street"],
            "unit_id": [1, 2, 3, 4],
            "family": ["A", "B", "C", "D"],
            "level": ["amber", "red", "red", "none"],
            "persistent": [False, False, True, False],
            "q": [0.01, 0.02, 0.01, 0.5],
            "family_p": [0.01, 0.01, 0.01, 0.5],
            "p": [0.01, 0.01, 0.01, 0.5],
        }
    )
    recent = rw.WeeklyParams(date(2026, 3, 9))
    section = rw.flags_section(recent, flags, now=NOW)
    # new = red/amber and not flagged before; red first
    assert section.state == "listed" and list(section.flags["unit"]) == ["street:2", "street:1"]
    assert list(section.flags["level"]) == ["red", "amber"]
    assert rw.flags_section(recent, None, now=NOW).state == "pending"
    assert rw.flags_section(recent, flags.iloc[[3]], now=NOW).state == "none"
    assert rw.flags_section(rw.WeeklyParams(WEEK), flags, now=NOW).state == "other_week"
    assert rw.flags_shown(date(2026, 3, 16), NOW) and not rw.flags_shown(WEEK, NOW)


def test_items_and_coded_history(world, writer, reader):
    case_no = rw.agenda_base(reader, rw.WeeklyParams(WEEK), now=NOW).overdue.iloc[0]["case_no"]
    second = action_items.create_item(
        writer,
        department_id=CG,
        text="回访",
        due_date=date(2026, 3, 20),
        week=WEEK,
        case_numbers=case_no,
        now=datetime(2026, 3, 5, 9),
    )
    items = rw.week_items(reader, rw.WeeklyParams(WEEK))
    assert list(items.items["id"]) == [world["item"], second]
    assert items.items.set_index("id").loc[second, "linked_case_nos"] == [case_no]
    action_items.edit_item(writer, second, due_date=date(2026, 3, 27), week=WEEK, now=datetime(2026, 3, 6, 9))
    action_items.mark_done(writer, world["item"], note="已清理", week=WEEK, who="城管", now=datetime(2026, 3, 6, 10))
    rw.carry_over_action_items(writer, datetime(2026, 3, 10, 0, 5))
    hist = rw.item_history(reader, [world["item"], second]).set_index(["item_id", "action"])
    assert hist.loc[(world["item"], "create"), "who_key"] == "meeting"  # no recorder given
    assert hist.loc[(world["item"], "done"), "note"] == "已清理"
    assert pd.isna(hist.loc[(world["item"], "done"), "note_key"]) and pd.isna(
        hist.loc[(world["item"], "done"), "who_key"]
    )
    assert hist.loc[(second, "edit"), "note_key"] == "edited_due"
    assert hist.loc[(second, "edit"), "note_args"] == {"text": "", "due": "2026-03-27"}
    assert hist.loc[(second, "carry"), "note_key"] == "carried" and hist.loc[(second, "carry"), "who_key"] == "system"
    assert rw.week_items(reader, rw.WeeklyParams(date(2026, 3, 9))).open["id"].tolist() == [second]


def _carries(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(ActionItemHistory).where(ActionItemHistory.action == "carry")
        ).scalar_one()


def test_carry_over_is_idempotent(world, writer, reader):
    # Tuesday of the week after: the open item of WEEK is carried into the running week (the last complete week
    # is WEEK itself, where it was raised: nothing to carry there)
    now = datetime(2026, 3, 10, 0, 5)
    assert rw.carry_over_action_items(writer, now) == {"carried": 1, "weeks": {"2026-03-02": 0, "2026-03-09": 1}}
    assert rw.carry_over_action_items(writer, now + timedelta(hours=1))["carried"] == 0
    assert rw.carry_over_action_items(writer, now + timedelta(days=1))["carried"] == 0
    assert _carries(reader) == 1
    # the week after: the running week gets its own note; the last complete one already has one
    assert rw.carry_over_action_items(writer, now + timedelta(days=7)) == {
        "carried": 1,
        "weeks": {"2026-03-09": 0, "2026-03-16": 1},
    }
    assert _carries(reader) == 2


def test_build_is_the_whole_screen(world, reader):
    model = rw.build(reader, rw.WeeklyParams(WEEK, repeat_days=7), now=NOW)
    assert model.params.repeat_days == 7 and model.agenda.repeat_days == 7 and model.generated_at == NOW
    assert model.flags.state == "other_week" and len(model.items.items) == 1
    assert list(model.headline.changes["key"]) == list(rw.HEADLINE_KEYS)
    assert len(model.hotspots.places) == 3 and len(model.hotspots.majors) == 1
