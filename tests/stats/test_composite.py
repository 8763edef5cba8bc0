"""Sparse and weighted features' TFDV statistics: exact against numpy, mergeable, in Beam."""

from __future__ import annotations

from typing import Any

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.util import assert_that
from hypothesis import given, settings
from hypothesis import strategies as st
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.beam import GenerateStatistics, MergeStatistics
from beam_stats.errors import IncompatibleMergeError, InvalidInputError
from beam_stats.proto import sketches_pb2
from beam_stats.stats import (
    CompositeFeatureSpec,
    DatasetAccumulator,
    SlicingSpec,
    StatisticsSpec,
    generate_statistics_from_table,
    merge_statistics,
)
from beam_stats.stats.feature import FORMAT_VERSION, STATE_NAME

INTS, FLOATS = pa.list_(pa.int64()), pa.list_(pa.float64())
SPARSE = CompositeFeatureSpec(("sp",), "sparse", ("v",), (("i2",), ("i1",)))
WEIGHTED = CompositeFeatureSpec(("wf",), "weighted", ("v",), (("w",),))
NESTED = CompositeFeatureSpec(("s", "sp"), "sparse", ("s", "v"), (("s", "i"),))
SPEC = StatisticsSpec(composites=(SPARSE, WEIGHTED, NESTED))


def _list(rng: np.random.Generator, n: int, p_missing: float) -> list[Any]:
    return [
        None if rng.random() < p_missing else rng.integers(0, 9, rng.integers(0, 4)).tolist()
        for _ in range(n)
    ]


def random_table(seed: int, n: int) -> pa.Table:
    """Lists of 0-3 values, some missing, lengths independent: every anomaly occurs."""
    rng = np.random.default_rng(seed)
    nested = [
        None
        if rng.random() < 0.1
        else [
            None if rng.random() < 0.1 else {"i": i, "v": v}
            for i, v in zip(_list(rng, 3, 0.2), _list(rng, 3, 0.2), strict=True)
        ][: rng.integers(0, 4)]
        for _ in range(n)
    ]
    return pa.table(
        {
            "v": pa.array(
                [None if x is None else [float(y) for y in x] for x in _list(rng, n, 0.2)], FLOATS
            ),
            "i1": pa.array(_list(rng, n, 0.2), INTS),
            "i2": pa.array(_list(rng, n, 0.3), INTS),
            "w": pa.array(_list(rng, n, 0.2), INTS),
            "s": pa.array(nested, pa.list_(pa.struct([("i", INTS), ("v", INTS)]))),
        }
    )


def expected(rows: list[dict[str, Any]], value: str, others: list[str]) -> dict[str, Any]:
    """TFDV's definitions, row by row in plain Python and numpy."""

    def present(name: str) -> np.ndarray:
        return np.array([r is not None and r.get(name) is not None for r in rows], dtype=bool)

    def length(name: str) -> np.ndarray:
        return np.array([len(r[name]) if r and r.get(name) is not None else 0 for r in rows])

    some = present(value) | np.any([present(o) for o in others], axis=0)
    diffs = {o: (length(o) - length(value))[some] for o in others}
    return {
        "missing_value": int(np.sum(some & ~present(value))),
        "missing": {o: int(np.sum(some & ~present(o))) for o in others},
        "min": {o: int(d.min()) if d.size else 0 for o, d in diffs.items()},
        "max": {o: int(d.max()) if d.size else 0 for o, d in diffs.items()},
    }


def custom(
    stats: statistics_pb2.DatasetFeatureStatisticsList, path: tuple[str, ...]
) -> dict[str, Any]:
    """The composite's custom statistics: numbers, or {label: count} for rank histograms."""
    (entry,) = [f for f in stats.datasets[0].features if tuple(f.path.step) == path]
    assert entry.WhichOneof("stats") is None
    out: dict[str, Any] = {}
    for c in entry.custom_stats:
        if c.name == STATE_NAME:
            continue
        if c.HasField("rank_histogram"):
            out[c.name] = {b.label: b.sample_count for b in c.rank_histogram.buckets}
        else:
            out[c.name] = c.num
    return out


def composites_of(
    stats: statistics_pb2.DatasetFeatureStatisticsList,
) -> list[statistics_pb2.FeatureNameStatistics]:
    """The composites' entries with their state (other features' floating-point moments may
    differ in the last bit between merge orders; these are exact)."""
    paths = {c.path for c in SPEC.composites}
    return [f for d in stats.datasets for f in d.features if tuple(f.path.step) in paths]


