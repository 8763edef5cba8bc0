"""Tests of beam_stats.sketches.quantiles: exact below the limit, certified bounds above it.

Exact answers are numpy's on the same data. Past the exact limit every answer is checked
against the sketch's own certified ``rank_error`` (no slack: the bound is deterministic), and
equi-width bucket counts against the bound ``bucket_counts`` states.
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
from beam_stats.sketches.quantiles import exact_part
from beam_stats.stats.histograms import equal_width_edges

SPEC = QuantilesSpec()
SMALL = QuantilesSpec(exact_limit=1000, capacity=64)  # compacts after 1,000 distinct values
RANKS = np.linspace(0.0, 1.0, 41)

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
small_lists = st.lists(finite | st.integers(-3, 3).map(float), max_size=60)
# Up to 3,000 values of up to ~600 distinct ones: SMALL compacts some of them.
seeded = st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 3000)).map(
    lambda seed_n: np.random.default_rng(seed_n[0]).normal(size=seed_n[1]).round(2)
)


def sketch(values: np.ndarray | list[float], spec: QuantilesSpec = SMALL) -> QuantilesAccumulator:
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


def true_bucket_counts(data: np.ndarray, edges: np.ndarray) -> np.ndarray:
    ordered = np.sort(data)
    below = np.searchsorted(ordered, edges[1:-1], side="left")
    return np.diff(np.concatenate(([0], below, [data.size])))


def assert_within_bound(acc: QuantilesAccumulator, data: np.ndarray) -> None:
    assert acc.n == data.size
    if data.size == 0:
        assert acc.is_empty
        return
    eps = acc.rank_error
    if len(np.unique(data)) <= acc.spec.exact_limit:
        assert eps == 0.0 and acc.is_exact
    assert acc.min_value == data.min()
    assert acc.max_value == data.max()
    np.testing.assert_array_equal(acc.quantiles([0.0, 1.0]), [data.min(), data.max()])
    assert rank_distance(data, RANKS, acc.quantiles(RANKS)).max() <= eps + 1e-12
    points = np.unique(np.quantile(data, [0.1, 0.3, 0.5, 0.7, 0.9], method="inverted_cdf"))
    true_cdf = np.searchsorted(np.sort(data), points, side="left") / data.size
    assert np.abs(acc.cdf(points)[:-1] - true_cdf).max() <= eps + 1e-12
    for buckets in (10, 3000):  # cells narrower than buckets, and wider
        edges = equal_width_edges(data.min(), data.max(), buckets)
        counts, bound = acc.bucket_counts(edges)
        truth = true_bucket_counts(data, edges)
        assert counts.sum() == data.size
        if buckets == 10:
            assert np.abs(counts - truth).max() <= bound
            assert np.all(counts[truth > 0] >= 1)  # a bucket holding a value is never empty
        if eps == 0.0:
            np.testing.assert_array_equal(counts, truth)


@pytest.mark.parametrize(
    ("field", "bad"),
    [("exact_limit", 999), ("exact_limit", True), ("capacity", 63), ("capacity", 200.0)],
)
def test_spec_rejects_bad_settings(field: str, bad: object) -> None:
    with pytest.raises(InvalidInputError, match=field):
        QuantilesSpec(**{field: bad})  # type: ignore[arg-type]


def test_empty() -> None:
    acc = SPEC.create()
    acc.add(np.array([]))
    assert acc.is_empty and acc.is_exact and acc.n == 0 and acc.rank_error == 0.0
    assert np.isnan(acc.min_value)
    assert np.isnan(acc.max_value)
    assert np.isnan(acc.quantiles([0.0, 0.5, 1.0])).all()
    assert acc.quantiles(np.array([0.5])).shape == (1,)
    assert np.isnan(acc.cdf([1.0, 2.0])).all()
    assert acc.cdf([1.0, 2.0]).shape == (3,)
    counts, bound = acc.bucket_counts([0.0, 1.0, 2.0])
    assert counts.tolist() == [0.0, 0.0] and bound == 0.0


@settings(max_examples=100, deadline=None)
@given(data=small_lists)
def test_exact_below_the_limit(data: list[float]) -> None:
    values = np.array(data, dtype=np.float64)
    acc = sketch(values, SPEC)
    if values.size == 0:
        return
    assert acc.is_exact
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
    assert_within_bound(acc, values)


def test_exact_at_the_limit_however_many_values() -> None:
    rng = np.random.default_rng(4)
    # 100,000 distinct values, 300,000 values, in uneven batches: still exact.
    data = np.repeat(rng.normal(size=100_000), 3)
    rng.shuffle(data)
    acc = SPEC.create()
    for batch in np.array_split(data, 7):
        acc.add(batch)
    assert acc.is_exact and acc.rank_error == 0.0
    np.testing.assert_array_equal(
        acc.quantiles(RANKS), np.quantile(data, RANKS, method="inverted_cdf")
    )
    acc.add(np.array([1e6]))  # one more distinct value: now it compacts
    assert not acc.is_exact and 0.0 < acc.rank_error < 0.001


def test_past_the_limit_within_the_certified_bound_with_skewed_tails() -> None:
    rng = np.random.default_rng(11)
    data = np.concatenate(
        [
            rng.normal(size=150_000),
            np.full(30_000, 0.25),
            rng.exponential(size=20_000) * 50,
            rng.uniform(400, 401, 35),  # a few outliers in a far bucket
        ]
    )
    rng.shuffle(data)
    acc = SPEC.create()
    for batch in np.array_split(data, 9):
        acc.add(batch)
    assert not acc.is_exact
    assert acc.rank_error < 0.002  # the stated bound at the defaults
    assert_within_bound(acc, data)
    edges = np.linspace(data.min(), data.max(), 11)
    counts, _ = acc.bucket_counts(edges)
    truth = true_bucket_counts(data, edges)
    assert truth[-5:].tolist() == [86, 32, 46, 3, 3]  # the sparse tail, outliers included
    np.testing.assert_array_equal(counts[-5:], truth[-5:])  # exact, where KLL read zeros


def test_deterministic() -> None:
    rng = np.random.default_rng(12)
    data = rng.lognormal(size=50_000)
    states = []
    for _ in range(2):
        acc = SMALL.create()
        for batch in np.array_split(data, 13):
            acc.add(batch)
        states.append(acc.to_proto().SerializeToString())
    assert states[0] == states[1]


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


def test_nan_is_skipped_and_infinities_are_refused() -> None:
    acc = sketch([1.0, np.nan, -0.0])
    assert acc.n == 2 and acc.min_value == 0.0
    assert not np.signbit(acc.min_value)  # -0.0 and 0.0 are one value
    with pytest.raises(InvalidInputError, match="finite"):
        acc.add(np.array([1.0, np.inf]))
    with pytest.raises(InvalidInputError, match="finite"):
        acc.add_constant(-np.inf, 2)


def test_add_constant() -> None:
    acc = SPEC.create()
    acc.add_constant(2.5, 0)
    acc.add_constant(np.nan, 10)
    assert acc.is_empty
    acc.add(np.array([1.0, 3.0]))
    acc.add_constant(2.5, (1 << 40) + 7)  # O(1) memory, stays exact
    assert acc.n == (1 << 40) + 9 and acc.is_exact
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


def test_merge_rejects_other_settings() -> None:
    with pytest.raises(IncompatibleMergeError, match="capacity=2048.*capacity=100"):
        SPEC.create().merge(QuantilesSpec(capacity=100).create())


@settings(max_examples=50, deadline=None)
@given(a=seeded)
def test_merge_identity_is_exact(a: np.ndarray) -> None:
    source = sketch(a)
    before = source.to_proto()
    left = SMALL.create()
    left.merge(source)
    assert left == source
    source.merge(SMALL.create())
    assert source.to_proto() == before


@settings(max_examples=50, deadline=None)
@given(a=seeded, b=seeded)
def test_merge_commutative(a: np.ndarray, b: np.ndarray) -> None:
    ab = sketch(a)
    ab.merge(sketch(b))
    ba = sketch(b)
    ba.merge(sketch(a))
    both = np.concatenate([a, b])
    assert_within_bound(ab, both)
    assert_within_bound(ba, both)
    assert ab == ba  # exactly: the exact parts unite, summaries merge commutatively


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
    if len(np.unique(data)) <= SMALL.exact_limit:
        assert ab_c == a_bc


@settings(max_examples=50, deadline=None)
@given(batches=st.lists(seeded | small_lists.map(np.array), max_size=5))
def test_one_accumulator_vs_merged_batches_vs_round_trip(batches: list[np.ndarray]) -> None:
    single = SMALL.create()
    merged = SMALL.create()
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
    assert (msg.capacity, msg.exact_limit) == (64, 1000)
    wire = sketches_pb2.QuantilesState.FromString(msg.SerializeToString())
    assert QuantilesAccumulator.from_proto(wire) == acc
    assert pickle.loads(pickle.dumps(acc)) == acc
    assert acc != sketch(np.append(a, 1e300))


def test_format_1_kll_state_is_refused_clearly() -> None:
    with pytest.raises(DeserializationError, match="KLL.*format 1"):
        QuantilesAccumulator.from_proto(sketches_pb2.QuantilesState(k=200, kll=b"\x05" * 40))


def _repeated(msg: sketches_pb2.QuantilesState) -> sketches_pb2.QuantilesState:
    """`msg` with its exact part in the repeated fields written before format 3."""
    values, counts = exact_part(msg)
    old = sketches_pb2.QuantilesState()
    old.CopyFrom(msg)
    for field in ("packed_values", "packed_counts", "packed_count_bytes"):
        old.ClearField(field)
    old.exact_values.extend(values.tolist())
    old.exact_counts.extend(counts.tolist())
    return old


def _damaged(msg: sketches_pb2.QuantilesState, field: str) -> sketches_pb2.QuantilesState:
    bad = _repeated(msg)
    if field == "unsorted":
        bad.exact_values[0], bad.exact_values[1] = bad.exact_values[1], bad.exact_values[0]
    elif field == "zero_count":
        bad.exact_counts[0] = 0
    elif field == "lengths":
        bad.exact_counts.append(1)
    elif field == "inf":
        bad.exact_values[-1] = np.inf
    elif field == "limit":
        bad.exact_limit = 5
    elif field == "cell_count":
        bad.cells.count[0] += 1
    elif field == "cell_low":
        bad.cells.low[0] = bad.cells.low[0] - 1e9
    elif field == "exponent":
        bad.cells.exponent += 1
    elif field == "summary_total":
        bad.summary.total_weight += 1
    elif field == "both":
        bad.exact_values.append(1.0)
        bad.exact_counts.append(1)
    return bad


@pytest.mark.parametrize("field", ["unsorted", "zero_count", "lengths", "inf", "limit"])
def test_from_proto_rejects_corrupt_exact_state(field: str) -> None:
    msg = sketch(np.arange(50.0)).to_proto()
    with pytest.raises(DeserializationError):
        QuantilesAccumulator.from_proto(_damaged(msg, field))


@pytest.mark.parametrize("field", ["cell_count", "cell_low", "exponent", "summary_total", "both"])
def test_from_proto_rejects_corrupt_summary_state(field: str) -> None:
    msg = sketch(np.random.default_rng(1).normal(size=5000)).to_proto()
    assert msg.HasField("summary")
    with pytest.raises(DeserializationError):
        QuantilesAccumulator.from_proto(_damaged(msg, field))


def test_the_exact_part_is_written_packed_and_read_in_either_form() -> None:
    rng = np.random.default_rng(7)
    values = np.repeat(rng.normal(size=300), rng.integers(1, 5, size=300))
    acc = sketch(values)
    msg = acc.to_proto()
    assert not msg.exact_values and msg.packed_count_bytes == 1
    distinct, counts = np.unique(values, return_counts=True)
    got_values, got_counts = exact_part(msg)
    np.testing.assert_array_equal(got_values, distinct)
    np.testing.assert_array_equal(got_counts, counts)
    # A state written before format 3 (repeated fields) loads to the same sketch.
    assert QuantilesAccumulator.from_proto(_repeated(msg)) == acc
    assert QuantilesAccumulator.from_proto(_repeated(msg)).to_proto() == msg


@pytest.mark.parametrize(("largest", "width"), [(255, 1), (256, 2), (70_000, 4), (2**40, 8)])
def test_counts_take_the_fewest_bytes_that_hold_the_largest(largest: int, width: int) -> None:
    acc = QuantilesSpec(exact_limit=1000).create()
    acc.add_constant(1.0, 1)
    acc.add_constant(2.0, largest)
    msg = sketches_pb2.QuantilesState.FromString(acc.to_proto().SerializeToString())
    assert msg.packed_count_bytes == width
    assert exact_part(msg)[1].tolist() == [1, largest]
    assert QuantilesAccumulator.from_proto(msg).n == largest + 1


@pytest.mark.parametrize("damage", ["width", "values_length", "counts_length", "both_forms"])
def test_corrupt_packed_exact_part_is_refused(damage: str) -> None:
    bad = sketch(np.arange(50.0)).to_proto()
    if damage == "width":
        bad.packed_count_bytes = 3
    elif damage == "values_length":
        bad.packed_values += b"\x00"
    elif damage == "counts_length":
        bad.packed_counts = bad.packed_counts[:-1]
    else:
        bad.exact_values.append(100.0)
        bad.exact_counts.append(1)
    with pytest.raises(DeserializationError, match="corrupt QuantilesState"):
        QuantilesAccumulator.from_proto(bad)
