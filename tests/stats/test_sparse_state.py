"""Sparse features: lazily created sketches give the results of eager ones, and the state
travels between Beam stages one feature at a time (beam_stats.stats.wire) without changing."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from proto_compare import plain
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.errors import DeserializationError
from beam_stats.proto import sketches_pb2
from beam_stats.sketches import QuantilesSpec
from beam_stats.sketches.quantiles import exact_part
from beam_stats.stats import DatasetAccumulator, StatisticsSpec, wire

SPEC = StatisticsSpec()


def _accumulate(*batches: pa.RecordBatch, spec: StatisticsSpec = SPEC) -> DatasetAccumulator:
    accumulator = DatasetAccumulator(spec)
    accumulator.add_all(batches)
    return accumulator


def _round_trip(accumulator: DatasetAccumulator) -> DatasetAccumulator:
    data = accumulator.to_proto().SerializeToString()
    return DatasetAccumulator.from_proto(
        sketches_pb2.DatasetState.FromString(data), accumulator.spec
    )


def _sparse_batches(seed: int) -> tuple[pa.RecordBatch, pa.RecordBatch]:
    """`once` has one example with one value; in `many` the feature `x` has lists of 0-4
    values (so its valency sketch is filled) and `s` strings; `y` appears only in `once`."""
    rng = np.random.default_rng(seed)
    once = pa.record_batch({"x": pa.array([[7]], pa.list_(pa.int64())), "y": [2.5]})
    lengths = rng.integers(0, 5, 300)
    values = rng.integers(-50, 50, int(lengths.sum())).tolist()
    rows, at = [], 0
    for n in lengths.tolist():
        rows.append(values[at : at + n] if n else None)
        at += n
    many = pa.record_batch(
        {
            "x": pa.array(rows, pa.list_(pa.int64())),
            "s": pa.array([f"v{i % 7}" for i in range(300)]),
        }
    )
    return once, many


@pytest.mark.parametrize("seed", [0, 1])
def test_feature_seen_once_merged_with_one_seen_many_times(seed: int) -> None:
    once, many = _sparse_batches(seed)
    single = _accumulate(once, many)
    expected = plain(single.result())
    for first, second in ((once, many), (many, once)):
        a, b = _accumulate(first), _accumulate(second)
        a.merge(b)
        assert plain(a.result()) == expected
        assert a.to_proto() == single.to_proto()
        a, b = _round_trip(_accumulate(first)), _round_trip(_accumulate(second))
        a.merge(b)
        assert plain(a.result()) == expected
    # The figures, independently: x has 1 + sum(lengths) values over its present examples.
    lengths = [1] + [len(v) for v in many.column("x").to_pylist() if v is not None]
    flat = [7] + [x for v in many.column("x").to_pylist() if v for x in v]
    x = next(f for f in single.result().features if f.path.step == ["x"])
    common = x.num_stats.common_stats
    assert common.num_non_missing == len(lengths)
    assert (common.min_num_values, common.max_num_values) == (min(lengths), max(lengths))
    assert common.tot_num_values == sum(lengths)
    assert x.num_stats.mean == pytest.approx(np.mean(flat))
    assert x.num_stats.median == np.quantile(flat, 0.5, method="inverted_cdf")


def test_constant_valency_merged_with_varying_valency() -> None:
    """One side never made a valency sketch (every example one value), the other did."""
    constant = pa.record_batch({"x": pa.array([[1], [2], [3]], pa.list_(pa.int64()))})
    varying = pa.record_batch({"x": pa.array([[1, 2], [3], [4, 5, 6]], pa.list_(pa.int64()))})
    single = _accumulate(constant, varying)
    for a, b in ((constant, varying), (varying, constant)):
        merged = _round_trip(_accumulate(a))
        merged.merge(_round_trip(_accumulate(b)))
        assert merged.to_proto() == single.to_proto()
        assert plain(merged.result()) == plain(single.result())
    histogram = single.result().features[0].num_stats.common_stats.num_values_histogram
    assert sum(b.sample_count for b in histogram.buckets) == pytest.approx(6)
    state = single.to_proto().features[0].common
    assert [a.tolist() for a in exact_part(state.num_values)] == [[1.0, 2.0, 3.0], [4, 1, 1]]
    # The constant side alone writes no valency sketch (as before lazy creation).
    assert not _accumulate(constant).to_proto().features[0].common.HasField("num_values")


def test_first_value_of_a_quantiles_sketch_is_settled_like_any_other() -> None:
    spec = QuantilesSpec(exact_limit=1000)
    for first in ([3.0], [-0.0], [np.nan, 3.0]):
        lazy = spec.create()
        lazy.add(first)
        lazy.add([1.0, 3.0])
        lazy.add_constant(2.0, 4)
        eager = spec.create()
        eager.add([*first, 1.0, 3.0, 2.0, 2.0, 2.0, 2.0])
        assert lazy.to_proto() == eager.to_proto()
        assert lazy.n == eager.n
    single = spec.create()
    single.add([5.0])
    assert [a.tolist() for a in exact_part(single.to_proto())] == [[5.0], [1]]
    # A sketch holding one value stays unchanged when another is merged into it.
    other = spec.create()
    other.add([4.0])
    single.merge(other)
    assert exact_part(other.to_proto())[0].tolist() == [4.0]
    assert exact_part(single.to_proto())[0].tolist() == [4.0, 5.0]


def _wide(seed: int, spec: StatisticsSpec = SPEC) -> DatasetAccumulator:
    once, many = _sparse_batches(seed)
    nested = pa.record_batch({"st": pa.array([{"a": 1, "b": "z"}, None, {"a": None, "b": "w"}])})
    return _accumulate(once, many, nested, spec=spec)


def test_wire_bytes_parse_to_the_state_message() -> None:
    accumulator = _wide(2)
    data = wire.to_bytes(accumulator)
    assert sketches_pb2.DatasetState.FromString(data) == accumulator.to_proto()
    decoded = wire.from_bytes(data, SPEC)
    assert decoded.to_proto() == accumulator.to_proto()
    assert plain(decoded.result("d")) == plain(accumulator.result("d"))
    # Bytes of any writer read too: the whole message serialized at once.
    whole = wire.from_bytes(accumulator.to_proto().SerializeToString(), SPEC)
    assert whole.to_proto() == accumulator.to_proto()
    empty = DatasetAccumulator(SPEC)
    assert wire.from_bytes(wire.to_bytes(empty), SPEC).to_proto() == empty.to_proto()


def test_wire_bytes_of_a_weighted_spec() -> None:
    spec = StatisticsSpec(weight_feature=("w",))
    batch = pa.record_batch({"w": [1.0, 2.0, 0.5], "x": [1, None, 3]})
    accumulator = _accumulate(batch, spec=spec)
    decoded = wire.from_bytes(wire.to_bytes(accumulator), spec)
    assert decoded.to_proto() == accumulator.to_proto()
    assert decoded.weighted_num_examples == 3.5


@pytest.mark.parametrize("cut", [1, 40, -3, -1])
def test_truncated_wire_bytes_are_refused(cut: int) -> None:
    data = wire.to_bytes(_wide(3))
    with pytest.raises(DeserializationError, match="corrupt accumulator state"):
        wire.from_bytes(data[:cut], SPEC)


def test_bad_wire_type_is_refused() -> None:
    with pytest.raises(DeserializationError, match="wire type 7"):
        wire.from_bytes(b"\x0f", SPEC)


def _statistics() -> statistics_pb2.DatasetFeatureStatisticsList:
    weighted = StatisticsSpec(weight_feature=("w",))
    batch = pa.record_batch({"w": [1.0, 2.0, 0.5], "x": [1, None, 3], "s": ["a", "b", "a"]})
    statistics = statistics_pb2.DatasetFeatureStatisticsList(
        datasets=[_accumulate(batch, spec=weighted).result("all"), _wide(4).result("slice")]
    )
    composite = statistics.datasets[0].features.add()  # a sparse feature's entry (TFDV's)
    composite.name = "sparse"
    composite.custom_stats.add(name="missing_value", num=1)
    statistics.datasets[1].cross_features.add().path_x.step.append("x")
    return statistics


@pytest.mark.parametrize("chunk_size", [1, 300, 1 << 20])
def test_statistics_chunks_are_the_serialized_bytes(chunk_size: int) -> None:
    statistics = _statistics()
    assert statistics.datasets[0].weighted_num_examples == 3.5  # numbered after features
    chunks = list(wire.statistics_chunks(statistics, chunk_size))
    assert b"".join(chunks) == statistics.SerializeToString()
    if chunk_size == 1:  # a chunk per feature, so never the whole serialization at once
        assert len(chunks) > len(statistics.datasets[0].features)
    empty = statistics_pb2.DatasetFeatureStatisticsList()
    assert b"".join(wire.statistics_chunks(empty)) == b""


def test_summary_reads_what_the_message_holds() -> None:
    statistics = _statistics()
    first = statistics.datasets[0]
    summary = wire.summary(statistics.SerializeToString())
    assert summary == wire.Summary(2, first.num_examples, len(first.features) - 1, 1)
    assert summary.num_examples == 3
    with pytest.raises(DeserializationError, match="no dataset"):
        wire.summary(b"")
    with pytest.raises(DeserializationError, match="corrupt statistics"):
        wire.summary(statistics.SerializeToString()[:-2])


def test_result_with_release_is_the_result_and_spends_the_accumulator() -> None:
    kept, spent = _wide(5), _wide(5)
    assert plain(spent.result("d", release=True)) == plain(kept.result("d"))
    assert kept.features and not spent.features  # the feature accumulators were dropped
    with pytest.raises(ValueError, match="spent by result"):
        spent.result("d")
    assert plain(kept.result("d")) == plain(_wide(5).result("d"))  # no release: reusable


@pytest.mark.parametrize("include_state", [True, False])
def test_result_chunks_are_the_serialized_result(include_state: bool) -> None:
    from stats.test_composite import SPARSE, WEIGHTED, random_table

    # A weighted dataset with a sparse feature at a new path (sp) and a weighted feature at
    # a column's path (wf): both kinds of composite entry, and weighted_num_examples
    # (numbered after the features).
    table = random_table(seed=5, n=300)
    table = table.append_column("wf", pa.array(np.arange(300) % 7)).append_column(
        "weight", pa.array(np.linspace(0.0, 2.0, 300))
    )
    spec = StatisticsSpec(composites=(SPARSE, WEIGHTED), weight_feature=("weight",))
    batches = table.to_batches(max_chunksize=70)
    made, expected = _accumulate(*batches, spec=spec), _accumulate(*batches, spec=spec)
    statistics = statistics_pb2.DatasetFeatureStatisticsList(
        datasets=[expected.result("train", include_state)]
    )
    paths = [tuple(f.path.step) for f in statistics.datasets[0].features]
    assert ("sp",) in paths and paths.count(("wf",)) == 1
    assert statistics.datasets[0].weighted_num_examples > 0
    chunks = list(wire.result_chunks(made, "train", include_state, chunk_size=500))
    assert b"".join(chunks) == b"".join(wire.statistics_chunks(statistics))
    assert len(chunks) > 3  # header, several chunks of features, the fields after them
    with pytest.raises(ValueError, match="spent"):  # released as it was written
        made.result()


def test_result_chunks_of_no_data() -> None:
    statistics = statistics_pb2.DatasetFeatureStatisticsList(
        datasets=[DatasetAccumulator(SPEC).result("none")]
    )
    chunks = wire.result_chunks(DatasetAccumulator(SPEC), "none")
    assert b"".join(chunks) == statistics.SerializeToString()
