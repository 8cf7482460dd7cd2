"""Failure-tolerant loading: last good values, stale flags, panels that never raise."""
from datetime import timedelta

import pytest

from ui import live


@pytest.fixture(autouse=True)
def _clean():
    live.clear_last_good()
    yield
    live.clear_last_good()


def test_resilient_returns_last_good_value_when_the_loader_fails(monkeypatch):
    state = {"fail": False}

    def loader(x):
        if state["fail"]:
            raise RuntimeError("The case database cannot be reached: connection refused")
        return live.Fetched({"x": x}, live.local_now())

    ok = live.resilient(loader, 1)
    assert ok.ok and not ok.stale and ok.error is None
    state["fail"] = True
    stale = live.resilient(loader, 1)
    assert stale.value == {"x": 1} and stale.stale and "cannot be reached" in stale.error
    assert live.resilient(loader, 2).value is None          # nothing good yet for other arguments
    state["fail"] = False
    assert not live.resilient(loader, 1).stale               # recovers by itself


def test_old_data_is_stale_even_without_error(monkeypatch):
    monkeypatch.setenv("GRIDSCOPE_STALE_AFTER_SECONDS", "60")
    old = live.Loaded("v", live.local_now() - timedelta(seconds=120))
    assert old.stale and old.age_seconds >= 120


def test_panel_swallows_errors_but_not_streamlit_control_flow():
    from streamlit.runtime.scriptrunner_utils.exceptions import StopException
    with live.panel():
        raise ValueError("boom")                              # shown as a caption, not raised
    with pytest.raises(StopException):
        with live.panel():
            raise StopException()
