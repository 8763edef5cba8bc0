"""Feature skew by key without Beam: keys, equality, the join's counts and the samples."""

from __future__ import annotations

import json
import math
import random
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from skew_reference import counts_of, make_pair, reference, table

from beam_stats.drift.feature_skew import (
    FeatureSkewAccumulator,
    FeatureSkewSpec,
    feature_skew,
    identifier_keys,
    split_batch,
    values_equal,
)
from beam_stats.errors import InvalidInputError

FEATURES = ["price", "qty", "color", "tags", "emb"]


def spec(ids: tuple[str, ...] = ("id",), **kwargs: Any) -> FeatureSkewSpec:
    """A spec with few shards (quicker on small data); the default count is tested below."""
    return FeatureSkewSpec(identifier_features=ids, **{"num_shards": 8, **kwargs})


def run(base: pa.Table, test: pa.Table, **kwargs: Any) -> Any:
    ids = kwargs.pop("ids", ("id",))
    return feature_skew(base.to_batches(), test.to_batches(), spec(ids, **kwargs))


def test_counts_match_a_pandas_merge() -> None:
    base, test = make_pair()
    result = feature_skew(table(base).to_batches(100), table(test).to_batches(77), spec())
    assert counts_of(result) == reference(base, test, ["id"], FEATURES)
    # Nothing is dropped: every row is counted once, per side.
    for side in ("base", "test"):
        rows, nulls = getattr(result, f"{side}_rows"), getattr(result, f"{side}_null_ids")
        duplicated = getattr(result, f"{side}_duplicate_ids")
        distinct = getattr(result, f"{side}_only_ids") + result.joined
        distinct += result.duplicate_ids_skipped
        assert rows == nulls + distinct - duplicated + getattr(result, f"{side}_duplicate_rows")
    assert list(result.identifier_features) == ["id"]


@pytest.mark.parametrize("rtol,atol", [(0.0, 0.0), (1e-3, 0.0), (0.0, 0.5)])
def test_tolerances_match_the_reference(rtol: float, atol: float) -> None:
    base, test = make_pair(seed=3)
    result = run(table(base), table(test), relative_tolerance=rtol, absolute_tolerance=atol)
    assert counts_of(result) == reference(base, test, ["id"], FEATURES, rtol, atol)
    assert (result.float_tolerance, result.float_absolute_tolerance) == (rtol, atol)


def test_the_result_does_not_depend_on_shards_batches_or_order() -> None:
    base, test = make_pair(seed=1)
    expected = feature_skew(table(base).to_batches(), table(test).to_batches(), spec())
    shuffled = table(test).to_batches(13)
    random.Random(0).shuffle(shuffled)
    for num_shards in (1, 7, FeatureSkewSpec(identifier_features=("id",)).num_shards):
        got = feature_skew(table(base).to_batches(31), shuffled, spec(num_shards=num_shards))
        assert got == expected


def float_pairs(pairs: list[tuple[Any, Any]], dtype: pa.DataType | None = None) -> Any:
    base = pa.table({"id": range(len(pairs)), "x": pa.array([p[0] for p in pairs], dtype)})
    test = pa.table({"id": range(len(pairs)), "x": pa.array([p[1] for p in pairs], pa.float64())})
    return base, test


def matches(base: pa.Table, test: pa.Table, rtol: float, atol: float) -> list[bool]:
    """Which pairs match: one pair per run, read from the counts."""
    out = []
    for i in range(base.num_rows):
        result = run(
            base.slice(i, 1), test.slice(i, 1), relative_tolerance=rtol, absolute_tolerance=atol
        )
        out.append(result.features[0].match_count == 1)
    return out


def test_float_tolerance_relative_absolute_nan_and_infinities() -> None:
    inf, nan = math.inf, math.nan
    pairs = [
        (1e9, 1e9 + 500), (0.0, 1e-7), (-0.0, 0.0), (nan, nan), (inf, inf), (3.0, 3.0000001),
        (1e9, 1e9 + 2000), (0.0, 1e-5), (nan, 1.0), (inf, -inf), (inf, 1e308), (1.0, nan),
    ]  # fmt: skip
    base, test = float_pairs(pairs, pa.float64())
    both = [True] * 6 + [False] * 6
    assert matches(base, test, 1e-6, 1e-6) == both
    exact = [False, False, True, True, True] + [False] * 7
    assert matches(base, test, 0.0, 0.0) == exact
    absolute = [False, True, True, True, True, True, False, True] + [False] * 4
    assert matches(base, test, 0.0, 1e-3) == absolute
    relative = [True, False, True, True, True, True] + [False] * 6
    assert matches(base, test, 1e-6, 0.0) == relative
    (x,) = run(base, test).features  # all at once: the same
    assert (x.match_count, x.mismatch_count) == (6, 6)


