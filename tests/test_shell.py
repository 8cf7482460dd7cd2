"""The app shell's URL parameters: the live refresh interval (?refresh=N) and the carousel (?rotate=N)."""

import pytest
from streamlit.testing.v1 import AppTest

SCRIPT = """
import streamlit as st
from ui.shell import refresh_seconds, rotate_seconds
st.write(f"refresh={refresh_seconds()} rotate={rotate_seconds()}")
"""


def _run(query: dict) -> AppTest:
    at = AppTest.from_string(SCRIPT)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


@pytest.mark.parametrize(
    "raw, seconds",
    [
        ("2", 2),
        ("10", 10),
        ("3600", 3600),
        ("1", 30),
        ("0", 30),
        ("3601", 30),
        ("-5", 30),
        ("2.5", 30),
        ("x", 30),
        ("²", 30),
        ("１０", 30),
        ("9" * 300, 30),
        ("", 30),
    ],
)
def test_refresh_parameter_is_bounded_else_the_setting(raw, seconds, monkeypatch):
    monkeypatch.delenv("GRIDSCOPE_REFRESH_SECONDS", raising=False)
    at = _run({"refresh": raw})
    assert not at.exception
    assert f"refresh={seconds} " in at.markdown[0].value
    ignored = [t.value for t in at.toast]
    assert bool(ignored) == (raw not in ("", "2", "10", "3600")), ignored


def test_setting_is_the_fallback(monkeypatch):
    monkeypatch.setenv("GRIDSCOPE_REFRESH_SECONDS", "45")
    assert "refresh=45 " in _run({}).markdown[0].value
    assert "refresh=7 " in _run({"refresh": "7"}).markdown[0].value


def test_rotate_parameter():
    assert "rotate=60" in _run({"rotate": "60"}).markdown[0].value
    assert "rotate=None" in _run({"rotate": "5"}).markdown[0].value
