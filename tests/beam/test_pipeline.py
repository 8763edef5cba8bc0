"""GenerateStatistics on Beam: against the in-memory path, numpy, and on three runners.

Exact statistics (counts, moments, extremes, zeros, lengths, medians and histograms below the
quantiles' exact limit, top values while the frequent-items sketch is exact, distinct counts)
must not depend on how a runner splits and merges the work, so they are compared with the
in-memory result up to float rounding. Sketched ones (weighted quantiles, top values of
near-unique features) may depend on the split and are checked against numpy within the
sketch's own bound instead.
"""

from __future__ import annotations

import collections
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.portability import common_urns
from apache_beam.portability.api import beam_runner_api_pb2
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.runners.runner import PipelineState
from apache_beam.testing.util import assert_that, equal_to
from proto_compare import assert_close, plain
from stats.test_feature import check_rank, make_table
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.beam import (
    GenerateStatistics,
    ReadRecordBatches,
    StatisticsCombineFn,
    WriteStatistics,
    load_statistics,
)
from beam_stats.beam.combine import DatasetAccumulatorCoder, MergeStatesFn
from beam_stats.beam.transforms import GenerateAndWriteStatistics
from beam_stats.errors import DeserializationError
from beam_stats.stats import (
    DatasetAccumulator,
    StatisticsSpec,
    generate_statistics_from_table,
    wire,
)
from beam_stats.stats.feature import STATE_NAME

SPEC = StatisticsSpec()
# Features of make_table whose values are summarised as numbers / as strings.
NUMERIC = ("float", "int", "bool", "list", "nested.x")
STRINGS = ("low", "nested.tag")
NEAR_UNIQUE = "id"  # more distinct values than the frequent-items capacity


def _custom(
    feature: statistics_pb2.FeatureNameStatistics, name: str, default: float | None = None
) -> float:
    found = next((c.num for c in feature.custom_stats if c.name == name), default)
    assert found is not None, f"no custom statistic {name!r}"
    return found


def _features(
    dataset: statistics_pb2.DatasetFeatureStatistics,
) -> dict[str, statistics_pb2.FeatureNameStatistics]:
    return {".".join(f.path.step): f for f in dataset.features}


def exact_part(
    statistics: statistics_pb2.DatasetFeatureStatisticsList,
) -> statistics_pb2.DatasetFeatureStatisticsList:
    """A copy without what depends on the order of adds and merges.

    Quantiles are exact below ``QuantilesSpec.exact_limit`` distinct values, so unweighted
    medians and histograms stay. The weighted quantiles (weighted medians, histograms and their
    certified error) depend on the order of merges, and Misra-Gries top values do once the
    sketch has dropped values (top_values_max_error > 0). The HyperLogLog ``unique`` stays: its
    merge (register maximum) is exact and order-free. The stored sketch state
    (``beam_stats.state``) holds the order-dependent sketches, so it goes too.
    """
    out = statistics_pb2.DatasetFeatureStatisticsList()
    out.CopyFrom(statistics)
    for dataset in out.datasets:
        for feature in dataset.features:
            sketched = {
                STATE_NAME,
                "weighted_quantiles_rank_error",
                "weighted_histogram_count_error",
            }
            kept = [c for c in feature.custom_stats if c.name not in sketched]
            del feature.custom_stats[:]
            feature.custom_stats.extend(kept)
            stats = getattr(feature, feature.WhichOneof("stats"))
            if feature.HasField("num_stats"):
                stats.weighted_numeric_stats.ClearField("median")
                for histogram in stats.weighted_numeric_stats.histograms:
                    del histogram.buckets[:]
            if feature.HasField("string_stats") and _custom(feature, "top_values_max_error", 0.0):
                stats.ClearField("top_values")
                stats.ClearField("rank_histogram")
                stats.weighted_string_stats.ClearField("top_values")
                stats.weighted_string_stats.ClearField("rank_histogram")
                kept = [c for c in feature.custom_stats if c.name != "top_values_max_error"]
                del feature.custom_stats[:]
                feature.custom_stats.extend(kept)
    return out


def _column(table: pa.Table, name: str) -> pa.Array:
    """The column of a feature path; a struct's nulls are applied to its children."""
    if "." not in name:
        return table[name].combine_chunks()
    parent, child = name.split(".")
    struct = table[parent].combine_chunks()
    return struct.flatten()[struct.type.get_field_index(child)]


