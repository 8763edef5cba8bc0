"""String hashes against the documented formula, computed value by value in Python integers,
for both summation paths (byte by byte, and position by position: issue 16) and the array
layouts the statistics meet; and the sort that merges hashes into the distinct state."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from beam_stats.sketches import DistinctCountSpec, hash_array, hashing
from beam_stats.sketches.distinct import _sorted_distinct

M64 = (1 << 64) - 1
SEED, LENGTH_SEED = 0x5BD1E9955BD1E995, 0xC2B2AE3D27D4EB4F


def _splitmix64(x: int) -> int:
    z = (x + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def _reference(value: bytes) -> int:
    """The module docstring's formula: T(j, b) = splitmix64(SEED + 256 j + b), summed modulo
    2**64, finished with splitmix64(sum + splitmix64(LENGTH_SEED + len))."""
    total = sum(_splitmix64(SEED + 256 * j + b) for j, b in enumerate(value)) & M64
    return _splitmix64((total + _splitmix64(LENGTH_SEED + len(value))) & M64)


def _values(n: int, seed: int) -> list[bytes]:
    rng = np.random.default_rng(seed)
    lengths = rng.choice([0, 1, 2, 7, 14, 63, 64, 65, 66, 100, 300], size=n)
    return [bytes(rng.integers(0, 256, k, dtype=np.uint8)) for k in lengths]


@pytest.mark.parametrize("n", [0, 1, 5, 64, 65, 400, 3000])
def test_both_paths_are_the_formula(n: int) -> None:
    values = _values(n, n)
    expected = np.array([_reference(v) for v in values], dtype=np.uint64)
    arr = pa.array(values, pa.binary())
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[: n + 1].astype(np.int64)
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8) if n else np.zeros(0, np.uint8)
    if n:  # the byte-by-byte path (as it always was) and the position-by-position one
        np.testing.assert_array_equal(hashing._hash_binary_chunk(data, offsets), expected)
        np.testing.assert_array_equal(hashing._hash_by_position(data, offsets), expected)
    np.testing.assert_array_equal(hash_array(arr), expected)


def test_chunks_past_the_chunk_size_are_the_formula() -> None:
    # Many chunks of 256 KiB, each hashed position by position, with offsets not from 0.
    values = _values(2000, 1) * 6 + [b"z" * 70_000] + _values(300, 2)
    expected = np.array([_reference(v) for v in values], dtype=np.uint64)
    arr = pa.array(values, pa.large_binary())
    assert arr.nbytes > 2 * hashing._CHUNK_BYTES
    np.testing.assert_array_equal(hash_array(arr), expected)
    np.testing.assert_array_equal(hash_array(arr.slice(777)), expected[777:])


@pytest.mark.parametrize(
    "layout", ["string", "large_string", "chunked", "nulls", "dictionary", "list", "sliced"]
)
def test_layouts_are_the_formula(layout: str) -> None:
    rng = np.random.default_rng(16)
    words = [f"w{v}-{'x' * int(v % 90)}" for v in rng.integers(0, 500, 2000)]
    expected = np.array([_reference(w.encode()) for w in words], dtype=np.uint64)
    values: pa.Array | pa.ChunkedArray
    if layout == "string":
        values = pa.array(words)
    elif layout == "large_string":
        values = pa.array(words, pa.large_string())
    elif layout == "chunked":
        values = pa.chunked_array([words[:700], words[700:701], words[701:]])
    elif layout == "nulls":  # the nulls are dropped first, as the statistics do
        with_nulls = pa.array([w if i % 3 else None for i, w in enumerate(words)])
        values = with_nulls.drop_null()
        expected = expected[[i % 3 != 0 for i in range(len(words))]]
    elif layout == "dictionary":
        values = pc.dictionary_encode(pa.array(words))
    elif layout == "list":
        lists = pa.ListArray.from_arrays(pa.array(range(0, 2001, 4), pa.int32()), pa.array(words))
        values = pc.list_flatten(lists)
    else:
        values = pa.array(["pad"] * 11 + words).slice(11)
    np.testing.assert_array_equal(hash_array(values), expected)


def test_empty_arrays() -> None:
    for t in (pa.string(), pa.large_string(), pa.binary()):
        assert hash_array(pa.array([], t)).size == 0
        assert hash_array(pa.array([None], t).drop_null()).size == 0
        assert hash_array(pc.dictionary_encode(pa.array([], t))).size == 0


@pytest.mark.parametrize("n", [0, 1, 2, 50, 5000])
def test_sorted_distinct_is_unique(n: int) -> None:
    rng = np.random.default_rng(n)
    distinct = rng.integers(0, 2**63, n, dtype=np.uint64) * np.uint64(2)
    for hashes in (distinct, np.concatenate([distinct, distinct[: n // 3]]), distinct[:0]):
        np.testing.assert_array_equal(_sorted_distinct(hashes), np.unique(hashes))


def test_distinct_state_is_that_of_unique() -> None:
    """The exact state holds np.unique of the hashes added, batch after batch."""
    rng = np.random.default_rng(3)
    spec = DistinctCountSpec()
    acc = spec.create()
    seen: list[np.ndarray] = []
    for size in (10, 5000, 0, 3000):
        batch = rng.integers(0, 4000, size).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        acc.add_hashes(batch)
        seen.append(batch)
    assert acc.hashes is not None
    np.testing.assert_array_equal(acc.hashes, np.unique(np.concatenate(seen)))
    assert acc.result() == len(np.unique(np.concatenate(seen)))
