"""Sliced statistics: per-slice counts against pandas groupby on the same data."""

from __future__ import annotations

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.util import assert_that
from proto_compare import assert_close, plain
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats import (
    GenerateStatistics,
    SlicingSpec,
    generate_statistics_from_table,
    merge_statistics,
)
from beam_stats.errors import InvalidInputError
from beam_stats.stats.feature import STATE_NAME
from beam_stats.stats.slicing import slice_batch

pandas = pytest.importorskip("pandas")
SPEC_TAGS = SlicingSpec(features=("tags",))
N = 5000


@pytest.fixture(scope="module")
def table() -> pa.Table:
    rng = np.random.default_rng(3)
    country = rng.choice(["DE", "FR", "JP"], N, p=[0.5, 0.3, 0.2]).astype(object)
    country[rng.random(N) < 0.05] = None
    return pa.table(
        {
            "country": pa.array(country, pa.string()),
            "device": rng.choice(["phone", "desktop"], N),
            "age": pa.array(rng.integers(18, 90, N), mask=rng.random(N) < 0.15),
            "income": rng.lognormal(10, 1, N),
        }
    )


def by_name(stats: statistics_pb2.DatasetFeatureStatisticsList) -> dict[str, dict]:
    return {
        d.name: {".".join(f.path.step): f for f in d.features} | {"": d.num_examples}
        for d in stats.datasets
    }


def test_slice_counts_match_pandas_groupby(table: pa.Table) -> None:
    slicing = SlicingSpec(features=("country", ("country", "device")))
    stats = generate_statistics_from_table(table, slicing=slicing, batch_size=700)
    datasets = by_name(stats)
    assert stats.datasets[0].name == "All Examples"
    frame = table.to_pandas()
    frame["country"] = frame["country"].fillna("<missing>")
    for country, group in frame.groupby("country"):
        slice_stats = datasets[f"country={country}"]
        assert slice_stats[""] == len(group)
        age = slice_stats["age"].num_stats
        assert age.common_stats.num_missing == group["age"].isna().sum()
        assert age.mean == pytest.approx(group["age"].mean(), rel=1e-12)
        assert slice_stats["income"].num_stats.std_dev == pytest.approx(
            group["income"].std(ddof=0), rel=1e-9
        )
    for (country, device), group in frame.groupby(["country", "device"]):
        cross = datasets[f"country={country},device={device}"]
        assert cross[""] == len(group)
        assert cross["age"].num_stats.common_stats.num_non_missing == group["age"].notna().sum()
    expected_keys = {f"country={c}" for c in frame["country"].unique()} | {
        f"country={c},device={d}" for c, d in frame.groupby(["country", "device"]).groups
    }
    assert set(datasets) == {"All Examples"} | expected_keys


def high_income(batch: pa.RecordBatch) -> list[tuple[str, pa.RecordBatch]]:
    mask = pc.greater(batch.column("income"), 30000)
    return [("high_income", batch.filter(mask))]


def test_slicing_function(table: pa.Table) -> None:
    stats = generate_statistics_from_table(
        table, slicing=SlicingSpec(functions=(high_income,)), name="all"
    )
    datasets = by_name(stats)
    assert set(datasets) == {"all", "high_income"}
    incomes = table["income"].to_numpy()
    assert datasets["high_income"][""] == np.sum(incomes > 30000)


def test_sliced_statistics_merge_slice_by_slice(table: pa.Table) -> None:
    slicing = SlicingSpec(features=("device",))
    parts = [
        generate_statistics_from_table(table.slice(i, 2500), slicing=slicing) for i in (0, 2500)
    ]
    merged = by_name(merge_statistics(*parts))
    whole = by_name(generate_statistics_from_table(table, slicing=slicing))
    assert set(merged) == set(whole)
    for name, features in whole.items():
        assert merged[name][""] == features[""]
        assert merged[name]["age"].num_stats.mean == pytest.approx(features["age"].num_stats.mean)


