"""DatasetAccumulator.merge_all: every feature's states merged at once, the same state as
merging the accumulators one by one while the sketches are exact, and the statistics of all
the rows (numpy) past that."""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from beam.test_pipeline import check_against_numpy, exact_part
from hypothesis import given, settings
from hypothesis import strategies as st
from proto_compare import assert_close, plain
from stats.test_merge import accumulate, merged
from tensorflow_metadata.proto.v0 import statistics_pb2
from test_feature import make_table

from beam_stats.errors import IncompatibleMergeError
from beam_stats.sketches import QuantilesSpec
from beam_stats.stats import DatasetAccumulator, StatisticsSpec
from beam_stats.stats import dataset as dataset_module
from beam_stats.stats.dataset import MAX_FEATURE_THREADS, feature_threads

# 2,000 rows: every sketch is exact (2,000 distinct ids fit the 2,048 top values).
TABLE = make_table(seed=7, n=2_000)


def _statistics(accumulator: DatasetAccumulator) -> statistics_pb2.DatasetFeatureStatisticsList:
    return statistics_pb2.DatasetFeatureStatisticsList(datasets=[accumulator.result("All")])


def _parts(cuts: list[int]) -> list[pa.Table]:
    bounds = [0, *sorted(set(cuts)), TABLE.num_rows]
    return [TABLE.slice(a, b - a) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


@settings(max_examples=15, deadline=None)
@given(cuts=st.lists(st.integers(0, TABLE.num_rows), max_size=6), data=st.data())
def test_all_at_once_is_one_by_one(cuts: list[int], data: st.DataObject) -> None:
    states = [accumulate(part.to_batches()) for part in _parts(cuts)]
    together = DatasetAccumulator(StatisticsSpec())
    together.merge_all(states)
    # The bytes of merging one by one, in the same order.
    expected = merged(states).to_proto().SerializeToString()
    assert together.to_proto().SerializeToString() == expected
    # In another order: the same statistics up to the last bits of float sums (moments).
    shuffled = DatasetAccumulator(StatisticsSpec())
    shuffled.merge_all(data.draw(st.permutations(states)))
    assert_close(plain(exact_part(_statistics(shuffled))), plain(exact_part(_statistics(together))))


def test_past_the_exact_limits_it_is_the_statistics_of_every_row() -> None:
    table = make_table(seed=7, n=3_000)  # 3,000 ids: the top values past their capacity
    spec = StatisticsSpec(quantiles=QuantilesSpec(exact_limit=1_000, capacity=64))
    bounds = [0, 500, 1_200, 2_900, table.num_rows]
    parts = [table.slice(a, b - a) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    together = DatasetAccumulator(spec)
    together.merge_all([accumulate(part.to_batches(), spec) for part in parts])
    check_against_numpy(together.result("All"), table)


def test_a_feature_only_later_accumulators_hold_is_merged_in() -> None:
    first = accumulate(TABLE.select(["int"]).to_batches())
    later = [accumulate(TABLE.select(["int", "low"]).to_batches()) for _ in range(2)]
    first.merge_all(later)
    assert first.num_examples == 3 * TABLE.num_rows
    assert sorted(path for (path,) in first.features) == ["int", "low"]
    low = first.features[("low",)]
    assert low.result(first.num_examples).string_stats.common_stats.num_non_missing == 2 * (
        TABLE.num_rows - TABLE["low"].null_count
    )


def test_other_settings_are_refused_before_anything_is_merged() -> None:
    mine = accumulate(TABLE.to_batches())
    other = accumulate(TABLE.to_batches(), StatisticsSpec(quantiles=QuantilesSpec(capacity=64)))
    with pytest.raises(IncompatibleMergeError, match="settings"):
        mine.merge_all([accumulate(TABLE.to_batches()), other])
    assert mine.num_examples == TABLE.num_rows


@pytest.mark.parametrize(
    ("exact_limit", "weight"),
    [(100_000, None), (1_000, None), (1_000, "int")],
    ids=["exact", "past-the-limit", "weighted"],
)
def test_threads_add_and_merge_the_same_state(
    exact_limit: int, weight: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Features added and merged on several threads: the bytes of doing it on one."""
    monkeypatch.setattr(dataset_module, "THREADED_ROWS", 1)  # these batches are small
    table = make_table(seed=11, n=3_000)
    if weight is not None:  # weights >= 0
        index = table.schema.get_field_index(weight)
        table = table.set_column(index, weight, pc.abs(table[weight]))
    spec = StatisticsSpec(
        quantiles=QuantilesSpec(exact_limit=exact_limit, capacity=64), weight_feature=weight
    )
    bounds = [0, 400, 1_100, 2_500, table.num_rows]

    def merged(threads: int) -> DatasetAccumulator:
        parts = []
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            part = DatasetAccumulator(spec, threads)
            part.add_all(table.slice(a, b - a).to_batches())
            parts.append(part)
        together = DatasetAccumulator(spec, threads)
        together.merge_all(parts)
        return together

    one, several = merged(1), merged(3)
    assert len(several.features) > 3
    assert several.to_proto().SerializeToString() == one.to_proto().SerializeToString()


def test_a_feature_that_fails_on_a_thread_raises_its_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dataset_module, "THREADED_ROWS", 1)
    mine, other = accumulate(TABLE.to_batches()), accumulate(TABLE.to_batches())
    mine.threads = 2
    other.features[("low",)].values_hashed = True  # as a privacy policy would leave it
    with pytest.raises(IncompatibleMergeError, match="'low'.*keyed hashes"):
        mine.merge_all([other])


def test_feature_threads_are_at_most_the_cores_and_the_cap() -> None:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert 1 <= feature_threads() <= max(1, min(cores or 1, MAX_FEATURE_THREADS))
