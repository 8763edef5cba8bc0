"""Reading ahead: the items of an iterator produced by a thread while the caller works on the
ones before, up to a number of bytes ahead.

The in-process engine reads files (Parquet decoding, CSV parsing: Arrow's C++ code, which
releases the GIL) while it computes statistics of what it has read (pyarrow.compute and
numpy, which release it too), so the two overlap on a machine of two cores or more. Memory
stays bounded: the thread stops while the items waiting for the caller hold `max_bytes` or
more (by default a record batch counts the buffers it holds, anything else nothing), so at
most one item past that bound is held.

An exception raised by the iterator is raised to the caller where the items end; when the
caller stops early (``close()``, an exception of its own), the thread stops within a moment
and the iterator is closed.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pyarrow as pa

T = TypeVar("T")

#: The bytes of record batches read ahead of the caller, by default.
READ_AHEAD_BYTES = 16 << 20


class _End:
    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


def batch_bytes(item: Any) -> int:
    """The bytes of the buffers a record batch holds (a slice counts its whole buffers: the
    memory it keeps), in a few microseconds (``nbytes`` walks the columns in Python: 50 us
    for 20 columns); anything else counts nothing."""
    return item.get_total_buffer_size() if isinstance(item, pa.RecordBatch) else 0


def read_ahead(
    items: Iterator[T], max_bytes: int = READ_AHEAD_BYTES, size: Callable[[Any], int] = batch_bytes
) -> Iterator[T]:
    """The items of `items` in order, produced by a thread up to `max_bytes` ahead (each
    item weighing `size(item)` bytes)."""
    if max_bytes < 0:
        raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
    waiting: deque[Any] = deque()
    held = [0]  # the bytes of `waiting`
    changed = threading.Condition()
    stopped = threading.Event()

    def weight(item: Any) -> int:  # the end is no item of `items`: `size` never sees it
        return 0 if isinstance(item, _End) else size(item)

    def put(item: Any) -> None:
        with changed:
            while held[0] > max_bytes and not stopped.is_set():
                changed.wait()
            waiting.append(item)
            held[0] += weight(item)
            changed.notify_all()

    def produce() -> None:
        try:
            for item in items:
                if stopped.is_set():
                    return
                put(item)
            put(_End())
        except BaseException as e:  # noqa: BLE001 - handed to the caller
            put(_End(e))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="beam-stats-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            with changed:
                while not waiting:
                    changed.wait()
                item = waiting.popleft()
                held[0] -= weight(item)
                changed.notify_all()
            if isinstance(item, _End):
                if item.error is not None:
                    raise item.error
                return
            yield item
    finally:
        with changed:
            stopped.set()
            changed.notify_all()
        thread.join()