def test_int_against_float_compares_as_numbers() -> None:
    pairs = [(3, 3.0), (3, 3.5), (2**53, float(2**53)), (2**53 + 1, float(2**53)), (7, None)]
    base, test = float_pairs(pairs, pa.int64())
    (x,) = run(base, test).features
    assert (x.match_count, x.mismatch_count, x.base_only) == (3, 1, 1)


def test_lists_compare_as_lists() -> None:
    nan = math.nan
    pairs = [
        ([1.0, 2.0], [1.0, 2.0], "match"),
        ([1.0], [1.0, 1.0], "mismatch"),  # another length
        ([1.0, nan], [1.0, nan], "match"),
        ([1.0, 2.0], [2.0, 1.0], "mismatch"),  # order matters
        ([None, 1.0], [None, 1.0], "match"),
        ([None, 1.0], [0.0, 1.0], "mismatch"),
        ([1.0], [1.0 + 1e-9], "match"),
        ([], None, "base_only"),  # an empty list is present
        (None, [], "test_only"),
        (None, None, None),
    ]
    base = pa.table({"id": range(len(pairs)), "x": [p[0] for p in pairs]})
    test = pa.table({"id": range(len(pairs)), "x": [p[1] for p in pairs]})
    (x,) = run(base, test).features
    outcomes = [p[2] for p in pairs]
    for name in ("match", "mismatch", "base_only", "test_only"):
        assert getattr(x, name if "_" in name else f"{name}_count") == outcomes.count(name)
    nested_b = pa.table({"id": [1, 2, 3], "x": [[[1, 2], [3]], [[1], None], [[1.5]]]})
    nested_t = pa.table({"id": [1, 2, 3], "x": [[[1, 2], [3]], [[1], []], [[1.5000000001]]]})
    (x,) = run(nested_b, nested_t).features
    assert (x.match_count, x.mismatch_count) == (2, 1)


def test_values_equal_by_kind() -> None:
    s = spec()
    equal = values_equal(pa.array(["a", "b", None]), pa.array([b"a", b"c", None]), s)
    assert equal.tolist() == [True, False, False]  # a string equals its UTF-8 bytes
    assert not values_equal(pa.array(["1"]), pa.array([1]), s).any()
    assert values_equal(pa.array([True, False]), pa.array([True, True]), s).tolist() == [
        True,
        False,
    ]
    struct_a = pa.array([{"p": 1, "q": "x"}, {"p": 1, "q": "x"}, {"p": None, "q": "x"}])
    struct_b = pa.array([{"q": "x", "p": 1}, {"q": "y", "p": 1}, {"q": "x", "p": None}])
    assert values_equal(struct_a, struct_b, s).tolist() == [True, False, True]
    days = pa.array([1, 2], pa.date32())
    assert values_equal(days, pa.array([1, 3], pa.date32()), s).tolist() == [True, False]
    dictionary = pa.array(["a", "b"]).dictionary_encode()
    assert values_equal(dictionary, pa.array(["a", "a"]), s).tolist() == [True, False]


