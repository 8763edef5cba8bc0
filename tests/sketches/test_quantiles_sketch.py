"""Tests of beam_stats.sketches.quantiles (KLL via datasketches).

Sketch answers are checked against exact numpy answers within ``BOUND = 2 * rank_error``:
``rank_error`` is DataSketches' 99th-percentile rank error, and KLL compaction is random, so a
test at exactly 1x would fail about once in a hundred runs; at 2x a failure is a real bug.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beam_stats.errors import DeserializationError, IncompatibleMergeError, InvalidInputError
from beam_stats.proto import sketches_pb2
from beam_stats.sketches import QuantilesAccumulator, QuantilesSpec

SPEC = QuantilesSpec()
BOUND = 2 * SPEC.rank_error
RANKS = np.linspace(0.0, 1.0, 41)

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
small_lists = st.lists(finite | st.integers(-3, 3).map(float), max_size=60)
# Big enough (up to 3000 values, k=200) that KLL compacts.
seeded = st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 3000)).map(
    lambda seed_n: np.random.default_rng(seed_n[0]).normal(size=seed_n[1]).round(2)
)


def sketch(values: np.ndarray | list[float], spec: QuantilesSpec = SPEC) -> QuantilesAccumulator:
    acc = spec.create()
    acc.add(np.asarray(values, dtype=np.float64))
    return acc


def rank_distance(data: np.ndarray, ranks: np.ndarray, answers: np.ndarray) -> np.ndarray:
    """How far each requested rank lies outside the true rank range of its answer."""
    ordered = np.sort(data)
    below = np.searchsorted(ordered, answers, side="left") / data.size
    at_or_below = np.searchsorted(ordered, answers, side="right") / data.size
    distance: np.ndarray = np.maximum(0.0, np.maximum(below - ranks, ranks - at_or_below))
    return distance


def assert_within_bound(acc: QuantilesAccumulator, data: np.ndarray) -> None:
    assert acc.n == data.size
    if data.size == 0:
        assert acc.is_empty
        return
    assert acc.min_value == data.min()
    assert acc.max_value == data.max()
    np.testing.assert_array_equal(acc.quantiles([0.0, 1.0]), [data.min(), data.max()])
    assert rank_distance(data, RANKS, acc.quantiles(RANKS)).max() <= BOUND
    points = np.unique(np.quantile(data, [0.1, 0.3, 0.5, 0.7, 0.9]))
    true_cdf = np.searchsorted(np.sort(data), points, side="left") / data.size
    assert np.abs(acc.cdf(points)[:-1] - true_cdf).max() <= BOUND


@pytest.mark.parametrize("bad", [7, 65536, 0, True, 200.0, "200"])
def test_spec_rejects_bad_k(bad: object) -> None:
    with pytest.raises(InvalidInputError, match=repr(bad) if isinstance(bad, str) else str(bad)):
        QuantilesSpec(k=bad)  # type: ignore[arg-type]


def test_rank_error_is_datasketches_formula() -> None:
    assert SPEC.k == 200
    assert SPEC.rank_error == pytest.approx(2.296 / 200**0.9723)
    assert QuantilesSpec(k=8).rank_error > QuantilesSpec(k=65535).rank_error


def test_empty() -> None:
    acc = SPEC.create()
    acc.add(np.array([]))
    assert acc.is_empty
    assert acc.n == 0
    assert np.isnan(acc.min_value)
    assert np.isnan(acc.max_value)
    assert np.isnan(acc.quantiles([0.0, 0.5, 1.0])).all()
    assert acc.quantiles(np.array([0.5])).shape == (1,)
    assert np.isnan(acc.cdf([1.0, 2.0])).all()
    assert acc.cdf([1.0, 2.0]).shape == (3,)


@settings(max_examples=100, deadline=None)
@given(data=small_lists, k=st.integers(60, 300))
def test_exact_before_compaction(data: list[float], k: int) -> None:
    values = np.array(data, dtype=np.float64)
    acc = sketch(values, QuantilesSpec(k=k))
    if values.size == 0:
        return
    np.testing.assert_array_equal(
        acc.quantiles(RANKS), np.quantile(values, RANKS, method="inverted_cdf")
    )
    points = np.unique(values)
    ordered = np.sort(values)
    exclusive = np.searchsorted(ordered, points, side="left") / values.size
    inclusive = np.searchsorted(ordered, points, side="right") / values.size
    np.testing.assert_allclose(acc.cdf(points), np.append(exclusive, 1.0), atol=1e-12)
    np.testing.assert_allclose(
        acc.cdf(points, inclusive=True), np.append(inclusive, 1.0), atol=1e-12
    )


def test_estimation_mode_within_bound() -> None:
    rng = np.random.default_rng(11)
    data = np.concatenate(
        [rng.normal(size=150_000), np.full(30_000, 0.25), rng.exponential(size=20_000)]
    )
    rng.shuffle(data)
    acc = SPEC.create()
    for batch in np.array_split(data, 9):
        acc.add(batch)
    assert acc.to_proto().ByteSize() < 10_000  # about 3k items, not 200k
    assert_within_bound(acc, data)


def test_add_accepts_read_only_strided_and_other_dtypes() -> None:
    read_only = np.arange(10.0)
    read_only.flags.writeable = False
    acc = SPEC.create()
    acc.add(read_only)
    acc.add(np.arange(20.0)[::2])
    acc.add(np.arange(5, dtype=np.int32))
    acc.add(np.arange(5, dtype=np.float32))
    acc.add([1.5, 2.5])
    expected = np.concatenate([np.arange(10.0), np.arange(0, 20, 2), np.arange(5), np.arange(5)])
    assert_within_bound(acc, np.append(expected, [1.5, 2.5]))


def test_nan_is_not_counted_and_infinities_are_values() -> None:
    acc = sketch([1.0, np.nan, np.inf, -np.inf])
    assert acc.n == 3
    assert acc.min_value == -np.inf
    assert acc.max_value == np.inf


def test_add_constant() -> None:
    acc = SPEC.create()
    acc.add_constant(2.5, 0)
    acc.add_constant(np.nan, 10)
    assert acc.is_empty
    acc.add(np.array([1.0, 3.0]))
    acc.add_constant(2.5, (1 << 21) + 7)  # more than two chunks
    assert acc.n == (1 << 21) + 9
    np.testing.assert_array_equal(acc.quantiles([0.0, 0.5, 1.0]), [1.0, 2.5, 3.0])
    with pytest.raises(InvalidInputError, match="-1"):
        acc.add_constant(1.0, -1)


def test_bad_ranks_and_split_points() -> None:
    acc = sketch([1.0, 2.0])
    with pytest.raises(InvalidInputError, match="1.5"):
        acc.quantiles([0.5, 1.5])
    with pytest.raises(InvalidInputError, match="nan"):
        acc.quantiles([np.nan])
    with pytest.raises(InvalidInputError, match="non-decreasing"):
        acc.cdf([2.0, 1.0])
    with pytest.raises(InvalidInputError, match="NaN"):
        acc.cdf([np.nan])
    np.testing.assert_array_equal(acc.cdf([1.0, 1.0, 2.0, 2.0]), [0.0, 0.0, 0.5, 0.5, 1.0])
    np.testing.assert_array_equal(acc.cdf([]), [1.0])


def test_result_is_quantiles() -> None:
    acc = sketch([3.0, 1.0, 2.0])
    np.testing.assert_array_equal(acc.result([0.0, 0.5, 1.0]), [1.0, 2.0, 3.0])


def test_merge_rejects_other_k() -> None:
    with pytest.raises(IncompatibleMergeError, match="k=200 and k=100"):
        SPEC.create().merge(QuantilesSpec(k=100).create())


@settings(max_examples=50, deadline=None)
@given(a=seeded)
def test_merge_identity_is_exact(a: np.ndarray) -> None:
    source = sketch(a)
    before = source.to_proto()
    left = SPEC.create()
    left.merge(source)
    assert left == source
    source.merge(SPEC.create())
    assert source.to_proto() == before


@settings(max_examples=50, deadline=None)
@given(a=seeded, b=seeded)
def test_merge_commutative_within_bound(a: np.ndarray, b: np.ndarray) -> None:
    ab = sketch(a)
    ab.merge(sketch(b))
    ba = sketch(b)
    ba.merge(sketch(a))
    both = np.concatenate([a, b])
    assert_within_bound(ab, both)
    assert_within_bound(ba, both)
    if both.size <= SPEC.k:
        np.testing.assert_array_equal(ab.quantiles(RANKS), ba.quantiles(RANKS))


@settings(max_examples=50, deadline=None)
@given(a=seeded, b=seeded, c=seeded)
def test_merge_associative_within_bound(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> None:
    ab_c = sketch(a)
    ab_c.merge(sketch(b))
    ab_c.merge(sketch(c))
    bc = sketch(b)
    bc.merge(sketch(c))
    a_bc = sketch(a)
    a_bc.merge(bc)
    data = np.concatenate([a, b, c])
    assert_within_bound(ab_c, data)
    assert_within_bound(a_bc, data)


@settings(max_examples=50, deadline=None)
@given(batches=st.lists(seeded | small_lists.map(np.array), max_size=5))
def test_one_accumulator_vs_merged_batches_vs_round_trip(batches: list[np.ndarray]) -> None:
    single = SPEC.create()
    merged = SPEC.create()
    for batch in batches:
        single.add(np.asarray(batch, dtype=np.float64))
        merged.merge(sketch(batch))
    restored = QuantilesAccumulator.from_proto(merged.to_proto())
    data = np.concatenate([np.asarray(b, dtype=np.float64) for b in batches] or [np.zeros(0)])
    assert restored == merged
    assert_within_bound(single, data)
    assert_within_bound(merged, data)


@settings(max_examples=50, deadline=None)
@given(a=seeded | small_lists.map(np.array))
def test_proto_and_pickle_round_trip(a: np.ndarray) -> None:
    acc = sketch(a)
    msg = acc.to_proto()
    assert msg.k == 200
    wire = sketches_pb2.QuantilesState.FromString(msg.SerializeToString())
    assert QuantilesAccumulator.from_proto(wire) == acc
    assert pickle.loads(pickle.dumps(acc)) == acc
    assert acc != sketch(np.append(a, 1e300))


@pytest.mark.parametrize(
    ("k", "kll", "match"),
    [
        (0, b"", "k must be"),
        (200, b"", "at least 8 bytes"),
        (200, b"\x00" * 20, "family"),
        (100, None, "k=200"),
    ],
)
def test_from_proto_rejects_corrupt_state(k: int, kll: bytes | None, match: str) -> None:
    if kll is None:
        kll = sketch(np.arange(500.0)).to_proto().kll
    with pytest.raises(DeserializationError, match=match):
        QuantilesAccumulator.from_proto(sketches_pb2.QuantilesState(k=k, kll=kll))


def test_from_proto_rejects_truncated_and_extended_bytes() -> None:
    kll = sketch(np.arange(5000.0)).to_proto().kll
    for bad in (kll[:-1], kll[:30], kll + b"\x00"):
        with pytest.raises(DeserializationError):
            QuantilesAccumulator.from_proto(sketches_pb2.QuantilesState(k=200, kll=bad))


@settings(max_examples=300, deadline=None)
@given(
    n=st.sampled_from([1, 2, 150, 5000]),
    edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=3),
)
def test_damaged_bytes_raise_or_stay_usable(n: int, edits: list[tuple[int, int]]) -> None:
    # A damaged level table used to crash the C++ deserializer (segfault); it must either be
    # rejected or give a sketch that answers queries and merges.
    data = bytearray(sketch(np.linspace(-1.0, 1.0, n)).to_proto().kll)
    for position, byte in edits:
        data[position % len(data)] = byte
    msg = sketches_pb2.QuantilesState(k=200, kll=bytes(data))
    try:
        acc = QuantilesAccumulator.from_proto(msg)
    except DeserializationError:
        return
    acc.quantiles(RANKS)
    acc.cdf([0.0])
    acc.merge(sketch(np.arange(1000.0)))
    assert acc.n >= 1000
