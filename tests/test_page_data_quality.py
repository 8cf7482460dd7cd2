"""The 数据质量 page (AppTest) on both dialects: import statistics, quarantine reasons, empty database, no database."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from data_access import importer as im
from data_access import quality_queries as qq
from tests.builders import add_case, make_reference
from tests.test_importer import SH_HEADER, messy_shanghai_rows, write_file
from ui.live import clear_last_good

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "data_quality.py")


@pytest.fixture(autouse=True)
def fresh_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    clear_last_good()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()
    clear_last_good()


@pytest.fixture
def imported(db_url, writer, tmp_path, monkeypatch):
    """A world with two seeded cases and the messy Shanghai sample imported; the page reads this database."""
    make_reference(writer)
    from datetime import datetime

    add_case(writer, reported_at=datetime(2024, 1, 10, 9))
    add_case(writer, reported_at=datetime(2024, 2, 10, 9), address=None)
    rows, _ = messy_shanghai_rows()
    summary = im.import_file(writer, "shanghai_grid", write_file(tmp_path / "messy.csv", SH_HEADER, rows, "gbk"))
    monkeypatch.setenv("GRIDSCOPE_DB_URL", db_url)
    return summary


def run_page(lang: str = "zh") -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["lang"] = lang
    at.run()
    assert not at.exception, at.exception
    return at


def test_page_shows_every_source_with_its_counts(imported):
    at = run_page("en")
    sources = at.dataframe[0].value
    row = sources[sources["Source"] == "shanghai_grid"].iloc[0]
    assert row["Rows read"] == imported.rows_total == 18
    assert row["Imported"] == 6 and row["Quarantined"] == 12 and row["Cases"] == 6
    seed = sources[sources["Source"] == qq.SEED_SOURCE].iloc[0]
    assert seed["Cases"] == 2 and seed["Months covered"] == 2
    reasons = at.dataframe[2].value
    assert reasons["Rows"].sum() == 12
    assert "Bad date" in set(reasons["Reason"])
    detail = at.dataframe[-1].value
    assert len(detail) == 12 and sorted(detail["Row"])[0] == 5
    assert at.selectbox(key="dq_source").value == "shanghai_grid"


def test_page_in_chinese_by_default(imported):
    at = run_page("zh")
    assert any("数据质量" in m.value for m in at.markdown)
    assert "已隔离" in at.dataframe[0].value.columns


def test_missing_fields_share(imported):
    at = run_page("en")
    missing = at.dataframe[1].value
    # Seed: one of two cases has no address; imported cases all have an address.
    assert missing.loc["Address", qq.SEED_SOURCE] == pytest.approx(0.5)
    assert missing.loc["Address", "shanghai_grid"] == 0


def test_page_without_imports(db_url, writer, monkeypatch):
    make_reference(writer)
    monkeypatch.setenv("GRIDSCOPE_DB_URL", db_url)
    at = run_page("en")
    assert any("Nothing imported yet" in i.value for i in at.info)


def test_page_when_the_database_is_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDSCOPE_DB_URL", f"sqlite:///{tmp_path / 'nope.db'}")
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["lang"] = "en"
    at.run()
    assert not at.exception
    assert at.error
    assert "does not exist" in at.error[0].value or "cannot be reached" in at.error[0].value


def test_coverage_and_monthly_volume_count_only_the_window(imported, db_url):
    from datetime import datetime

    from data_access.engine import make_engine

    reader = make_engine(db_url)
    whole = qq.source_coverage(reader)
    recent = qq.source_coverage(reader, since=datetime(2024, 2, 1))
    seed_whole = whole[whole["source"] == qq.SEED_SOURCE].iloc[0]
    seed_recent = recent[recent["source"] == qq.SEED_SOURCE].iloc[0]
    assert (seed_whole["cases"], seed_whole["months"]) == (2, 2)
    assert (seed_recent["cases"], seed_recent["months"]) == (1, 1)
    assert seed_recent["missing_address"] == 1  # the February case has no address
    months = qq.monthly_volume(reader, qq.SEED_SOURCE, since=datetime(2024, 2, 1))
    assert months["month"].tolist() == ["2024-02"]
    reader.dispose()


def test_window_starts_on_the_first_of_a_month():
    from datetime import datetime

    assert qq.window_start(datetime(2026, 11, 20, 18), 12) == datetime(2025, 12, 1)
    assert qq.window_start(datetime(2026, 2, 3), 3) == datetime(2025, 12, 1)
    assert qq.window_start(None, 12) is None
