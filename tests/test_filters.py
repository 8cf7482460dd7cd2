"""ui.filters.parse_query with hostile URL values: never an exception, never an unvalidated value."""

from __future__ import annotations

import pytest

from ui.filters import DEFAULT_DAYS, WINDOW_DAYS, Filters, parse_query

STREETS = {1, 2, 18}
HOSTILE = [
    "'; DROP TABLE cases; --",
    "1 OR 1=1",
    "7; DELETE FROM cases",
    "<script>alert(1)</script>",
    "[click](http://example.invalid)",
    "-1",
    "0",
    "1e3",
    "7.0",
    " 7",
    "7 ",
    "+7",
    "0x1E",
    "NaN",
    "None",
    "null",
    "",
    "\x00",
    "7\x00",
    "网格",
    "🙂" * 50,
    "a" * 100_000,
    "%27%20OR%201%3D1",
    "../../etc/passwd",
]


def test_valid_values_pass():
    assert parse_query({"days": "7", "street": "2", "lang": "en"}, STREETS) == Filters(7, 2, ())
    assert parse_query({}, STREETS) == Filters(DEFAULT_DAYS, None, ())
    assert parse_query({"street": "all"}, STREETS) == Filters(DEFAULT_DAYS, None, ())


def _short(value: str) -> str:
    return repr(value[:12]) + (f"+{len(value) - 12}" if len(value) > 12 else "")


@pytest.mark.parametrize("value", HOSTILE, ids=_short)
def test_hostile_values_fall_back_with_a_notice(value):
    result = parse_query({"days": value, "street": value, "lang": value}, STREETS)
    assert result.days in WINDOW_DAYS and result.days == DEFAULT_DAYS
    assert result.street_id is None
    # days and lang always get a notice; an empty street means "whole district" and needs none.
    assert len(result.notices) == (3 if value != "" else 2)
    assert all(len(n) < 120 for n in result.notices)  # echoed values are cut


@pytest.mark.parametrize("value", ["3", "14", "31", "366", "99999"])
def test_days_outside_the_offered_windows_are_refused(value):
    assert parse_query({"days": value}, STREETS).days == DEFAULT_DAYS


def test_unknown_street_is_refused():
    result = parse_query({"street": "3"}, STREETS)
    assert result.street_id is None and len(result.notices) == 1


# str.isdigit() accepts these, and int() would raise: parse_query must ignore them with a notice instead.
@pytest.mark.parametrize("value", ["²", "9" * 5000], ids=_short)
def test_digit_lookalikes_do_not_crash(value):
    result = parse_query({"days": value, "street": value}, STREETS)
    assert result.days == DEFAULT_DAYS and result.street_id is None


def test_only_ascii_digits_are_accepted():
    assert parse_query({"days": "٣٠"}, STREETS).notices
