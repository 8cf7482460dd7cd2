"""Hostile input on both dialects: every public query and importer entry point that takes user-controllable values
is fed SQL-injection strings, unicode and very long strings; the tables stay intact and results stay sane."""

from __future__ import annotations

import ast
import html
import inspect
import re
import typing
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select, text
from sqlalchemy import inspect as sa_inspect

from data_access import importer as im
from data_access import quality_queries as qq
from data_access import queries
from data_access.engine import GridscopeDBError
from data_access.schema import Case, ImportQuarantine, ImportRun
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
        if len(hostile) > im.CELL_LIMIT:  # quarantined (cell_too_large) in each of its five rows
            assert f"H{i:03d}" not in stored and f"G{i:03d}" not in stored
            continue
        h = stored[f"H{i:03d}"]
        assert h.address == hostile[:128] and h.department_id is None
        assert h.description is None  # the DESCRIPTION column was renamed: not mapped
        if len(hostile) <= 32 and hostile.strip():
            assert hostile.strip() in stored or summary.reasons["duplicate"]  # verbatim case number
        assert f"G{i:03d}" in stored and stored[f"G{i:03d}"].grid_id == 21  # unknown code: placed by point
    assert summary.reasons["unknown_category"] == len(HOSTILE) - 1
    assert summary.reasons["cell_too_large"] == 5  # the 100 000-character value, in each of its five rows
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


def test_huge_cell_is_read_and_quarantined(writer, world, tmp_path):
    rows = [sh_row("BIG1", desc="长" * 300_000, point=gcj(11))]
    summary = im.import_file(writer, "shanghai_grid", write_file(tmp_path / "big.csv", SH_HEADER, rows, "utf-8"))
    assert summary.inserted == 0 and dict(summary.reasons) == {"cell_too_large": 1}  # read, never stored whole
    with writer.connect() as conn:
        assert conn.execute(select(func.length(ImportQuarantine.raw_json))).scalar_one() < 2 * im.CELL_LIMIT


# --- markdown injection (issue 16, finding 4): untrusted text is shown through ui.safe, never as markdown --------------
MARKDOWN_PAYLOADS = [
    "![x](http://x.test/b.png)",
    "[会话过期,点此重新登录](http://x.test/l)",
    "[![x](http://x.test/i)](http://x.test/l)",
    "<img src=http://x.test/h onerror=alert(1)><a href='http://x.test/a'>a</a>",
    "<http://x.test/b> www.x.test/w HTTP://X.TEST/u WWW.X.TEST a@x.test",
    ":red[r] :material/home: $x^2$ **b** _i_ `c` ~~s~~ | t |",
    "# h\n\n- l\n\n    code\n> q\r\n---",
    "[x]: http://x.test/ref\n[x]",
    "\\[x\\](http://x.test/e)",
    "\u202eevil\u202c",
]


# What GitHub-flavoured markdown (Streamlit's remark-gfm) links by itself in text, after escapes are resolved.
GFM_AUTOLINK = re.compile(r"(?i)(https?://|www\.|[\w.+-]@[\w-])")