def check(stats: statistics_pb2.DatasetFeatureStatisticsList, table: pa.Table) -> None:
    rows = table.to_pylist()
    sparse = expected(rows, "v", ["i1", "i2"])
    assert custom(stats, ("sp",)) == {
        "missing_value": sparse["missing_value"],
        "missing_index": sparse["missing"],
        "max_length_diff": sparse["max"],
        "min_length_diff": sparse["min"],
    }
    assert list(custom(stats, ("sp",))["missing_index"]) == ["i1", "i2"]  # TFDV: by path
    weighted = expected(rows, "v", ["w"])
    assert custom(stats, ("wf",)) == {
        "missing_weight": weighted["missing"]["w"],
        "missing_value": weighted["missing_value"],
        "min_weight_length_diff": weighted["min"]["w"],
        "max_weight_length_diff": weighted["max"]["w"],
    }
    elements = [e for r in rows if r["s"] is not None for e in r["s"]]
    nested = expected(elements, "v", ["i"])
    assert custom(stats, ("s", "sp")) == {
        "missing_value": nested["missing_value"],
        "missing_index": nested["missing"],
        "max_length_diff": nested["max"],
        "min_length_diff": nested["min"],
    }


def test_statistics_equal_tfdv_definitions_computed_row_by_row() -> None:
    table = random_table(seed=1, n=2_000)
    stats = generate_statistics_from_table(table, SPEC, batch_size=300)
    check(stats, table)
    # Random data: each kind of anomaly really occurs, so the check above is not vacuous.
    assert custom(stats, ("sp",))["missing_value"] > 0
    assert custom(stats, ("wf",))["max_weight_length_diff"] > 0
    assert custom(stats, ("s", "sp"))["min_length_diff"]["i"] < 0


def test_one_accumulator_equals_merged_batches_and_their_proto_round_trip() -> None:
    batches = random_table(seed=2, n=1_500).to_batches(max_chunksize=200)
    whole = DatasetAccumulator(SPEC)
    whole.add_all(batches)
    merged = DatasetAccumulator(SPEC)
    for batch in batches:
        part = DatasetAccumulator(SPEC)
        part.add(batch)
        merged.merge(DatasetAccumulator.from_proto(part.to_proto(), SPEC))
    assert merged.to_proto() == whole.to_proto()
    assert merged.result() == whole.result()


def test_merged_statistics_files_equal_statistics_of_the_union() -> None:
    table = random_table(seed=3, n=1_200)
    parts = [generate_statistics_from_table(table.slice(a, 400), SPEC) for a in (0, 400, 800)]
    whole = generate_statistics_from_table(table, SPEC)
    assert composites_of(merge_statistics(*parts)) == composites_of(whole)
    reordered = merge_statistics(parts[2], parts[0], parts[1])
    assert composites_of(reordered) == composites_of(whole)  # any order
    check(merge_statistics(*parts, include_state=False), table)


def test_beam_pipeline_and_merge_statistics_transform_equal_in_memory() -> None:
    table = random_table(seed=4, n=1_600)
    batches = table.to_batches(max_chunksize=250)
    expected_stats = composites_of(generate_statistics_from_table(table, SPEC))
    assert len(expected_stats) == 3

    def matches(actual: list[statistics_pb2.DatasetFeatureStatisticsList]) -> None:
        assert len(actual) == 1 and composites_of(actual[0]) == expected_stats

    parts = [generate_statistics_from_table(table.slice(a, 800), SPEC) for a in (0, 800)]
    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        computed = pipeline | "Batches" >> beam.Create(batches) | GenerateStatistics(SPEC)
        assert_that(computed, matches, label="Generated")
        merged = pipeline | "Parts" >> beam.Create(parts) | MergeStatistics()
        assert_that(merged, matches, label="Merged")


def test_slices_get_the_composites_statistics() -> None:
    table = random_table(seed=5, n=600).append_column("g", pa.array(["a", "b"] * 300))
    stats = generate_statistics_from_table(table, SPEC, slicing=SlicingSpec(features=("g",)))
    assert [d.name for d in stats.datasets] == ["All Examples", "g=a", "g=b"]
    for index, keep in ((1, [True, False]), (2, [False, True])):
        alone = statistics_pb2.DatasetFeatureStatisticsList(datasets=[stats.datasets[index]])
        check(alone, table.filter(pa.array(keep * 300)))


def test_no_component_in_any_row_gives_zeros_as_tfdv() -> None:
    table = pa.table({"other": [1, 2, 3], "v": pa.array([None, None, None], FLOATS)})
    stats = generate_statistics_from_table(table, StatisticsSpec(composites=(SPARSE,)))
    assert custom(stats, ("sp",)) == {
        "missing_value": 0,
        "missing_index": {"i1": 0, "i2": 0},
        "max_length_diff": {"i1": 0, "i2": 0},
        "min_length_diff": {"i1": 0, "i2": 0},
    }


def test_scalar_components_have_one_value_when_present() -> None:
    table = pa.table({"v": [1.0, None, 2.0], "w": pa.array([[1, 2], [3], None], INTS)})
    stats = generate_statistics_from_table(table, StatisticsSpec(composites=(WEIGHTED,)))
    # lengths: v 1,0,1; w 2,1,0 -> diffs 1, 1, -1 over rows with some component.
    assert custom(stats, ("wf",)) == {
        "missing_weight": 1,
        "missing_value": 1,
        "min_weight_length_diff": -1,
        "max_weight_length_diff": 1,
    }


