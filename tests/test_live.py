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
    assert live.resilient(loader, 2).value is None  # nothing good yet for other arguments
    state["fail"] = False
    assert not live.resilient(loader, 1).stale  # recovers by itself


def test_old_data_is_stale_even_without_error(monkeypatch):
    monkeypatch.setenv("GRIDSCOPE_STALE_AFTER_SECONDS", "60")
    old = live.Loaded("v", live.local_now() - timedelta(seconds=120))
    assert old.stale and old.age_seconds >= 120


def test_panel_swallows_errors_but_not_streamlit_control_flow():
    from streamlit.runtime.scriptrunner_utils.exceptions import StopException

    with live.panel():
        raise ValueError("boom")  # shown as a caption, not raised
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
    assert live.derived(("map", 2), lambda: build("c"))["tag"] == "c"  # a new data fetch → a new object


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
    assert live.derived(("broken",), lambda: "ok") == "ok"  # not remembered as failed
    for i in range(live._DERIVED_MAX + 10):
        live.derived(("n", i), lambda i=i: i)
    assert len(live._derived) == live._DERIVED_MAX and not live._building


# --- a deadline per refresh (issue 16, finding 5) -----------------------------------------------------------------------
def test_a_loader_that_does_not_return_in_time_counts_as_failed(monkeypatch):
    import threading
    import time

    monkeypatch.setattr(live, "refresh_budget", lambda: 0.3, raising=False)
    release = threading.Event()
    calls = []

    def loader(x):
        calls.append(x)
        if len(calls) > 1:
            release.wait(10)  # a database that hangs instead of failing
        return live.Fetched({"x": x, "call": len(calls)}, live.local_now())

    assert live.resilient(loader, 1).value == {"x": 1, "call": 1}
    started = time.monotonic()
    hung = live.resilient(loader, 1)
    assert time.monotonic() - started < 1.0
    assert hung.value == {"x": 1, "call": 1} and hung.stale and hung.error  # last good value, stale banner
    # the next refresh does not start a second query for the same arguments while the first is still stuck
    again = live.resilient(loader, 1)
    assert again.stale and len(calls) == 2
    release.set()  # the database answers again: recovery by itself
    deadline = time.monotonic() + 5
    while (fresh := live.resilient(loader, 1)).stale:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert fresh.value["call"] == 2


def test_the_budget_is_shared_by_every_loader_of_one_page_run(tmp_path, monkeypatch):
    """Loaders run one after another: the deadline is per refresh, not per loader."""
    from streamlit.testing.v1 import AppTest

    script = tmp_path / "page.py"
    script.write_text(
        "import threading, time\n"
        "import streamlit as st\n"
        "from ui import live\n"
        "never = threading.Event()\n"
        "def slow(i):\n"
        "    never.wait(5)\n"
        "    return live.Fetched(i, live.local_now())\n"
        "started = time.monotonic()\n"
        "results = [live.resilient(slow, i) for i in range(4)]\n"
        "st.write(f'elapsed={time.monotonic() - started:.2f} failed={sum(r.error is not None for r in results)}')\n"
    )
    monkeypatch.setattr(live, "refresh_budget", lambda: 0.5, raising=False)
    at = AppTest.from_file(str(script), default_timeout=30).run()
    text = at.markdown[0].value
    elapsed = float(text.split("elapsed=")[1].split()[0])
    assert "failed=4" in text and elapsed < 1.2, text


def test_live_cache_refreshes_an_expired_entry_before_answering():
    """An expired entry is fetched again in the refresh that finds it expired (under the refresh deadline), so a
    database that hangs shows up at the first refresh after the cache expired, not two TTLs later."""
    import time

    calls = []

    @live.live_cache(ttl=0.3)
    def counted(key):
        calls.append(key)
        return len(calls)

    first = counted("k")
    time.sleep(0.5)
    second = counted("k")
    assert (first.value, second.value) == (1, 2)
    assert (live.local_now() - second.fetched_at).total_seconds() < 0.3


def test_freshness_line_turns_itself_into_a_warning_in_the_browser(monkeypatch):
    """The data time line carries the data's timestamp and a CSS animation that shows the stale warning after twice
    the refresh interval without a new render (a hung server), or when the data passes its stale age."""
    monkeypatch.setenv("GRIDSCOPE_STALE_AFTER_SECONDS", "120")
    fetched = live.local_now() - timedelta(seconds=100)
    html = live.freshness_html(fetched, refresh_s=30)
    assert f"data-fetched='{fetched.isoformat(timespec='seconds')}'" in html
    assert "数据时间 " + fetched.strftime("%H:%M:%S") in html
    delay = float(html.split("animation:gs-stale 1ms linear ")[1].split("s")[0])
    assert 19 <= delay <= 20.5  # 120 s stale age − 100 s already old, sooner than 2 × 30 s
    assert "@keyframes gs-stale" in html and "http" not in html  # nothing is fetched from anywhere
    fresh = live.freshness_html(live.local_now(), refresh_s=30)
    assert float(fresh.split("animation:gs-stale 1ms linear ")[1].split("s")[0]) == 60
    assert "—" in live.freshness_html(None, refresh_s=30)
