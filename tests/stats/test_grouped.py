"""Row ranges of one batch added to one accumulator each, the batch flattened once
(stats/grouped.py), and slices made that way (stats/sliced.py's flush): the statistics of
each range added alone, byte for byte, and numpy's on a slice's rows."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from stats.test_feature import make_table
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats import SlicingSpec, StatisticsSpec, generate_statistics_from_table
from beam_stats.sketches import DistinctCountSpec, FrequentItemsSpec, QuantilesSpec
from beam_stats.stats import DatasetAccumulator
from beam_stats.stats import dataset as dataset_module
from beam_stats.stats.coalesce import KeyedCoalescer
from beam_stats.stats.grouped import add_groups, groups_flatten
from beam_stats.stats.sliced import SlicedAccumulators
from beam_stats.stats.slicing import MISSING

SPEC = StatisticsSpec()


def plain_table(n: int, seed: int = 3) -> pa.Table:
    """Every column kind add_groups flattens once: nulls, NaN and infinities, narrow types,
    invalid UTF-8, lists with null and empty entries, a column of nulls only."""
    rng = np.random.default_rng(seed)
    floats = rng.normal(0.0, 3.0, n)
    floats[rng.random(n) < 0.05] = np.nan
    floats[rng.random(n) < 0.01] = np.inf
    words = np.array(["a", "bb", "ccc", "dddd", "é", ""])
    # Values personal-data detection flags (and not): the kinds worked out once per group.
    contacts = np.array(["ann@example.com", "+1 415 555 0100", "192.168.1.1", "plain", "x@y"])
    lengths = rng.integers(0, 4, n)
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int32)
    list_mask = pa.array(rng.random(n) < 0.1)
    raw = [b"\xff\xfe" if r < 0.1 else words[i].encode() for r, i in zip(
        rng.random(n), rng.integers(0, len(words), n), strict=True
    )]  # fmt: skip
    return pa.table(
        {
            "float": pa.array(floats, mask=rng.random(n) < 0.1),
            "f32": pa.array(rng.random(n).astype(np.float32)),
            "i32": pa.array(rng.integers(-5, 5, n).astype(np.int32), mask=rng.random(n) < 0.2),
            "bool": pa.array(rng.random(n) < 0.5, mask=rng.random(n) < 0.1),
            "word": pa.array(words[rng.integers(0, len(words), n)], mask=rng.random(n) < 0.2),
            "large": pa.array(words[rng.integers(0, 3, n)], type=pa.large_string()),
            "raw": pa.array(raw, type=pa.binary()),
            "ints": pa.ListArray.from_arrays(
                pa.array(offsets), pa.array(rng.integers(0, 50, int(lengths.sum()))), mask=list_mask
            ),
            "words": pa.LargeListArray.from_arrays(
                pa.array(offsets.astype(np.int64)),
                pa.array(words[rng.integers(0, len(words), int(lengths.sum()))]),
            ),
            "none": pa.nulls(n, pa.float64()),
            "contact": pa.array(contacts[rng.integers(0, len(contacts), n)]),
        }
    )


def one_batch(table: pa.Table) -> pa.RecordBatch:
    return table.combine_chunks().to_batches()[0]


def by_range(batch: pa.RecordBatch, bounds: list[int], spec: StatisticsSpec) -> list[bytes]:
    """Each range added alone: the reference."""
    out = []
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        accumulator = DatasetAccumulator(spec)
        accumulator.add(batch.slice(start, stop - start))
        out.append(accumulator.result().SerializeToString(deterministic=True))
    return out


def grouped(
    batch: pa.RecordBatch, bounds: list[int], spec: StatisticsSpec, threads: int = 1
) -> list[bytes]:
    accumulators = [DatasetAccumulator(spec, threads) for _ in bounds[1:]]
    add_groups(accumulators, batch, bounds)
    return [a.result().SerializeToString(deterministic=True) for a in accumulators]


@pytest.mark.parametrize(
    "bounds",
    [
        [0, 1, 2, 700, 701, 2000],
        [0, 0, 300, 300, 1999, 2000, 2000],  # ranges of no rows: columns without values
        [0, 2000],
    ],
)
def test_ranges_are_as_added_alone(bounds: list[int]) -> None:
    batch = one_batch(plain_table(2000))
    assert groups_flatten(batch, DatasetAccumulator(SPEC))
    assert grouped(batch, bounds, SPEC) == by_range(batch, bounds, SPEC)


def test_columns_added_on_threads_are_as_added_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each column's ranges added on a thread of its own: the same bytes."""
    monkeypatch.setattr(dataset_module, "THREADED_ROWS", 1)
    batch = one_batch(plain_table(2000))
    bounds = [0, 1, 2, 700, 701, 2000]
    assert grouped(batch, bounds, SPEC, threads=3) == by_range(batch, bounds, SPEC)


