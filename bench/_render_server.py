"""The Streamlit server of ``python -m bench render``: the unchanged app, started with three benchmark hooks.

    python -m bench._render_server <streamlit run options>      (started by bench/render.py, not by hand)

- **Clock.** With ``GRIDSCOPE_BENCH_CLOCK_START`` (ISO time, normally the data's last ``reported_at``) the app's
  clock (``core.clock.local_now``, which every page uses) starts there at server start and runs on in real
  time, so a database seeded with a fixed end looks live: "today", "the last 24 hours" and the 30-day windows hold
  data as on a wall in operation, instead of the empty hours since the seed ended.
- **Cache reset.** ``SIGUSR1`` empties every process-wide cache the pages fill (Streamlit's data and resource caches,
  with the engines and their connection pools, ``ui.live``'s last-good and derived stores, the flag store, the
  project's ``functools`` caches such as the street-label image), then writes the time to
  ``GRIDSCOPE_BENCH_CLEARED_FILE``, so each page's cold load starts as empty as the first load after a restart, but
  without paying the imports and the deep-link warm-up again.
- **Script timing.** With ``GRIDSCOPE_BENCH_RUNS_FILE`` each script run's start and end are appended there, so the
  harness can tell the server's share of a page load from the browser's.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from datetime import datetime

PROJECT_PACKAGES = {"ui", "data_access", "analytics", "core", "reports"}


def _install_clock() -> None:
    start = os.environ.get("GRIDSCOPE_BENCH_CLOCK_START")
    if not start:
        return
    from core import clock  # imported before any page, so ``from ... import local_now`` gets the patch

    real = clock.local_now
    offset = real() - datetime.fromisoformat(start)

    def local_now() -> datetime:
        return real() - offset

    local_now.__doc__ = real.__doc__
    clock.local_now = local_now


def _clear_caches(_signum, _frame) -> None:
    import gc

    import streamlit as st
    from sqlalchemy import Engine

    st.cache_data.clear()
    st.cache_resource.clear()
    for module, function in (("ui.live", "clear_last_good"), ("ui.flags_cache", "clear")):
        if module in sys.modules:
            getattr(sys.modules[module], function)()
    for name, module in list(sys.modules.items()):  # functools caches of the project (label images, fonts)
        if module is not None and name.split(".")[0] in PROJECT_PACKAGES:
            for obj in list(vars(module).values()):
                if callable(getattr(obj, "cache_clear", None)) and getattr(obj, "__module__", None) == name:
                    obj.cache_clear()
    gc.collect()
    for obj in gc.get_objects():  # engines dropped from the caches: close their pooled connections now
        if isinstance(obj, Engine):
            obj.dispose()
    marker = os.environ.get("GRIDSCOPE_BENCH_CLEARED_FILE")
    if marker:
        with open(marker, "w") as fh:
            fh.write(str(time.time()))


def _time_script_runs() -> None:
    """Append each script run's start and end (epoch seconds) to ``GRIDSCOPE_BENCH_RUNS_FILE`` (JSON lines): the
    server-side share of a page load, measured where it happens."""
    path = os.environ.get("GRIDSCOPE_BENCH_RUNS_FILE")
    if not path:
        return
    import json
    import threading

    from streamlit.runtime.scriptrunner import script_runner

    original = script_runner.ScriptRunner._run_script
    lock = threading.Lock()

    def _run_script(self, rerun_data):
        t0 = time.time()
        try:
            return original(self, rerun_data)
        finally:
            line = json.dumps({"t0": t0, "t1": time.time(), "fragment": bool(rerun_data.fragment_id_queue)})
            with lock, open(path, "a") as fh:
                fh.write(line + "\n")

    script_runner.ScriptRunner._run_script = _run_script


def main() -> None:
    _install_clock()
    _time_script_runs()
    signal.signal(signal.SIGUSR1, _clear_caches)
    from streamlit.web.cli import main as streamlit_main

    sys.argv = ["streamlit", "run", *sys.argv[1:]]
    streamlit_main(prog_name="streamlit")


if __name__ == "__main__":
    main()
