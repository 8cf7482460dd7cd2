"""The case map in a real browser: offline, renders, picks grids under the pointer, and drills down into one."""

import re

import pytest
from sqlalchemy import text

from data_access.engine import make_engine

pytestmark = pytest.mark.browser


def test_map_picks_a_grid_and_shows_its_cases(open_page, seeded_sqlite_url):
    page = open_page("/map", "1920x1080")
    assert page.exceptions() == 0
    assert page.outside_requests == [], page.outside_requests
    canvas = page.page.locator("[data-testid='stDeckGlJsonChart'] canvas").first
    box = canvas.bounding_box()
    assert box and box["width"] > 300
    # Hovering the dense urban core picks a grid: its tooltip names it (deck.gl picking works in the browser).
    page.page.mouse.move(box["x"] + box["width"] / 2 + 11, box["y"] + box["height"] / 2 + 7)
    tooltip = page.page.locator(".deck-tooltip")
    tooltip.wait_for(state="visible", timeout=30_000)
    name = tooltip.inner_text().splitlines()[0]
    assert "网格" in name, name
    # The drill-down the click opens (?grid=ID): the grid's open cases are listed.
    with make_engine(seeded_sqlite_url).connect() as conn:
        grid_id = conn.execute(text("SELECT id FROM grids WHERE name = :n"), {"n": name}).scalar_one()
    page.page.goto(re.sub(r"/map.*", f"/map?grid={grid_id}", page.page.url))
    page.wait_done()
    body = page.page.inner_text("body")
    assert name in body and "在办" in body
    assert page.page.locator("[data-testid='stDataFrame']").count() >= 1, "the grid's open cases are listed"
    page.shot("map-drilldown")
    assert page.exceptions() == 0 and page.outside_requests == []
