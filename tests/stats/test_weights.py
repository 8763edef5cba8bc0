"""Weighted statistics against numpy's weighted answers on the same data."""

from __future__ import annotations

import collections

import numpy as np
import pyarrow as pa
import pytest
from proto_compare import assert_close, plain
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats import StatisticsSpec, generate_statistics_from_table, merge_statistics
from beam_stats.errors import InvalidInputError
from beam_stats.sketches import QuantilesSpec, WeightedQuantilesSpec
from beam_stats.stats.counts import CommonAccumulator
from beam_stats.stats.feature import _value_weights
from beam_stats.stats.numeric import NumericAccumulator

SPEC = StatisticsSpec(weight_feature="w")
N = 6000


@pytest.fixture(scope="module")
def table() -> pa.Table:
    rng = np.random.default_rng(11)
    weights = rng.exponential(2.0, N)
    weights[:5] = [np.nan, -1.0, np.inf, 0.0, 3.0]  # three invalid, counted as 0
    lengths = rng.integers(0, 4, N)
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int32)
    return pa.table(
        {
            "w": weights,
            "x": pa.array(rng.normal(10, 3, N), mask=rng.random(N) < 0.1),
            "color": rng.choice(["red", "green", "blue"], N, p=[0.6, 0.3, 0.1]),
            "tags": pa.ListArray.from_arrays(
                pa.array(offsets), pa.array(rng.integers(0, 5, int(lengths.sum())))
            ),
        }
    )


@pytest.fixture(scope="module")
def effective_weights(table: pa.Table) -> np.ndarray:
    weights = table["w"].to_numpy().copy()
    weights[~(np.isfinite(weights) & (weights >= 0))] = 0
    return weights


def features(stats: statistics_pb2.DatasetFeatureStatisticsList) -> dict:
    return {".".join(f.path.step): f for f in stats.datasets[0].features}


def test_weighted_counts_mean_and_std(table: pa.Table, effective_weights: np.ndarray) -> None:
    stats = generate_statistics_from_table(table, SPEC, batch_size=1000)
    assert stats.datasets[0].weighted_num_examples == pytest.approx(effective_weights.sum())
    x = features(stats)["x"].num_stats
    valid = np.asarray(table["x"].is_valid())
    values = table["x"].to_numpy(zero_copy_only=False)[valid]
    w = effective_weights[valid]
    mean = np.average(values, weights=w)
    assert x.weighted_numeric_stats.mean == pytest.approx(mean, rel=1e-12)
    std = np.sqrt(np.average(np.square(values - mean), weights=w))
    assert x.weighted_numeric_stats.std_dev == pytest.approx(std, rel=1e-9)
    common = x.common_stats.weighted_common_stats
    assert common.num_non_missing == pytest.approx(w.sum())
    assert common.num_missing == pytest.approx(effective_weights[~valid].sum())
    weight_feature = features(stats)["w"]
    invalid = next(c.num for c in weight_feature.custom_stats if c.name == "num_invalid_weights")
    assert invalid == 3


def test_weighted_list_values_take_their_example_weight(
    table: pa.Table, effective_weights: np.ndarray
) -> None:
    stats = generate_statistics_from_table(table, SPEC, batch_size=700)
    tags = features(stats)["tags"].num_stats
    lengths = np.array([len(v) for v in table["tags"].to_pylist()])
    per_value = np.repeat(effective_weights, lengths)
    flat = np.concatenate([v for v in table["tags"].to_pylist() if v]).astype(float)
    assert tags.weighted_numeric_stats.mean == pytest.approx(
        np.average(flat, weights=per_value), rel=1e-12
    )
    assert tags.common_stats.weighted_common_stats.tot_num_values == pytest.approx(per_value.sum())


def test_weighted_top_values(table: pa.Table, effective_weights: np.ndarray) -> None:
    stats = generate_statistics_from_table(table, SPEC)
    color = features(stats)["color"].string_stats
    totals: collections.Counter[str] = collections.Counter()
    for value, weight in zip(table["color"].to_pylist(), effective_weights, strict=True):
        totals[value] += weight
    reported = {t.value: t.frequency for t in color.weighted_string_stats.top_values}
    assert reported.keys() == totals.keys()
    for value, weight in totals.items():
        assert reported[value] == pytest.approx(weight, rel=1e-12)
    ranked = [b.label for b in color.weighted_string_stats.rank_histogram.buckets]
    assert ranked == [v for v, _ in totals.most_common()]


