"""beam_stats._memory.give_back: free memory the C library's allocator keeps is returned to
the operating system (glibc), and Arrow's pool is asked to return its own."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from beam_stats._memory import _malloc_trim, give_back


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


@pytest.mark.skipif(_malloc_trim() is None, reason="no glibc malloc_trim here")
def test_freed_blocks_inside_the_heap_go_back() -> None:
    # 2,000 blocks of 64 KB (under glibc's mmap threshold: from the heap), every other one
    # freed: 64 MB free between blocks still used, which the heap's top trim cannot return.
    blocks = [np.ones(8192) for _ in range(2000)]
    kept = blocks[1::2]
    del blocks
    before = _rss_mb()
    give_back()
    after = _rss_mb()
    assert before - after > 40, (before, after)
    assert all(block[0] == 1.0 for block in kept)  # the blocks in use are untouched


def test_arrow_memory_in_use_stays() -> None:
    pool = pa.default_memory_pool()
    data = pa.array(np.arange(1_000_000))
    used = pool.bytes_allocated()
    give_back()
    assert pool.bytes_allocated() == used
    assert data[999_999].as_py() == 999_999
