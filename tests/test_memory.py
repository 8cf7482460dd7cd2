"""ui/memory.py: with the allocator tuned, large short-lived buffers freed in a session thread go back to the system."""

import platform
import subprocess
import sys
from pathlib import Path

import pytest

from ui.memory import tune_allocator

ROOT = Path(__file__).resolve().parents[1]

# A data refresh in miniature: large buffers allocated and freed in a worker thread (its own arena), with small
# objects allocated after them and kept (they pin the heap's top, as cached frames do in the server).
CHILD = """
import os, sys, threading
import numpy as np
sys.path.insert(0, {root!r})
if {tuned}:
    from ui.memory import tune_allocator
    assert tune_allocator()
rss = lambda: int(open('/proc/self/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE')
keep = []
def refresh():
    for _ in range(3):
        canvases = [np.ones(2_000_000 + 1000 * i) for i in range(6)]     # ~16 MB each, written
        keep.append([bytearray(200) for _ in range(2000)])
        del canvases
before = rss()
worker = threading.Thread(target=refresh)
worker.start()
worker.join()
print((rss() - before) / 1e6)
"""


def _retained_mb(tuned: bool) -> float:
    out = subprocess.run(
        [sys.executable, "-c", CHILD.format(root=str(ROOT), tuned=tuned)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return float(out.stdout.strip())


@pytest.mark.component("glibc", platform.libc_ver()[0] == "glibc", "the allocator settings are glibc's (mallopt)")
def test_freed_large_buffers_are_returned_to_the_system():
    plain, tuned = _retained_mb(False), _retained_mb(True)
    assert plain > 50, f"the untuned allocator should keep freed buffers ({plain:.0f} MB): the test shows nothing"
    assert tuned < 10, f"{tuned:.0f} MB still resident after the buffers were freed"


@pytest.mark.component("glibc", platform.libc_ver()[0] == "glibc", "the allocator settings are glibc's (mallopt)")
def test_tuning_is_applied_once_and_reports_success(monkeypatch):
    import ui.memory

    calls = []
    monkeypatch.setattr(ui.memory, "_tuned", None)
    monkeypatch.setattr(ui.memory, "_apply", lambda: calls.append(1) or True)
    assert tune_allocator() is True and tune_allocator() is True and len(calls) == 1
    monkeypatch.undo()
    assert ui.memory._apply() is True  # glibc accepts both settings