def test_weighted_statistics_merge(table: pa.Table) -> None:
    parts = [generate_statistics_from_table(table.slice(i, 2000), SPEC) for i in range(0, N, 2000)]
    merged = merge_statistics(*parts)
    whole = generate_statistics_from_table(table, SPEC)
    assert merged.datasets[0].weighted_num_examples == pytest.approx(
        whole.datasets[0].weighted_num_examples
    )
    for name in ("x", "tags"):
        exact = [plain(features(s)[name].num_stats.weighted_numeric_stats) for s in (merged, whole)]
        for part in exact:  # sketched: checked against their bound in the test below
            part.pop("median", None)
            part.pop("histograms", None)
        assert_close(exact[0], exact[1])


def test_unweighted_statistics_have_no_weighted_fields(table: pa.Table) -> None:
    stats = generate_statistics_from_table(table)
    assert stats.datasets[0].weighted_num_examples == 0
    assert not features(stats)["x"].num_stats.HasField("weighted_numeric_stats")


def test_weight_feature_must_be_numeric() -> None:
    with pytest.raises(InvalidInputError, match="weight feature 'w'"):
        generate_statistics_from_table(pa.table({"w": ["a"]}), SPEC)


def test_a_list_weight_of_one_value_per_example_weighs_like_a_scalar(table: pa.Table) -> None:
    """TFRecord features are lists: a weight of one value per example is that value; an
    example with none or several has an invalid weight (0, counted), as a NaN one has."""
    weights = table["w"].to_numpy()
    lists = [[float(w)] for w in weights]
    lists[5], lists[6], lists[7] = [], None, [1.0, 2.0]  # three more invalid weights
    as_lists = table.set_column(0, "w", pa.array(lists, pa.large_list(pa.float32())))
    scalar = weights.astype(np.float32).astype(np.float64)  # the list holds 32-bit floats
    scalar[5:8] = np.nan
    expected = generate_statistics_from_table(table.set_column(0, "w", pa.array(scalar)), SPEC)
    actual = generate_statistics_from_table(as_lists, SPEC)
    assert actual.datasets[0].weighted_num_examples == pytest.approx(
        expected.datasets[0].weighted_num_examples, rel=1e-12
    )
    invalid = [c.num for c in features(actual)["w"].custom_stats if c.name == "num_invalid_weights"]
    assert invalid == [3 + 3]
    assert features(actual)["x"].num_stats.weighted_numeric_stats.mean == pytest.approx(
        features(expected)["x"].num_stats.weighted_numeric_stats.mean, rel=1e-12
    )


def test_weighted_median_and_histograms_within_the_certified_bound(
    table: pa.Table, effective_weights: np.ndarray
) -> None:
    stats = generate_statistics_from_table(table, SPEC, batch_size=500)
    feature = features(stats)["x"]
    weighted = feature.num_stats.weighted_numeric_stats
    bound = next(c.num for c in feature.custom_stats if c.name == "weighted_quantiles_rank_error")
    assert 0 <= bound < 0.01
    valid = np.asarray(table["x"].is_valid())
    values = table["x"].to_numpy(zero_copy_only=False)[valid]
    w = effective_weights[valid]
    order = np.argsort(values)
    values, w = values[order], w[order]
    total = w.sum()
    below = np.searchsorted(values, weighted.median, side="left")
    upto = np.searchsorted(values, weighted.median, side="right")
    # The reported median's weighted rank interval is within the bound of 1/2.
    assert w[:below].sum() / total - bound <= 0.5 <= w[:upto].sum() / total + bound
    standard, quantiles = weighted.histograms
    assert standard.type == statistics_pb2.Histogram.STANDARD
    edges = [standard.buckets[0].low_value] + [b.high_value for b in standard.buckets]
    exact = np.histogram(values, edges, weights=w)[0]
    for bucket, expected in zip(standard.buckets, exact, strict=True):
        assert abs(bucket.sample_count - expected) <= 2 * bound * total + 1e-9
    assert sum(b.sample_count for b in quantiles.buckets) == pytest.approx(total)