def test_statistics_without_composites_are_written_as_before() -> None:
    table = random_table(seed=6, n=100)
    stats = generate_statistics_from_table(table)
    assert [tuple(f.path.step) for f in stats.datasets[0].features] == [
        ("v",), ("i1",), ("i2",), ("w",), ("s",), ("s", "i"), ("s", "v"),
    ]  # fmt: skip
    for feature in stats.datasets[0].features:
        stored = sketches_pb2.StoredFeatureState()
        (state,) = [c for c in feature.custom_stats if c.name == STATE_NAME]
        assert state.any.Unpack(stored)
        assert stored.format_version == FORMAT_VERSION and not stored.composites
        assert not stored.settings.composites


def test_files_with_other_composites_do_not_merge() -> None:
    table = random_table(seed=7, n=100)
    with_schema = generate_statistics_from_table(table, SPEC)
    without = generate_statistics_from_table(table)
    with pytest.raises(IncompatibleMergeError, match=r"sparse and weighted features=\[\]"):
        merge_statistics(with_schema, without)


def test_a_composite_named_like_a_column_adds_its_statistics_to_the_column() -> None:
    table = pa.table({"v": pa.array([[1.0]], FLOATS), "w": pa.array([[1, 2]], INTS), "wf": [5]})
    spec = StatisticsSpec(composites=(WEIGHTED,))
    stats = generate_statistics_from_table(table, spec)
    entry = stats.datasets[0].features[-1]
    assert tuple(entry.path.step) == ("wf",) and entry.HasField("num_stats")
    names = [c.name for c in entry.custom_stats]
    assert names[-1] == STATE_NAME and "max_weight_length_diff" in names
    doubled = generate_statistics_from_table(pa.concat_tables([table, table]), spec)
    assert (
        merge_statistics(stats, stats).datasets[0].features[-1]
        == (doubled.datasets[0].features[-1])
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((("x",), "dense", ("v",), (("i",),)), "must be 'sparse' or 'weighted'"),
        ((("x",), "sparse", ("v",), ()), "needs index features"),
        ((("x",), "weighted", ("v",), (("a",), ("b",))), "needs one weight feature"),
        ((("x",), "sparse", ("s", "v"), (("i",),)), "must share one parent"),
    ],
)
def test_bad_composite_specs_fail_eagerly(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        CompositeFeatureSpec(*args)


def test_components_under_a_non_struct_fail_naming_it() -> None:
    table = pa.table({"s": [1, 2]})
    with pytest.raises(InvalidInputError, match=r"in s, which is a int64, not a struct"):
        generate_statistics_from_table(table, StatisticsSpec(composites=(NESTED,)))


_LISTS = st.one_of(st.none(), st.lists(st.integers(0, 9), max_size=3))
_ROWS = st.lists(st.fixed_dictionaries({"i1": _LISTS, "i2": _LISTS, "w": _LISTS, "v": _LISTS}))
_SCHEMA = pa.schema({name: INTS for name in ("i1", "i2", "w", "v")})
_FLAT = StatisticsSpec(composites=(SPARSE, WEIGHTED))


def _composites(rows: list[dict[str, Any]]) -> DatasetAccumulator:
    acc = DatasetAccumulator(_FLAT)
    acc.add(pa.RecordBatch.from_pylist(rows, schema=_SCHEMA))
    return acc


def _state(acc: DatasetAccumulator) -> list[Any]:
    return [c.to_proto() for c in acc.composites]


@settings(max_examples=60, deadline=None)
@given(_ROWS, _ROWS, _ROWS)
def test_composite_merge_algebra(a: list[Any], b: list[Any], c: list[Any]) -> None:
    ab, ba = _composites(a), _composites(b)
    ab.merge(_composites(b))
    ba.merge(_composites(a))
    assert _state(ab) == _state(ba) == _state(_composites(a + b))  # commutative, the union
    left, bc = _composites(a), _composites(b)
    left.merge(_composites(b))
    left.merge(_composites(c))
    bc.merge(_composites(c))
    right = _composites(a)
    right.merge(bc)
    assert _state(left) == _state(right) == _state(_composites(a + b + c))  # associative
    identity = _composites(a)
    identity.merge(DatasetAccumulator(_FLAT))
    assert _state(identity) == _state(_composites(a))
    restored = DatasetAccumulator.from_proto(_composites(a).to_proto(), _FLAT)
    assert _state(restored) == _state(_composites(a))
    if a:  # the numbers against the definitions, row by row
        table = pa.Table.from_pylist(a, schema=_SCHEMA)
        check_flat(generate_statistics_from_table(table, _FLAT), a)


def check_flat(stats: statistics_pb2.DatasetFeatureStatisticsList, rows: list[Any]) -> None:
    sparse = expected(rows, "v", ["i1", "i2"])
    assert custom(stats, ("sp",))["min_length_diff"] == sparse["min"]
    assert custom(stats, ("sp",))["missing_index"] == sparse["missing"]
    weighted = expected(rows, "v", ["w"])
    assert custom(stats, ("wf",))["max_weight_length_diff"] == weighted["max"]["w"]
    assert custom(stats, ("wf",))["missing_value"] == weighted["missing_value"]
