"""The one URL-value parser never raises and accepts only plain ASCII numbers in range."""

from datetime import date

import pytest

from core import params


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("30", 30),
        (" 7 ", 7),
        ("2", 2),
        ("3600", 3600),
        ("²", None),
        ("１２", None),
        ("١٢", None),
        ("3601", None),
        ("1", None),
        ("-5", None),
        ("5.0", None),
        ("9" * 400, None),
        ("", None),
        ("abc", None),
        ("![x](http://h/b.png)", None),
        (None, None),
        (12, None),
    ],
)
def test_parse_int(raw, expected):
    assert params.parse_int(raw, 2, 3600) == expected


def test_parse_choice_compares_as_text():
    assert params.parse_choice("7", (1, 7, 30)) == 7
    assert params.parse_choice("oe", ("oe", "score")) == "oe"
    assert params.parse_choice("７", (1, 7, 30)) is None
    assert params.parse_choice(None, (1,)) is None


def test_parse_date():
    assert params.parse_date("2026-11-30") == date(2026, 11, 30)
    assert params.parse_date("2026-02-30") is None
    assert params.parse_date("２０２６-11-30") is None
    assert params.parse_date("2026-11-30", lo=date(2026, 12, 1)) is None


def test_shown_value_is_cut():
    assert len(params.shown("x" * 1000)) == 40