def test_many_small_ranges_of_unique_strings() -> None:
    """Many ranges and a column of unique strings: the distinct values of all ranges are
    counted by a sort (a count per range and value would be too large), the same bytes."""
    table = plain_table(300).append_column("id", pa.array([f"id{i:05d}" for i in range(300)]))
    batch = one_batch(table)
    bounds = list(range(0, 301, 3))
    assert grouped(batch, bounds, SPEC) == by_range(batch, bounds, SPEC)


def test_personal_data_is_counted_per_range() -> None:
    """The kinds of personal data are worked out once for the whole batch: each range
    still counts only its own values (checked against the values themselves)."""
    batch = one_batch(plain_table(2000))
    bounds = [0, 5, 1200, 2000]
    for data, start, stop in zip(grouped(batch, bounds, SPEC), bounds, bounds[1:], strict=False):
        stats = statistics_pb2.DatasetFeatureStatistics.FromString(data)
        (contact,) = [f for f in stats.features if f.path.step == ["contact"]]
        custom = {c.name: c.num for c in contact.custom_stats}
        values = np.array(batch.column("contact").slice(start, stop - start).to_pylist())
        assert custom["pii_email"] == pytest.approx(np.mean(values == "ann@example.com"))
        assert custom["pii_ipv4"] == pytest.approx(np.mean(values == "192.168.1.1"))


def test_a_slice_of_a_larger_batch_and_its_sketches_past_their_exact_regime() -> None:
    """A batch that is itself a slice (offsets inside its buffers), and ranges large enough
    for the sketches to leave their exact regime (the same bytes all the same)."""
    table = plain_table(30_000, seed=4)
    batch = one_batch(table).slice(1000, 28_000)
    spec = StatisticsSpec(
        quantiles=QuantilesSpec(exact_limit=1000, capacity=64),
        frequent_items=FrequentItemsSpec(capacity=4),
        distinct=DistinctCountSpec(exact_limit=3),
        num_top_values=3,
        num_rank_histogram_buckets=4,
    )
    bounds = [0, 13_000, 13_001, 28_000]
    assert grouped(batch, bounds, spec) == by_range(batch, bounds, spec)
    whole = DatasetAccumulator(spec)
    whole.add(batch)
    floats = whole.features[("float",)].numeric
    words = whole.features[("word",)].string
    assert floats is not None and not floats.quantiles.is_exact
    assert words is not None and words.top_values.max_error > 0 and not words.distinct.is_exact


@pytest.mark.parametrize(
    ("table", "spec"),
    [
        (make_table(seed=2, n=900), SPEC),  # a struct column
        (
            plain_table(900).append_column("w", pa.array(np.ones(900))),
            StatisticsSpec(weight_feature="w"),
        ),
        (
            plain_table(900).append_column(
                "dict", pc.dictionary_encode(pa.array(["x", "y", None] * 300))
            ),
            SPEC,
        ),
    ],
)  # fmt: skip
def test_other_batches_are_added_range_by_range(table: pa.Table, spec: StatisticsSpec) -> None:
    batch = one_batch(table)
    assert not groups_flatten(batch, DatasetAccumulator(spec))
    bounds = [0, 100, 100, 900]
    assert grouped(batch, bounds, spec) == by_range(batch, bounds, spec)


def test_bounds_must_fit() -> None:
    batch = one_batch(plain_table(10))
    for bounds in ([0, 5], [1, 10], [0, 6, 5, 10]):
        accumulators = [DatasetAccumulator(SPEC) for _ in bounds[1:]]
        with pytest.raises(ValueError, match="bounds"):
            add_groups(accumulators, batch, bounds)


