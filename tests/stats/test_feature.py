"""Every statistic of the fused accumulator against numpy/pyarrow on the same data."""

from __future__ import annotations

import collections

import numpy as np
import pyarrow as pa
import pytest
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.errors import InvalidInputError
from beam_stats.sketches import DistinctCountAccumulator, DistinctCountSpec, FrequentItemsSpec
from beam_stats.stats import DatasetAccumulator, StatisticsSpec, generate_statistics_from_table

FeatureType = statistics_pb2.FeatureNameStatistics.Type
N = 20_000


def make_table(seed: int = 0, n: int = N) -> pa.Table:
    rng = np.random.default_rng(seed)
    floats = rng.normal(3.0, 2.0, n)
    floats[rng.random(n) < 0.01] = np.nan
    floats[:3] = [np.inf, -np.inf, np.inf]
    float_mask = rng.random(n) < 0.1
    ints = rng.integers(-50, 50, n)
    words = np.array(["apple", "banana", "cherry", "durian", "elderberry"])
    probabilities = np.array([0.5, 0.25, 0.15, 0.07, 0.03])
    low = words[rng.choice(5, n, p=probabilities)]
    low_mask = rng.random(n) < 0.2
    ids = np.char.add("id-", rng.permutation(n).astype(str))
    lengths = rng.integers(0, 4, n)
    list_values = rng.integers(0, 1000, int(lengths.sum()))
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    list_nulls = rng.random(n) < 0.05
    lists = pa.ListArray.from_arrays(
        pa.array(offsets, pa.int32()), pa.array(list_values), mask=pa.array(list_nulls)
    )
    struct = pa.StructArray.from_arrays(
        [pa.array(rng.random(n)), pa.array(rng.integers(0, 3, n).astype(str))],
        names=["x", "tag"],
        mask=pa.array(rng.random(n) < 0.3),
    )
    return pa.table(
        {
            "float": pa.array(floats, mask=float_mask),
            "int": pa.array(ints),
            "low": pa.array(low, mask=low_mask),
            "id": pa.array(ids),
            "bool": pa.array(rng.random(n) < 0.3),
            "list": lists,
            "nested": struct,
            "empty": pa.nulls(n, pa.float64()),
        }
    )


@pytest.fixture(scope="module")
def table() -> pa.Table:
    return make_table()


@pytest.fixture(scope="module")
def features(table: pa.Table) -> dict[str, statistics_pb2.FeatureNameStatistics]:
    stats = generate_statistics_from_table(table, batch_size=3000)
    assert len(stats.datasets) == 1
    assert stats.datasets[0].num_examples == table.num_rows
    return {".".join(f.path.step): f for f in stats.datasets[0].features}


def custom(feature: statistics_pb2.FeatureNameStatistics, name: str) -> float:
    return next(c.num for c in feature.custom_stats if c.name == name)


def check_rank(sorted_values: np.ndarray, value: float, target: float, eps: float) -> None:
    """`value` is a correct `target`-quantile of the data within rank error `eps`."""
    n = sorted_values.size
    low = np.searchsorted(sorted_values, value, side="left") / n
    high = np.searchsorted(sorted_values, value, side="right") / n
    assert low - eps <= target <= high + eps, (value, target, low, high, eps)


def test_feature_paths_and_types(features: dict[str, statistics_pb2.FeatureNameStatistics]) -> None:
    types = {name: f.type for name, f in features.items()}
    assert types == {
        "float": FeatureType.FLOAT,
        "int": FeatureType.INT,
        "low": FeatureType.STRING,
        "id": FeatureType.STRING,
        "bool": FeatureType.INT,
        "list": FeatureType.INT,
        "nested": FeatureType.STRUCT,
        "nested.x": FeatureType.FLOAT,
        "nested.tag": FeatureType.STRING,
        "empty": FeatureType.FLOAT,
    }


def test_numeric_exact(table: pa.Table, features: dict) -> None:
    column = table["float"].to_numpy(zero_copy_only=False)
    valid = table["float"].is_valid().to_numpy(zero_copy_only=False)
    values = column[valid]
    finite = values[np.isfinite(values)]
    stats = features["float"].num_stats
    assert stats.common_stats.num_non_missing == valid.sum()
    assert stats.common_stats.num_missing == (~valid).sum()
    assert stats.mean == pytest.approx(finite.mean(), rel=1e-12)
    assert stats.std_dev == pytest.approx(finite.std(), rel=1e-12)
    assert stats.min == finite.min() and stats.max == finite.max()
    assert stats.num_zeros == np.count_nonzero(finite == 0)
    assert custom(features["float"], "num_nan") == np.isnan(values).sum()
    assert custom(features["float"], "num_pos_inf") == np.sum(values == np.inf)
    assert custom(features["float"], "num_neg_inf") == np.sum(values == -np.inf)
    ints = table["int"].to_numpy()
    int_stats = features["int"].num_stats
    assert int_stats.mean == pytest.approx(ints.mean(), rel=1e-12)
    assert int_stats.std_dev == pytest.approx(ints.std(), rel=1e-12)
    assert (int_stats.min, int_stats.max) == (ints.min(), ints.max())
    assert int_stats.num_zeros == np.count_nonzero(ints == 0)
    bools = table["bool"].to_numpy(zero_copy_only=False)
    assert features["bool"].num_stats.mean == pytest.approx(bools.mean(), rel=1e-12)


