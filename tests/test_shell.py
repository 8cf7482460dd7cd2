"""The app shell's URL parameters: the live refresh interval (?refresh=N)."""
import pytest

from ui.shell import MIN_REFRESH_SECONDS, parse_refresh


@pytest.mark.parametrize("raw, seconds", [("2", 2), ("10", 10), ("3600", 3600),
                                          ("1", 30), ("0", 30), ("3601", 30), ("-5", 30), ("2.5", 30), ("x", 30),
                                          ("", 30), (None, 30)])
def test_refresh_parameter_is_bounded_else_the_setting(raw, seconds, monkeypatch):
    monkeypatch.delenv("GRIDSCOPE_REFRESH_SECONDS", raising=False)
    assert MIN_REFRESH_SECONDS == 2
    assert parse_refresh(raw) == seconds


def test_setting_is_the_fallback(monkeypatch):
    monkeypatch.setenv("GRIDSCOPE_REFRESH_SECONDS", "45")
    assert parse_refresh(None) == 45 and parse_refresh("7") == 7
