"""Keep a long-running dashboard process's memory flat (glibc's allocator settings, once per process).

A wall runs for days. Each data refresh allocates a few large, short-lived buffers (the map's drawing canvas, its PNG,
query results) in whichever session thread happens to run it. With glibc's defaults, freeing a large block raises the
mmap threshold to its size, so the next ones come from the heap, and every thread gets its own heap (arena): freed
memory stays in the process as fragments and the resident size creeps up (bench/RESULTS.md, memory after 500
refresh cycles). A fixed threshold gives each large buffer its own mapping, returned to the system when freed, and
two arenas are plenty under the GIL.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # glibc <malloc.h>
M_ARENA_MAX = -8
MMAP_THRESHOLD_BYTES = 1 << 20
ARENA_MAX = 2

_tuned: bool | None = None


def tune_allocator() -> bool:
    """Apply the settings above once per process; True if the C library took them (False elsewhere, e.g. musl)."""
    global _tuned
    if _tuned is None:
        _tuned = _apply()
    return _tuned


def _apply() -> bool:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    ok = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1 and mallopt(M_ARENA_MAX, ARENA_MAX) == 1
    if not ok:
        log.info("the C library did not accept the allocator settings; memory may grow with long uptimes")
    return ok
