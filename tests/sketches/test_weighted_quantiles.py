"""Tests of beam_stats.sketches.weighted_quantiles (MRL-style weighted quantiles).

Answers are checked against exact weighted ranks (numpy sort + cumulative weights) within the
sketch's own certified bound ``rank_error``; ``SLACK`` only absorbs float64 rounding of the
weight sums, it is not a tolerance on the algorithm.
"""

from __future__ import annotations

import math
import pickle
import zlib
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beam_stats.errors import DeserializationError, IncompatibleMergeError, InvalidInputError
from beam_stats.proto import sketches_pb2
from beam_stats.sketches import QuantilesSpec, WeightedQuantilesAccumulator, WeightedQuantilesSpec
from beam_stats.sketches.summaries import compact, compact_unit
from beam_stats.sketches.weighted_quantiles import sort_by_value

RANKS = np.linspace(0.0, 1.0, 41)
SLACK = 1e-9
WEIGHT_KINDS = ("ones", "uniform", "pareto", "few_huge", "integers")


def make_weights(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "ones":
        return np.ones(n)
    if kind == "uniform":
        return rng.uniform(0.0, 1.0, n)
    if kind == "pareto":  # heavy-tailed: infinite variance
        return rng.pareto(1.1, n)
    if kind == "few_huge":
        return np.where(rng.random(n) < 5e-4, 1e5, 1.0)
    assert kind == "integers"
    return rng.integers(0, 5, n).astype(np.float64)


def sketch(
    values: Any, weights: Any = None, capacity: int = 32, batches: int = 1
) -> WeightedQuantilesAccumulator:
    acc = WeightedQuantilesSpec(capacity=capacity).create()
    v = np.asarray(values, dtype=np.float64)
    w = np.ones(v.size) if weights is None else np.asarray(weights, dtype=np.float64)
    for bv, bw in zip(np.array_split(v, batches), np.array_split(w, batches), strict=True):
        acc.add(bv, None if weights is None else bw)
    return acc


def exact_quantiles(values: np.ndarray, weights: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """Smallest value whose inclusive weighted rank reaches ``r * W`` (the sketch's definition)."""
    keep = weights > 0
    order = np.argsort(values[keep], kind="stable")
    v, cum = values[keep][order], np.cumsum(weights[keep][order])
    index = np.minimum(np.searchsorted(cum, ranks * cum[-1], side="left"), v.size - 1)
    return v[index]


def true_ranks(values: np.ndarray, weights: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Normalized weight of values < and <= each point, as rows."""
    order = np.argsort(values, kind="stable")
    v, cum = values[order], np.concatenate(([0.0], np.cumsum(weights[order])))
    below = cum[np.searchsorted(v, points, side="left")] / cum[-1]
    at_or_below = cum[np.searchsorted(v, points, side="right")] / cum[-1]
    return np.stack([below, at_or_below])


def measured_error(acc: WeightedQuantilesAccumulator, values: np.ndarray, w: np.ndarray) -> float:
    """The largest normalized rank error over quantiles at RANKS and the CDF at data points."""
    points = np.unique(values[w > 0])
    if points.size > 4000:
        points = np.unique(np.append(points[:: points.size // 4000], points[-1]))
    truth = true_ranks(values, w, points)
    cdf_error = max(
        np.abs(acc.cdf(points)[:-1] - truth[0]).max(),
        np.abs(acc.cdf(points, inclusive=True)[:-1] - truth[1]).max(),
    )
    below, at_or_below = true_ranks(values, w, acc.quantiles(RANKS))
    # How far each requested rank lies outside the true rank range of its answer.
    quantile_error = np.maximum(0.0, np.maximum(below - RANKS, RANKS - at_or_below)).max()
    return float(max(cdf_error, quantile_error))


def assert_within_bound(acc: WeightedQuantilesAccumulator, values: Any, weights: Any) -> None:
    v = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    assert acc.total_weight == pytest.approx(w.sum(), rel=1e-12)
    if not (w > 0).any():
        assert acc.is_empty
        return
    assert acc.min_value == v[w > 0].min()
    assert acc.max_value == v[w > 0].max()
    np.testing.assert_array_equal(acc.quantiles([0.0, 1.0]), [acc.min_value, acc.max_value])
    assert measured_error(acc, v, w) <= acc.rank_error + SLACK


@pytest.mark.parametrize("bad", [1, 0, -3, (1 << 20) + 1, True, 2.5, "8"])
def test_spec_rejects_bad_capacity(bad: object) -> None:
    with pytest.raises(InvalidInputError, match=repr(bad) if isinstance(bad, str) else str(bad)):
        WeightedQuantilesSpec(capacity=bad)  # type: ignore[arg-type]


def test_empty() -> None:
    acc = WeightedQuantilesSpec().create()
    acc.add(np.array([]))
    acc.add([1.0, 2.0], [0.0, 0.0])
    assert acc.is_empty
    assert (acc.total_weight, acc.error, acc.rank_error, acc.num_retained) == (0.0, 0.0, 0.0, 0)
    assert math.isnan(acc.min_value) and math.isnan(acc.max_value)
    assert np.isnan(acc.quantiles([0.0, 0.5, 1.0])).all()
    assert acc.quantiles(np.array([0.5])).shape == (1,)
    assert np.isnan(acc.cdf([1.0, 2.0])).all() and acc.cdf([1.0, 2.0]).shape == (3,)
    assert acc.to_proto() == sketches_pb2.WeightedQuantilesState(capacity=2048)
    assert WeightedQuantilesAccumulator.from_proto(acc.to_proto()) == acc


@pytest.mark.parametrize(
    ("values", "weights", "match"),
    [
        ([1.0, np.nan], None, "NaN"),
        ([1.0, 2.0], [1.0], "2 values but 1 weights"),
        ([1.0], [-1.0], "finite and >= 0"),
        ([1.0], [np.inf], "finite and >= 0"),
        ([1.0], [np.nan], "finite and >= 0"),
    ],
)
def test_add_rejects_bad_input(values: list[float], weights: Any, match: str) -> None:
    acc = WeightedQuantilesSpec().create()
    with pytest.raises(InvalidInputError, match=match):
        acc.add(np.array(values), weights)
    assert acc.is_empty


def test_weights_summing_to_infinity_are_rejected() -> None:
    acc = WeightedQuantilesSpec().create()
    with pytest.raises(InvalidInputError, match="finite total, got inf"):
        acc.add([1.0, 2.0], [1e308, 1e308])
    assert acc.is_empty


def test_tiny_and_extreme_weights() -> None:
    rng = np.random.default_rng(4)
    values = rng.normal(size=5000)
    for weights in (
        np.full(values.size, 5e-324),  # subnormal: the total is 2.5e-320
        np.where(rng.random(values.size) < 0.01, 1e300, 1e-300),
    ):
        acc = sketch(values, weights, capacity=16, batches=5)
        assert acc.num_retained <= 16 * 4
        assert_within_bound(acc, values, weights)


def test_add_accepts_read_only_strided_and_other_dtypes_without_changing_them() -> None:
    read_only = np.array([3.0, -0.0, 1.0])
    read_only.flags.writeable = False
    weights = np.array([1, 2, 3], dtype=np.int32)
    acc = WeightedQuantilesSpec().create()
    acc.add(read_only, weights)
    acc.add(np.arange(20.0)[::2], np.ones(20)[::2])
    acc.add(np.arange(5, dtype=np.float32))
    acc.add([1.5, 2.5], [0.5, 0.5])
    np.testing.assert_array_equal(read_only, [3.0, -0.0, 1.0])
    assert np.signbit(read_only[1])
    values = np.concatenate([read_only, np.arange(0.0, 20.0, 2.0), np.arange(5.0), [1.5, 2.5]])
    all_weights = np.concatenate([weights, np.ones(15), [0.5, 0.5]])
    assert_within_bound(acc, values, all_weights)
    assert acc.error == 0.0


def test_infinities_are_values() -> None:
    acc = sketch([1.0, np.inf, -np.inf, 2.0], [1.0, 2.0, 3.0, 0.0])
    assert (acc.min_value, acc.max_value, acc.total_weight) == (-np.inf, np.inf, 6.0)
    np.testing.assert_array_equal(acc.quantiles([0.4, 0.6]), [-np.inf, 1.0])


@settings(max_examples=150, deadline=None)
@given(
    data=st.lists(
        st.tuples(
            st.floats(allow_nan=False, allow_infinity=False) | st.integers(-3, 3).map(float),
            st.integers(0, 4).map(float),
        ),
        max_size=60,
    )
)
def test_exact_before_compaction(data: list[tuple[float, float]]) -> None:
    values = np.array([v for v, _ in data], dtype=np.float64)
    weights = np.array([w for _, w in data], dtype=np.float64)
    acc = sketch(values, weights, capacity=64, batches=3)
    assert acc.error == 0.0
    if not (weights > 0).any():
        assert acc.is_empty
        return
    np.testing.assert_array_equal(acc.quantiles(RANKS), exact_quantiles(values, weights, RANKS))
    points = np.unique(values)
    truth = true_ranks(values, weights, points)
    np.testing.assert_allclose(acc.cdf(points), np.append(truth[0], 1.0), atol=1e-12)
    np.testing.assert_allclose(
        acc.cdf(points, inclusive=True), np.append(truth[1], 1.0), atol=1e-12
    )


def test_unit_weights_agree_with_numpy_and_unweighted_quantiles_while_exact() -> None:
    rng = np.random.default_rng(5)
    for n in (1, 2, 20, 40, 199):
        values = rng.normal(size=n).round(1)
        weighted = sketch(values, capacity=256)
        unweighted = QuantilesSpec().create()
        unweighted.add(values)
        expected = np.quantile(values, RANKS, method="inverted_cdf")
        np.testing.assert_array_equal(weighted.quantiles(RANKS), expected)
        np.testing.assert_array_equal(unweighted.quantiles(RANKS), expected)
        points = np.unique(values)
        np.testing.assert_allclose(weighted.cdf(points), unweighted.cdf(points), atol=1e-12)


def test_few_distinct_values_are_never_compacted() -> None:
    rng = np.random.default_rng(6)
    values = rng.integers(0, 30, 200_000).astype(np.float64)
    weights = rng.exponential(size=values.size)
    acc = sketch(values, weights, capacity=32, batches=50)
    assert acc.error == 0.0 and acc.num_retained == 30
    assert_within_bound(acc, values, weights)


@pytest.mark.parametrize("weight_kind", WEIGHT_KINDS)
@pytest.mark.parametrize("distribution", ["normal", "lognormal", "ties"])
def test_within_certified_bound(distribution: str, weight_kind: str) -> None:
    rng = np.random.default_rng(zlib.crc32(f"{distribution}/{weight_kind}".encode()))
    n, batches, capacity = 100_000, 32, 256
    values = {
        "normal": rng.normal(size=n),
        "lognormal": rng.lognormal(sigma=2.0, size=n),
        "ties": rng.normal(size=n).round(1),  # about 80 distinct values
    }[distribution]
    weights = make_weights(weight_kind, n, rng)
    acc = sketch(values, weights, capacity=capacity, batches=batches)
    assert_within_bound(acc, values, weights)
    # The bound grows like log2(batches) * W / capacity (module docstring).
    assert acc.rank_error <= (math.log2(batches) + 2) / capacity
    if distribution == "ties":
        assert acc.error == 0.0


def test_one_million_values_in_64_batches() -> None:
    rng = np.random.default_rng(7)
    values = rng.normal(size=1 << 20)
    for weights in (np.ones(values.size), rng.pareto(1.1, values.size)):
        acc = sketch(values, weights, capacity=2048, batches=64)
        assert acc.rank_error < 0.002  # 0.0017 (unit weights) and 0.0019 (Pareto)
        assert measured_error(acc, values, weights) <= acc.rank_error + SLACK
        assert acc.num_retained <= 2048 * 7


def test_a_huge_weight_is_kept_exactly() -> None:
    rng = np.random.default_rng(8)
    values = rng.normal(size=50_000)
    weights = np.ones(values.size)
    weights[123] = 1e6  # 95 % of the weight on one value
    acc = sketch(values, weights, capacity=64, batches=10)
    np.testing.assert_array_equal(acc.quantiles([0.1, 0.5, 0.9]), values[123])
    assert acc.rank_error < 0.01
    assert_within_bound(acc, values, weights)


@pytest.mark.parametrize("batches", [1, 7])
def test_integer_weights_equal_replicated_values(batches: int) -> None:
    rng = np.random.default_rng(9)
    values = rng.normal(size=5000)
    weights = rng.integers(0, 4, values.size)
    weighted = WeightedQuantilesSpec(capacity=64).create()
    replicated = WeightedQuantilesSpec(capacity=64).create()
    for v, w in zip(np.array_split(values, batches), np.array_split(weights, batches), strict=True):
        weighted.add(v, w)
        replicated.add(np.repeat(v, w))
    assert weighted.error > 0.0
    assert weighted == replicated


def test_constant_weights_give_the_unweighted_answers() -> None:
    rng = np.random.default_rng(10)
    values = rng.lognormal(size=30_000)
    unweighted = sketch(values, capacity=128, batches=9)
    for c in (0.25, 8.0):  # powers of two scale every weight sum exactly
        scaled = sketch(values, np.full(values.size, c), capacity=128, batches=9)
        np.testing.assert_array_equal(scaled.quantiles(RANKS), unweighted.quantiles(RANKS))
        assert scaled.rank_error == unweighted.rank_error
    assert_within_bound(unweighted, values, np.ones(values.size))


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
    np.testing.assert_array_equal(acc.result([0.0, 0.5, 1.0]), [1.0, 1.0, 2.0])


def test_merge_rejects_other_capacity() -> None:
    with pytest.raises(IncompatibleMergeError, match="2048 and 8"):
        WeightedQuantilesSpec().create().merge(WeightedQuantilesSpec(capacity=8).create())


def test_repr() -> None:
    assert repr(sketch([1.0, 2.0], capacity=8)) == (
        "WeightedQuantilesAccumulator(capacity=8, total_weight=2.0, retained=2, rank_error=0)"
    )


# Hypothesis inputs: (values, weights) pairs big enough (with capacity 16) to compact, in a
# few batches so that several levels are occupied.
@st.composite
def weighted_data(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.sampled_from([0, 1, 5, 40, 300, 2000]))
    values = rng.normal(size=n).round(draw(st.sampled_from([1, 3, 6])))
    return values, make_weights(draw(st.sampled_from(WEIGHT_KINDS)), n, rng)


CAP = 16


def batched(data: tuple[np.ndarray, np.ndarray], batches: int = 3) -> WeightedQuantilesAccumulator:
    return sketch(data[0], data[1], capacity=CAP, batches=batches)


def concat(*parts: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


@settings(max_examples=60, deadline=None)
@given(a=weighted_data())
def test_merge_identity_is_exact(a: tuple[np.ndarray, np.ndarray]) -> None:
    source = batched(a)
    before = source.to_proto()
    left = WeightedQuantilesSpec(capacity=CAP).create()
    left.merge(source)
    assert left == source
    source.merge(WeightedQuantilesSpec(capacity=CAP).create())
    assert source.to_proto() == before


@settings(max_examples=60, deadline=None)
@given(a=weighted_data(), b=weighted_data())
def test_merge_is_exactly_commutative_and_within_bound(
    a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]
) -> None:
    ab = batched(a)
    ab.merge(batched(b, batches=5))
    ba = batched(b, batches=5)
    ba.merge(batched(a))
    assert ab == ba
    assert ab.to_proto() == ba.to_proto()
    assert_within_bound(ab, *concat(a, b))


@settings(max_examples=60, deadline=None)
@given(a=weighted_data(), b=weighted_data(), c=weighted_data())
def test_merge_associative_within_bound(
    a: tuple[np.ndarray, np.ndarray],
    b: tuple[np.ndarray, np.ndarray],
    c: tuple[np.ndarray, np.ndarray],
) -> None:
    ab_c = batched(a)
    ab_c.merge(batched(b))
    ab_c.merge(batched(c))
    bc = batched(b)
    bc.merge(batched(c))
    a_bc = batched(a)
    a_bc.merge(bc)
    data = concat(a, b, c)
    assert_within_bound(ab_c, *data)
    assert_within_bound(a_bc, *data)
    if np.unique(data[0]).size <= CAP and np.array_equal(data[1], data[1].round()):
        assert ab_c == a_bc  # exact: nothing compacted, integer weight sums


@settings(max_examples=60, deadline=None)
@given(batches=st.lists(weighted_data(), max_size=6))
def test_one_accumulator_vs_merged_batches_vs_round_trip(
    batches: list[tuple[np.ndarray, np.ndarray]],
) -> None:
    spec = WeightedQuantilesSpec(capacity=CAP)
    single = spec.create()
    merged = spec.create()
    for values, weights in batches:
        single.add(values, weights)
        merged.merge(sketch(values, weights, capacity=CAP))
    restored = WeightedQuantilesAccumulator.from_proto(merged.to_proto())
    assert single == merged == restored
    assert_within_bound(merged, *concat((np.zeros(0), np.zeros(0)), *batches))


@settings(max_examples=60, deadline=None)
@given(a=weighted_data())
def test_proto_and_pickle_round_trip(a: tuple[np.ndarray, np.ndarray]) -> None:
    acc = batched(a, batches=4)
    msg = acc.to_proto()
    assert msg.capacity == CAP
    assert sum(len(level.values) for level in msg.levels) == acc.num_retained
    wire = sketches_pb2.WeightedQuantilesState.FromString(msg.SerializeToString())
    assert WeightedQuantilesAccumulator.from_proto(wire) == acc
    assert pickle.loads(pickle.dumps(acc)) == acc
    other = batched(a, batches=4)
    other.add([1e300])
    assert acc != other


def _state(**changes: Any) -> sketches_pb2.WeightedQuantilesState:
    """A valid two-level state (level 0 empty), with ``changes`` applied."""
    fields: dict[str, Any] = {
        "capacity": 4,
        "levels": [{}, {"values": [1.0, 2.0, 5.0], "weights": [2.0, 1.0, 3.0]}],
        "error": 0.5,
        "min": 0.5,
        "max": 6.0,
        "total_weight": 6.0,
    }
    fields.update(changes)
    return sketches_pb2.WeightedQuantilesState(**fields)


def test_from_proto_accepts_valid_state_and_drops_trailing_empty_levels() -> None:
    acc = WeightedQuantilesAccumulator.from_proto(_state())
    assert (acc.min_value, acc.max_value, acc.rank_error) == (0.5, 6.0, 0.5 / 6.0)
    np.testing.assert_array_equal(acc.quantiles([0.0, 0.3, 0.5, 1.0]), [0.5, 1.0, 2.0, 6.0])
    levels = _state().levels
    padded = _state(levels=[*levels, {}, {}])
    assert WeightedQuantilesAccumulator.from_proto(padded) == acc
    assert acc.to_proto() == _state()


def _level(values: list[float], weights: list[float]) -> list[dict[str, list[float]]]:
    return [{"values": values, "weights": weights}]


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"capacity": 0}, "capacity"),
        ({"capacity": 2}, "more than its capacity 2"),
        ({"levels": [{}] * 65}, "65 levels"),
        ({"levels": _level([1.0, 2.0], [1.0])}, "2 values but 1 weights"),
        ({"levels": _level([2.0, 1.0], [1.0, 1.0])}, "strictly increasing"),
        ({"levels": _level([1.0, 1.0], [1.0, 1.0])}, "strictly increasing"),
        ({"levels": _level([1.0, math.nan], [1.0, 1.0])}, "strictly increasing"),
        ({"levels": _level([1.0, 2.0], [1.0, 0.0])}, "> 0"),
        ({"levels": _level([1.0, 2.0], [1.0, -1.0])}, "> 0"),
        ({"levels": _level([1.0, 2.0], [1.0, math.inf])}, "> 0"),
        ({"error": -1.0}, ">= 0"),
        ({"error": math.nan}, ">= 0"),
        ({"total_weight": math.inf}, ">= 0"),
        ({"total_weight": 7.0}, "total_weight 7.0"),
        ({"min": 1.5}, "do not bound"),
        ({"max": 4.0}, "do not bound"),
        ({"min": math.nan}, "do not bound"),
        ({"levels": []}, "empty"),
    ],
)
def test_from_proto_rejects_corrupt_state(changes: dict[str, Any], match: str) -> None:
    with pytest.raises(DeserializationError, match=match):
        WeightedQuantilesAccumulator.from_proto(_state(**changes))


@settings(max_examples=200, deadline=None)
@given(n=st.integers(3, 200_000), capacity=st.integers(2, 4096))
def test_unit_weight_compaction_equals_the_general_one(n: int, capacity: int) -> None:
    if n <= capacity:
        n = capacity + 1 + n % 97
    values = np.arange(n, dtype=np.float64) * 0.5
    (fast_values, fast_weights), fast_error = compact_unit(values, capacity)
    (values_, weights), error = compact((values, np.ones(n)), capacity)
    np.testing.assert_array_equal(fast_values, values_)
    np.testing.assert_array_equal(fast_weights, weights)
    assert fast_error == error


def tied_values_and_weights(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Unsorted values with many ties (and both zeros), weights whose sums round."""
    rng = np.random.default_rng(seed)
    values = np.round(rng.normal(0.0, 3.0, n), 1)
    values[::97] = -0.0
    return values, rng.random(n) * 100.0


def test_sort_by_value_orders_the_pairs() -> None:
    values, weights = tied_values_and_weights(5000, 1)
    ordered, ordered_weights = sort_by_value(values, weights)
    assert np.array_equal(ordered, np.sort(values))
    # the same (value, weight) pairs: sorted by weight then value, both sides agree
    pairs = np.lexsort((weights, values))
    sorted_pairs = np.lexsort((ordered_weights, ordered))
    assert np.array_equal(ordered[sorted_pairs], values[pairs])
    assert np.array_equal(ordered_weights[sorted_pairs], weights[pairs])
    assert sort_by_value(ordered, ordered_weights)[0] is ordered  # sorted: no copy


@pytest.mark.parametrize("n", [50, 3000, 20_000])
def test_adding_pairs_sorted_by_value_gives_the_same_state(n: int) -> None:
    """What stats.numeric relies on to sort once for both sketches: the weighted sketch of
    the sorted pairs and the quantiles sketch of the sorted values are the states (to the
    byte) of the unsorted ones."""
    values, weights = tied_values_and_weights(n, n)
    spec = WeightedQuantilesSpec(capacity=64)
    direct, presorted = spec.create(), spec.create()
    direct.add(values, weights)
    ordered, ordered_weights = sort_by_value(values, weights)
    signs = np.signbit(ordered)
    presorted.add(ordered, ordered_weights)
    assert np.array_equal(np.signbit(ordered), signs) and signs.any()  # -0.0 left as it was
    assert direct.to_proto().SerializeToString() == presorted.to_proto().SerializeToString()
    quantiles_spec = QuantilesSpec(exact_limit=1000, capacity=64)
    plain, from_sorted = quantiles_spec.create(), quantiles_spec.create()
    for part in np.array_split(np.arange(n), 3):  # several batches, past the exact limit
        plain.add(values[part])
        from_sorted.add(sort_by_value(values[part], weights[part])[0])
    assert plain.to_proto().SerializeToString() == from_sorted.to_proto().SerializeToString()
