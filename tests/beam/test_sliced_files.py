"""Sliced statistics written from each slice's bytes (beam_stats/beam/slices.py): the file is
byte for byte the one of the statistics message, and the 2 GiB guard refuses before writing."""

from __future__ import annotations

from pathlib import Path

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from beam.test_pipeline import check_against_numpy, exact_part
from proto_compare import assert_close
from stats.test_feature import make_table
from stats.test_whole_from_slices import MIXED, _with_tags
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats import SlicingSpec, StatisticsSpec, generate_statistics_from_table
from beam_stats.beam import GenerateStatistics, WriteStatistics
from beam_stats.beam.transforms import GenerateAndWriteStatistics
from beam_stats.beam.writing import write_file
from beam_stats.errors import OutputError
from beam_stats.stats import DatasetAccumulator, wire
from beam_stats.stats.coalesce import COALESCE_ROWS
from beam_stats.stats.feature import STATE_NAME
from beam_stats.stats.sliced import SlicedAccumulators

N = 3000


def _table() -> pa.Table:
    rng = np.random.default_rng(11)
    country = rng.choice(["DE", "FR", "JP", "a,b=c"], N).astype(object)
    country[rng.random(N) < 0.05] = None
    return pa.table(
        {
            "country": pa.array(country, pa.string()),
            "device": rng.choice(["phone", "desktop"], N),
            "age": pa.array(rng.integers(18, 90, N), mask=rng.random(N) < 0.15),
            "income": rng.lognormal(10, 1, N),
            "w": rng.uniform(0, 2, N),
        }
    )


def rich(batch: pa.RecordBatch) -> list[tuple[str, pa.RecordBatch]]:
    """A slicing function: an example may be in no slice or in two."""
    income = batch.column("income")
    return [
        ("rich", batch.filter(pc.greater(income, 30000))),
        ("not poor", batch.filter(pc.greater(income, 5000))),
    ]


