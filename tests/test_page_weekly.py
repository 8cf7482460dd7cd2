"""AppTest for the 周例会 page on a tiny seeded world (SQLite): week selection and URL validation, action item
create → carried into the next week → done (the page writes only on those clicks: rendering never carries), and
both download buttons."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from core.i18n import translate
from data_access.engine import make_engine
from data_access.schema import ActionItemHistory
from tests.conftest import clear_app_caches
from ui.safe import plain

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "weekly.py")


@pytest.fixture(scope="module")
def seeded_url(tmp_path_factory, tiny_world_url):
    from tests.conftest import copy_world

    return copy_world(tiny_world_url, tmp_path_factory.mktemp("weekly-page"))  # action items are written


def _clear():
    clear_app_caches()


@pytest.fixture
def page_db(seeded_url, monkeypatch):
    monkeypatch.setenv("GRIDSCOPE_DB_URL", seeded_url)
    _clear()
    yield seeded_url
    _clear()


def _run(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=180)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.run()


def _week(at) -> date:
    return at.selectbox(key="weekly_week").value


def test_renders_last_complete_week(page_db):
    at = _run()
    assert not at.exception, at.exception
    assert at.title[0].value == "周例会"
    assert [m.label for m in at.metric][:3] == ["新增案件", "结案数", "超期未处置"]
    week = _week(at)
    assert week.weekday() == 0 and at.query_params["week"] in (week.isoformat(), [week.isoformat()])
    assert {"部门议程", "高发点位与时段", "督办事项", "导出材料"} <= {t.label for t in at.tabs}
    assert len(at.get("download_button")) == 2


def test_week_selection_and_url(page_db):
    at = _run()
    pick = at.selectbox(key="weekly_week")
    older = pick.options[2] if len(pick.options) > 2 else pick.options[-1]
    before = [m.value for m in at.metric]
    pick.set_value(
        pick.options[-1] if isinstance(pick.options[-1], date) else date.fromisoformat(str(pick.options[-1])[:10])
    ).run()
    assert not at.exception
    assert at.query_params["week"] in (str(_week(at)), [str(_week(at))])
    assert [m.value for m in at.metric] != before or older is not None
    # a week from the URL is honoured
    wanted = _week(at)
    again = _run({"week": wanted.isoformat()})
    assert _week(again) == wanted


@pytest.mark.parametrize("bad", ["2026-13-01", "'; drop table cases; --", "2020-01-06", "2026-11-10"])
def test_bad_week_parameter_is_ignored_with_notice(page_db, bad):
    at = _run({"week": bad})
    assert not at.exception
    assert any(t.value == translate("common", "ignored_param", "zh", name="week", value=plain(bad)) for t in at.toast)
    assert _week(at).weekday() == 0


def _items_table(at):
    frames = [d.value for d in at.dataframe if "督办内容" in d.value.columns]
    return frames[0] if frames else None


def test_action_item_create_carry_done(page_db):
    at = _run()
    week = _week(at)
    at.text_area(key="weekly_new_text").input("区城管执法局一周内清理九干街占道经营，建立长效巡查")
    at.text_input(key="weekly_new_who").input("指挥中心")
    at.button(key="FormSubmitter:weekly_create-保存督办事项").click().run()
    assert not at.exception, at.exception
    table = _items_table(at)
    assert table is not None and len(table) == 1
    assert table.iloc[0]["状态"] == "本周新增"
    assert any("已新增督办事项" in s.value for s in at.success)

    # the next week shows it carried over (still open)
    nxt = week + timedelta(days=7)
    later = _run({"week": nxt.isoformat()})
    assert _week(later) == nxt
    carried = _items_table(later)
    assert carried is not None and carried.iloc[0]["状态"].startswith("转入（第2周）")

    # mark it done in the next week; it stays listed there as done
    later.text_area(key="weekly_done_note").input("已清理完毕，每日巡查两次")
    later.button(key="FormSubmitter:weekly_done-标记办结").click().run()
    assert not later.exception, later.exception
    done = _items_table(later)
    assert done.iloc[0]["状态"] == "已办结" and done.iloc[0]["办结说明"] == "已清理完毕，每日巡查两次"
    # and still open in the week it was raised (as it stood then)
    first = _run({"week": week.isoformat()})
    assert _items_table(first).iloc[0]["状态"] == "本周新增"
    # rendering wrote nothing: only the clicks did (create, done); carrying over is the worker's job
    engine = make_engine(page_db, read_only=True)
    with engine.connect() as conn:
        actions = conn.execute(select(ActionItemHistory.action, func.count()).group_by(ActionItemHistory.action)).all()
    engine.dispose()
    assert dict(actions) == {"create": 1, "done": 1}


def test_action_item_validation_message(page_db):
    at = _run()
    before = 0 if _items_table(at) is None else len(_items_table(at))
    at.text_area(key="weekly_new_text").input("整改")
    at.text_input(key="weekly_new_cases").input("NOPE-404")
    at.button(key="FormSubmitter:weekly_create-保存督办事项").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [translate("weekly", "err_unknown_cases", "zh", value=plain("NOPE-404"))]
    assert (0 if _items_table(at) is None else len(_items_table(at))) == before


def test_download_buttons(page_db):
    # the files are built when clicked (deferred): tests/browser/test_weekly_browser.py clicks the PDF one and
    # tests/test_meeting_pack.py checks the contents
    at = _run()
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["下载会议材料 PDF", "下载会议材料 Excel"]


def test_english(page_db):
    at = _run({"lang": "en"})
    assert not at.exception, at.exception
    assert at.title[0].value == "Weekly meeting"
    assert {"Department agenda", "Hotspots", "Action items", "Meeting pack"} <= {t.label for t in at.tabs}
    assert [b.proto.label for b in at.get("download_button")] == [
        "Download meeting pack (PDF)",
        "Download meeting pack (Excel)",
    ]