def check_against_numpy(dataset: statistics_pb2.DatasetFeatureStatistics, table: pa.Table) -> None:
    """Exact statistics equal numpy's; sketched ones are within their stated bounds."""
    features = _features(dataset)
    assert dataset.num_examples == table.num_rows
    for name in NUMERIC:
        eps = _custom(features[name], "quantiles_rank_error")
        column = _column(table, name)
        values = pc.list_flatten(column) if name == "list" else column.drop_null()
        values = values.to_numpy(zero_copy_only=False).astype(np.float64)
        finite = np.sort(values[np.isfinite(values)])
        stats = features[name].num_stats
        assert stats.common_stats.num_non_missing == len(column) - column.null_count, name
        assert stats.common_stats.num_missing == column.null_count, name
        assert stats.common_stats.tot_num_values == values.size, name
        assert stats.mean == pytest.approx(finite.mean(), rel=1e-9), name
        assert stats.std_dev == pytest.approx(finite.std(), rel=1e-9), name
        assert (stats.min, stats.max) == (finite.min(), finite.max()), name
        assert stats.num_zeros == np.count_nonzero(finite == 0), name
        assert _custom(features[name], "num_nan") == np.isnan(values).sum(), name
        check_rank(finite, stats.median, 0.5, eps)
        quantiles = stats.histograms[1]
        for i, bucket in enumerate(quantiles.buckets):
            check_rank(finite, bucket.high_value, (i + 1) / len(quantiles.buckets), eps)
    for name in STRINGS:
        values = _column(table, name).drop_null().to_pylist()
        counts = collections.Counter(values)
        stats = features[name].string_stats
        assert stats.common_stats.num_non_missing == len(values), name
        assert stats.unique == len(counts), name
        assert [(t.value, t.frequency) for t in stats.top_values] == sorted(
            counts.items(),
            key=lambda kv: (kv[1], kv[0]),
            reverse=True,  # TFDV's order
        ), name
        # avg_length is a 32-bit float in the TFMD message.
        assert stats.avg_length == pytest.approx(np.mean([len(v) for v in values]), rel=1e-6)
    ids = features[NEAR_UNIQUE]
    assert ids.string_stats.unique == pytest.approx(
        table.num_rows, abs=4 * SPEC.distinct.relative_standard_error * table.num_rows
    )
    assert _custom(ids, "top_values_max_error") > 0  # the sketched path was taken
    assert all(t.frequency == 1 for t in ids.string_stats.top_values)  # every id occurs once
    assert features["empty"].num_stats.common_stats.num_missing == table.num_rows


# --- GenerateStatistics on a PCollection of record batches -------------------------------


def _matches_in_memory(
    table: pa.Table, name: str
) -> Callable[[list[statistics_pb2.DatasetFeatureStatisticsList]], None]:
    expected = generate_statistics_from_table(table, SPEC, name=name)

    def match(actual: list[statistics_pb2.DatasetFeatureStatisticsList]) -> None:
        assert len(actual) == 1, f"expected one statistics message, got {len(actual)}"
        assert_close(exact_part(actual[0]), exact_part(expected))
        check_against_numpy(actual[0].datasets[0], table)

    return match


def test_generate_statistics_equals_in_memory_statistics() -> None:
    table = make_table(seed=7, n=12_000)
    batches = table.to_batches(max_chunksize=1500)
    assert len(batches) == 8
    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        statistics = pipeline | beam.Create(batches) | GenerateStatistics(SPEC, name="train")
        assert_that(statistics, _matches_in_memory(table, "train"))


def test_empty_pcollection_gives_one_empty_statistics_message() -> None:
    def match(actual: list[statistics_pb2.DatasetFeatureStatisticsList]) -> None:
        assert len(actual) == 1
        assert plain(actual[0]) == {"datasets": [{"name": "empty"}]}  # num_examples 0, no features

    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        statistics = (
            pipeline
            | beam.Create([]).with_output_types(pa.RecordBatch)
            | GenerateStatistics(SPEC, name="empty")
        )
        assert_that(statistics, match)


# --- The accumulator coder ---------------------------------------------------------------