def test_duplicates_and_missing_identifiers_are_counted_not_compared() -> None:
    base = pa.table({"id": [1, 1, 2, None, 3, 4], "x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})
    test = pa.table({"id": [1, 2, 2, 2, 3, None, None, 5], "x": [9.0, 3.0, 3.0, 3.0, 5.0, 0, 0, 1]})
    result = run(base, test)
    got = {name: getattr(result, name) for name in counts_of(result) if name != "features"}
    assert got == {
        "base_rows": 6, "test_rows": 8, "base_null_ids": 1, "test_null_ids": 2,
        "base_duplicate_ids": 1, "test_duplicate_ids": 1, "base_duplicate_rows": 2,
        "test_duplicate_rows": 3, "joined": 1, "duplicate_ids_skipped": 2,
        "base_only_ids": 1, "test_only_ids": 1,
    }  # fmt: skip
    (x,) = result.features
    assert (x.match_count, x.mismatch_count) == (1, 0)  # id 3 only: 1 and 2 are duplicated


def test_a_batch_without_the_identifier_column_counts_as_missing_identifiers() -> None:
    base = [pa.record_batch({"id": [1, 2], "x": [1, 2]}), pa.record_batch({"x": [5, 6, 7]})]
    result = feature_skew(base, [pa.record_batch({"id": [1, 2], "x": [1, 3]})], spec())
    assert (result.base_null_ids, result.base_rows, result.joined) == (3, 5, 2)


def test_multi_column_identifiers() -> None:
    base = [
        {"day": 1, "user": "a", "x": 1.0},
        {"day": 1, "user": "b", "x": 2.0},
        {"day": 2, "user": "a", "x": 3.0},
        {"day": 2, "user": None, "x": 4.0},  # partly missing identifier
        {"day": 3, "user": "a", "x": 5.0},
        {"day": 3, "user": "a", "x": 5.0},  # duplicated pair
    ]
    test = [
        {"day": 1, "user": "a", "x": 1.0},
        {"day": 1, "user": "b", "x": 2.5},
        {"day": 2, "user": "b", "x": 3.0},
        {"day": 3, "user": "a", "x": 5.0},
    ]
    result = run(pa.Table.from_pylist(base), pa.Table.from_pylist(test), ids=("day", "user"))
    assert counts_of(result) == reference(base, test, ["day", "user"], ["x"])
    assert (result.joined, result.base_null_ids, result.base_duplicate_ids) == (2, 1, 1)
    (sample,) = result.features[0].samples
    assert json.loads(sample.identifier) == {"day": 1, "user": "b"}


def test_identifiers_of_different_kinds_do_not_join() -> None:
    base = pa.table({"id": [5, 6], "x": [1, 1]})
    test = pa.table({"id": ["5", "6"], "x": [1, 1]})
    result = run(base, test)
    assert (result.joined, result.base_only_ids, result.test_only_ids) == (0, 2, 2)
    wide = pa.table({"id": pa.array([5, 6], pa.int8()), "x": [1, 2]})
    assert run(base, wide).joined == 2  # every int width is one kind
    huge = pa.table({"id": pa.array([2**64 - 1, 5], pa.uint64()), "x": [1, 2]})
    assert run(huge, huge).joined == 2
    when = pa.table({"id": pa.array([0, 10**9], pa.timestamp("ms")), "x": [1, 2]})
    assert run(when, when).joined == 2
    later = pa.table({"id": pa.array([1, 10**6 + 1], pa.timestamp("s")), "x": [1, 2]})
    assert run(when, later).joined == 0  # other instants
    nested = pa.table({"id": [[1, 2], [1], None], "x": [1, 2, 3]})
    result = run(nested, nested)
    assert (result.joined, result.base_null_ids) == (2, 1)


def test_keys_sort_like_the_identifiers() -> None:
    ints = [-(2**63), -5, -1, 0, 1, 7, 2**40]
    floats = [-math.inf, -1.5, -1e-300, 0.0, 1e-300, 2.5, math.inf]
    texts = ["", "a", "a\x00", "a\x00b", "a\x01", "ab", "b", "é"]
    for values in (ints, floats, texts):
        shuffled = random.Random(1).sample(values, len(values))
        keys = identifier_keys(pa.record_batch({"id": shuffled}), ["id"]).to_pylist()
        assert [v for _, v in sorted(zip(keys, shuffled, strict=True))] == values
    pairs = [("a", 2), ("a", 10), ("a\x00", 1), ("ab", 0), ("b", -1)]
    batch = pa.record_batch({"u": [p[0] for p in pairs][::-1], "n": [p[1] for p in pairs][::-1]})
    keys = identifier_keys(batch, ["u", "n"]).to_pylist()
    assert sorted(keys) == keys[::-1]
    assert (
        identifier_keys(pa.record_batch({"id": [-0.0, 0.0]}), ["id"]).to_pylist()[0]
        == (identifier_keys(pa.record_batch({"id": [0.0]}), ["id"]).to_pylist()[0])
    )


def test_split_batch_keeps_every_identifier_in_one_shard() -> None:
    batch = pa.record_batch({"id": [3, 1, 3, None, 2, 1], "x": list("abcdef"), "y": range(6)})
    nulls, parts = split_batch(batch, spec(features=("x",), num_shards=2))
    assert nulls == 1
    assert sum(rows.num_rows for _, (_, rows) in parts) == 5
    shards_of: dict[int, set[int]] = {}
    for shard, (keys, rows) in parts:
        assert rows.schema.names == ["x", "id"] and len(keys) == rows.num_rows
        for i in rows["id"].to_pylist():
            shards_of.setdefault(i, set()).add(shard)
    assert all(len(shards) == 1 for shards in shards_of.values())


HOSTILE = [
    'quote " and \\ backslash',
    "<script>alert('x')</script> & more",
    "new\nline\r\n and \u2028 separator",
    "NUL \x00 é ☃",
]


def test_samples_are_json_and_bounded_and_the_smallest_identifiers() -> None:
    n = 50
    long = "x" * 5000
    base = pa.table(
        {
            "id": [f"{h} {i:02d}" for i in range(n) for h in HOSTILE[i % 4 : i % 4 + 1]],
            "text": [HOSTILE[i % 4] for i in range(n)],
            "raw": pa.array([b"\xff\xfe" + bytes([i]) for i in range(n)], pa.binary()),
            "big": [[float(i)] * 100 for i in range(n)],
        }
    )
    test = base.set_column(1, "text", pa.array([long] * n))
    test = test.set_column(2, "raw", pa.array([b"ok"] * n, pa.binary()))
    test = test.set_column(3, "big", pa.array([[math.nan] * 100] * n))
    result = run(base, test, sample_size=3)
    for feature in result.features:
        assert feature.mismatch_count == n and len(feature.samples) == 3
        ids = [json.loads(s.identifier)["id"] for s in feature.samples]
        assert ids == sorted(base["id"].to_pylist(), key=str.encode)[:3]
        assert [s.key for s in feature.samples] == sorted(s.key for s in feature.samples)
    samples = {f.feature: f.samples[0] for f in result.features}
    assert json.loads(samples["text"].base_value) in HOSTILE
    assert json.loads(samples["text"].test_value) == "x" * 200 + "…"
    assert json.loads(samples["raw"].base_value).startswith("\\xff\\xfe")
    big = json.loads(samples["big"].test_value)
    assert big[:20] == ["NaN"] * 20 and big[20] == "… 80 more"
    assert not run(base, test, sample_size=0).features[0].samples


def test_invalid_utf8_identifiers_join_and_are_escaped_in_samples() -> None:
    ids = pa.array([b"\xff\x00", b"\xff", b"<\n>"], pa.binary())
    base = pa.table({"id": ids, "x": [1, 2, 3]})
    test = pa.table({"id": ids, "x": [1, 5, 6]})
    (x,) = run(base, test).features
    assert (x.match_count, x.mismatch_count) == (1, 2)
    identifiers = [json.loads(s.identifier)["id"] for s in x.samples]
    assert identifiers == ["<\n>", "\\xff"]  # JSON of the escaped text, by key order


def test_accumulators_merge_and_round_trip() -> None:
    base, test = make_pair(seed=4)
    s = spec(num_shards=16)
    whole = feature_skew(table(base).to_batches(), table(test).to_batches(), s)
    shards: dict[int, tuple[list[Any], list[Any]]] = {}
    nulls = [0, 0]
    for side, rows in enumerate((base, test)):
        count, parts = split_batch(table(rows).to_batches()[0], s)
        nulls[side] = count
        for shard, part in parts:
            shards.setdefault(shard, ([], []))[side].append(part)
    halves = [FeatureSkewAccumulator(s), FeatureSkewAccumulator(s)]
    for i, (b, t) in enumerate(shards.values()):
        halves[i % 2].add(b, t)
    halves[0].add_null_ids(*nulls)
    restored = FeatureSkewAccumulator.from_proto(halves[1].to_proto(), s)
    halves[0].merge(restored)
    assert halves[0].to_proto() == whole


def test_features_named_are_reported_even_when_absent() -> None:
    base = pa.table({"id": [1, 2], "x": [1, 2], "y": [1, 2]})
    result = run(base, base, features=("x", "nowhere"))
    assert [f.feature for f in result.features] == ["nowhere", "x"]
    assert result.features[0].base_count == 0 and result.features[1].match_count == 2


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"identifier_features": ()}, "identifier features"),
        ({"identifier_features": ("id", "id")}, "distinct"),
        ({"features": ("id",)}, "include an identifier"),
        ({"relative_tolerance": -1.0}, "-1.0"),
        ({"absolute_tolerance": math.nan}, "nan"),
        ({"sample_size": -1}, "sample_size"),
        ({"num_shards": 0}, "num_shards"),
    ],
)
def test_bad_specs_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        FeatureSkewSpec(**{"identifier_features": ("id",), **kwargs})


