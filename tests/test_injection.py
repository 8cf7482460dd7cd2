"""Hostile input on both dialects: every public query and importer entry point that takes user-controllable values
is fed SQL-injection strings, unicode and very long strings; the tables stay intact and results stay sane."""

from __future__ import annotations

import inspect
import typing
from datetime import date, datetime

import pandas as pd
import pytest
from sqlalchemy import func, select, text
from sqlalchemy import inspect as sa_inspect

from data_access import importer as im
from data_access import quality_queries as qq
from data_access import queries
from data_access.engine import GridscopeDBError
from data_access.schema import Case, ImportRun
from tests.builders import add_case, make_reference
from tests.test_importer import SH_HEADER, gcj, sh_row, write_file

HOSTILE = [
    "'; DROP TABLE cases; --",
    "1 OR 1=1",
    "1; DELETE FROM cases",
    "Robert'); DROP TABLE streets;--",
    "网格' OR '1'='1",
    '" OR ""="',
    "%",
    "_",
    "\\",
    ":street_id",
    "$1",
    "?",
    "🙂" * 20,
    "a" * 100_000,
    "id",
    "__class__",
    "metadata",
]
T0 = datetime(2024, 3, 4, 9)
START, END, NOW = datetime(2024, 3, 1), datetime(2024, 4, 1), datetime(2024, 3, 20, 12)
# Errors a hostile argument may legitimately cause: a plain refusal, never a changed database.
REFUSALS = (GridscopeDBError, ValueError, TypeError, AttributeError, LookupError)


def _short(value) -> str:
    value = str(value)
    return repr(value[:12]) + (f"+{len(value) - 12}" if len(value) > 12 else "")


@pytest.fixture
def world(writer):
    ids = make_reference(writer)
    for grid in (11, 12, 21):
        add_case(writer, grid_id=grid, reported_at=T0, disposed_at=T0.replace(hour=15), deadline_at=T0.replace(hour=17))
    return ids


def census(engine) -> dict:
    """Table names and row counts: what an injection would change."""
    names = sorted(sa_inspect(engine).get_table_names())
    with engine.connect() as conn:
        return {n: conn.execute(text(f'SELECT count(*) FROM "{n}"')).scalar_one() for n in names}


def _query_functions():
    out = []
    for name, fn in inspect.getmembers(queries, inspect.isfunction):
        if fn.__module__ != queries.__name__ or name.startswith("_"):
            continue
        params = inspect.signature(fn).parameters
        if "engine" in params:
            out.append((name, fn))
    return out


def _arguments(fn, reader, hostile, target: str) -> dict:
    """Arguments for ``fn``: sensible values, with ``hostile`` in the parameter named ``target``."""
    hints = typing.get_type_hints(fn)
    kwargs = {}
    for pname, param in inspect.signature(fn).parameters.items():
        hint = str(hints.get(pname, ""))
        if pname == "engine":
            kwargs[pname] = reader
        elif pname == target:
            kwargs[pname] = hostile
        elif param.default is not inspect.Parameter.empty:
            continue
        elif "datetime" in hint:
            kwargs[pname] = {"start": START, "end": END, "since": START, "then": START}.get(pname, NOW)
        elif "date" in hint:
            kwargs[pname] = {"first": date(2024, 3, 1)}.get(pname, date(2024, 3, 29))
        elif "int" in hint:
            kwargs[pname] = 1
        else:
            kwargs[pname] = "x"
    return kwargs


def _targets(fn) -> list[str]:
    """Parameters a URL, a widget or a file could fill: ids, column choices, limits and free strings."""
    hints = typing.get_type_hints(fn)
    return [
        p
        for p in inspect.signature(fn).parameters
        if p != "engine"
        and (
            "str" in str(hints.get(p, ""))
            or "int" in str(hints.get(p, ""))
            or p.endswith("_id")
            or p in ("by", "unit", "limit")
        )
    ]


QUERY_CASES = [(name, target) for name, fn in _query_functions() for target in _targets(fn)]


def _result_size(value) -> int:
    if isinstance(value, pd.DataFrame):
        return len(value)
    if isinstance(value, dict):
        return len(value)
    return 1


def test_queries_refuse_or_ignore_hostile_values(reader, writer, world):
    """Every (public query, user-fillable parameter) pair, one database per dialect (cheap to run)."""
    assert len(QUERY_CASES) >= 10
    functions = dict(_query_functions())
    before = census(writer)
    for name, target in QUERY_CASES:
        fn = functions[name]
        for hostile in HOSTILE:
            try:
                result = fn(**_arguments(fn, reader, hostile, target))
            except REFUSALS:
                result = None
            if result is not None and target == "street_id":
                # A hostile street matches no street: the same answer as for a street that does not exist.
                baseline = fn(**_arguments(fn, reader, -999, target))
                if isinstance(result, pd.DataFrame):
                    pd.testing.assert_frame_equal(
                        result.reset_index(drop=True),
                        baseline.reset_index(drop=True),
                        check_dtype=False,
                        obj=f"{name}({_short(hostile)})",
                    )
                else:
                    assert result == baseline, (name, _short(hostile))
            if result is not None:
                assert _result_size(result) <= 10_000, (name, target)
        assert census(writer) == before, (name, target)


