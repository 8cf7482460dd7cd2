"""AppTest for the 部门考评 page on a small seeded world (SQLite): renders, ranks, switches department, validates URL."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import clear_app_caches

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def seeded_url(tiny_world_url):
    return tiny_world_url  # read-only use of the session's seeded world


@pytest.fixture
def page_db(seeded_url, monkeypatch):
    monkeypatch.setenv("GRIDSCOPE_DB_URL", seeded_url)
    clear_app_caches()
    yield seeded_url
    clear_app_caches()


def _run(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    at.switch_page("pages/departments.py")
    return at.run()


def _texts(at) -> str:
    return " ".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [h.value for h in at.subheader])


def test_ranking_renders(page_db):
    at = _run()
    assert not at.exception, at.exception
    assert at.title[0].value == "部门考评"
    assert {"部门排名", "部门详情", "街镇考评"} <= {t.label for t in at.tabs}
    table = at.dataframe[0].value
    assert "名次" in table.columns and "按期处置 O/E" in table.columns and "综合得分" in table.columns
    assert table["名次"].notna().sum() >= 10
    assert table["名次"].dropna().is_monotonic_increasing
    assert len(at.get("download_button")) >= 2
    assert "week" in (at.query_params["period"], *at.query_params["period"])


def test_department_view_switches(page_db):
    at = _run()
    pick = at.selectbox(key="url_dept")
    before_code, header = pick.value, at.subheader[0].value
    assert header.startswith(pick.format_func(before_code))
    pick.select_index((pick.index + 1) % len(pick.options)).run()
    assert not at.exception
    after = at.selectbox(key="url_dept")
    assert after.value != before_code
    assert at.subheader[0].value != header and at.subheader[0].value.startswith(after.format_func(after.value))
    assert after.value in (at.query_params["dept"], *at.query_params["dept"])


def test_department_from_url(page_db):
    first = _run()
    codes_to_names = first.selectbox(key="url_dept")
    code = codes_to_names.value
    at = _run({"dept": code})
    assert not at.exception
    assert at.selectbox(key="url_dept").value == code


def test_url_parameters_are_validated(page_db):
    at = _run({"period": "fortnight", "dept": "NOPE", "rank": "'; drop"})
    assert not at.exception
    toasts = " ".join(t.value for t in at.toast)
    assert "period" in toasts and "dept" in toasts and "rank" in toasts
    assert at.title[0].value == "部门考评"


def test_month_and_indicator_ranking(page_db):
    at = _run({"period": "month", "rank": "ontime_rate"})
    assert not at.exception
    table = at.dataframe[0].value
    assert table["名次"].notna().any()
    assert at.selectbox(key="url_rank").value == "ontime_rate"


def test_custom_period_and_english(page_db):
    # the page on its own (no shell): switching language across a page switch trips AppTest's widget replay
    at = AppTest.from_file(str(ROOT / "pages" / "departments.py"), default_timeout=120)
    for k, v in {"period": "custom", "start": "2020-01-01", "end": "2019-01-01", "lang": "en"}.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception
    assert at.title[0].value == "Department scorecards"
    assert any("Invalid custom dates" in t.value for t in at.toast)
