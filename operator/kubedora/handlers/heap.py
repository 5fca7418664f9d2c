"""Handing freed memory back to the system after a burst.

CPython leaves objects over 512 bytes to the C allocator, and glibc keeps
what they free inside its heap. After a first pass, the list pages and the
status patches of 200,000 objects are written and gone, yet about 100 MiB of
them stays resident. malloc_trim(0) returns those pages; where the C library
has no malloc_trim (musl), nothing happens."""

from __future__ import annotations

import ctypes
import functools
import logging
import os
from pathlib import Path

log = logging.getLogger("kubedora.heap")

# A burst worth trimming after: this many objects waited for their status.
TRIM_AFTER = 1000


@functools.cache
def _malloc_trim() -> ctypes._NamedFuncPointer | None:
    try:
        trim: ctypes._NamedFuncPointer = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def _resident_mib() -> float | None:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def release_free_memory(why: str) -> bool:
    """Return the C heap's free pages to the system; whether it could."""
    trim = _malloc_trim()
    if trim is None:
        return False
    if not log.isEnabledFor(logging.DEBUG):
        trim(0)
        return True
    before = _resident_mib()
    trim(0)
    after = _resident_mib()
    if before is not None and after is not None:
        log.debug("%s: %.0f MiB resident, %.0f MiB after trimming", why, before, after)
    return True