def test_numeric_quantiles_and_histograms_exact_below_the_limit(
    table: pa.Table, features: dict
) -> None:
    eps = 0.0  # fewer distinct values than QuantilesSpec.exact_limit: every answer is exact
    column = table["float"].to_numpy(zero_copy_only=False)
    valid = table["float"].is_valid().to_numpy(zero_copy_only=False)
    finite = np.sort(column[valid][np.isfinite(column[valid])])
    stats = features["float"].num_stats
    assert custom(features["float"], "quantiles_rank_error") == eps
    assert custom(features["float"], "histogram_count_error") == eps
    check_rank(finite, stats.median, 0.5, eps)
    standard, quantiles = stats.histograms
    assert standard.type == statistics_pb2.Histogram.STANDARD
    assert standard.num_nan == np.isnan(column[valid]).sum()
    edges = np.linspace(finite.min(), finite.max(), 11)
    exact_counts = np.histogram(finite, edges)[0]
    for bucket, low, high, exact in zip(
        standard.buckets, edges[:-1], edges[1:], exact_counts, strict=True
    ):
        assert (bucket.low_value, bucket.high_value) == pytest.approx((low, high))
        assert bucket.sample_count == exact
    assert quantiles.type == statistics_pb2.Histogram.QUANTILES
    assert len(quantiles.buckets) == 10
    for i, bucket in enumerate(quantiles.buckets):
        assert bucket.sample_count == pytest.approx(finite.size / 10)
        check_rank(finite, bucket.low_value, i / 10, eps)
        check_rank(finite, bucket.high_value, (i + 1) / 10, eps)


def test_string_statistics(table: pa.Table, features: dict) -> None:
    low = [v for v in table["low"].to_pylist() if v is not None]
    counts = collections.Counter(low)
    stats = features["low"].string_stats
    assert stats.common_stats.num_non_missing == len(low)
    assert stats.unique == len(counts)
    assert [(t.value, t.frequency) for t in stats.top_values] == sorted(
        counts.items(),
        key=lambda kv: (kv[1], kv[0]),
        reverse=True,  # TFDV's order
    )
    # avg_length is a 32-bit float in the TFMD message.
    assert stats.avg_length == pytest.approx(np.mean([len(v) for v in low]), rel=1e-6)
    assert [b.label for b in stats.rank_histogram.buckets] == [t.value for t in stats.top_values]
    assert custom(features["low"], "top_values_max_error") == 0
    assert custom(features["low"], "distinct_relative_standard_error") == 0


def test_near_unique_strings_within_bounds(table: pa.Table, features: dict) -> None:
    spec = StatisticsSpec()
    feature = features["id"]
    stats = feature.string_stats
    n = table.num_rows
    # Above the frequent-items capacity, below the exact distinct limit: exact.
    assert spec.frequent_items.capacity < n <= spec.distinct.exact_limit
    assert stats.unique == len(np.unique(table["id"].drop_null().to_numpy(False))) == n
    assert custom(feature, "distinct_relative_standard_error") == 0.0
    # Every value occurs once: TFDV lists values with count 1, and so do we.
    assert len(stats.top_values) == spec.num_top_values
    assert all(t.frequency == 1 for t in stats.top_values)
    assert set(t.value for t in stats.top_values) <= set(table["id"].to_pylist())


@pytest.mark.parametrize("seed", range(6))
def test_estimated_unique_stays_within_what_is_certain(seed: int) -> None:
    """A coarse HyperLogLog (16 registers, 26% error) overshoots often; the reported unique
    never exceeds the number of values, nor falls to the frequent-items capacity or below."""
    rng = np.random.default_rng(seed)
    n = 300
    values = pa.array([f"v{x}" for x in rng.permutation(10**6)[:n]])  # all distinct
    spec = StatisticsSpec(
        frequent_items=FrequentItemsSpec(capacity=20),
        distinct=DistinctCountSpec(precision=4),
        num_top_values=10,
        num_rank_histogram_buckets=10,
    )
    raw = DistinctCountAccumulator(spec.distinct)
    raw.add(values)
    unique = generate_statistics_from_table(pa.table({"s": values}), spec).datasets[0]
    reported = unique.features[0].string_stats.unique
    assert 20 < reported <= n
    assert reported == min(max(raw.result(), 21), n)


