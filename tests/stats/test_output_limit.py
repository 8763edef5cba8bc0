"""The 2 GiB protobuf limit: a statistics file no reader could parse is refused before any
byte is written, naming what makes it large (datasets/slices x features, sketch state)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from beam_stats import SlicingSpec, StatisticsSpec, generate_statistics_from_table
from beam_stats.beam.writing import write_file
from beam_stats.errors import OutputError
from beam_stats.stats import DatasetAccumulator, wire
from beam_stats.stats.feature import STATE_NAME


def _table(rows: int = 400) -> pa.Table:
    rng = np.random.default_rng(3)
    return pa.table(
        {
            "x": rng.normal(0, 1, rows),
            "n": rng.integers(0, 50, rows),
            "s": rng.choice(["a", "b", "c", "d"], rows),
        }
    )


def _sliced() -> object:
    return generate_statistics_from_table(_table(), slicing=SlicingSpec(features=(("s",),)))


def test_statistics_at_the_limit_are_written_and_one_byte_over_refused(tmp_path: Path) -> None:
    statistics = _sliced()
    size = statistics.ByteSize()
    assert b"".join(wire.statistics_chunks(statistics, limit=size)) == (
        statistics.SerializeToString()
    )
    with pytest.raises(OutputError) as e:
        write_file(str(tmp_path / "out.pb"), wire.statistics_chunks(statistics, limit=size - 1))
    message = str(e.value)
    assert f"would be {size:,} bytes" in message and f"limit of {size - 1:,}" in message
    datasets, features = len(statistics.datasets), len(statistics.datasets[0].features)
    assert f"{datasets:,} datasets (the whole data and its slices) x {features:,} features" in (
        message
    )
    state = sum(
        c.ByteSize()
        for d in statistics.datasets
        for f in d.features
        for c in f.custom_stats
        if c.name == STATE_NAME
    )
    assert state > 0 and f"the sketch state is {100 * state / size:.0f}% of it" in message
    assert "--max-slices" in message and "--no-sketch-state" in message
    assert list(tmp_path.iterdir()) == []  # nothing written, no temporary file left


@pytest.mark.parametrize("include_state", [True, False])
def test_a_result_written_a_feature_at_a_time_is_refused_before_its_first_chunk(
    tmp_path: Path, include_state: bool
) -> None:
    def accumulator() -> DatasetAccumulator:
        acc = DatasetAccumulator(StatisticsSpec())
        acc.add(_table().to_batches()[0])
        return acc

    data = b"".join(wire.result_chunks(accumulator(), "d", include_state))
    size = len(data)
    assert b"".join(wire.result_chunks(accumulator(), "d", include_state, limit=size)) == data
    chunks = wire.result_chunks(accumulator(), "d", include_state, limit=size - 1)
    with pytest.raises(OutputError, match=r"1 dataset x 3 features") as e:
        next(chunks)
    assert ("the sketch state is" in str(e.value)) == include_state
    assert ("--no-sketch-state" in str(e.value)) == include_state
    assert "--max-slices" not in str(e.value)  # one dataset: no slice to drop
    with pytest.raises(OutputError):
        write_file(
            str(tmp_path / "out.pb"),
            wire.result_chunks(accumulator(), "d", include_state, limit=size - 1),
        )
    assert list(tmp_path.iterdir()) == []


def test_the_state_size_counts_every_state_entry_of_a_feature() -> None:
    """wire._state_size reads a feature's state entries from the end, where a result puts
    them (after its other custom statistics): the sum over every entry agrees, with custom
    statistics and sparse and weighted features in the spec."""
    from stats.test_composite import SPARSE, WEIGHTED, random_table

    from beam_stats.stats import MatchRate, StatisticsSpec, generate_statistics_from_table
    from beam_stats.stats.feature import STATE_NAME
    from beam_stats.stats.wire import _state_size

    spec = StatisticsSpec(
        composites=(SPARSE, WEIGHTED), statistics=(MatchRate("starts_a", pattern="^a"),)
    )
    dataset = generate_statistics_from_table(random_table(3, 400), spec).datasets[0]
    paths, others = set(), 0
    for feature in dataset.features:
        states = [c.ByteSize() for c in feature.custom_stats if c.name == STATE_NAME]
        assert states, feature.path
        assert _state_size(feature) == sum(states), feature.path
        paths.add(tuple(feature.path.step))
        others += len(feature.custom_stats) > len(states)
    assert {("sp",), ("wf",)} <= paths  # the composites' entries are there
    assert others  # features with other custom statistics before their state
