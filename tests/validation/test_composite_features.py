"""Sparse and weighted features: each anomaly from a dataset that triggers it and a clean one."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from anomaly_helpers import by_feature, reasons, schema, stats
from tensorflow_metadata.proto.v0 import schema_pb2

from beam_stats import update_schema
from beam_stats.validation import ExampleChecks, validate_statistics

INTS, FLOATS = pa.list_(pa.int64()), pa.list_(pa.float64())
SPARSE = 'sparse_feature { name: "sp" index_feature { name: "i" } value_feature { name: "v" } }'
WEIGHTED = 'weighted_feature { name: "w" feature { step: "v" } weight_feature { step: "wt" } }'


def table(index: list[Any], value: list[Any], other: str = "i") -> dict[str, pa.Array]:
    return {
        other: pa.array(index, INTS),
        "v": pa.array(value, FLOATS),
        "n": list(range(len(index))),
    }


CLEAN = table([[0, 3], [1], None, []], [[1.0, 2.0], [3.0], None, []])
DECLARED = 'feature { name: "i" type: INT } feature { name: "v" type: FLOAT } '
PLAIN_N = 'feature { name: "n" type: INT } '


@pytest.mark.parametrize("declared", ["", DECLARED], ids=["undeclared", "declared"])
def test_clean_sparse_feature_components_are_not_new_columns(declared: str) -> None:
    found = validate_statistics(stats(CLEAN), schema(PLAIN_N + declared + SPARSE))
    assert reasons(found) == set()
    assert update_schema(schema(PLAIN_N + SPARSE), stats(CLEAN)) == schema(PLAIN_N + SPARSE)


@pytest.mark.parametrize(
    ("anomaly", "index", "value", "text"),
    [
        (
            "SPARSE_FEATURE_MISSING_VALUE",
            [[0], [1], [2]],
            [[1.0], [2.0], None],
            "At least 1 example with some other part of the sparse feature sp lacks its value",
        ),
        (
            "SPARSE_FEATURE_MISSING_INDEX",
            [[0], None, None],
            [[1.0], [2.0], [3.0]],
            "At least 2 examples",
        ),
        (
            "SPARSE_FEATURE_LENGTH_MISMATCH",
            [[0, 1], [2], [3]],
            [[1.0], [2.0], [3.0]],
            "(4 values in all against 3 values)",
        ),
        (
            "SPARSE_FEATURE_LENGTH_MISMATCH",
            [[0, 1, 2], [], [3]],
            [[1.0, 2.0], [3.0], [4.0]],
            "at most 3 values in an example against at most 2",
        ),
    ],
)
def test_sparse_feature_anomalies(
    anomaly: str, index: list[Any], value: list[Any], text: str
) -> None:
    expected = schema(PLAIN_N + SPARSE)
    found = validate_statistics(stats(table(index, value)), expected)
    assert anomaly in by_feature(found)["sp"]
    assert set(by_feature(found)) == {"sp"}  # the components are no new columns
    assert text in found.anomaly_info["sp"].description
    assert list(found.anomaly_info["sp"].path.step) == ["sp"]
    relaxed = update_schema(expected, stats(table(index, value)))
    assert relaxed.sparse_feature[0].lifecycle_stage == schema_pb2.DEPRECATED
    assert reasons(validate_statistics(stats(table(index, value)), relaxed)) == set()


def test_sparse_feature_with_several_index_features() -> None:
    two = schema(
        PLAIN_N + 'sparse_feature { name: "sp" index_feature { name: "i" } '
        'index_feature { name: "j" } value_feature { name: "v" } }'
    )
    good = CLEAN | {"j": pa.array([[5, 6], [7], None, []], INTS)}
    assert reasons(validate_statistics(stats(good), two)) == set()
    bad = CLEAN | {"j": pa.array([[5, 6], None, None, []], INTS)}
    found = validate_statistics(stats(bad), two)
    assert by_feature(found) == {
        "sp": {"SPARSE_FEATURE_MISSING_INDEX", "SPARSE_FEATURE_LENGTH_MISMATCH"}
    }
    assert "index feature j" in found.anomaly_info["sp"].description


def test_equal_counts_cannot_prove_a_mismatch_from_statistics() -> None:
    """Lists of opposite length differences in two examples leave every count equal: beam-stats'
    statistics cannot see it (per-row validation does); TFDV's custom statistics can."""
    hidden = stats(table([[0, 1], [2]], [[1.0], [2.0, 3.0]]))
    assert reasons(validate_statistics(hidden, schema(PLAIN_N + SPARSE))) == set()
    tfdv = hidden.datasets[0].features.add()
    tfdv.path.step.append("sp")
    tfdv.custom_stats.add(name="missing_value", num=0)
    tfdv.custom_stats.add(name="missing_index").rank_histogram.buckets.add(label="i")
    tfdv.custom_stats.add(name="min_length_diff").rank_histogram.buckets.add(
        label="i", sample_count=-1
    )
    tfdv.custom_stats.add(name="max_length_diff").rank_histogram.buckets.add(
        label="i", sample_count=1
    )
    found = validate_statistics(hidden, schema(PLAIN_N + SPARSE))
    assert by_feature(found) == {"sp": {"SPARSE_FEATURE_LENGTH_MISMATCH"}}
    assert "max_length_diff = 1" in found.anomaly_info["sp"].description


