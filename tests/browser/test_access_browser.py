"""Role-gated navigation in a real browser (proxy sign-in): a street head's sidebar lists only their pages, an
unregistered URL falls back to the wall, and a page reached directly still refuses to render.

Streamlit runs a ``pages/`` file directly (without app.py) when the very first visit after a server start is a deep
link to it; ``require_page`` at the top of every page is what refuses then."""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import DONE, start_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def proxy_server(seeded_sqlite_url, tmp_path_factory):
    server = start_server(
        seeded_sqlite_url,
        tmp_path_factory.mktemp("access"),
        {"GRIDSCOPE_AUTH_MODE": "proxy", "GRIDSCOPE_AUTH_ROLES": json.dumps({"li": "street_head:1"})},
    )
    yield server
    server.process.terminate()
    server.process.wait(timeout=20)


def _open(browser, server, path, user):
    context = browser.new_context(
        extra_http_headers={"X-Forwarded-User": user} if user else {}, viewport={"width": 1600, "height": 1000}
    )
    page = context.new_page()
    page.goto(server.url + path)
    page.wait_for_selector(DONE, timeout=90_000)
    page.wait_for_timeout(1500)
    page.wait_for_selector(DONE, timeout=90_000)
    return context, page


def test_deep_link_first_visit_still_refuses(browser, proxy_server):
    # the first visit of this server is a deep link: the page runs without app.py, require_page refuses
    for path, user, expected in (("/data_quality", "li", "无权查看"), ("/weekly", None, "请先登录")):
        context, page = _open(browser, proxy_server, path, user)
        main = page.inner_text("[data-testid='stMain']")
        assert expected in main and "数据质量" not in main.split(expected)[-1][:50]
        assert page.locator("[data-testid='stDataFrame']").count() == 0
        context.close()


def test_street_head_navigation(browser, proxy_server):
    context, page = _open(browser, proxy_server, "/", "li")
    nav = page.inner_text("[data-testid='stSidebarNav']")
    assert "态势大屏" in nav and "案件地图" in nav and "网格积案" in nav
    assert not any(t in nav for t in ("部门考评", "选择性上报预警", "周例会", "数据质量"))
    assert "当前用户：li" in page.inner_text("[data-testid='stSidebar']")
    context.close()
    context, page = _open(browser, proxy_server, "/data-quality", "li")  # not registered: the wall instead
    assert "城市运行态势" in page.inner_text("[data-testid='stMain']")
    context.close()
