"""The wall in a real browser: one screen at 1080p and 4K, offline, Chinese, English, stale banner and recovery."""

import os
import shutil
import time

import pytest

from tests.browser.conftest import start_server

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("size", ["1920x1080", "3840x2160"])
def test_wall_fits_one_screen_offline(open_page, size):
    page = open_page("/?embed=true&refresh=600", size)
    page.page.wait_for_function(
        "() => { const i = document.querySelector(\"[data-testid='stImage'] img\");"
        " return i && i.complete && i.naturalWidth > 0; }",
        timeout=60_000,
    )
    page.page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
    # Every screen gets the same page; CSS sizes it to the window: twice as large on 4K as on 1080p.
    scale = int(size.split("x")[0]) / 1920
    shown = page.page.evaluate("""() => { const i = document.querySelector("[data-testid='stImage'] img");
        const kpi = document.querySelector("[data-testid='kpi'] div:nth-child(2)");
        return {natural: i.naturalWidth, width: i.getBoundingClientRect().width,
                kpi_px: parseFloat(getComputedStyle(kpi).fontSize)}; }""")
    assert shown["natural"] == 1460  # one image for every screen size
    assert 800 * scale <= shown["width"] <= 900 * scale  # the map column: 850 CSS px at 1080p
    assert abs(shown["kpi_px"] - 2.4 * 16 * scale) < 1  # the KPI values: 2.4 rem at 1080p
    page.shot(f"wall-{size}")
    assert page.exceptions() == 0
    assert page.overflow_px() <= 0, "the wall must fit one screen without scrolling"
    assert page.outside_requests == [], f"requests left the host: {page.outside_requests}"
    body = page.page.inner_text("body")
    assert "城市运行态势" in body and "数据时间" in body
    # the district map (an image drawn on the server) loaded from this host, not a broken placeholder
    page.page.wait_for_function(
        "() => { const i = document.querySelector(\"[data-testid='stImage'] img\");"
        " return i && i.complete && i.naturalWidth > 0; }",
        timeout=30_000,
    )
    assert page.page.locator("[data-testid='stDeckGlJsonChart']").count() == 0


def test_chinese_glyphs_render_not_tofu(open_page):
    page = open_page("/?embed=true&refresh=600")
    # Draw a Chinese character and an unassigned code point (always drawn as a "tofu" box) in the page's font:
    # if the CJK glyph is missing the two bitmaps are identical.
    differs = page.page.evaluate("""() => {
        const font = getComputedStyle(document.querySelector('h3') || document.body).fontFamily;
        const draw = ch => { const c = document.createElement('canvas'); c.width = c.height = 40;
            const x = c.getContext('2d'); x.font = '32px ' + font; x.fillText(ch, 2, 32);
            return x.getImageData(0, 0, 40, 40).data.join(','); };
        return draw('城') !== draw('\\u0378');
    }""")
    assert differs, "Chinese text renders as tofu: install a CJK font (fonts-noto-cjk)"


def test_english_switch(open_page):
    page = open_page("/?embed=true&refresh=600&lang=en")
    page.shot("wall-en")
    body = page.page.inner_text("body")
    assert "City operations" in body and "Open backlog" in body
    assert "城市运行态势" not in body


def test_stale_banner_when_the_database_goes_away_and_recovery(open_page, seeded_sqlite_url, tmp_path):
    # A private copy of the database and a server with a short cache, so the outage shows within seconds.
    db = tmp_path / "wall.db"
    shutil.copy(seeded_sqlite_url.removeprefix("sqlite:///"), db)
    server = start_server(
        f"sqlite:///{db}", tmp_path, {"GRIDSCOPE_CACHE_TTL_SECONDS": "2", "GRIDSCOPE_STALE_AFTER_SECONDS": "3600"}
    )
    try:
        page = open_page("/?embed=true&refresh=5", server=server)
        assert "数据库暂时无法连接" not in page.page.inner_text("body")
        hidden = db.with_suffix(".away")
        os.rename(db, hidden)  # the file disappears: connections fail
        page.page.wait_for_selector("text=数据库暂时无法连接", timeout=60_000)
        page.shot("wall-stale")
        body = page.page.inner_text("body")
        assert "在办案件" in body and page.exceptions() == 0  # last good figures stay, no traceback
        os.rename(hidden, db)  # it comes back: the banner goes by itself
        deadline = time.time() + 90
        while time.time() < deadline and "数据库暂时无法连接" in page.page.inner_text("body"):
            page.page.wait_for_timeout(1000)
        assert "数据库暂时无法连接" not in page.page.inner_text("body")
        page.shot("wall-recovered")
    finally:
        server.process.terminate()
        server.process.wait(timeout=20)