def _render_markdown(source: str) -> str:
    """HTML of ``source`` through a CommonMark renderer with GFM tables and strikethrough."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(source)


@pytest.mark.parametrize("payload", MARKDOWN_PAYLOADS, ids=_short)
def test_plain_makes_markdown_literal(payload):
    from ui.safe import plain

    shown = plain(payload)
    assert "\n" not in shown and "\r" not in shown and "\u202e" not in shown
    rendered = _render_markdown(f"**label**: {shown}")
    assert "<a " not in rendered and "<img" not in rendered, rendered
    assert "<h1" not in rendered and "<li" not in rendered and "<code" not in rendered and "<em" not in rendered
    assert not GFM_AUTOLINK.search(html.unescape(re.sub(r"<[^>]+>", "", rendered))), rendered
    # what is read is the value itself (the word joiners that unlink addresses are invisible)
    text = re.sub(r"<[^>]+>", "", rendered).replace("\u2060", "")
    expected = re.sub(r"[\r\n\x00-\x1f]", " ", payload).replace("\u202e", "").replace("\u202c", "")
    assert html.unescape(text).strip() == "label: " + expected.strip()


@pytest.mark.parametrize("payload", MARKDOWN_PAYLOADS, ids=_short)
def test_html_and_chart_text_are_literal(payload):
    from ui.safe import chart_text, html_text

    for escaped in (html_text(payload), chart_text(payload)):
        assert "<" not in escaped and ">" not in escaped
        assert html.unescape(escaped) == payload
    assert "'" not in html_text(payload) and '"' not in html_text(payload)  # safe in an attribute too


# Streamlit calls whose text (or label / help) is markdown.
MARKDOWN_SINKS = {
    "markdown", "caption", "title", "header", "subheader", "info", "warning", "error", "success", "toast", "write",
    "metric", "expander", "tabs", "page_link", "button", "popover", "radio", "checkbox", "toggle", "text_input",
    "text_area", "number_input", "selectbox", "multiselect", "select_slider", "slider", "date_input",
    "download_button", "form_submit_button", "segmented_control", "pills", "TextColumn", "NumberColumn",
}  # fmt: skip
# Translators: their text is ours (the catalogs); only the values formatted into them are checked.
TRANSLATORS = {"T", "COMMON", "FT", "INDICATOR_TEXT"}
# Calls that return text of ours or numbers only (reviewed for issue 16). A helper that returns data must not be
# added here: wrap its result in ``plain(...)`` at the call instead.
REVIEWED_CALLS = {
    "plain", "label", "int", "len", "round", "str.join", "humanize_age", "role_label", "language_name",
    "family_text", "indicator_text", "indicator_name", "indicator_formula", "status_text", "interval_text",
    "change_text", "fmt_value", "fmt_delta", "fmt_p", "observed_text", "stats_text", "sla_badge", "breadcrumb",
    "department_summary", "rejected", "deck_payload_bytes", "screen_rem", "isoformat", "strftime", "sum", "min",
    "max", "rate_change",
}  # fmt: skip
# Variables and attributes that hold our own text or numbers (reviewed for issue 16).
REVIEWED_NAMES = {
    "n", "k", "v", "kb", "cap", "rank", "heading", "note", "label", "message", "caption", "header",
    "title", "text", "value", "delta", "hint", "exposed", "mode", "summary", "key", "kind", "badge", "first",
    "d", "y", "m", "id", "item_id", "pick", "case_id", "grid_id", "detail", "shown",
}  # fmt: skip

REVIEWED_NUMBERS = {"n_red", "n_amber", "n_reviewed", "n_ranked", "CASES_LIMIT", "NOTE_MAX", "days"}
REVIEWED_EXPRESSIONS = {
    "st.session_state.pop('weekly_flash')",  # T("created" | "marked_done", id=<int>)
    "notice",  # ui.filters.parse_query (rejected values through plain), ui.flags_cache.freshness_notice (an age)
    *(f"th.get({g!r})" for g in "ABCD"),  # the grade thresholds (numbers from the settings)
}
# Module aliases whose functions share a sink's name (``view.metric(row)`` builds arguments, draws nothing).
NOT_STREAMLIT = {"view", "ui", "ff", "fc", "rw", "rp", "model", "np", "pd"}


def _call_name(node: ast.Call) -> str:
    f = node.func
    if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Constant) and isinstance(f.value.value, str):
        return "str." + f.attr
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def _leaves(node: ast.AST):
    """The values a markdown argument is built from that are not our own literal text."""
    if isinstance(node, ast.Constant) or ast.unparse(node) in REVIEWED_EXPRESSIONS:
        return
    if isinstance(node, ast.JoinedStr):
        for part in node.values:
            if isinstance(part, ast.FormattedValue):
                if part.format_spec is not None:
                    continue  # a number or a date formatted as one
                yield from _leaves(part.value)
        return
    if isinstance(node, ast.BinOp):
        yield from _leaves(node.left)
        yield from _leaves(node.right)
        return
    if isinstance(node, ast.IfExp):
        yield from _leaves(node.body)
        yield from _leaves(node.orelse)
        return
    if isinstance(node, ast.BoolOp):
        for v in node.values:
            yield from _leaves(v)
        return
    if isinstance(node, (ast.List, ast.Tuple)):
        for v in node.elts:
            yield from _leaves(v)
        return
    if isinstance(node, (ast.ListComp, ast.GeneratorExp)):
        yield from _leaves(node.elt)
        return
    if isinstance(node, ast.Call):
        name = _call_name(node)
        if name in TRANSLATORS:
            for kw in node.keywords:
                yield from _leaves(kw.value)
            return  # the key, even computed, only picks a text of ours (an unknown key raises)
        if name in REVIEWED_CALLS:
            if name == "str.join":
                yield from _leaves(node.args[0])
            return
        yield node
        return
    if isinstance(node, ast.Name) and node.id in REVIEWED_NAMES:
        return
    if isinstance(node, ast.Attribute) and node.attr in REVIEWED_NAMES | REVIEWED_NUMBERS:
        return
    if isinstance(node, ast.Attribute) and node.attr in ("level", "family", "chance", "cases_kind", "unit_type"):
        return  # codes of ours (reports' dataclasses)
    if isinstance(node, ast.Subscript):
        if isinstance(node.value, ast.Name) and node.value.id in ("c", "th", "model"):
            return  # numbers: thresholds and counts
        if isinstance(node.value, ast.Attribute) and node.value.attr in ("thin_counts", "settings_used"):
            return
    yield node


def _markdown_arguments(call: ast.Call):
    if _call_name(call) in ("TextColumn", "NumberColumn"):
        yield from (kw.value for kw in call.keywords if kw.arg in ("help", "label"))
        return
    yield from call.args[:1]  # the body or the label
    yield from (kw.value for kw in call.keywords if kw.arg in ("body", "label", "help", "placeholder", "options"))
    if _call_name(call) == "tabs":
        yield from call.args[:1]


def test_no_untrusted_value_is_rendered_as_markdown():
    """Every value formatted into a markdown element in pages/ and ui/ is either ``plain(...)`` or reviewed text of
    ours or a number. A new interpolation of data fails here until it goes through ``ui.safe.plain``."""
    root = Path(__file__).resolve().parent.parent
    found = []
    for path in sorted([*root.glob("pages/*.py"), *root.glob("ui/*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Attribute):
                continue
            if call.func.attr not in MARKDOWN_SINKS:
                continue
            if isinstance(call.func.value, ast.Name) and call.func.value.id in NOT_STREAMLIT:
                continue
            for arg in _markdown_arguments(call):
                for leaf in _leaves(arg):
                    found.append(f"{path.relative_to(root)}:{leaf.lineno}: {ast.unparse(leaf)[:80]}")
    assert not found, "values rendered as markdown without ui.safe.plain:\n" + "\n".join(found)