CASES = {
    "feature": (SlicingSpec(features=("country",)), StatisticsSpec(), True),
    "cross": (SlicingSpec(features=("country", ("country", "device"))), StatisticsSpec(), True),
    "function": (SlicingSpec(functions=(rich,)), StatisticsSpec(), True),
    "no state": (SlicingSpec(features=("device",)), StatisticsSpec(), False),
    "weights": (SlicingSpec(features=("country",)), StatisticsSpec(weight_feature="w"), True),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_sliced_file_is_the_statistics_message_byte_for_byte(case: str, tmp_path: Path) -> None:
    slicing, spec, include_state = CASES[case]
    batches = _table().to_batches(max_chunksize=1000)
    streamed, generated = str(tmp_path / "streamed.pb"), str(tmp_path / "generated.pb")
    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        created = pipeline | beam.Create(batches).with_output_types(pa.RecordBatch)
        _ = created | GenerateAndWriteStatistics(streamed, spec, "train", include_state, slicing)
    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        created = pipeline | beam.Create(batches).with_output_types(pa.RecordBatch)
        _ = (
            created
            | GenerateStatistics(spec, "train", include_state, slicing)
            | WriteStatistics(generated)
        )
    data = Path(streamed).read_bytes()
    assert data == Path(generated).read_bytes()
    # And the message of the same rows in memory, without Beam (the rows reach the
    # accumulators as one batch in both: the sketches are the same).
    parsed = statistics_pb2.DatasetFeatureStatisticsList.FromString(data)
    expected = generate_statistics_from_table(
        _table(), spec, "train", include_state=include_state, slicing=slicing
    )
    assert data == expected.SerializeToString()
    assert [(d.name, d.num_examples) for d in parsed.datasets] == [
        (d.name, d.num_examples) for d in expected.datasets
    ]
    assert len(parsed.datasets) > 2
    has_state = {
        any(c.name == STATE_NAME for c in f.custom_stats) for f in parsed.datasets[1].features
    }
    assert has_state == {include_state}
    if spec.weight_feature is not None:
        assert [d.weighted_num_examples for d in parsed.datasets] == pytest.approx(
            [d.weighted_num_examples for d in expected.datasets], rel=1e-12
        )


def _finished(rows: pa.Table, include_state: bool = True) -> wire.DatasetBytes:
    accumulator = DatasetAccumulator(StatisticsSpec())
    for batch in rows.to_batches():
        accumulator.add(batch)
    return wire.dataset_bytes(accumulator, "", include_state)


def test_datasets_are_framed_in_order_and_named_after_they_are_made() -> None:
    table = _table()
    slices = {"b": table.slice(0, 100), "a": table.slice(100, 50), "": table.slice(150, 10)}
    pairs = [(key, _finished(rows)) for key, rows in slices.items()]
    data = b"".join(wire.datasets_chunks("whole", pairs))
    expected = statistics_pb2.DatasetFeatureStatisticsList()
    expected.datasets.add().name = "whole"  # not given: an empty dataset
    for key in sorted(slices):
        accumulator = DatasetAccumulator(StatisticsSpec())
        accumulator.add_all(slices[key].to_batches())
        expected.datasets.append(accumulator.result(key))
    assert data == expected.SerializeToString()
    assert [
        d.name for d in statistics_pb2.DatasetFeatureStatisticsList.FromString(data).datasets
    ] == ["whole", "", "a", "b"]


@pytest.mark.parametrize("include_state", [True, False])
def test_the_guard_refuses_before_any_byte_is_written(tmp_path: Path, include_state: bool) -> None:
    table = _table()
    pairs = [(f"s={i}", _finished(table.slice(i * 100, 100), include_state)) for i in range(3)]
    pairs.append(("all", _finished(table, include_state)))
    size = len(b"".join(wire.datasets_chunks("all", pairs)))
    assert len(b"".join(wire.datasets_chunks("all", pairs, limit=size))) == size
    with pytest.raises(OutputError) as e:
        next(wire.datasets_chunks("all", pairs, limit=size - 1))
    message = str(e.value)
    assert f"would be {size:,} bytes" in message
    assert "4 datasets (the whole data and its slices) x 5 features" in message
    assert ("the sketch state is" in message) == include_state
    assert "--max-slices" in message
    if include_state:  # the share of state, counted here from the parsed file
        parsed = statistics_pb2.DatasetFeatureStatisticsList.FromString(
            b"".join(wire.datasets_chunks("all", pairs))
        )
        state = sum(
            c.ByteSize()
            for d in parsed.datasets
            for f in d.features
            for c in f.custom_stats
            if c.name == STATE_NAME
        )
        assert f"the sketch state is {100 * state / size:.0f}% of it" in message
    with pytest.raises(OutputError):
        write_file(str(tmp_path / "out.pb"), wire.datasets_chunks("all", pairs, limit=size - 1))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("mixed", [False, True])
def test_pipeline_and_in_process_whole_datasets_agree(mixed: bool, tmp_path: Path) -> None:
    """The pipeline adds every row to the whole dataset; in process, batches the slices
    partition (5,000 rows per slice) reach it through its slices (stats/sliced.py), and with
    `mixed` batches of two values per row are added to it directly. Both are numpy's."""
    n, several_from = (MIXED, COALESCE_ROWS) if mixed else (30_000, 30_000)
    slicing = SlicingSpec(features=("tags",) if mixed else ("low",))
    table = _with_tags(make_table(seed=5, n=n), several_from)
    path = str(tmp_path / "sliced.pb")
    batches = table.to_batches(max_chunksize=COALESCE_ROWS if mixed else 10_000)
    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        created = pipeline | beam.Create(batches).with_output_types(pa.RecordBatch)
        _ = created | GenerateAndWriteStatistics(path, slicing=slicing)
    statistics = statistics_pb2.DatasetFeatureStatisticsList.FromString(Path(path).read_bytes())
    check_against_numpy(statistics.datasets[0], table.drop_columns(["tags"]))
    in_process = SlicedAccumulators(StatisticsSpec(), slicing)
    for batch in batches:
        in_process.add(batch)
    in_process.flush()
    assert in_process.merged  # the whole dataset was (at least partly) merged from slices
    data = b"".join(wire.datasets_chunks("All Examples", in_process.results("All Examples")))
    merged = statistics_pb2.DatasetFeatureStatisticsList.FromString(data)
    assert [d.name for d in statistics.datasets] == [d.name for d in merged.datasets]
    assert_close(exact_part(statistics), exact_part(merged))
