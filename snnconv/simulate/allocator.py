"""Keep freed memory for reuse: large per-step buffers without a page fault on every step (docs/method.md §S4).

glibc serves allocations above its mmap threshold (128 KiB at first) with fresh mmap'ed pages and gives them back on
free, so a buffer of tens of MB allocated and freed every time step costs a page fault per 4 KiB page every step.
The eager engine avoids that by reusing its own buffers; the compiled step's intermediates are allocated by the
generated code, so for it the process keeps large freed blocks in the heap instead (mallopt M_MMAP_THRESHOLD and
M_TRIM_THRESHOLD). The same remedy as running PyTorch on the CPU under jemalloc or tcmalloc, without a preload.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

log = logging.getLogger("snnconv.simulate")

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
_KEEP_BYTES = 1 << 30  # blocks up to 1 GiB come from the heap; up to 1 GiB of free heap is kept
_applied: bool | None = None


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds once per process; False (and no change) where glibc is absent."""
    global _applied
    if _applied is not None:
        return _applied
    _applied = False
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others: no mallopt
        return False
    _applied = bool(mallopt(_M_MMAP_THRESHOLD, _KEEP_BYTES)) and bool(mallopt(_M_TRIM_THRESHOLD, _KEEP_BYTES))
    log.debug("glibc keeps freed blocks below %d bytes for reuse: %s", _KEEP_BYTES, _applied)
    return _applied