def test_street_filter_cannot_widen_a_count(reader, world):
    everything = queries.count_reported(reader, START, END)
    assert everything == 3
    for hostile in ("1 OR 1=1", "1) OR (1=1", "' OR ''='"):
        try:
            assert queries.count_reported(reader, START, END, street_id=hostile) == 0
        except GridscopeDBError:
            pass  # PostgreSQL refuses a non-integer for an integer parameter


# --- data-quality queries ---------------------------------------------------------------------------------------------
def test_quality_queries_with_hostile_values(reader, writer, world):
    before = census(writer)
    for hostile in HOSTILE:
        assert qq.monthly_volume(reader, hostile).empty
        assert qq.quarantine_reasons(reader, hostile).empty
        assert qq.quarantine_sample(reader, hostile, hostile).empty
        with pytest.raises((ValueError, TypeError)):
            qq.quarantine_sample(reader, "shanghai_grid", limit=hostile)
    assert census(writer) == before


# --- importer ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("hostile", HOSTILE, ids=_short)
def test_profile_names_are_refused(hostile):
    with pytest.raises(im.ImportFailed):
        im.load_profile(hostile)


def test_hostile_cells_land_verbatim_or_are_quarantined(writer, world, tmp_path):
    rows = []
    for i, hostile in enumerate(HOSTILE):
        # A hostile value in every free-text field of an otherwise valid row …
        rows.append(sh_row(f"H{i:03d}", address=hostile, desc=hostile, dept=hostile, point=gcj(11)))
        # … as the case number, category, channel, status and grid code of further rows.
        rows.append(sh_row(hostile, point=gcj(12)))
        rows.append(sh_row(f"C{i:03d}", major=hostile, minor=hostile, point=gcj(11)))
        rows.append(sh_row(f"S{i:03d}", source=hostile, status=hostile, point=gcj(11)))
        rows.append(sh_row(f"G{i:03d}", grid=hostile, point=gcj(21)))
    header = SH_HEADER[:-1] + ["DESCRIPTION'); DROP TABLE cases;--"]  # a hostile column name is just a name
    path = write_file(tmp_path / "hostile'; DROP TABLE cases;--.csv", header, rows, "utf-8")
    before = census(writer)
    summary = im.import_file(writer, "shanghai_grid", path)
    assert summary.accounted and summary.rows_total == len(rows)
    after = census(writer)
    assert set(after) == set(before)
    assert after["cases"] == before["cases"] + summary.inserted
    with writer.connect() as conn:
        stored = {r.case_no: r for r in conn.execute(select(Case).where(Case.source == "shanghai_grid"))}
        run = conn.execute(select(ImportRun.file_name)).scalar_one()
    assert run == path.name
    for i, hostile in enumerate(HOSTILE):
        h = stored[f"H{i:03d}"]
        assert h.address == hostile[:128] and h.department_id is None
        assert h.description is None  # the DESCRIPTION column was renamed: not mapped
        if len(hostile) <= 32 and hostile.strip():
            assert hostile.strip() in stored or summary.reasons["duplicate"]  # verbatim case number
        assert f"G{i:03d}" in stored and stored[f"G{i:03d}"].grid_id == 21  # unknown code: placed by point
    assert summary.reasons["unknown_category"] == len(HOSTILE) - 0
    assert summary.reasons["bad_value"] == 1  # the 100 000-character case number
    assert summary.warnings["truncated"] >= 1
    again = im.import_file(writer, "shanghai_grid", path)
    assert again.inserted == 0 and again.updated == 0 and census(writer)["cases"] == after["cases"]


def test_garbage_bytes_are_a_plain_error_or_quarantine(writer, world, tmp_path):
    path = tmp_path / "garbage.csv"
    path.write_bytes(b"TASKID,DISCOVERTIME\n\x81\x30\xff\xfe,\x00\x00\n" * 3)
    before = census(writer)
    try:
        summary = im.import_file(writer, "shanghai_grid", path)
        assert summary.accounted and summary.inserted == 0
    except im.ImportFailed:
        pass
    after = census(writer)
    assert after["cases"] == before["cases"]


def test_huge_cell_is_read(writer, world, tmp_path):
    rows = [sh_row("BIG1", desc="长" * 300_000, point=gcj(11))]
    summary = im.import_file(writer, "shanghai_grid", write_file(tmp_path / "big.csv", SH_HEADER, rows, "utf-8"))
    assert summary.inserted == 1
    with writer.connect() as conn:
        assert conn.execute(select(func.length(Case.description)).where(Case.case_no == "BIG1")).scalar_one() == 300_000
