"""read_ahead: the same items in the same order, at most `max_bytes` (and one item) ahead,
errors raised where they happened, the thread gone when the caller stops."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from beam_stats.beam.readahead import read_ahead


def _batch(i: int, rows: int = 1000) -> pa.RecordBatch:
    return pa.record_batch({"x": np.full(rows, i, dtype=np.int64)})


def _threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "beam-stats-read-ahead"]


@pytest.mark.parametrize("max_bytes", [0, 1, 10_000, 1 << 30])
def test_the_same_items_in_the_same_order(max_bytes: int) -> None:
    items: list[Any] = []
    for i in range(50):
        items.append(_batch(i, rows=i % 7))
        if i % 5 == 0:
            items.append({"kind": "error", "i": i})
    got = list(read_ahead(iter(items), max_bytes))
    assert len(got) == len(items)
    for a, b in zip(got, items, strict=True):
        assert a is b
    assert _threads() == []


@pytest.mark.parametrize("max_bytes", [0, 20_000, 50_000])
def test_reads_at_most_max_bytes_and_one_item_ahead(max_bytes: int) -> None:
    size = _batch(0).nbytes
    produced: list[int] = []
    consumed: list[int] = []
    ahead: list[int] = []

    def source() -> Iterator[pa.RecordBatch]:
        for i in range(40):
            # What the thread has produced and the caller not yet taken, before it makes more.
            ahead.append((len(produced) - len(consumed)) * size)
            produced.append(i)
            yield _batch(i)

    for batch in read_ahead(source(), max_bytes):
        consumed.append(batch.column(0)[0].as_py())
        time.sleep(0.002)  # a slow caller: the thread gets ahead as far as it may
    assert consumed == list(range(40))
    # Waiting: at most max_bytes and the one it put past the bound; the caller holds one more.
    assert max(ahead) <= max_bytes + 2 * size
    assert max(ahead) >= min(max_bytes, 10 * size)  # it did read ahead


def test_an_error_reaches_the_caller_after_the_items_before_it() -> None:
    def source() -> Iterator[pa.RecordBatch]:
        yield _batch(0)
        yield _batch(1)
        raise OSError("disk gone")

    got: list[int] = []
    with pytest.raises(OSError, match="disk gone"):
        for batch in read_ahead(source(), 1 << 20):
            got.append(batch.column(0)[0].as_py())
    assert got == [0, 1]
    assert _threads() == []


def test_stopping_early_ends_the_thread_and_closes_the_iterator() -> None:
    closed = threading.Event()

    def source() -> Iterator[pa.RecordBatch]:
        try:
            for i in range(1_000_000):
                yield _batch(i)
        finally:
            closed.set()

    reader = read_ahead(source(), 1 << 16)
    assert next(reader).column(0)[0].as_py() == 0
    reader.close()
    assert closed.is_set()
    assert _threads() == []


def test_an_error_of_the_caller_ends_the_thread() -> None:
    def source() -> Iterator[pa.RecordBatch]:
        i = 0
        while True:
            yield _batch(i)
            i += 1

    with pytest.raises(KeyError):
        for batch in read_ahead(source(), 0):
            if batch.column(0)[0].as_py() == 3:
                raise KeyError("the caller's own")
    assert _threads() == []


def test_rejects_a_negative_bound() -> None:
    with pytest.raises(ValueError, match="max_bytes must be >= 0, got -1"):
        list(read_ahead(iter([]), -1))


def test_the_size_function_is_given_only_the_items() -> None:
    """A measure of the caller's items (here: ints only) is never asked about the end of
    the items (which once killed the thread and left the caller waiting)."""
    got: list[int] = []

    def consume() -> None:
        got.extend(read_ahead(iter(range(5)), max_bytes=10, size=lambda n: 10 * int(n)))

    caller = threading.Thread(target=consume, daemon=True)
    caller.start()
    caller.join(timeout=30)
    assert not caller.is_alive() and got == list(range(5))
