"""?rotate=N: the kiosk cycles wall → map → departments → flags on its own."""

import time

import pytest

pytestmark = pytest.mark.browser


def test_rotate_moves_to_the_next_page(open_page):
    page = open_page("/?embed=true&rotate=10&refresh=600", "1920x1080")
    deadline = time.time() + 90
    while time.time() < deadline and "/map" not in page.page.url:
        page.page.wait_for_timeout(1000)
    assert "/map" in page.page.url, page.page.url
    assert "rotate=10" in page.page.url, "the carousel keeps its parameters"
    page.wait_done()
    assert page.exceptions() == 0 and page.outside_requests == []
