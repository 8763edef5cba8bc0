"""The whole dataset merged from its slices (stats/slicing.py partitions, stats/sliced.py):
when and only when the slices partition a batch, and the same statistics as the whole
dataset accumulated from every row (checked against numpy)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from beam.test_pipeline import check_against_numpy, exact_part
from proto_compare import assert_close
from stats.test_feature import make_table
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats import SlicingSpec, StatisticsSpec, generate_statistics_from_table
from beam_stats.stats import wire
from beam_stats.stats.coalesce import COALESCE_ROWS
from beam_stats.stats.sliced import SlicedAccumulators
from beam_stats.stats.slicing import (
    WHOLE_FROM_SLICES_ROWS,
    SliceCounter,
    partitions,
    slice_batch,
)

N = 30_000  # 5,000 rows in each of the 6 slices of "low": over WHOLE_FROM_SLICES_ROWS
BY_LOW = SlicingSpec(features=("low",))


def _with_tags(table: pa.Table, several_from: int) -> pa.Table:
    """`table` with a list column "tags": one value per row before row `several_from`, two
    distinct values from there on (such rows are in two slices)."""
    rng = np.random.default_rng(1)
    first = rng.choice(["a", "b", "c"], table.num_rows)
    second = np.where(first == "a", "b", "a")
    lists = [
        [f] if i < several_from else [f, s]
        for i, (f, s) in enumerate(zip(first, second, strict=True))
    ]
    return table.append_column("tags", pa.array(lists, pa.list_(pa.string())))


def sliced(table: pa.Table, slicing: SlicingSpec, rows: int = 10_000) -> SlicedAccumulators:
    accumulators = SlicedAccumulators(StatisticsSpec(), slicing)
    for batch in table.to_batches(max_chunksize=rows):
        accumulators.add(batch)
    return accumulators


def _statistics(
    accumulators: SlicedAccumulators,
) -> statistics_pb2.DatasetFeatureStatisticsList:
    pairs = list(accumulators.results("All Examples"))
    data = b"".join(wire.datasets_chunks("All Examples", pairs))
    return statistics_pb2.DatasetFeatureStatisticsList.FromString(data)


def test_partitions_only_one_slicing_that_puts_each_row_in_one_slice() -> None:
    table = _with_tags(make_table(seed=5, n=200), several_from=100)
    batch = table.to_batches()[0]
    one_value = batch.slice(0, 100)

    def check(slicing: SlicingSpec, rows: pa.RecordBatch) -> bool:
        return partitions(slicing, rows, list(slice_batch(rows, slicing)))

    assert check(BY_LOW, batch)  # a scalar column, nulls in <missing>
    assert check(SlicingSpec(features=(("low", "bool"),)), batch)  # a cross
    assert check(SlicingSpec(features=("tags",)), one_value)  # lists of one value
    assert not check(SlicingSpec(features=("tags",)), batch)  # two values: two slices
    assert not check(SlicingSpec(features=("low", "bool")), batch)  # two slicings
    assert not check(SlicingSpec(functions=(lambda b: [("all", b)],)), batch)
    assert not check(BY_LOW, batch.slice(0, 0))  # no rows: the whole declares the columns


def test_the_first_partitioned_batch_decides_for_the_run() -> None:
    table = make_table(seed=5, n=N)
    keys = len(set(table["low"].to_pylist()))
    few = table.slice(0, keys * WHOLE_FROM_SLICES_ROWS // 2)  # 50 rows a slice, or fewer
    many = table.slice(0, keys * WHOLE_FROM_SLICES_ROWS * 2)  # 200 rows a slice, or more
    empty = table.slice(0, 0).to_batches(max_chunksize=10)
    assert len(set(few["low"].to_pylist())) == len(set(many["low"].to_pylist())) == keys
    (few_batch,), (many_batch,) = few.to_batches(), many.to_batches()

    counter = SliceCounter(BY_LOW)
    for batch in empty:  # no rows: decides nothing
        assert not counter.partition(batch)[1]
    assert counter.through_slices is None
    assert not counter.partition(few_batch)[1]
    assert not counter.partition(many_batch)[1]  # kept: no slice keeps two accumulators
    assert counter.through_slices is False

    counter = SliceCounter(BY_LOW)
    assert counter.partition(many_batch)[1]
    assert counter.partition(few_batch)[1]
    tags = SliceCounter(SlicingSpec(features=("tags",)))
    assert tags.partition(_with_tags(many, several_from=many.num_rows).to_batches()[0])[1]
    two_values = _with_tags(few, several_from=0).to_batches()[0]
    assert not tags.partition(two_values)[1]  # a row in two slices: never through them
    assert tags.through_slices is True


MIXED = 2 * COALESCE_ROWS  # two batches (joined up to COALESCE_ROWS before slicing)


@pytest.mark.parametrize(
    ("slicing", "n", "several_from", "merged", "apart"),
    [
        (BY_LOW, N, N, True, False),  # every batch partitioned: no row added twice
        (SlicingSpec(features=("tags",)), N, 0, False, True),  # several values everywhere
        (SlicingSpec(features=("tags",)), MIXED, COALESCE_ROWS, True, True),  # each way
        (SlicingSpec(features=("low", "tags")), N, N, False, True),  # two slicings
    ],
)
def test_whole_dataset_equals_the_unsliced_statistics(
    slicing: SlicingSpec, n: int, several_from: int, merged: bool, apart: bool
) -> None:
    table = _with_tags(make_table(seed=5, n=n), several_from)
    accumulators = sliced(table, slicing, rows=COALESCE_ROWS)
    accumulators.flush()
    assert (bool(accumulators.merged), bool(accumulators.apart)) == (merged, apart)
    statistics = _statistics(accumulators)
    whole = statistics.datasets[0]
    assert whole.name == "All Examples"
    check_against_numpy(whole, table.drop_columns(["tags"]))
    tags = next(f for f in whole.features if f.path.step == ["tags"]).string_stats
    values = pc.list_flatten(table["tags"]).to_pylist()
    assert tags.common_stats.tot_num_values == len(values)
    assert tags.unique == len(set(values))
    # Every dataset as the in-memory job makes it, which adds every row to the whole.
    expected = generate_statistics_from_table(table, slicing=slicing)
    assert [d.name for d in statistics.datasets] == [d.name for d in expected.datasets]
    assert_close(exact_part(statistics), exact_part(expected))  # sums: to rounding


def test_a_slicing_function_is_never_merged() -> None:
    table = make_table(seed=5, n=N)

    def halves(batch: pa.RecordBatch) -> list[tuple[str, pa.RecordBatch]]:
        n = batch.num_rows // 2
        return [("first", batch.slice(0, n)), ("second", batch.slice(n))]

    accumulators = sliced(table, SlicingSpec(functions=(halves,)))
    accumulators.flush()
    assert not accumulators.merged
    check_against_numpy(_statistics(accumulators).datasets[0], table)


def test_an_empty_batch_declares_the_columns_of_a_merged_whole() -> None:
    table = make_table(seed=5, n=N)
    accumulators = SlicedAccumulators(StatisticsSpec(), BY_LOW)
    accumulators.add(pa.RecordBatch.from_pylist([], schema=table.schema))
    for batch in table.to_batches(max_chunksize=10_000):
        accumulators.add(batch)
    statistics = _statistics(accumulators)
    check_against_numpy(statistics.datasets[0], table)
    expected = generate_statistics_from_table(table, slicing=BY_LOW)
    assert_close(exact_part(statistics), exact_part(expected))


@pytest.mark.parametrize("slicing", [BY_LOW, SlicingSpec(features=("tags",))])
def test_cutting_apart_from_adding_makes_the_same_statistics(slicing: SlicingSpec) -> None:
    """cut (all the batches first, as a thread ahead of the adds does) then add_cut in order:
    the bytes of add, batch by batch."""
    table = _with_tags(make_table(seed=5, n=MIXED), several_from=COALESCE_ROWS)
    batches = table.to_batches(max_chunksize=7_000)
    one_step = sliced(table, slicing, rows=7_000)
    two_steps = SlicedAccumulators(StatisticsSpec(), slicing)
    cuts = list(two_steps.cut_all(batches))
    assert len(cuts) < len(batches)  # small batches joined before they are cut
    for cut in cuts:
        two_steps.add_cut(cut)
    assert bool(two_steps.merged) == bool(one_step.merged)
    assert _statistics(two_steps).SerializeToString() == _statistics(one_step).SerializeToString()
