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


# --- scope inside the pages (issue 16, finding 6) -------------------------------------------------------------------
VERIFIER = "V7788"


@pytest.fixture(scope="module")
def scoped_server(tiny_world_url, tmp_path_factory):
    """The tiny world with stored flags about streets 1 and 2 and a verifier; li = street head of street 1; the
    kiosk signs in with its token. Returns (server, {street id: name})."""
    from datetime import datetime, timedelta

    import pandas as pd
    from sqlalchemy import text

    from core.clock import local_now
    from data_access.engine import make_engine
    from reports import flags
    from reports.flags import FlagBundle, FlagReport
    from tests.conftest import copy_world

    tmp = tmp_path_factory.mktemp("scoped")
    url = copy_world(tiny_world_url, tmp)
    engine = make_engine(url, read_only=False)
    with engine.connect() as conn:
        names = dict(conn.execute(text("SELECT id, name FROM streets WHERE id IN (1, 2)")).all())
    row = dict(unit_level="red", persistent=False, backed=True, enough=True, indicator=None, observed=None)
    frame = pd.DataFrame(
        [
            dict(row, unit_type="street", unit_id=1, street_id=1, family="A", level="red", q=0.001),
            dict(row, unit_type="street", unit_id=2, street_id=2, family="A", level="red", q=0.002),
            dict(row, unit_type="verifier", unit_id=VERIFIER, street_id=None, family="C", level="red", q=0.003),
        ]
    ).assign(q_family=lambda f: f["q"], family_p=lambda f: f["q"], p=lambda f: f["q"], expected=None)
    now = local_now().replace(tzinfo=None)
    end = datetime(now.year, now.month, now.day)
    report = FlagReport(flags=frame, indicators=frame.iloc[:0], window=(end - timedelta(days=60), end), config=None)
    flags.store(engine, FlagBundle(report, frame.iloc[:0], end, now, 1.0))
    engine.dispose()
    roles = {"li": "street_head:1", "boss": "leader"}
    env = {"GRIDSCOPE_AUTH_MODE": "proxy", "GRIDSCOPE_AUTH_ROLES": json.dumps(roles), "GRIDSCOPE_WALL_TOKEN": "t0k"}
    server = start_server(url, tmp, env)
    yield server, names
    server.process.terminate()
    server.process.wait(timeout=20)


def _flags_panel(page) -> str:
    return "\n".join(page.locator("[data-testid='stHtml']", has_text="选择性上报预警").all_inner_texts())


def test_street_heads_wall_names_only_their_streets_flags(browser, scoped_server):
    server, names = scoped_server
    context, page = _open(browser, server, "/", "boss")  # the leader's wall names all three (the check can see)
    panel = _flags_panel(page)
    assert names[1] in panel and names[2] in panel and VERIFIER in panel, panel
    context.close()
    context, page = _open(browser, server, "/", "li")
    panel = _flags_panel(page)
    assert names[1] in panel, panel
    assert names[2] not in panel and VERIFIER not in panel and "核查员" not in panel, panel
    context.close()


def test_kiosk_sees_counts_never_case_lists(browser, scoped_server):
    server, _ = scoped_server
    context, page = _open(browser, server, "/departments?embed=true&wall_token=t0k", None)
    assert "部门考评" in page.inner_text("[data-testid='stMain']")  # the page itself rendered
    # the department view's late/returned/reworked cases: their counts (metrics), not their lists (tabs)
    assert page.locator("[data-testid='stMetricLabel']", has_text="超期未处置案件").count() == 1
    assert page.locator("[data-baseweb='tab']", has_text="超期未处置案件").count() == 0
    context.close()
    context, page = _open(browser, server, "/map?embed=true&wall_token=t0k&grid=11", None)
    main = page.inner_text("[data-testid='stMain']")
    assert "网格" in main and "在办" in main  # the drill-down line with its counts …
    assert page.locator("[data-testid='stDataFrame']").count() == 0  # … and no case list
    context.close()
