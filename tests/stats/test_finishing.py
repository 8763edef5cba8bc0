"""Many datasets finished at once (stats/finishing.py): the bytes each one gives finished
alone, whatever the group size and the spec, and the frequent items' shared sort
(sketches/frequent.py's order_many) equal to each sketch's own."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from stats.test_grouped import plain_table

from beam_stats import SlicingSpec, StatisticsSpec
from beam_stats.sketches import FrequentItemsSpec
from beam_stats.sketches.frequent import FrequentItemsAccumulator, order_many
from beam_stats.stats import DatasetAccumulator
from beam_stats.stats.finishing import finished
from beam_stats.stats.privacy import PrivacySpec
from beam_stats.stats.sliced import SlicedAccumulators
from beam_stats.stats.wire import dataset_bytes

SPECS = {
    "default": StatisticsSpec(),
    # Misra-Gries reductions (offsets > 0, ties at the cut) and categorical ints (ties as
    # numbers in the report, as bytes in the state).
    "small": StatisticsSpec(
        frequent_items=FrequentItemsSpec(capacity=3),
        num_top_values=2,
        num_rank_histogram_buckets=3,
        categorical_features=frozenset({("i32",)}),
    ),
    "weighted": StatisticsSpec(weight_feature=("weight",)),
    # One top value, two rank buckets.
    "sizes": StatisticsSpec(num_top_values=1, num_rank_histogram_buckets=2),
    "private": StatisticsSpec(privacy=PrivacySpec(min_count=3, redact=frozenset({("raw",)}))),
}


def _table(n: int = 4000) -> pa.Table:
    rng = np.random.default_rng(11)
    table = plain_table(n, seed=11)
    table = table.append_column("weight", pa.array(rng.integers(0, 4, n).astype(np.float64)))
    # 60 slices of unequal sizes (some a handful of rows), and missing.
    key = rng.zipf(1.3, n) % 60
    return table.append_column("key", pa.array(key, mask=rng.random(n) < 0.03))


def _states(spec: StatisticsSpec, table: pa.Table) -> list[tuple[str, DatasetAccumulator]]:
    sliced = SlicedAccumulators(spec, SlicingSpec(features=("key",)))
    for batch in table.to_batches(max_chunksize=700):
        sliced.add(batch)
    return sorted(sliced.states("All Examples"), key=lambda item: item[0])


@pytest.mark.parametrize("name", list(SPECS))
def test_finished_in_groups_are_the_bytes_of_each_alone(name: str) -> None:
    spec, table = SPECS[name], _table()
    alone = [(key, dataset_bytes(a, "", True).data) for key, a in _states(spec, table)]
    assert len(alone) > 40
    for group in (1, 7, 256):
        together = [(key, d.data) for key, d in finished(_states(spec, table), True, group)]
        assert together == alone, (name, group)
    without_state = [(k, dataset_bytes(a, "", False).data) for k, a in _states(spec, table)]
    assert [(k, d.data) for k, d in finished(_states(spec, table), False)] == without_state


def _sketch(rng: np.random.Generator, capacity: int) -> FrequentItemsAccumulator:
    sketch = FrequentItemsSpec(capacity=capacity).create()
    for _ in range(int(rng.integers(0, 4))):  # merged parts: not in canonical order
        n = int(rng.integers(1, 30))
        words = rng.choice(np.array(["a", "b", "bb", "c", "é", "zz", "", "q"]), n)
        other = FrequentItemsSpec(capacity=capacity).create()
        other.add(pa.array(words))
        sketch.merge(other)
    return sketch


def test_order_many_is_each_sketchs_own_order() -> None:
    rng = np.random.default_rng(3)
    sketches = [_sketch(rng, capacity) for capacity in rng.integers(2, 10, 200).tolist()]
    copies = [FrequentItemsAccumulator.from_proto(s.to_proto()) for s in sketches]
    for sketch in sketches[::3]:  # some sorted already: left as they are
        sketch.to_proto()
    order_many(sketches)
    for sketch, copy in zip(sketches, copies, strict=True):
        assert sketch.to_proto().SerializeToString() == copy.to_proto().SerializeToString()
        values, counts = sketch.top_arrays(5)
        own_values, own_counts = copy.top_arrays(5)
        assert values.equals(own_values) and np.array_equal(counts, own_counts)
        assert sketch == copy
    # Independently: counts descending, ties by bytes descending, in every sketch.
    for sketch in sketches:
        values, counts = sketch.top_arrays(100)
        pairs = list(zip(counts.tolist(), values.to_pylist(), strict=True))
        assert pairs == sorted(pairs, reverse=True) and len(set(pairs)) == len(pairs)
