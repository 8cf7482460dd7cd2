"""The data-quality screen model (reports.data_quality) on a tiny world with an import, on both dialects."""

from __future__ import annotations

from datetime import datetime

import pytest

from data_access import importer as im
from reports import data_quality as dq
from tests.builders import add_case, make_reference
from tests.test_importer import SH_HEADER, messy_shanghai_rows, write_file

NOW = datetime(2024, 4, 1, 9)


@pytest.fixture
def imported(writer, tmp_path):
    """Three seeded cases (one in 2023, outside a 12-month window) and the messy Shanghai sample (March 2024)."""
    make_reference(writer)
    add_case(writer, reported_at=datetime(2023, 1, 10, 9))
    add_case(writer, reported_at=datetime(2024, 1, 10, 9))
    add_case(writer, reported_at=datetime(2024, 2, 10, 9), address=None)
    rows, _ = messy_shanghai_rows()
    return im.import_file(writer, "shanghai_grid", write_file(tmp_path / "messy.csv", SH_HEADER, rows, "gbk"))


def test_sources_in_the_window(imported, reader):
    model = dq.build(reader, dq.QualityParams(12), now=NOW)
    assert model.imported and model.months == 12
    assert (model.first, model.since) == (datetime(2023, 1, 10, 9), datetime(2023, 4, 1))
    sources = model.sources.set_index("source")
    sh = sources.loc["shanghai_grid"]
    assert (sh["rows_total"], sh["rows_landed"], sh["rows_quarantined"], sh["cases"], sh["files"]) == (18, 6, 12, 6, 1)
    assert sh["landed_share"] == pytest.approx(6 / 18)
    seed = sources.loc[dq.SEED_SOURCE]
    assert (seed["cases"], seed["months"]) == (2, 2)  # the 2023 case is outside the window
    assert seed["landed_share"] != seed["landed_share"]  # NaN: nothing was imported for the seed


def test_missing_shares_reasons_runs_and_months(imported, reader):
    model = dq.build(reader, dq.QualityParams(12), now=NOW)
    assert list(model.missing.index) == list(dq.COVERAGE_FIELDS)
    assert model.missing.loc["address", dq.SEED_SOURCE] == pytest.approx(0.5)
    assert model.missing.loc["address", "shanghai_grid"] == 0
    assert model.reasons["n"].sum() == 12 and "bad_date" in set(model.reasons["reason_code"])
    assert set(model.reasons["reason_code"]) <= set(dq.REASON_CODES)
    assert len(model.runs) == 1 and sum(model.runs.iloc[0]["reasons"].values()) == 12
    assert list(model.monthly.index) == ["2024-01", "2024-02", "2024-03"]
    assert model.monthly.loc["2024-03", "shanghai_grid"] == 6 and model.monthly.loc["2024-03", dq.SEED_SOURCE] == 0
    assert model.quarantine_sources == ["shanghai_grid"]


def test_a_wider_window_counts_older_cases(imported, reader):
    model = dq.build(reader, dq.QualityParams(36), now=NOW)
    assert model.sources.set_index("source").loc[dq.SEED_SOURCE, "cases"] == 3


def test_quarantine_rows(imported, reader):
    rows = dq.quarantine_rows(reader, dq.QuarantineParams("shanghai_grid"), now=NOW)
    assert len(rows) == 12 and sorted(rows["row_number"])[0] == 5
    assert len(dq.quarantine_rows(reader, dq.QuarantineParams("shanghai_grid", limit=3), now=NOW)) == 3
    assert dq.quarantine_rows(reader, dq.QuarantineParams("'; DROP TABLE cases; --"), now=NOW).empty


def test_without_imports(writer, reader):
    make_reference(writer)
    add_case(writer, reported_at=datetime(2024, 1, 10, 9))
    model = dq.build(reader, now=NOW)
    assert not model.imported and model.reasons.empty and model.runs.empty and model.quarantine_sources == []
    assert model.sources["source"].tolist() == [dq.SEED_SOURCE]


def test_empty_database(reader):
    model = dq.build(reader, now=NOW)
    assert (model.first, model.last, model.since) == (None, None, None)
    assert model.sources.empty and model.monthly.empty and model.missing.empty


def test_only_the_offered_windows():
    with pytest.raises(ValueError):
        dq.QualityParams(5)