def test_accumulator_coder_round_trip() -> None:
    table = make_table(seed=3, n=5000)
    accumulator = DatasetAccumulator(SPEC)
    accumulator.add_all(table.to_batches(max_chunksize=1000))
    coder = StatisticsCombineFn(SPEC).get_accumulator_coder()
    same = DatasetAccumulatorCoder(SPEC)
    assert coder == same and hash(coder) == hash(same)  # Beam deduplicates coders by these
    decoded = coder.decode(coder.encode(accumulator))
    assert decoded.to_proto() == accumulator.to_proto()
    assert plain(decoded.result("x")) == plain(accumulator.result("x"))
    # A decoded state merges like the original.
    first, second = DatasetAccumulator(SPEC), DatasetAccumulator(SPEC)
    first.add_all(table.slice(0, 2000).to_batches())
    second.add_all(table.slice(2000).to_batches())
    merged = coder.decode(coder.encode(first))
    merged.merge(coder.decode(coder.encode(second)))
    assert_close(
        exact_part(statistics_pb2.DatasetFeatureStatisticsList(datasets=[merged.result()])),
        exact_part(statistics_pb2.DatasetFeatureStatisticsList(datasets=[accumulator.result()])),
    )
    with pytest.raises(DeserializationError, match="corrupt accumulator"):
        coder.decode(b"\x0a\xff")  # a length prefix past the end


def test_pipeline_uses_the_accumulator_coder() -> None:
    pipeline = beam.Pipeline(runner=FnApiRunner())
    _ = pipeline | beam.Create([pa.record_batch({"x": [1]})]) | GenerateStatistics(SPEC)
    proto, context = pipeline.to_runner_api(return_context=True)
    combines = [
        beam_runner_api_pb2.CombinePayload.FromString(t.spec.payload)
        for t in proto.components.transforms.values()
        if t.spec.urn == common_urns.composites.COMBINE_PER_KEY.urn
    ]
    assert len(combines) == 1
    coder = context.coders.get_by_id(combines[0].accumulator_coder_id)
    assert coder == DatasetAccumulatorCoder(SPEC)


def test_partial_states_merge_to_the_statistics_of_all_batches() -> None:
    # What GenerateStatistics combines: one state per bundle (AddBatches), and one of no data.
    table = make_table(seed=5, n=6000)
    states = []
    for start, stop in [(0, 1000), (1000, 3500), (3500, 6000)]:
        part = DatasetAccumulator(SPEC)
        part.add_all(table.slice(start, stop - start).to_batches(max_chunksize=700))
        states.append(wire.to_bytes(part))
    nothing = wire.to_bytes(DatasetAccumulator(SPEC))
    fn = MergeStatesFn(SPEC, name="x")
    left = fn.add_input(fn.add_input(fn.create_accumulator(), nothing), states[0])
    right = fn.add_input(fn.add_input(fn.create_accumulator(), states[1]), states[2])
    merged = fn.merge_accumulators([fn.create_accumulator(), left, fn.create_accumulator(), right])
    assert merged.num_examples == table.num_rows
    expected = generate_statistics_from_table(table, SPEC, name="x")
    assert_close(exact_part(fn.extract_output(merged)), exact_part(expected))
    # Nothing merged with nothing is still a statistics message, of 0 examples.
    empty = fn.extract_output(fn.add_input(fn.create_accumulator(), nothing))
    assert plain(empty) == {"datasets": [{"name": "x"}]}


@pytest.mark.parametrize("rows", [0, 5000])
def test_generate_and_write_statistics_on_the_default_runner(rows: int, tmp_path: Path) -> None:
    table = make_table(seed=9, n=5000)
    batches = table.to_batches(max_chunksize=800) if rows else []
    streamed, text, generated = (str(tmp_path / n) for n in ("a.pb", "a.pbtxt", "b.pb"))
    with beam.Pipeline() as pipeline:  # DirectRunner, as beam-stats stats
        created = pipeline | beam.Create(batches).with_output_types(pa.RecordBatch)
        written = created | "Streamed" >> GenerateAndWriteStatistics(streamed, SPEC, name="d")
        assert_that(written, equal_to([streamed]))
        _ = created | "Text" >> GenerateAndWriteStatistics(text, SPEC, name="d")
        _ = created | GenerateStatistics(SPEC, name="d") | WriteStatistics(generated)
    statistics = load_statistics(streamed)
    assert statistics.datasets[0].num_examples == rows
    assert load_statistics(text) == statistics
    assert_close(exact_part(statistics), exact_part(load_statistics(generated)))
    if rows:
        expected = generate_statistics_from_table(table, SPEC, name="d")
        assert_close(exact_part(statistics), exact_part(expected))
    else:
        assert plain(statistics) == {"datasets": [{"name": "d"}]}