def test_valency_of_lists(table: pa.Table, features: dict) -> None:
    lists = table["list"].to_pylist()
    present = [len(v) for v in lists if v is not None]
    common = features["list"].num_stats.common_stats
    assert common.num_non_missing == len(present)
    assert common.num_missing == lists.count(None)
    assert (common.min_num_values, common.max_num_values) == (min(present), max(present))
    assert common.tot_num_values == sum(present)
    assert common.avg_num_values == pytest.approx(np.mean(present))
    flat = np.array([x for v in lists if v for x in v])
    assert features["list"].num_stats.mean == pytest.approx(flat.mean(), rel=1e-12)
    histogram = common.num_values_histogram
    assert histogram.type == statistics_pb2.Histogram.QUANTILES
    assert sum(b.sample_count for b in histogram.buckets) == pytest.approx(len(present))


def test_struct_and_nested_fields(table: pa.Table, features: dict) -> None:
    valid = np.asarray(table["nested"].is_valid())
    assert features["nested"].struct_stats.common_stats.num_non_missing == valid.sum()
    x = table["nested"].combine_chunks().field("x").to_numpy()[valid]
    nested_x = features["nested.x"].num_stats
    assert nested_x.common_stats.num_non_missing == valid.sum()
    assert nested_x.common_stats.num_missing == (~valid).sum()
    assert nested_x.mean == pytest.approx(x.mean(), rel=1e-12)


def test_all_null_column(table: pa.Table, features: dict) -> None:
    stats = features["empty"].num_stats
    assert stats.common_stats.num_non_missing == 0
    assert stats.common_stats.num_missing == table.num_rows
    assert not stats.histograms


def test_empty_input_keeps_columns() -> None:
    empty = make_table().slice(0, 0)
    stats = generate_statistics_from_table(empty).datasets[0]
    assert stats.num_examples == 0
    assert len(stats.features) == 10
    assert all(
        f.WhichOneof("stats")
        and getattr(f, f.WhichOneof("stats")).common_stats.num_non_missing == 0
        for f in stats.features
    )


def test_categorical_int_gets_string_statistics(table: pa.Table) -> None:
    spec = StatisticsSpec(categorical_features=frozenset({"int"}))
    stats = generate_statistics_from_table(table, spec)
    feature = next(f for f in stats.datasets[0].features if f.path.step == ["int"])
    counts = collections.Counter(table["int"].to_pylist())
    assert feature.type == FeatureType.INT
    assert feature.string_stats.unique == len(counts)
    top = feature.string_stats.top_values[0]
    best = min(counts.items(), key=lambda kv: (-kv[1], str(kv[0]).encode()))
    assert (int(top.value), top.frequency) == best


def test_type_change_between_batches_is_reported() -> None:
    ints = pa.record_batch({"x": pa.array([1, 2, 3])})
    strings = pa.record_batch({"x": pa.array(["a"])})
    accumulator = DatasetAccumulator(StatisticsSpec())
    accumulator.add_all([ints, strings])
    feature = accumulator.result().features[0]
    assert feature.type == FeatureType.INT
    assert feature.num_stats.common_stats.num_non_missing == 4
    conflict = next(c.str for c in feature.custom_stats if c.name == "type_conflict")
    assert "INT: 3 values" in conflict and "STRING: 1 values" in conflict


def test_int_then_float_is_float() -> None:
    accumulator = DatasetAccumulator(StatisticsSpec())
    accumulator.add_all(
        [pa.record_batch({"x": pa.array([1, 2])}), pa.record_batch({"x": pa.array([0.5])})]
    )
    feature = accumulator.result().features[0]
    assert feature.type == FeatureType.FLOAT
    assert feature.num_stats.mean == pytest.approx(3.5 / 3)


def test_binary_and_invalid_utf8() -> None:
    values = [b"ok", b"\xff\xfe", b"fine", b"\xc3\x28", None]
    batch = pa.record_batch({"text": pa.array(values, pa.binary())})
    stats = generate_statistics_from_table(batch).datasets[0].features[0]
    assert stats.type == FeatureType.STRING  # most values are valid UTF-8
    assert stats.string_stats.invalid_utf8_count == 2
    images = pa.record_batch({"image": pa.array([b"\x89PNG\xff", b"\xff\xd8\xff"], pa.binary())})
    image = generate_statistics_from_table(images).datasets[0].features[0]
    assert image.type == FeatureType.BYTES
    assert (image.bytes_stats.min_num_bytes, image.bytes_stats.max_num_bytes) == (3, 5)
    assert image.bytes_stats.avg_num_bytes == 4


