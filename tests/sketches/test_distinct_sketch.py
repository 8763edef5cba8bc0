"""Tests of beam_stats.sketches.distinct (HyperLogLog with Ertl's estimator)."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beam_stats.errors import DeserializationError, IncompatibleMergeError, InvalidInputError
from beam_stats.proto import sketches_pb2
from beam_stats.sketches import DistinctCountAccumulator, DistinctCountSpec, hash_array

# Small registers so that properties hit collisions, and a small exact limit so that they
# cross from sparse to dense; DENSE is HyperLogLog from the first value.
SMALL = DistinctCountSpec(precision=8, exact_limit=40)
DENSE = DistinctCountSpec(precision=8, exact_limit=0)
SPECS = pytest.mark.parametrize("spec", [SMALL, DENSE], ids=["sparse-then-dense", "dense"])
ints = st.lists(st.integers(-(2**63), 2**63 - 1) | st.integers(0, 300), max_size=300)


def sketch(values: list[int], spec: DistinctCountSpec = SMALL) -> DistinctCountAccumulator:
    acc = spec.create()
    acc.add(pa.array(values, type=pa.int64()))
    return acc


@pytest.mark.parametrize("bad", [3, 19, -1, True, 14.0, "14"])
def test_spec_rejects_bad_precision(bad: object) -> None:
    with pytest.raises(InvalidInputError, match=repr(bad) if isinstance(bad, str) else str(bad)):
        DistinctCountSpec(precision=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [-1, 2**24 + 1, True, 10.0])
def test_spec_rejects_bad_exact_limit(bad: object) -> None:
    with pytest.raises(InvalidInputError, match="exact_limit"):
        DistinctCountSpec(exact_limit=bad)  # type: ignore[arg-type]


def test_spec_defaults_and_error() -> None:
    spec = DistinctCountSpec()
    assert spec.precision == 14
    assert spec.exact_limit == 100_000
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


@SPECS
@settings(max_examples=60, deadline=None)
@given(a=ints, b=ints)
def test_merge_equals_sketch_of_concatenation(
    spec: DistinctCountSpec, a: list[int], b: list[int]
) -> None:
    merged = sketch(a, spec)
    merged.merge(sketch(b, spec))
    assert merged == sketch(a + b, spec)
    assert (
        merged.to_proto().SerializeToString() == sketch(a + b, spec).to_proto().SerializeToString()
    )
    exact = len(set(a + b))
    assert merged.is_exact == (exact <= spec.exact_limit)
    if merged.is_exact:
        assert merged.result() == exact


@SPECS
@settings(max_examples=60, deadline=None)
@given(a=ints)
def test_merge_identity(spec: DistinctCountSpec, a: list[int]) -> None:
    left = spec.create()
    left.merge(sketch(a, spec))
    right = sketch(a, spec)
    right.merge(spec.create())
    assert left == sketch(a, spec) == right


@SPECS
@settings(max_examples=60, deadline=None)
@given(a=ints, b=ints, c=ints)
def test_merge_commutative_and_associative(
    spec: DistinctCountSpec, a: list[int], b: list[int], c: list[int]
) -> None:
    ab = sketch(a, spec)
    ab.merge(sketch(b, spec))
    ba = sketch(b, spec)
    ba.merge(sketch(a, spec))
    assert ab == ba
    ab.merge(sketch(c, spec))
    bc = sketch(b, spec)
    bc.merge(sketch(c, spec))
    a_bc = sketch(a, spec)
    a_bc.merge(bc)
    assert ab == a_bc
    assert ab.to_proto().SerializeToString() == a_bc.to_proto().SerializeToString()


@SPECS
@settings(max_examples=60, deadline=None)
@given(batches=st.lists(ints, max_size=5))
def test_one_accumulator_equals_merged_batches_equals_round_trip(
    spec: DistinctCountSpec, batches: list[list[int]]
) -> None:
    single = spec.create()
    merged = spec.create()
    for batch in batches:
        single.add(pa.array(batch, type=pa.int64()))
        merged.merge(sketch(batch, spec))
    restored = DistinctCountAccumulator.from_proto(merged.to_proto())
    assert single == merged == restored
    assert single.result() == restored.result()


@SPECS
@settings(max_examples=60, deadline=None)
@given(a=ints)
def test_proto_and_pickle_round_trip(spec: DistinctCountSpec, a: list[int]) -> None:
    acc = sketch(a, spec)
    msg = acc.to_proto()
    assert msg.precision == 8
    n = len(set(a))
    sizes = (len(msg.hashes), len(msg.registers), len(msg.sparse_registers))
    set_registers = int(np.count_nonzero(acc.registers))
    if n <= spec.exact_limit:  # sparse: 8 bytes per distinct value, no registers
        assert sizes == (8 * n, 0, 0)
    elif 4 * set_registers < 256:  # few registers set: 4 bytes for each
        assert sizes == (0, 0, 4 * set_registers)
    else:
        assert sizes == (0, 256, 0)
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


def test_exact_up_to_the_limit_on_near_unique_strings() -> None:
    rng = np.random.default_rng(10)
    values = pa.array(rng.integers(0, 150_000, 400_000).astype(str).astype(object))
    spec = DistinctCountSpec()  # exact up to 100,000
    acc = spec.create()
    exact = 0
    for start in range(0, 400_000, 50_000):
        chunk = values.slice(start, 50_000)
        acc.add(chunk)
        exact = int(pd.Series(values.slice(0, start + 50_000).to_numpy(False)).nunique())
        if exact <= spec.exact_limit:
            assert acc.is_exact
            assert acc.result() == exact
        else:
            assert not acc.is_exact
            # Just above the limit the estimate is clamped to what dense mode guarantees.
            assert acc.result() >= spec.exact_limit + 1
            assert abs(acc.result() - exact) <= 4 * spec.relative_standard_error * exact
    assert exact > spec.exact_limit


def test_state_of_few_values_is_tiny_and_limit_boundary_is_exact() -> None:
    acc = DistinctCountSpec().create()
    acc.add(pa.array(["a", "b", "c", "a", "b"] * 1000))
    msg = acc.to_proto()
    assert acc.result() == 3
    assert len(msg.SerializeToString()) < 40  # 3 hashes, not 16 KB of registers
    spec = DistinctCountSpec(precision=10, exact_limit=1000)
    at_limit = spec.create()
    at_limit.add(pa.array(np.arange(1000)))
    assert at_limit.is_exact and at_limit.result() == 1000
    over = spec.create()
    over.merge(at_limit)
    over.add(pa.array([1000]))
    assert not over.is_exact
    assert over.result() >= 1001
    # Conversion gives exactly the registers of adding every hash to HyperLogLog directly.
    dense = DistinctCountSpec(precision=10, exact_limit=0).create()
    dense.add(pa.array(np.arange(1001)))
    np.testing.assert_array_equal(over.registers, dense.registers)


def test_format_1_state_reads_as_dense_with_limit_zero() -> None:
    # a registers-only message, as format 1 wrote it
    old = sketches_pb2.DistinctCountState(
        precision=8, registers=sketch(list(range(30)), DENSE).registers.tobytes()
    )
    assert old.exact_limit == 0 and len(old.registers) == 256
    legacy = DistinctCountAccumulator.from_proto(old)
    assert not legacy.is_exact and legacy.exact_limit == 0
    new = sketch(list(range(20, 40)))
    new_first = sketch(list(range(20, 40)))
    new_first.merge(legacy)
    legacy.merge(new)
    assert legacy == new_first  # the merge takes the smaller limit, in either order
    assert legacy.exact_limit == 0 and not legacy.is_exact
    np.testing.assert_array_equal(legacy.registers, sketch(list(range(40)), DENSE).registers)
    empty = sketches_pb2.DistinctCountState(precision=8, registers=bytes(256))
    assert DistinctCountAccumulator.from_proto(empty).is_exact  # all-zero registers: empty


@pytest.mark.parametrize(
    ("hashes", "limit", "match"),
    [
        (b"\x01" * 12, 10, "multiple of 8"),
        (np.array([2, 1], dtype="<u8").tobytes(), 10, "sorted"),
        (np.array([1, 1], dtype="<u8").tobytes(), 10, "sorted"),
        (np.array([1, 2, 3], dtype="<u8").tobytes(), 2, "more than its exact limit 2"),
    ],
)
def test_from_proto_rejects_corrupt_hashes(hashes: bytes, limit: int, match: str) -> None:
    msg = sketches_pb2.DistinctCountState(precision=8, exact_limit=limit, hashes=hashes)
    with pytest.raises(DeserializationError, match=match):
        DistinctCountAccumulator.from_proto(msg)
    msg.registers = bytes(256)
    with pytest.raises(DeserializationError, match="both"):
        DistinctCountAccumulator.from_proto(msg)