def test_tfdv_sparse_statistics_are_read_as_tfdv_reads_them() -> None:
    statistics = stats(CLEAN)
    tfdv = statistics.datasets[0].features.add()
    tfdv.path.step.append("sp")
    missing = tfdv.custom_stats.add(name="missing_value", num=0)
    tfdv.custom_stats.add(name="missing_index").rank_histogram.buckets.add(label="i")
    assert reasons(validate_statistics(statistics, schema(PLAIN_N + SPARSE))) == set()
    missing.num = 2
    found = validate_statistics(statistics, schema(PLAIN_N + SPARSE))
    assert reasons(found) == {("sp", "SPARSE_FEATURE_MISSING_VALUE")}
    assert found.anomaly_info["sp"].description.startswith("2 examples with some other part")


def test_sparse_feature_name_collision() -> None:
    colliding = schema(PLAIN_N + 'feature { name: "sp" type: INT } ' + SPARSE)
    data = CLEAN | {"sp": [1, 2, 3, 4]}
    found = validate_statistics(stats(data), colliding)
    assert reasons(found) == {("sp", "SPARSE_FEATURE_NAME_COLLISION")}
    relaxed = update_schema(colliding, stats(data))
    assert relaxed.sparse_feature[0].lifecycle_stage == schema_pb2.DEPRECATED
    assert relaxed.feature[1].lifecycle_stage == schema_pb2.DEPRECATED
    apart = schema(PLAIN_N + 'feature { name: "other" type: INT } ' + SPARSE)
    assert reasons(validate_statistics(stats(CLEAN | {"other": [1, 2, 3, 4]}), apart)) == set()


def test_deprecated_sparse_feature_is_not_checked() -> None:
    deprecated = schema(PLAIN_N + SPARSE.replace('name: "sp"', 'name: "sp" lifecycle_stage: ALPHA'))
    broken = stats(table([[0, 1], [2], [3], [4]], [[1.0], None, [3.0], [4.0]]))
    assert reasons(validate_statistics(broken, deprecated)) == set()


def test_sparse_feature_inside_a_struct() -> None:
    nested = schema(
        'feature { name: "s" type: STRUCT struct_domain { '
        '  sparse_feature { name: "sp" index_feature { name: "i" } value_feature { name: "v" } }'
        "} }"
    )
    good = stats({"s": [{"i": [0, 1], "v": [1.0, 2.0]}, {"i": [2], "v": [3.0]}]})
    assert reasons(validate_statistics(good, nested)) == set()
    bad = stats({"s": [{"i": [0, 1], "v": [1.0]}, {"i": [2], "v": [3.0]}]})
    assert reasons(validate_statistics(bad, nested)) == {("s.sp", "SPARSE_FEATURE_LENGTH_MISMATCH")}


# --- weighted features ------------------------------------------------------------------------
W_CLEAN = table([[1, 2], [3], None], [[1.0, 2.0], [3.0], None], "wt")


@pytest.mark.parametrize("declared", ["", 'feature { name: "wt" type: INT } '])
def test_clean_weighted_feature(declared: str) -> None:
    expected = schema(PLAIN_N + 'feature { name: "v" type: FLOAT } ' + declared + WEIGHTED)
    assert reasons(validate_statistics(stats(W_CLEAN), expected)) == set()


@pytest.mark.parametrize(
    ("anomaly", "weight", "value"),
    [
        ("WEIGHTED_FEATURE_MISSING_VALUE", [[1], [2]], [[1.0], None]),
        ("WEIGHTED_FEATURE_MISSING_WEIGHT", [[1], None], [[1.0], [2.0]]),
        ("WEIGHTED_FEATURE_LENGTH_MISMATCH", [[1, 2], [3]], [[1.0], [2.0]]),
    ],
)
def test_weighted_feature_anomalies(anomaly: str, weight: list[Any], value: list[Any]) -> None:
    expected = schema(PLAIN_N + WEIGHTED)
    data = stats(table(weight, value, "wt"))
    found = validate_statistics(data, expected)
    assert anomaly in by_feature(found)["w"]
    assert set(by_feature(found)) == {"w"}
    assert update_schema(expected, data).weighted_feature[0].lifecycle_stage == (
        schema_pb2.DEPRECATED
    )


