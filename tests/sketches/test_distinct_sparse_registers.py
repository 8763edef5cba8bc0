"""Distinct counts without registers while exact, and the sparse register encoding (issue 16).

The registers expected here are built from the hashes one at a time by HyperLogLog's
definition, independently of the vectorised update.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beam_stats.errors import DeserializationError
from beam_stats.proto import sketches_pb2
from beam_stats.sketches import DistinctCountAccumulator, DistinctCountSpec, hash_array

SMALL = DistinctCountSpec(precision=8, exact_limit=40)
ints = st.lists(st.integers(-(2**63), 2**63 - 1) | st.integers(0, 300), max_size=300)
ENCODINGS = ("as made", "protected", "protected, old dense bytes")


def direct_registers(hashes: np.ndarray, precision: int) -> np.ndarray:
    """HyperLogLog's registers of `hashes` by the definition, one hash at a time."""
    q = 64 - precision
    registers = [0] * 2**precision
    for h in hashes.tolist():
        rest = h & ((1 << q) - 1)
        registers[h >> q] = max(registers[h >> q], q + 1 - rest.bit_length())
    return np.array(registers, dtype=np.uint8)


def old_dense(acc: DistinctCountAccumulator) -> sketches_pb2.DistinctCountState:
    """The state as beam-stats wrote it before the sparse encoding: every register."""
    msg = acc.to_proto()
    if not msg.hashes:
        msg.ClearField("sparse_registers")
        msg.registers = acc.registers.tobytes()
    return msg


def values_hashes(n: int) -> tuple[pa.Array, np.ndarray]:
    values = pa.array([f"value-{i}" for i in range(n)])
    return values, np.unique(hash_array(values))


@pytest.mark.parametrize(
    ("limit", "n"),
    [
        (100_000, 1),
        (100_000, 5),
        (100_000, 1000),
        (100_000, 99_999),
        (100_000, 100_000),
        (100_000, 100_001),
        (5_000, 4_999),
        (5_000, 5_000),
        (5_000, 5_001),
        (5_000, 100_000),
    ],
)
def test_no_registers_while_exact_and_the_same_registers_after(limit: int, n: int) -> None:
    spec = DistinctCountSpec(precision=14, exact_limit=limit)
    values, hashes = values_hashes(n)
    assert hashes.size == n  # no collision among these strings
    acc = spec.create()
    for start in range(0, n, 30_000):  # several batches, crossing the limit in one of them
        acc.add(values.slice(start, 30_000))
    msg = acc.to_proto()
    expected = direct_registers(hashes, 14)
    # HyperLogLog from the first value: the estimate beam-stats gave before the exact mode.
    hll_only = DistinctCountSpec(precision=14, exact_limit=0).create()
    hll_only.add(values)
    np.testing.assert_array_equal(hll_only.registers, expected)
    if n <= limit:
        assert acc.is_exact and acc.result() == n
        assert (len(msg.registers), len(msg.sparse_registers), len(msg.hashes)) == (0, 0, 8 * n)
    else:
        assert not acc.is_exact
        assert not msg.hashes
        np.testing.assert_array_equal(acc.registers, expected)
        assert acc.estimate() == hll_only.estimate()
        assert acc.result() == max(round(hll_only.estimate()), limit + 1)
    # A protected copy (densified) has the registers of every hash, whatever the mode.
    protected = DistinctCountAccumulator.from_proto(msg)
    protected.densify()
    np.testing.assert_array_equal(protected.registers, expected)
    assert protected.estimate() == hll_only.estimate()
    restored = DistinctCountAccumulator.from_proto(protected.to_proto())
    assert restored == protected and restored.estimate() == hll_only.estimate()


def test_protected_five_values_take_20_bytes_of_registers() -> None:
    acc = DistinctCountSpec().create()
    acc.add(pa.array(["de", "fr", "jp", "us", "uk"] * 200))
    assert len(acc.to_proto().SerializeToString()) < 60  # 5 hashes
    acc.densify()
    msg = acc.to_proto()
    assert (len(msg.hashes), len(msg.registers), len(msg.sparse_registers)) == (0, 0, 20)
    assert len(msg.SerializeToString()) < 40  # 16,390 bytes as dense registers
    packed = np.frombuffer(msg.sparse_registers, dtype="<u4")
    expected = direct_registers(np.unique(hash_array(pa.array(["de", "fr", "jp", "us", "uk"]))), 14)
    index = np.flatnonzero(expected)
    np.testing.assert_array_equal(packed >> 8, index)
    np.testing.assert_array_equal(packed & 0xFF, expected[index])
    assert DistinctCountAccumulator.from_proto(old_dense(acc)) == acc