def _as_tfrecord_lists(t: pa.Table) -> pa.Table:
    """The table as a TFRecord file reads: every scalar feature a list of one value (or of
    none where null), strings as bytes."""
    columns = []
    for column in t.columns:
        values = column.combine_chunks()
        if pa.types.is_string(values.type):
            values = values.cast(pa.large_binary())
        if pa.types.is_list(values.type):
            columns.append(values)
            continue
        lengths = np.where(values.is_null().to_numpy(zero_copy_only=False), 0, 1)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        flat = values.filter(values.is_valid())
        columns.append(pa.LargeListArray.from_arrays(pa.array(offsets), flat))
    return pa.table(columns, names=t.column_names)


def test_tfrecord_lists_of_one_value_compare_with_scalars() -> None:
    """A TFRecord side (lists of one value, bytes) joins and matches a Parquet-like side;
    a side mixing both (a TFRecord and a CSV file) does too."""
    base, test = make_pair(seed=5)
    scalar = run(table(base), table(test))
    test_table = table(test)
    listed = _as_tfrecord_lists(test_table.drop_columns(["tags", "emb"]))
    expected = counts_of(scalar)
    for name in ("tags", "emb"):  # not in the TFRecord-shaped table
        del expected["features"][name]
    result = run(table(base).drop_columns(["tags", "emb"]), listed)
    assert result.joined == scalar.joined
    # A null scalar is a list of no value there: present, so not counted as missing.
    got = counts_of(result)
    for name in ("price", "qty", "color"):
        want, have = expected["features"][name], got["features"][name]
        assert have["match_count"] == want["match_count"], name
    half = test_table.num_rows // 2
    mixed_batches = [
        *_as_tfrecord_lists(test_table.slice(0, half).drop_columns(["tags", "emb"])).to_batches(),
        *test_table.slice(half).drop_columns(["tags", "emb"]).to_batches(),
    ]
    mixed = feature_skew(
        table(base).drop_columns(["tags", "emb"]).to_batches(), mixed_batches, spec()
    )
    assert mixed.joined == scalar.joined
    for name in ("price", "qty", "color"):
        assert (
            counts_of(mixed)["features"][name]["match_count"]
            == expected["features"][name]["match_count"]
        ), name


