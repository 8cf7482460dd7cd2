"""Real-browser test of the 部门考评 page: renders without exceptions or outside requests, switches department,
and screenshots for a human to look at (test-artifacts/screenshots/)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_departments_page_in_browser(open_page):
    # Start at the root and use the navigation: until some session has run app.py (st.navigation), Streamlit
    # 1.67 runs a deep link to pages/<name>.py in the old pages-directory mode, without the app shell.
    opened = open_page("/", "1920x1080")
    page = opened.page
    page.get_by_role("link", name="部门考评").click()
    opened.wait_done()
    assert opened.exceptions() == 0
    page.get_by_text("部门考评").first.wait_for()
    assert page.locator("[data-testid='stDataFrame']").count() >= 1
    assert page.locator(".js-plotly-plot").count() >= 2
    opened.shot("departments-ranking-1920x1080")

    page.get_by_role("tab", name="部门详情").click()
    opened.wait_done()
    assert page.get_by_text("O/E 第").count() + page.get_by_text("未参与排名").count() >= 1
    opened.shot("departments-department-1920x1080")

    page.get_by_role("tab", name="街镇考评").click()
    opened.wait_done()
    assert opened.exceptions() == 0
    opened.shot("departments-streets-1920x1080")
    assert not opened.outside_requests, opened.outside_requests


def test_departments_deep_link_with_department(open_page):
    opened = open_page("/departments?period=month&rank=ontime_rate&dept=CGZF&lang=en", "1920x1080")
    assert opened.exceptions() == 0
    opened.page.get_by_text("Department scorecards").first.wait_for()
    assert "dept=CGZF" in opened.page.url
    opened.shot("departments-month-en-1920x1080")