def test_tfdv_weighted_statistics() -> None:
    statistics = stats(W_CLEAN)
    tfdv = statistics.datasets[0].features.add()
    tfdv.path.step.append("w")
    for name in ("missing_value", "missing_weight", "min_weight_length_diff"):
        tfdv.custom_stats.add(name=name, num=0)
    high = tfdv.custom_stats.add(name="max_weight_length_diff", num=0)
    assert reasons(validate_statistics(statistics, schema(PLAIN_N + WEIGHTED))) == set()
    high.num = 2
    found = validate_statistics(statistics, schema(PLAIN_N + WEIGHTED))
    assert reasons(found) == {("w", "WEIGHTED_FEATURE_LENGTH_MISMATCH")}
    assert "max_weight_length_diff = 2" in found.anomaly_info["w"].description


def test_weighted_feature_name_collision() -> None:
    colliding = schema(PLAIN_N + 'feature { name: "w" type: INT } ' + WEIGHTED)
    found = validate_statistics(stats(W_CLEAN | {"w": [1, 2, 3]}), colliding)
    assert reasons(found) == {("w", "WEIGHTED_FEATURE_NAME_COLLISION")}
    with_sparse = schema(PLAIN_N + WEIGHTED + SPARSE.replace('"sp"', '"w"'))
    found = validate_statistics(stats(W_CLEAN), with_sparse)
    assert reasons(found) == {("w", "WEIGHTED_FEATURE_NAME_COLLISION")}


# --- per row: exact, where statistics only prove what counts show ---------------------------
def bad_reasons(batch: pa.RecordBatch, text: str) -> list[tuple[int, str, str, str]]:
    """(row of the bad ones, feature, anomaly, value) of every reason."""
    result = ExampleChecks(schema(text)).check(batch)
    assert result.new_columns == []
    assert result.good.num_rows + result.bad.num_rows == batch.num_rows
    return [
        (row, r["feature"], r["anomaly"], r["value"])
        for row, reasons_of_row in enumerate(result.bad.column("reasons").to_pylist())
        for r in reasons_of_row
    ]


def test_sparse_feature_rows() -> None:
    clean = pa.RecordBatch.from_pydict(CLEAN)
    assert bad_reasons(clean, PLAIN_N + SPARSE) == []
    # Equal counts, opposite length differences: invisible in statistics, found per row.
    hidden = pa.RecordBatch.from_pydict(
        table([[0, 1], [2], [3], None], [[1.0], [2.0, 3.0], None, [4.0]])
    )
    assert bad_reasons(hidden, PLAIN_N + SPARSE) == [
        (0, "sp", "SPARSE_FEATURE_LENGTH_MISMATCH", "i: 2 values, v: 1 values"),
        (1, "sp", "SPARSE_FEATURE_LENGTH_MISMATCH", "i: 1 values, v: 2 values"),
        (2, "sp", "SPARSE_FEATURE_MISSING_VALUE", "v"),
        (2, "sp", "SPARSE_FEATURE_LENGTH_MISMATCH", "i: 1 values, v: 0 values"),
        (3, "sp", "SPARSE_FEATURE_MISSING_INDEX", "i"),
        (3, "sp", "SPARSE_FEATURE_LENGTH_MISMATCH", "i: 0 values, v: 1 values"),
    ]
    deprecated = PLAIN_N + SPARSE.replace('name: "sp"', 'name: "sp" lifecycle_stage: DEPRECATED')
    assert bad_reasons(hidden, deprecated) == []


def test_weighted_feature_rows() -> None:
    assert bad_reasons(pa.RecordBatch.from_pydict(W_CLEAN), PLAIN_N + WEIGHTED) == []
    bad = pa.RecordBatch.from_pydict(table([[1, 2], None, [3]], [[1.0], [2.0], [3.0]], "wt"))
    assert bad_reasons(bad, PLAIN_N + WEIGHTED) == [
        (0, "w", "WEIGHTED_FEATURE_LENGTH_MISMATCH", "wt: 2 values, v: 1 values"),
        (1, "w", "WEIGHTED_FEATURE_MISSING_WEIGHT", "wt"),
        (1, "w", "WEIGHTED_FEATURE_LENGTH_MISMATCH", "wt: 0 values, v: 1 values"),
    ]


def test_sparse_feature_rows_inside_a_struct() -> None:
    nested = (
        'feature { name: "s" type: STRUCT struct_domain { '
        '  sparse_feature { name: "sp" index_feature { name: "i" } value_feature { name: "v" } }'
        "} }"
    )
    batch = pa.RecordBatch.from_pydict(
        {"s": [{"i": [0, 1], "v": [1.0, 2.0]}, {"i": [2], "v": [3.0, 4.0]}, None]}
    )
    assert bad_reasons(batch, nested) == [
        (0, "s.sp", "SPARSE_FEATURE_LENGTH_MISMATCH", "s.i: 1 values, s.v: 2 values")
    ]
