"""The flags page (选择性上报预警) in a real browser: renders offline, no exception box, funnels drawn, screenshot."""

import pytest

pytestmark = pytest.mark.browser

SLOW_MS = 300_000  # the flags are stored (seeded_sqlite_url, as the worker does); the machine may be loaded


def _open_reporting(open_page, query: str = ""):
    # Through the app's navigation (as a user does), so the shell (sidebar, filters, wide layout) runs too.
    page = open_page(f"/?refresh=600{query}")
    page.page.get_by_role("link", name="选择性上报预警" if "lang=en" not in query else "Reporting flags").first.click()
    page.page.wait_for_url("**/reporting**", timeout=30_000)
    page.page.wait_for_timeout(1500)
    page.wait_done(timeout_ms=SLOW_MS)
    return page


def test_reporting_page_renders_offline(open_page):
    page = _open_reporting(open_page)
    page.page.wait_for_selector("text=证据卡", timeout=SLOW_MS)
    page.wait_done(timeout_ms=SLOW_MS, settle_ms=2500)
    page.shot("reporting-1920x1080")
    assert page.exceptions() == 0
    assert page.outside_requests == [], f"requests left the host: {page.outside_requests}"
    body = page.page.inner_text("body")
    for text in ("选择性上报预警", "预警列表", "证据卡", "请先排除的正常原因", "漏斗图", "复核"):
        assert text in body, text
    assert "疑似" in body or "建议核查" in body
    assert page.page.locator(".js-plotly-plot").count() >= 1  # funnel (and trend) drawn
    # the evidence card's lower half: cases, innocent explanations, review form
    page.page.get_by_text("该单元的复核记录").scroll_into_view_if_needed()
    page.page.wait_for_timeout(800)
    page.shot("reporting-card-1920x1080")


def test_reporting_page_in_english(open_page):
    page = _open_reporting(open_page, "&lang=en")
    page.page.wait_for_selector("text=Evidence card", timeout=SLOW_MS)
    page.shot("reporting-en-1920x1080")
    assert page.exceptions() == 0
    assert page.outside_requests == []
    body = page.page.inner_text("body")
    assert "Selective-reporting flags" in body and "Innocent explanations to rule out first" in body