def _without_sketches(stats: statistics_pb2.DatasetFeatureStatisticsList) -> dict:
    out = {}
    for dataset in stats.datasets:
        for feature in dataset.features:
            s = plain(getattr(feature, feature.WhichOneof("stats")))
            for name in ("median", "histograms"):
                s.pop(name, None)
            s["common_stats"].pop("num_values_histogram", None)
            out[(dataset.name, *feature.path.step)] = s
        out[(dataset.name,)] = dataset.num_examples
    return out


def test_sliced_pipeline_equals_in_memory(table: pa.Table) -> None:
    slicing = SlicingSpec(features=("country",))
    expected = generate_statistics_from_table(table, slicing=slicing)

    def check(outputs: list[statistics_pb2.DatasetFeatureStatisticsList]) -> None:
        (output,) = outputs
        assert [d.name for d in output.datasets] == [d.name for d in expected.datasets]
        assert_close(_without_sketches(output), _without_sketches(expected))
        assert all(
            any(c.name == STATE_NAME for c in f.custom_stats)
            for d in output.datasets
            for f in d.features
        )

    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        batches = pipeline | beam.Create(table.to_batches(max_chunksize=600))
        assert_that(batches | GenerateStatistics(slicing=slicing), check)


def test_sliced_pipeline_on_empty_input() -> None:
    def check(outputs: list[statistics_pb2.DatasetFeatureStatisticsList]) -> None:
        (output,) = outputs
        assert [(d.name, d.num_examples) for d in output.datasets] == [("train", 0)]

    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        empty = pipeline | beam.Create([]).with_output_types(pa.RecordBatch)
        sliced = empty | GenerateStatistics(name="train", slicing=SlicingSpec(features=("x",)))
        assert_that(sliced, check)


def test_empty_batches_have_no_slices(table: pa.Table) -> None:
    """A zero-row batch (what an empty Parquet file reads as) adds no slice and no example."""
    empty = pa.RecordBatch.from_pylist([], schema=table.schema)
    assert list(slice_batch(empty, SlicingSpec(features=("country", ("country", "device"))))) == []
    with_empty = generate_statistics_from_table(
        pa.Table.from_batches([empty, *table.to_batches()]),
        slicing=SlicingSpec(features=("country",)),
    )
    without = generate_statistics_from_table(table, slicing=SlicingSpec(features=("country",)))
    sizes = [(d.name, d.num_examples) for d in without.datasets]
    assert [(d.name, d.num_examples) for d in with_empty.datasets] == sizes


def test_bad_slicings_fail_early() -> None:
    with pytest.raises(InvalidInputError, match="at least one"):
        SlicingSpec()
    with pytest.raises(InvalidInputError, match="feature name"):
        SlicingSpec(features=(("a", 3),))  # type: ignore[arg-type]
    nested = pa.table({"l": [[[1]], [[2]]]})
    with pytest.raises(InvalidInputError, match="scalar"):
        generate_statistics_from_table(nested, slicing=SlicingSpec(features=("l",)))
    structs = pa.table({"s": [{"a": 1}, {"a": 2}]})
    with pytest.raises(InvalidInputError, match="scalar"):
        generate_statistics_from_table(structs, slicing=SlicingSpec(features=("s",)))


def test_list_features_slice_by_each_distinct_value() -> None:
    """As in TFDV: an example is in the slice of each distinct value of a list feature."""
    tags = [["a", "b"], ["a"], [], None, ["b", "b"], [None]]
    batch = pa.RecordBatch.from_pydict({"tags": tags, "row": list(range(len(tags)))})
    slices = {key: part["row"].to_pylist() for key, part in slice_batch(batch, SPEC_TAGS)}
    expected: dict[str, list[int]] = {}
    for row, values in enumerate(tags):
        for value in sorted(set(values or [None]), key=str):  # empty or null: <missing>
            expected.setdefault(f"tags={'<missing>' if value is None else value}", []).append(row)
    assert slices == expected


