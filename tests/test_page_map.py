"""AppTest for the case map: offline deck with the expected layers and bounded size, filters, grid drill-down."""

import json
from pathlib import Path

from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from data_access.engine import make_engine
from reports.map import MEASURES

ROOT = Path(__file__).resolve().parent.parent


def _open_map(query=None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.switch_page("pages/map.py")
    return at.run()


def _spec(at: AppTest) -> tuple[dict, int]:
    raw = at.get("deck_gl_json_chart")[0].proto.json
    return json.loads(raw), len(raw.encode())


def _busiest_grid(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT grid_id FROM cases WHERE status IN ('in_disposal','pending_check') "
                "GROUP BY grid_id ORDER BY count(*) DESC LIMIT 1"
            )
        ).scalar_one()


def test_map_is_offline_with_expected_layers_and_small_payload(app_db):
    at = _open_map()
    assert not at.exception
    spec, size = _spec(at)
    ids = [layer["id"] for layer in spec["layers"]]
    assert ids[:3] == ["grids", "street-borders", "street-names"]
    assert spec.get("mapStyle") == "__MAP_STYLE__" and not spec.get("mapProvider")
    assert size < 5_000_000
    points = next((layer for layer in spec["layers"] if layer["id"] == "cases"), None)
    assert points is None or len(points["data"]) <= 100_000


def test_measure_choice_changes_the_grid_colours(app_db):
    at = _open_map()
    before = [g["fill"] for g in _spec(at)[0]["layers"][0]["data"]]
    at.selectbox(key="url_measure").set_value("m_new_per_1000").run()
    after = [g["fill"] for g in _spec(at)[0]["layers"][0]["data"]]
    assert not at.exception and before != after


def test_channel_filter_changes_the_points(app_db):
    at = _open_map()
    at.selectbox(key="url_points").set_value("p_7d").run()
    all_points = next(x for x in _spec(at)[0]["layers"] if x["id"] == "cases")["data"]
    at.multiselect(key="url_channel").set_value(["hotline"]).run()
    hotline = next((x for x in _spec(at)[0]["layers"] if x["id"] == "cases"), {"data": []})["data"]
    assert not at.exception and 0 < len(hotline) < len(all_points)


def test_grid_selection_drills_down(app_db):
    grid = _busiest_grid(app_db)
    at = _open_map({"grid": str(grid)})
    assert not at.exception
    assert "selected-grid" in [layer["id"] for layer in _spec(at)[0]["layers"]]
    assert at.dataframe and len(at.dataframe[0].value) > 0
    assert any("网格" in md.value for md in at.markdown)


def test_unknown_grid_is_ignored_with_a_notice(app_db):
    at = _open_map({"grid": "99999999"})
    assert not at.exception and not at.dataframe
    assert any("grid" in t.value for t in at.toast)


def test_kiosk_drill_down_links_to_no_page_it_cannot_open(app_db):
    """The kiosk's read-only role has no backlog page and sees counts, never case lists (docs/security.md): the
    drill-down shows the grid's counts, without the list or a link."""
    at = _open_map({"grid": str(_busiest_grid(app_db)), "embed": "true"})
    assert not at.exception and not at.dataframe
    assert any("在办" in m.value for m in at.markdown)
    assert not at.get("page_link")
    leader = _open_map({"grid": str(_busiest_grid(app_db))})
    assert leader.get("page_link")


def test_url_holds_codes_in_either_language(app_db):
    """A link carries codes (?measure=m_overdue&channel=hotline), so it opens the same view in Chinese and English;
    an unknown code (here a label) is ignored with the usual notice."""
    for lang in ("zh", "en"):
        at = _open_map({"measure": "m_overdue", "channel": "hotline", "lang": lang})
        assert not at.exception
        assert at.selectbox(key="url_measure").value == "m_overdue"
        assert at.multiselect(key="url_channel").value == ["hotline"]
    at = _open_map({"measure": "在办案件"})
    assert at.selectbox(key="url_measure").value == MEASURES[0]
    assert any("measure" in t.value for t in at.toast)