# The fast paths of the weighted per-feature statistics give, bit for bit, what the general
# formulas give (np.repeat of the example weights, sums of weights[present] and of
# weights * num_values): the statistics files are byte-identical whichever path ran.
NUM_VALUES = {
    "one_each": np.ones(500, dtype=np.int64),
    "some_missing": (np.arange(500) % 7 != 3).astype(np.int64),
    "lists": np.arange(500, dtype=np.int64) % 4,
    "none": np.zeros(500, dtype=np.int64),
    "empty": np.zeros(0, dtype=np.int64),
}


@pytest.mark.parametrize("pattern", sorted(NUM_VALUES))
def test_value_weights_are_the_repeated_example_weights(pattern: str) -> None:
    num_values = NUM_VALUES[pattern]
    weights = np.random.default_rng(3).exponential(2.0, num_values.size)
    value_weights = _value_weights(weights, num_values)
    expected = np.repeat(weights, num_values)
    assert value_weights.dtype == expected.dtype
    assert np.array_equal(value_weights, expected)
    assert not value_weights.flags.writeable  # shared by the feature's statistics
    assert np.shares_memory(value_weights, weights) == (pattern == "one_each")
    assert weights.flags.writeable  # the caller's array is not frozen


@pytest.mark.parametrize("pattern", sorted(NUM_VALUES))
@pytest.mark.parametrize("missing_present", [False, True])
def test_weighted_presence_sums_equal_the_general_sums(pattern: str, missing_present: bool) -> None:
    num_values = NUM_VALUES[pattern]
    present = num_values > 0
    if missing_present and present.size:
        present[: present.size // 2] = True  # present with no values (empty lists)
    weights = np.random.default_rng(5).random(num_values.size) * 100.0  # sums that round
    common = CommonAccumulator(QuantilesSpec())
    common.add(present, num_values, weights)
    assert common.weighted_num_non_missing == float(weights[present].sum())
    assert common.weighted_tot_num_values == float((weights * num_values).sum())
    assert common.num_non_missing == int(present.sum())
    assert common.tot_num_values == int(num_values[present].sum())


def test_weighted_presence_of_a_dense_column_is_the_sum_of_its_batch_weights() -> None:
    """A column present everywhere with one value each (the fast paths, end to end): both
    weighted sums are the batches' weight sums, added up batch after batch."""
    rng = np.random.default_rng(9)
    weights = rng.random(3000) * 50.0
    x = rng.normal(0.0, 1.0, 3000)
    dense = pa.table({"w": weights, "x": x})
    stats = generate_statistics_from_table(dense, SPEC, batch_size=1000)
    common = features(stats)["x"].num_stats.common_stats.weighted_common_stats
    total = sum(float(weights[i : i + 1000].sum()) for i in range(0, 3000, 1000))
    assert common.num_non_missing == total
    assert common.tot_num_values == total
    assert features(stats)["x"].num_stats.weighted_numeric_stats.mean == pytest.approx(
        np.average(x, weights=weights), rel=1e-12
    )


@pytest.mark.parametrize("zero_weights", [False, True])
def test_numeric_sketches_of_weighted_values_are_those_of_each_sketch_alone(
    zero_weights: bool,
) -> None:
    """The numeric state sorts the values once for both quantiles sketches (when no weight
    is 0): its sketches are, to the byte, those made by adding the values to each."""
    rng = np.random.default_rng(21)
    spec = QuantilesSpec(exact_limit=1000, capacity=64)
    numeric = NumericAccumulator(spec)
    quantiles, weighted = spec.create(), WeightedQuantilesSpec().create()
    for _ in range(4):
        values = np.round(rng.normal(0.0, 5.0, 3000), 1)  # ties
        values[::50] = np.nan  # dropped, with their weights
        weights = rng.random(3000) * 20.0
        if zero_weights:
            weights[::7] = 0.0
        numeric.add(pa.array(values), weights)
        finite = ~np.isnan(values)
        quantiles.add(values[finite])
        weighted.add(values[finite], weights[finite])
    assert numeric.quantiles.to_proto() == quantiles.to_proto()
    assert numeric.weighted_quantiles is not None
    assert numeric.weighted_quantiles.to_proto() == weighted.to_proto()