@pytest.mark.parametrize(("set_registers", "sparse"), [(0, False), (3, True), (4, False)])
def test_sparse_only_while_smaller(set_registers: int, sparse: bool) -> None:
    spec = DistinctCountSpec(precision=4, exact_limit=0)  # 16 registers: sparse below 4 set
    registers = np.zeros(16, dtype=np.uint8)
    registers[[1, 5, 9, 15][:set_registers]] = [3, 1, 61, 7][:set_registers]
    msg = sketches_pb2.DistinctCountState(precision=4, registers=registers.tobytes())
    acc = DistinctCountAccumulator.from_proto(msg)
    assert acc.spec.precision == spec.precision
    out = acc.to_proto()
    assert bool(out.sparse_registers) == sparse
    assert len(out.sparse_registers) == (4 * set_registers if sparse else 0)
    assert len(out.registers) == (16 if set_registers and not sparse else 0)
    np.testing.assert_array_equal(DistinctCountAccumulator.from_proto(out).registers, registers)


def _sparse(*pairs: tuple[int, int]) -> bytes:
    return np.array([i << 8 | v for i, v in pairs], dtype="<u4").tobytes()


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"\x01\x02\x03", "3 bytes, not a multiple of 4"),
        (_sparse((5, 1), (2, 1)), "not in order"),
        (_sparse((5, 1), (5, 2)), "not in order"),
        (_sparse((256, 1)), "index 256 is out of range for 256 registers"),
        (_sparse((3, 0)), "zero value"),
        (_sparse((3, 58)), "58 exceeds 57"),
    ],
)
def test_from_proto_rejects_corrupt_sparse_registers(data: bytes, match: str) -> None:
    msg = sketches_pb2.DistinctCountState(precision=8, sparse_registers=data)
    with pytest.raises(DeserializationError, match=match):
        DistinctCountAccumulator.from_proto(msg)


@pytest.mark.parametrize("other", ["hashes", "registers"])
def test_from_proto_rejects_sparse_registers_with_another_form(other: str) -> None:
    msg = sketches_pb2.DistinctCountState(precision=8, exact_limit=10)
    msg.sparse_registers = _sparse((3, 1))
    setattr(msg, other, bytes(8) if other == "hashes" else bytes(256))
    with pytest.raises(DeserializationError, match=f"both {other} and sparse_registers"):
        DistinctCountAccumulator.from_proto(msg)


def _state(values: list[int], encoding: str) -> DistinctCountAccumulator:
    """A state of `values` as made, protected (sparse or dense registers), or protected
    and read from the dense bytes every older beam-stats wrote."""
    acc = SMALL.create()
    acc.add(pa.array(values, type=pa.int64()))
    if encoding != "as made":
        acc.densify()
    msg = old_dense(acc) if encoding == "protected, old dense bytes" else acc.to_proto()
    return DistinctCountAccumulator.from_proto(
        sketches_pb2.DistinctCountState.FromString(msg.SerializeToString())
    )


@settings(max_examples=80, deadline=None)
@given(
    parts=st.lists(st.tuples(ints, st.sampled_from(ENCODINGS)), min_size=3, max_size=3),
)
def test_mixed_exact_sparse_dense_merges_commute_and_associate(
    parts: list[tuple[list[int], str]],
) -> None:
    a, b, c = (_state(values, encoding) for values, encoding in parts)
    ab = _state(*parts[0])
    ab.merge(b)
    ba = _state(*parts[1])
    ba.merge(a)
    assert ab == ba
    assert ab.to_proto().SerializeToString() == ba.to_proto().SerializeToString()
    ab.merge(c)
    bc = _state(*parts[1])
    bc.merge(c)
    a_bc = _state(*parts[0])
    a_bc.merge(bc)
    assert ab == a_bc
    assert ab.to_proto().SerializeToString() == a_bc.to_proto().SerializeToString()
    union = sorted({v for values, _ in parts for v in values})
    hashes = np.unique(hash_array(pa.array(union, type=pa.int64())))
    np.testing.assert_array_equal(ab.registers, direct_registers(hashes, 8))
    protected = any(encoding != "as made" for _, encoding in parts)
    if not union:  # nothing to hide: empty registers read as the empty set
        assert ab.is_exact and ab.result() == 0
    elif not protected and len(union) <= SMALL.exact_limit:
        assert ab.is_exact and ab.result() == len(union)
    else:
        assert not ab.is_exact and not ab.to_proto().hashes
