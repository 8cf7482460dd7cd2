"""AppTest smoke tests for the shell and the wall page on a small world built in code."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.clock import local_now
from data_access.engine import make_engine
from tests.builders import add_case, make_reference
from tests.conftest import clear_app_caches

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def wall_db(tmp_path, monkeypatch):
    from data_access.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'wall.db'}"
    engine = make_engine(url, read_only=False)
    upgrade(engine)
    make_reference(engine)
    now = local_now()
    for hours, status, deadline in [
        (2, "in_disposal", 5),
        (30, "in_disposal", -3),
        (50, "closed", 10),
        (5, "pending_dispatch", None),
        (400, "closed", 20),
    ]:
        reported = now - timedelta(hours=hours)
        closed = reported + timedelta(hours=3) if status == "closed" else None
        add_case(
            engine,
            reported_at=reported,
            status=status,
            channel="hotline" if hours % 2 else "patrol",
            deadline_at=None if deadline is None else now + timedelta(hours=deadline),
            dispatched_at=reported,
            disposed_at=closed,
            closed_at=closed,
            satisfaction="satisfied" if closed else None,
        )
    engine.dispose()
    monkeypatch.setenv("GRIDSCOPE_DB_URL", url)
    clear_app_caches()
    yield url
    clear_app_caches()


def html_blocks(at: AppTest) -> list[str]:
    """The bodies of the page's ``st.html`` elements (the wall's panels), in order."""
    return [el.proto.body for el in at.get("html")]


def kpis(at: AppTest) -> dict[str, str]:
    """KPI tiles (HTML) as {label: value}, in order."""
    out = {}
    for body in html_blocks(at):
        m = re.search(r"data-testid='kpi'.*?<div[^>]*>(.*?)</div><div[^>]*>(.*?)</div>", body)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def _run(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.run()


def test_wall_renders_kpis_in_chinese(wall_db):
    at = _run()
    assert not at.exception
    values = kpis(at)
    assert list(values)[:3] == ["今日新增", "在办案件", "超期未处置"]
    assert values["在办案件"] == "3" and values["超期未处置"] == "1"
    assert not any("演示数据" in body for body in html_blocks(at))  # not seeded by `seed`: no demo badge


def test_wall_switches_to_english(wall_db):
    at = _run({"lang": "en"})
    assert not at.exception
    assert "Open backlog" in kpis(at)


def test_invalid_query_parameters_are_ignored_with_a_notice(wall_db):
    at = _run({"days": "'; DROP TABLE cases; --", "street": "999"})
    assert not at.exception
    assert any("days" in t.value for t in at.toast) and any("street" in t.value for t in at.toast)
    assert list(kpis(at))[0] == "今日新增"


def test_wall_without_a_database_shows_a_message_not_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDSCOPE_DB_URL", f"sqlite:///{tmp_path / 'missing.db'}")
    clear_app_caches()
    at = _run()
    assert not at.exception
    assert any("数据库" in e.value or "database" in e.value.lower() for e in at.error)


def _map_images(at: AppTest) -> list[str]:
    return [img.url for el in at.get("image") for img in el.proto.imgs]


def test_every_screen_shares_one_map_build_per_data_refresh(wall_db, monkeypatch):
    """N screens on the wall cost one map drawing (and PNG encoding) per data refresh, not one per screen."""
    import ui.map_image

    real, builds = ui.map_image.make_district_png, []

    def counting(*args, **kwargs):
        builds.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(ui.map_image, "make_district_png", counting)
    screens = [_run({"embed": "true"}) for _ in range(3)]  # three sessions, same cached data
    assert all(not at.exception for at in screens)
    urls = {url for at in screens for url in _map_images(at)}
    assert len(builds) == 1 and len(urls) == 1


def test_wall_map_is_an_image_not_a_deck(wall_db):
    """The wall draws its map and charts on the server (no deck.gl, no plotly: nothing for a screen to compile or
    draw in software WebGL); the map and department pages keep them."""
    at = _run({"embed": "true"})
    assert not at.exception
    assert len(_map_images(at)) == 1 and not at.get("deck_gl_json_chart") and not at.get("plotly_chart")
    assert sum("data-testid='wall-chart'" in body for body in html_blocks(at)) == 3
    assert not at.markdown  # st.html: no markdown parser in the browser for the wall's panels