def test_temporal_values_compare_as_instants_whatever_their_unit() -> None:
    # One instant per row, in seconds; the other file stores the same instants in another
    # unit, as dates or zoned, so identifiers join and values match; one value differs.
    seconds = np.array([0, 86_400 * 3, 86_400 * 365 * 40, -86_400], dtype=np.int64)
    base = pa.table(
        {
            "id": pa.array(seconds, pa.timestamp("s")),
            "at": pa.array(seconds, pa.timestamp("s")),
            "day": pa.array((seconds // 86_400).astype(np.int32), pa.date32()),
            "took": pa.array(seconds, pa.duration("s")),
            "clock": pa.array((seconds % 86_400).astype(np.int32), pa.time32("s")),
        }
    )
    at = seconds * 10**9
    at[2] += 1_000  # one microsecond later
    test = pa.table(
        {
            "id": pa.array(seconds * 1_000, pa.timestamp("ms", tz="Asia/Tokyo")),
            "at": pa.array(at, pa.timestamp("ns")),
            "day": pa.array(seconds * 10**6, pa.timestamp("us", tz="UTC")),
            "took": pa.array(seconds * 10**6, pa.duration("us")),
            "clock": pa.array((seconds % 86_400) * 10**9, pa.time64("ns")),
        }
    )
    result = run(base, test)
    assert result.joined == 4
    counts = {f.feature: (f.match_count, f.mismatch_count) for f in result.features}
    assert counts == {"at": (3, 1), "day": (4, 0), "took": (4, 0), "clock": (4, 0)}
    # Across kinds, no match: a duration is not an instant.
    durations = pa.array(seconds, pa.duration("s"))
    assert not values_equal(durations, base.column("at").combine_chunks(), spec()).any()
    # Files of one side in different units are put on one scale before the comparison.
    halves = [base.slice(0, 2).to_batches()[0], test.slice(2).to_batches()[0]]
    result = feature_skew(halves, test.to_batches(), spec())
    assert {f.feature: f.match_count for f in result.features}["took"] == 4
