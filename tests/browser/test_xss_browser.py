"""Hostile text is shown as text, in a real browser.

- Issue 10: a case whose description, address and case number carry <script> and onerror handlers, in a grid whose
  name does too, is opened; nothing runs.
- Issue 16 (finding 4, markdown injection): markdown links and images, raw HTML and bare addresses in EVERY URL
  parameter the app reads, and in every stored name (streets, communities, grids, departments, categories, case
  numbers, addresses), on every page: no request leaves the host, no ``<a href>`` or ``<img src>`` points elsewhere.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from urllib.parse import quote, urlparse

import pytest
from sqlalchemy import String, cast, text, update

from core.clock import local_now
from data_access.engine import make_engine
from data_access.schema import Category, Community, Department, Grid, Street
from tests.browser.conftest import start_server
from tests.builders import add_case

pytestmark = pytest.mark.browser

PAYLOAD = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'
CASE_NO = "<img src=x onerror=__xss=3>"  # fits cases.case_no (32)
GRID_NAME = "<img src=x onerror=__xss=4>网格"  # fits grids.name (64)

# Markdown image inside a markdown link (fits the 40 characters a notice shows), a phishing link, raw HTML (an
# image and a link, which Plotly's label markup would also render), bare addresses GFM turns into links, and
# Streamlit's own directives.
OUT = "x.test"
MD = f"[![x](http://{OUT}/i)](http://{OUT}/l)"
PHISH = f"[会话过期,点此重新登录](http://{OUT}/p)"
HTML = f"<img src=http://{OUT}/h><a href=http://{OUT}/a>a</a>"
BARE = f"<http://{OUT}/b> www.{OUT}/w http://{OUT}/u"
DIRECTIVES = ":red[r] :material/home: $x^2$ **b** # h"
URL_PAYLOADS = (MD + " " + HTML, PHISH + " " + BARE, HTML + " " + MD + " " + DIRECTIVES)
# Every parameter any page reads (ui/params, ui/filters, ui/access, ui/shell, the pages).
PARAMS = (
    "days street lang refresh rotate grid community case dept rank period start end flag week measure points "
    "colour channel"
).split()
PAGES = ("/", "/wall", "/map", "/backlog", "/departments", "/reporting", "/weekly", "/data-quality")
STORED = f"[![n](http://{OUT}/n)](http://{OUT}/m)<a href=http://{OUT}/q>q</a> www.{OUT}"


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
    md_case_id = add_case(
        writer,
        grid_id=grid_id,
        community_id=community_id,
        street_id=street_id,
        category_id=category_id,
        department_id=department_id,
        case_no=MD[:32],
        description=STORED,
        address=STORED,
        reported_at=now - timedelta(hours=4),
        dispatched_at=now - timedelta(hours=4),
        deadline_at=now - timedelta(hours=2),
    )
    with writer.begin() as conn:
        conn.execute(update(Grid).where(Grid.id == grid_id).values(name=GRID_NAME))
        # Every other stored name a page shows carries markdown and HTML: headings, captions, tabs, labels, charts.
        conn.execute(update(Grid).where(Grid.id != grid_id).values(name=STORED + cast(Grid.id, String)))
        for table in (Street, Community):
            conn.execute(update(table).values(name=STORED + cast(table.id, String)))
        conn.execute(update(Department).values(name=STORED + Department.code, name_en=STORED + Department.code))
        conn.execute(update(Category).values(major_name=STORED, minor_name=STORED + Category.code))
        conn.execute(update(Category).values(major_name_en=STORED, minor_name_en=STORED + Category.code))
        dept_code = conn.execute(text("SELECT code FROM departments WHERE id = :d"), {"d": department_id}).scalar()
    writer.dispose()
    server = start_server(f"sqlite:///{db}", tmp)
    yield server, grid_id, case_id, md_case_id, community_id, street_id, dept_code
    server.process.terminate()
    server.process.wait(timeout=20)


_OUTSIDE = """host => {
    const XLINK = 'http://www.w3.org/1999/xlink', urls = [];
    for (const e of document.querySelectorAll('a, area, img, image, source, iframe, video, audio, embed, object'))
        for (const a of ['href', 'src', 'data', 'srcset']) urls.push(e.getAttribute(a));
    for (const e of document.querySelectorAll('a, image')) urls.push(e.getAttributeNS(XLINK, 'href'));
    return urls.filter(u => u && !/^(data|blob):/i.test(u) && !u.startsWith('#')).filter(u => {
        try { return new URL(u, location.href).hostname !== host } catch (err) { return true }
    });
}"""


def _no_script_ran(page) -> None:
    assert page.page.evaluate("typeof window.__xss") == "undefined", "injected script ran"
    assert page.page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0, "injected <img> in the DOM"
    assert page.outside_requests == [], page.outside_requests
    assert page.exceptions() == 0


def _nothing_points_outside(page, where: str) -> None:
    """No request left the host, and no link, image or frame in the page points to another host."""
    _no_script_ran(page)
    host = urlparse(page.page.url).hostname
    outside = page.page.evaluate(_OUTSIDE, host)
    assert outside == [], f"{where}: elements point outside: {outside}"
    assert OUT not in "".join(page.outside_requests), where


def test_hostile_case_file_is_shown_as_text(open_page, hostile_server):
    server, grid_id, case_id, *_ = hostile_server
    page = open_page(f"/backlog?grid={grid_id}&case={case_id}", server=server)
    page.shot("xss-case-file")
    _no_script_ran(page)
    body = page.page.inner_text("body")
    assert CASE_NO in body  # the case number heading, literally
    assert GRID_NAME in body  # the grid's name above its case list, literally


def test_hostile_names_on_the_wall_and_map(open_page, hostile_server):
    server, grid_id, *_ = hostile_server
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


@pytest.mark.parametrize("path", PAGES)
def test_markdown_in_every_url_parameter_stays_text(open_page, hostile_server, path):
    server, *_ = hostile_server
    for n, payload in enumerate(URL_PAYLOADS):
        query = "&".join(f"{name}={quote(payload)}" for name in PARAMS)
        page = open_page(f"{path}?{query}", server=server)
        page.page.wait_for_timeout(600)  # toasts are drawn after the run
        if n == 0:
            page.shot(f"xss-url{path.replace('/', '-') or '-root'}")
        _nothing_points_outside(page, f"{path} with payload {n}")


def test_markdown_in_stored_names_stays_text(open_page, hostile_server):
    server, grid_id, case_id, md_case_id, community_id, street_id, dept_code = hostile_server
    paths = (
        "/?embed=true&refresh=600",
        "/map",
        f"/map?grid={grid_id}",
        "/backlog",
        f"/backlog?street={street_id}",
        f"/backlog?street={street_id}&community={community_id}",
        f"/backlog?grid={grid_id}&case={md_case_id}",
        f"/departments?dept={dept_code}",
        f"/departments?dept={dept_code}&lang=en",
        "/reporting",
        "/weekly",
        "/data-quality",
    )
    for path in paths:
        page = open_page(path, server=server)
        if path.startswith("/backlog?grid"):
            page.shot("xss-stored-case")
            assert MD[:32] in page.page.inner_text("body").replace("\u2060", "")  # the case number, literally
        _nothing_points_outside(page, path)