def test_generate_statistics_uses_no_side_input() -> None:
    # CombineGlobally's default for empty input would pass the statistics through a side
    # input: copies of a message that is hundreds of MB for wide data.
    pipeline = beam.Pipeline(runner=FnApiRunner())
    _ = pipeline | beam.Create([pa.record_batch({"x": [1]})]) | GenerateStatistics(SPEC)
    proto = pipeline.to_runner_api()
    side_inputs = [
        name
        for t in proto.components.transforms.values()
        if t.spec.urn == common_urns.primitives.PAR_DO.urn
        for name in beam_runner_api_pb2.ParDoPayload.FromString(t.spec.payload).side_inputs
    ]
    assert side_inputs == []


# --- One Parquet dataset on three runners ------------------------------------------------


@pytest.fixture(scope="module")
def parquet_dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, pa.Table]:
    """6000 rows in three Parquet files of uneven size, 700 rows per row group."""
    folder = tmp_path_factory.mktemp("parquet")
    table = make_table(seed=11, n=6000)
    for part, (start, stop) in enumerate([(0, 2500), (2500, 4000), (4000, 6000)]):
        pq.write_table(
            table.slice(start, stop - start), folder / f"part-{part}.parquet", row_group_size=700
        )
    assert sum(pq.ParquetFile(p).num_row_groups for p in folder.iterdir()) == 4 + 3 + 3
    return str(folder / "*.parquet"), table


def _run_on(
    pipeline: beam.Pipeline,
    pattern: str,
    output: Path,
    extra: Callable[[beam.PCollection], Any] | None = None,
) -> statistics_pb2.DatasetFeatureStatisticsList:
    """Parquet files -> ReadRecordBatches -> GenerateStatistics -> WriteStatistics."""
    read = pipeline | "Read" >> ReadRecordBatches(pattern)
    _ = (
        read.batches
        | "Statistics" >> GenerateStatistics(SPEC, name="parquet")
        | "Write" >> WriteStatistics(str(output))
    )
    assert_that(read.errors, equal_to([]), label="NoInputErrors")
    if extra is not None:
        extra(read.batches)
    result = pipeline.run()
    assert result.wait_until_finish() == PipelineState.DONE
    return load_statistics(str(output))


def _check_runner_output(
    statistics: statistics_pb2.DatasetFeatureStatisticsList, table: pa.Table
) -> None:
    expected = generate_statistics_from_table(table, SPEC, name="parquet")
    assert_close(exact_part(statistics), exact_part(expected))
    check_against_numpy(statistics.datasets[0], table)


def test_parquet_files_on_fn_api_runner(
    parquet_dataset: tuple[str, pa.Table], tmp_path: Path
) -> None:
    pattern, table = parquet_dataset
    statistics = _run_on(beam.Pipeline(runner=FnApiRunner()), pattern, tmp_path / "stats.pb")
    _check_runner_output(statistics, table)


def test_parquet_files_on_direct_runner_multi_processing(
    parquet_dataset: tuple[str, pa.Table], tmp_path: Path
) -> None:
    pattern, table = parquet_dataset
    options = PipelineOptions(
        [
            "--runner=DirectRunner",
            "--direct_running_mode=multi_processing",
            "--direct_num_workers=2",
        ]
    )
    test_pid = os.getpid()

    def not_in_this_process(pids: list[int]) -> None:
        assert pids and test_pid not in pids, (test_pid, pids)

    def record_pids(batches: beam.PCollection) -> None:
        pids = batches | "Pid" >> beam.Map(lambda _: os.getpid()) | beam.Distinct()
        assert_that(pids, not_in_this_process, label="RanInWorkers")

    statistics = _run_on(
        beam.Pipeline(options=options), pattern, tmp_path / "stats.pb", record_pids
    )
    _check_runner_output(statistics, table)


def test_parquet_files_on_portable_runner(
    parquet_dataset: tuple[str, pa.Table], job_endpoint: str, tmp_path: Path
) -> None:
    pattern, table = parquet_dataset
    options = PipelineOptions(
        ["--runner=PortableRunner", f"--job_endpoint={job_endpoint}", "--environment_type=LOOPBACK"]
    )
    statistics = _run_on(beam.Pipeline(options=options), pattern, tmp_path / "stats.pb")
    _check_runner_output(statistics, table)