def test_flush_groups_holds_what_flush_gives() -> None:
    table = plain_table(3000).drop_columns(["float"])  # no NaN: batches compare equal
    keyed, grouped_keys = KeyedCoalescer(max_bytes=20_000), KeyedCoalescer(max_bytes=20_000)
    rng = np.random.default_rng(0)
    for batch in table.to_batches(max_chunksize=250):
        keys = rng.integers(0, 7, batch.num_rows)
        for key in np.unique(keys):
            part = batch.filter(pa.array(keys == key))
            ready = list(keyed.add(f"k{key}", part))
            assert list(grouped_keys.add(f"k{key}", part)) == ready
    other = pa.table({"x": [1, 2]}).to_batches()[0]  # another schema: a group of its own
    list(keyed.add("other", other))
    list(grouped_keys.add("other", other))
    expected = dict(keyed.flush())
    groups = list(grouped_keys.flush_groups(max_bytes=20_000))
    assert len(groups) > 2  # max_bytes cut them
    seen = {}
    for keys, batch, bounds in groups:
        assert len(bounds) == len(keys) + 1 and bounds[0] == 0 and bounds[-1] == batch.num_rows
        for key, start, stop in zip(keys, bounds[:-1], bounds[1:], strict=True):
            seen[key] = batch.slice(start, stop - start)
    assert seen.keys() == expected.keys()
    for key, rows in expected.items():
        assert seen[key].equals(rows), key
    assert grouped_keys.nbytes == 0 and not list(grouped_keys.flush_groups())


def _slices(table: pa.Table, slicing: SlicingSpec) -> dict[str, bytes]:
    accumulators = SlicedAccumulators(SPEC, slicing)
    for batch in table.to_batches(max_chunksize=1000):
        accumulators.add(batch)
    return {key: data.data for key, data in accumulators.results("All Examples")}


@pytest.mark.parametrize("drop", [["nested"], []])  # the fast path, and the struct's
def test_each_slice_is_the_statistics_of_its_rows(drop: list[str]) -> None:
    """Slicing by a feature of 40 values and nulls: each slice's statistics are those of
    its rows computed on their own, byte for byte, and numpy's."""
    table = make_table(seed=7, n=6000).drop_columns(drop)
    rng = np.random.default_rng(7)
    keys = np.char.add("v", rng.integers(0, 40, table.num_rows).astype(str))
    table = table.append_column("key", pa.array(keys, mask=rng.random(table.num_rows) < 0.05))
    slices = _slices(table, SlicingSpec(features=("key",)))
    assert len(slices) == 42  # the whole, 40 values, missing
    for key, data in slices.items():
        if key == "All Examples":
            continue
        value = key.split("=", 1)[1]
        mask = pc.is_null(table["key"]) if value == MISSING else pc.equal(table["key"], value)
        rows = table.filter(mask)
        alone = generate_statistics_from_table(rows, SPEC).datasets[0]
        assert data == alone.SerializeToString(), key
        if key in ("key=v3", f"key={MISSING}"):
            check_with_numpy(statistics_pb2.DatasetFeatureStatistics.FromString(data), rows)


def check_with_numpy(dataset: statistics_pb2.DatasetFeatureStatistics, rows: pa.Table) -> None:
    features = {tuple(f.path.step): f for f in dataset.features}
    assert dataset.num_examples == rows.num_rows
    for name in ("float", "int"):
        column = rows[name]
        values = column.drop_null().to_numpy().astype(np.float64)
        finite = values[np.isfinite(values)]
        stats = features[(name,)].num_stats
        assert stats.common_stats.num_missing == column.null_count
        assert stats.common_stats.tot_num_values == values.size
        assert stats.mean == pytest.approx(finite.mean(), rel=1e-9)
        assert (stats.min, stats.max) == (finite.min(), finite.max())
        assert stats.median == np.quantile(finite, 0.5, method="inverted_cdf")
    words = rows["low"].drop_null().to_pylist()
    stats = features[("low",)].string_stats
    counts = sorted(((w, float(words.count(w))) for w in set(words)), key=lambda p: (p[1], p[0]))
    assert [(t.value, t.frequency) for t in stats.top_values] == counts[::-1]
    lists = rows["list"]
    assert features[("list",)].num_stats.common_stats.tot_num_values == len(pc.list_flatten(lists))


def test_a_slicing_function_with_an_empty_part_declares_its_columns() -> None:
    table = plain_table(500)

    def parts(batch: pa.RecordBatch) -> list[tuple[str, pa.RecordBatch]]:
        return [("empty", batch.slice(0, 0)), ("head", batch.slice(0, 10)), ("all", batch)]

    slices = _slices(table, SlicingSpec(functions=(parts,)))
    empty = DatasetAccumulator(SPEC)
    empty.add(one_batch(table).slice(0, 0))
    assert slices["empty"] == empty.result().SerializeToString()
    head = generate_statistics_from_table(table.slice(0, 10), SPEC).datasets[0]
    assert slices["head"] == head.SerializeToString()
