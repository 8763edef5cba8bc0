"""Tests of beam_stats.sketches.distinct (HyperLogLog with Ertl's estimator)."""

from __future__ import annotations

import pickle

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beam_stats.errors import DeserializationError, IncompatibleMergeError, InvalidInputError
from beam_stats.proto import sketches_pb2
from beam_stats.sketches import DistinctCountAccumulator, DistinctCountSpec, hash_array

SMALL = DistinctCountSpec(precision=8)  # small registers so that properties hit collisions
ints = st.lists(st.integers(-(2**63), 2**63 - 1) | st.integers(0, 300), max_size=300)


def sketch(values: list[int], spec: DistinctCountSpec = SMALL) -> DistinctCountAccumulator:
    acc = spec.create()
    acc.add(pa.array(values, type=pa.int64()))
    return acc


@pytest.mark.parametrize("bad", [3, 19, -1, True, 14.0, "14"])
def test_spec_rejects_bad_precision(bad: object) -> None:
    with pytest.raises(InvalidInputError, match=repr(bad) if isinstance(bad, str) else str(bad)):
        DistinctCountSpec(precision=bad)  # type: ignore[arg-type]


def test_spec_defaults_and_error() -> None:
    spec = DistinctCountSpec()
    assert spec.precision == 14
    assert spec.relative_standard_error == pytest.approx(1.04 / 128)
    assert spec.create().registers.size == 2**14


def test_empty_is_exactly_zero() -> None:
    acc = DistinctCountSpec().create()
    assert acc.is_empty
    assert acc.result() == 0
    acc.add(pa.array([], pa.string()))
    acc.add(pa.array([None, None], pa.string()))
    acc.add(pa.array([None, None]))  # Arrow type null
    acc.add_hashes(np.zeros(0, dtype=np.uint64))
    assert acc.result() == 0
    assert acc.is_empty


def test_nulls_are_ignored() -> None:
    acc = DistinctCountSpec().create()
    acc.add(pa.array(["a", None, "b", "a", None]))
    assert acc.result() == 2


@pytest.mark.parametrize("precision", [12, 14])
@pytest.mark.parametrize("n", [0, 1, 100, 10_000, 1_000_000])
def test_relative_error_within_four_rse(precision: int, n: int) -> None:
    spec = DistinctCountSpec(precision=precision)
    acc = spec.create()
    # Each value twice, in two calls: duplicates must not count.
    hashes = hash_array(pa.array(np.arange(n, dtype=np.int64)))
    acc.add_hashes(hashes)
    acc.add_hashes(hashes[::-1])
    if n <= 1:
        assert acc.result() == n
    else:
        assert abs(acc.result() - n) <= 4 * spec.relative_standard_error * n


def test_strings_end_to_end() -> None:
    spec = DistinctCountSpec()
    acc = spec.create()
    values = pa.array([f"user-{i % 5000}" for i in range(20_000)])
    acc.add(values)
    acc.add(values.dictionary_encode())
    assert abs(acc.result() - 5000) <= 4 * spec.relative_standard_error * 5000


def test_register_update_matches_bit_by_bit_definition() -> None:
    rng = np.random.default_rng(3)
    hashes = rng.integers(0, 2**64, 2000, dtype=np.uint64, endpoint=False)
    # Values whose float64 conversion rounds up to the next power of two, and extremes.
    edge = [0, 1, 2**53 - 1, 2**54 - 1, 2**59 - 1, 2**60 - 1, 2**63, 2**64 - 1]
    hashes = np.concatenate([hashes, np.array(edge, dtype=np.uint64)])
    for precision in (4, 14, 18):
        acc = DistinctCountSpec(precision=precision).create()
        acc.add_hashes(hashes)
        q = 64 - precision
        expected = np.zeros(2**precision, dtype=np.uint8)
        for h in hashes.tolist():  # the definition, one hash at a time
            rest = h & ((1 << q) - 1)
            expected[h >> q] = max(expected[h >> q], q + 1 - rest.bit_length())
        np.testing.assert_array_equal(acc.registers, expected)


def test_add_hashes_rejects_floats_and_registers_are_read_only() -> None:
    acc = DistinctCountSpec().create()
    with pytest.raises(InvalidInputError, match="float64"):
        acc.add_hashes(np.array([1.0]))
    with pytest.raises(ValueError, match="read-only"):
        acc.registers[0] = 1


def test_merge_rejects_other_precision() -> None:
    with pytest.raises(IncompatibleMergeError, match="12 and 14"):
        DistinctCountSpec(precision=12).create().merge(DistinctCountSpec().create())


@settings(max_examples=60, deadline=None)
@given(a=ints, b=ints)
def test_merge_equals_sketch_of_concatenation(a: list[int], b: list[int]) -> None:
    merged = sketch(a)
    merged.merge(sketch(b))
    assert merged == sketch(a + b)


@settings(max_examples=60, deadline=None)
@given(a=ints)
def test_merge_identity(a: list[int]) -> None:
    left = SMALL.create()
    left.merge(sketch(a))
    right = sketch(a)
    right.merge(SMALL.create())
    assert left == sketch(a) == right


@settings(max_examples=60, deadline=None)
@given(a=ints, b=ints, c=ints)
def test_merge_commutative_and_associative(a: list[int], b: list[int], c: list[int]) -> None:
    ab = sketch(a)
    ab.merge(sketch(b))
    ba = sketch(b)
    ba.merge(sketch(a))
    assert ab == ba
    ab.merge(sketch(c))
    bc = sketch(b)
    bc.merge(sketch(c))
    a_bc = sketch(a)
    a_bc.merge(bc)
    assert ab == a_bc


@settings(max_examples=60, deadline=None)
@given(batches=st.lists(ints, max_size=5))
def test_one_accumulator_equals_merged_batches_equals_round_trip(
    batches: list[list[int]],
) -> None:
    single = SMALL.create()
    merged = SMALL.create()
    for batch in batches:
        single.add(pa.array(batch, type=pa.int64()))
        merged.merge(sketch(batch))
    restored = DistinctCountAccumulator.from_proto(merged.to_proto())
    assert single == merged == restored
    assert single.result() == restored.result()


@settings(max_examples=60, deadline=None)
@given(a=ints)
def test_proto_and_pickle_round_trip(a: list[int]) -> None:
    acc = sketch(a)
    msg = acc.to_proto()
    assert msg.precision == 8
    assert len(msg.registers) == 256
    assert DistinctCountAccumulator.from_proto(msg) == acc
    restored = DistinctCountAccumulator.from_proto(
        sketches_pb2.DistinctCountState.FromString(msg.SerializeToString())
    )
    assert restored == acc
    assert pickle.loads(pickle.dumps(acc)) == acc


@pytest.mark.parametrize(
    ("precision", "registers", "match"),
    [
        (3, b"\x00" * 8, "precision"),
        (19, b"", "precision"),
        (8, b"\x00" * 255, "256 registers, got 255"),
        (8, b"\x00" * 257, "256 registers, got 257"),
        (8, b"\x3a" + b"\x00" * 255, "58 exceeds 57"),
    ],
)
def test_from_proto_rejects_corrupt_state(precision: int, registers: bytes, match: str) -> None:
    msg = sketches_pb2.DistinctCountState(precision=precision, registers=registers)
    with pytest.raises(DeserializationError, match=match):
        DistinctCountAccumulator.from_proto(msg)


def test_from_proto_accepts_largest_register_value() -> None:
    msg = sketches_pb2.DistinctCountState(precision=8, registers=b"\x39" + b"\x00" * 255)
    assert DistinctCountAccumulator.from_proto(msg).result() > 0
