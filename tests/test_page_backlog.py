"""AppTest for the backlog page: street → community → grid → case file, filters and exports."""

from pathlib import Path

from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from data_access.engine import make_engine

ROOT = Path(__file__).resolve().parent.parent


def _open(query=None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.switch_page("pages/backlog.py")
    return at.run()


def _one_open_case(url):
    with make_engine(url).connect() as conn:
        return conn.execute(
            text(
                "SELECT id, grid_id, community_id, street_id FROM cases "
                "WHERE status = 'in_disposal' ORDER BY id LIMIT 1"
            )
        ).one()


def test_street_level_lists_every_street_worst_first(app_db):
    at = _open()
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 18
    overdue = table.iloc[:, 2].tolist()
    assert overdue == sorted(overdue, reverse=True)
    assert len(at.get("download_button")) == 2


def test_drill_down_to_a_grid_and_a_case_file(app_db):
    case_id, grid_id, community_id, street_id = _one_open_case(app_db)
    at = _open({"street": str(street_id)})
    communities = at.dataframe[0].value
    assert not at.exception and 0 < len(communities) < 40
    at = _open({"street": str(street_id), "grid": str(grid_id), "case": str(case_id)})
    assert not at.exception
    assert len(at.dataframe) == 4  # grids, open cases, case fields, timeline
    assert len(at.dataframe[1].value) > 0
    assert any("流转记录" in md.value for md in at.markdown)
    assert at.get("progress"), "the SLA clock is shown for a case with a deadline"


def test_name_filter_and_overdue_toggle(app_db):
    at = _open()
    at.text_input[0].set_value("街道").run()
    filtered = at.dataframe[0].value
    assert not at.exception and 0 < len(filtered) < 18
    at.toggle[0].set_value(True).run()
    assert (at.dataframe[0].value.iloc[:, 2] > 0).all()


def test_unknown_case_is_a_message(app_db):
    _, grid_id, _, street_id = _one_open_case(app_db)
    at = _open({"street": str(street_id), "grid": str(grid_id), "case": "987654321"})
    assert not at.exception and at.warning


def test_exports_hold_the_table_as_shown():
    import io

    import pandas as pd

    from ui.backlog import csv_bytes, unit_table, xlsx_bytes

    units = pd.DataFrame(
        {
            "unit_id": [1],
            "name": ["测试街道1"],
            "population": [20000],
            "open": [4],
            "overdue": [1],
            "age_0_1": [1],
            "age_1_3": [1],
            "age_3_7": [1],
            "age_over_7": [1],
            "oldest_reported_at": [pd.Timestamp("2026-11-02 09:00")],
            "parked": [1],
            "open_week_ago": [1],
            "change": [3],
            "per_1000": [0.2],
        }
    )
    table = unit_table(units)
    assert list(table.columns)[:3] == ["名称", "在办", "超期"] and len(table.columns) == 11
    raw = csv_bytes(table)
    assert raw.startswith(b"\xef\xbb\xbf") and "测试街道1".encode() in raw  # BOM: Excel reads the names
    back = pd.read_excel(io.BytesIO(xlsx_bytes(table)), sheet_name="backlog")
    assert list(back.columns) == list(table.columns) and back.iloc[0, 1] == 4


def test_a_malformed_id_is_ignored_with_a_notice(app_db):
    _, grid_id, _, street_id = _one_open_case(app_db)
    at = _open({"street": str(street_id), "grid": str(grid_id), "case": "２"})  # a full-width digit
    assert not at.exception
    assert any("case=２" in t.value for t in at.toast)
    assert "case" not in at.query_params and len(at.dataframe) == 2  # grids and open cases, no case file
