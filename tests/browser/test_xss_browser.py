"""Hostile text in case data is shown as text (issue 10): a case whose description, address and case number carry
<script> and onerror handlers, in a grid whose name does too, is opened in a real browser; nothing runs."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
from sqlalchemy import text, update

from core.clock import local_now
from data_access.engine import make_engine
from data_access.schema import Grid
from tests.browser.conftest import start_server
from tests.builders import add_case

pytestmark = pytest.mark.browser

PAYLOAD = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'
CASE_NO = "<img src=x onerror=__xss=3>"  # fits cases.case_no (32)
GRID_NAME = "<img src=x onerror=__xss=4>网格"  # fits grids.name (64)


@pytest.fixture(scope="module")
def hostile_server(seeded_sqlite_url, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("xss")
    db = tmp / "xss.db"
    shutil.copy(seeded_sqlite_url.removeprefix("sqlite:///"), db)
    writer = make_engine(f"sqlite:///{db}", read_only=False)
    with writer.connect() as conn:
        grid_id, community_id, street_id = conn.execute(
            text("SELECT id, community_id, street_id FROM grids ORDER BY id LIMIT 1")
        ).one()
        category_id, department_id = conn.execute(
            text("SELECT id, default_department_id FROM categories WHERE default_department_id IS NOT NULL LIMIT 1")
        ).one()
    now = local_now()
    case_id = add_case(
        writer,
        grid_id=grid_id,
        community_id=community_id,
        street_id=street_id,
        category_id=category_id,
        department_id=department_id,
        case_no=CASE_NO,
        description=PAYLOAD,
        address=PAYLOAD,
        reporter_id=PAYLOAD[:32],
        reported_at=now - timedelta(hours=3),
        dispatched_at=now - timedelta(hours=3),
        deadline_at=now - timedelta(hours=1),
    )
    with writer.begin() as conn:
        conn.execute(update(Grid).where(Grid.id == grid_id).values(name=GRID_NAME))
    writer.dispose()
    server = start_server(f"sqlite:///{db}", tmp)
    yield server, grid_id, case_id
    server.process.terminate()
    server.process.wait(timeout=20)


def _no_script_ran(page) -> None:
    assert page.page.evaluate("typeof window.__xss") == "undefined", "injected script ran"
    assert page.page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0, "injected <img> in the DOM"
    assert page.outside_requests == [], page.outside_requests
    assert page.exceptions() == 0


def test_hostile_case_file_is_shown_as_text(open_page, hostile_server):
    server, grid_id, case_id = hostile_server
    page = open_page(f"/backlog?grid={grid_id}&case={case_id}", server=server)
    page.shot("xss-case-file")
    _no_script_ran(page)
    body = page.page.inner_text("body")
    assert CASE_NO in body  # the case number heading, literally
    assert GRID_NAME in body  # the grid's name above its case list, literally


def test_hostile_names_on_the_wall_and_map(open_page, hostile_server):
    server, grid_id, _ = hostile_server
    for path in ("/?embed=true&refresh=600", f"/map?grid={grid_id}"):
        page = open_page(path, server=server)
        _no_script_ran(page)
        # hover over the middle of the map: the deck.gl tooltip renders grid names as HTML
        canvas = page.page.locator("canvas").first
        box = canvas.bounding_box() if canvas.count() else None
        if box:
            for fx, fy in ((0.5, 0.5), (0.4, 0.45), (0.6, 0.55)):
                page.page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
                page.page.wait_for_timeout(300)
        _no_script_ran(page)
