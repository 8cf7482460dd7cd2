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


def test_derived_builds_once_per_key_and_shares_the_object():
    calls = []

    def build(tag):
        calls.append(tag)
        return {"tag": tag}

    first = live.derived(("map", 1), lambda: build("a"))
    again = live.derived(("map", 1), lambda: build("b"))
    assert again is first and calls == ["a"]
    assert live.derived(("map", 2), lambda: build("c"))["tag"] == "c"      # a new data fetch → a new object


def test_derived_concurrent_viewers_wait_for_one_build():
    import threading
    import time
    calls = []

    def slow():
        calls.append(1)
        time.sleep(0.2)
        return object()

    results = []
    threads = [threading.Thread(target=lambda: results.append(live.derived(("slow",), slow))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len({id(r) for r in results}) == 1


def test_derived_forgets_failures_and_stays_bounded():
    def fail():
        raise RuntimeError("outline query failed")

    with pytest.raises(RuntimeError):
        live.derived(("broken",), fail)
    assert live.derived(("broken",), lambda: "ok") == "ok"      # not remembered as failed
    for i in range(live._DERIVED_MAX + 10):
        live.derived(("n", i), lambda: i)
    assert len(live._derived) == live._DERIVED_MAX and not live._building