def test_single_valued_lists_slice_and_cross_like_scalars(table: pa.Table) -> None:
    """TFRecord features are lists of one value: they slice as the scalar column would."""
    country = table["country"].combine_chunks()
    wrapped = pa.ListArray.from_arrays(
        pa.array(np.arange(len(country) + 1, dtype=np.int32)), country
    )
    as_lists = table.set_column(0, "country", wrapped)
    spec = SlicingSpec(features=("country", ("country", "device")))
    scalar = {k: p.num_rows for b in table.to_batches() for k, p in slice_batch(b, spec)}
    listed = {k: p.num_rows for b in as_lists.to_batches() for k, p in slice_batch(b, spec)}
    assert listed == scalar
    multi = pa.RecordBatch.from_pydict({"t": [["a", "b"]], "u": ["x"]})
    with pytest.raises(InvalidInputError, match="more than one value"):
        list(slice_batch(multi, SlicingSpec(features=(("t", "u"),))))


def test_slice_keys_never_collide() -> None:
    """Values holding the key's separators, or spelled like the missing slice, stay apart."""
    country = ["DE,device=phone", "DE", "<missing>", None, "a\\", "a\\\\", "DE=x", "DE"]
    device = ["tv", "phone", "tv", "tv", "tv", "tv", "tv", "phone"]
    batch = pa.RecordBatch.from_pydict({"country": country, "device": device})
    spec = SlicingSpec(features=(("country",), ("country", "device")))
    keys: dict[str, list[int]] = {}
    rows = pa.array(range(batch.num_rows))
    numbered = batch.append_column("row", rows)
    for key, part in slice_batch(numbered, spec):
        assert key not in keys, key  # every slice has its own key
        keys[key] = part["row"].to_pylist()
    # Each distinct value (and each distinct pair) is one slice with exactly its rows.
    singles = {v: [i for i, c in enumerate(country) if c == v] for v in set(country)}
    pairs = {
        p: [i for i, cd in enumerate(zip(country, device, strict=True)) if cd == p]
        for p in set(zip(country, device, strict=True))
    }
    assert sorted(map(sorted, keys.values())) == sorted(
        [sorted(r) for r in singles.values()] + [sorted(r) for r in pairs.values()]
    )
    assert keys["country=<missing>"] == [3] and keys["country=\\<missing>"] == [2]
    assert keys["country=DE\\,device\\=phone"] == [0]
    assert keys["country=DE,device=phone"] == [1, 7]


@pytest.mark.parametrize("sizes", [(200, 300), (300, 300)], ids=["60,000 groups", "90,000 groups"])
def test_a_cross_of_many_groups_keeps_each_row_in_its_slice_in_order(
    sizes: tuple[int, int],
) -> None:
    """Up to 2**16 groups the rows are ordered by a 16-bit sort, past it by a 64-bit one:
    either way each slice holds its rows, in the batch's order (a dict of rows per key,
    built row by row, is the reference)."""
    rng = np.random.default_rng(5)
    n = 20_000
    a, b = rng.integers(0, sizes[0], n), rng.integers(0, sizes[1], n)
    a[: sizes[0]], b[: sizes[1]] = np.arange(sizes[0]), np.arange(sizes[1])  # every value
    batch = pa.RecordBatch.from_pydict({"a": a, "b": b, "row": np.arange(n)})
    expected: dict[tuple[int, int], list[int]] = {}
    for row, pair in enumerate(zip(a.tolist(), b.tolist(), strict=True)):
        expected.setdefault(pair, []).append(row)
    got = {
        key: part.column("row").to_pylist()
        for key, part in slice_batch(batch, SlicingSpec(features=(("a", "b"),), max_slices=10**6))
    }
    assert got == {f"a={x},b={y}": rows for (x, y), rows in expected.items()}