def test_nested_lists_and_lists_of_structs() -> None:
    rows = [
        {"ll": [[1, 2], [3]], "ls": [{"a": 1.5, "b": "x"}, {"a": None, "b": "y"}]},
        {"ll": [], "ls": None},
        {"ll": None, "ls": [{"a": 2.5, "b": None}]},
        {"ll": [[4], None, [5, 6, 7]], "ls": []},
    ]
    stats = generate_statistics_from_table(pa.Table.from_pylist(rows)).datasets[0]
    features = {".".join(f.path.step): f for f in stats.features}
    ll = features["ll"].num_stats
    # Leaves per example: 3, 0 (empty list: present), missing, 4.
    assert (ll.common_stats.num_non_missing, ll.common_stats.num_missing) == (3, 1)
    assert (ll.common_stats.min_num_values, ll.common_stats.max_num_values) == (0, 4)
    assert ll.common_stats.tot_num_values == 7
    assert ll.mean == pytest.approx(np.mean([1, 2, 3, 4, 5, 6, 7]))
    struct = features["ls"].struct_stats.common_stats
    assert (struct.num_non_missing, struct.tot_num_values) == (3, 3)
    a = features["ls.a"].num_stats
    assert a.common_stats.tot_num_values == 2 and a.mean == pytest.approx(2.0)
    assert a.common_stats.num_non_missing == 3  # presence follows the outer list
    assert features["ls.b"].string_stats.common_stats.tot_num_values == 2


def test_dictionary_large_string_and_temporal_columns() -> None:
    words = pa.array(["a", "b", "a", None, "c", "a"])
    batch = pa.record_batch(
        {
            "dict": words.dictionary_encode(),
            "large": words.cast(pa.large_string()),
            "when": pa.array([0, 1, 2, 3, None, 5], pa.timestamp("s")),
        }
    )
    features = {
        f.path.step[0]: f for f in generate_statistics_from_table(batch).datasets[0].features
    }
    for name in ("dict", "large"):
        stats = features[name].string_stats
        assert stats.unique == 3 and stats.common_stats.num_missing == 1
        assert [(t.value, t.frequency) for t in stats.top_values] == [
            ("a", 3),
            ("c", 1),  # ties by value, descending (TFDV)
            ("b", 1),
        ]
    when = features["when"]
    assert when.type == FeatureType.INT
    assert (when.num_stats.min, when.num_stats.max) == (0, 5_000_000)  # in microseconds


def test_pandas_dataframe_gives_the_table_statistics() -> None:
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(
        {"x": [1.5, None, 3.0, 4.5], "s": ["a", "b", None, "a"], "n": [1, 2, 3, 4]}
    )
    from_frame = generate_statistics_from_table(frame)
    from_table = generate_statistics_from_table(pa.Table.from_pandas(frame, preserve_index=False))
    assert from_frame == from_table
    x = next(f for f in from_frame.datasets[0].features if f.path.step == ["x"]).num_stats
    assert x.mean == pytest.approx(np.nanmean([1.5, np.nan, 3.0, 4.5]))
    assert x.common_stats.num_missing == 1


def test_rejects_other_inputs() -> None:
    with pytest.raises(InvalidInputError, match="pyarrow Table"):
        generate_statistics_from_table([{"x": 1}])


def test_uint64_beyond_int64_and_float_precision() -> None:
    values = pa.array([1, 2**53 + 1, 2**64 - 1], pa.uint64())
    stats = generate_statistics_from_table(pa.table({"u": values})).datasets[0].features[0]
    assert stats.num_stats.max == pytest.approx(float(2**64 - 1))
    assert stats.num_stats.common_stats.num_non_missing == 3


def test_pandas_list_valued_columns() -> None:
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(
        {"tags": [["a", "b"], [], None, ["a"]], "ids": [[1, 2, 3], [4], [], None]}
    )
    features = {
        f.path.step[0]: f for f in generate_statistics_from_table(frame).datasets[0].features
    }
    tags = features["tags"].string_stats
    assert (tags.common_stats.num_non_missing, tags.common_stats.tot_num_values) == (3, 3)
    assert [(t.value, t.frequency) for t in tags.top_values] == [("a", 2), ("b", 1)]
    ids = features["ids"].num_stats
    assert (ids.common_stats.min_num_values, ids.common_stats.max_num_values) == (0, 3)
    assert ids.mean == pytest.approx(2.5)


def test_duplicate_column_names_are_refused_not_folded() -> None:
    table = pa.Table.from_arrays(
        [pa.array([1, 2, 3]), pa.array(["a", "b", None]), pa.array([0.5] * 3)],
        names=["x", "x", "y"],
    )
    with pytest.raises(InvalidInputError, match=r"\['x'\] appear more than once"):
        generate_statistics_from_table(table)
