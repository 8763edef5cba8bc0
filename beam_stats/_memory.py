"""Freed memory given back to the operating system at a few chosen points.

Arrow's allocator (mimalloc by default) and the C library's (glibc's malloc, which numpy
and Python use for large blocks) keep memory they were given back for later, which a
process's resident size goes on counting: after reading 1M rows, 17 MB of Arrow's memory
and 31 MB of Python's and numpy's were in use out of 446 MB resident (issue 16). Before a
phase that needs much memory of its own (the end of a run of many slices, beside a second
process), :func:`give_back` returns what is free.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable

import pyarrow as pa


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None elsewhere (macOS, musl)."""
    name = ctypes.util.find_library("c")
    try:
        trim = getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    except OSError:
        return None
    if trim is None:
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim  # type: ignore[no-any-return]


def give_back() -> None:
    """Returns the memory Arrow's default pool and the C library's allocator hold unused to
    the operating system (what each can; nothing fails)."""
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
