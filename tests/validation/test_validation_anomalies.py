"""Every anomaly type validation produces: a dataset that triggers it and one that does not."""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from anomaly_helpers import by_feature, reasons, schema, stats
from tensorflow_metadata.proto.v0 import anomalies_pb2
from test_schema_language import SCHEMA_LANGUAGE_TYPES

import beam_stats.schema
from beam_stats import DistinctCountSpec, FrequentItemsSpec, StatisticsSpec
from beam_stats.arrow import INVALID_VALUES_KEY
from beam_stats.schema import infer_schema
from beam_stats.stats import DatasetAccumulator
from beam_stats.validation import validate_statistics

NAN, INF = math.nan, math.inf
CATEGORICAL = StatisticsSpec(categorical_features=frozenset({("x",)}))


@dataclasses.dataclass(frozen=True)
class Case:
    anomaly: str  # the AnomalyInfo.Type name
    schema: str  # text Schema
    good: dict[str, Any]  # columns that satisfy it
    bad: dict[str, Any]  # columns that trigger `anomaly` (on feature "x" unless `feature`)
    feature: str = "x"
    good_spec: StatisticsSpec | None = None


INT = 'feature { name: "x" type: INT '
FLOAT = 'feature { name: "x" type: FLOAT '
BYTES = 'feature { name: "x" type: BYTES '
INTS = pa.list_(pa.int64())

CASES = [
    Case("SCHEMA_NEW_COLUMN", INT + "}", {"x": [1, 2]}, {"x": [1, 2], "y": [3, 4]}, "y"),
    Case(
        "SCHEMA_MISSING_COLUMN",
        INT + "} " + 'feature { name: "y" type: INT presence { min_count: 1 } }',
        {"x": [1], "y": [2]},
        {"x": [1]},
        "y",
    ),
    Case(
        "FEATURE_TYPE_LOW_FRACTION_PRESENT",
        INT + "presence { min_fraction: 0.5 } }",
        {"x": [1, 2, None]},
        {"x": [1, None, None]},
    ),
    Case(
        "FEATURE_TYPE_LOW_NUMBER_PRESENT",
        INT + "presence { min_count: 3 } }",
        {"x": [1, 2, 3, None]},
        {"x": [1, 2, None, None]},
    ),
    Case(
        "FEATURE_TYPE_NOT_PRESENT",
        INT + "presence { min_count: 1 } }",
        {"x": [1, None]},
        {"x": pa.array([None, None], pa.int64())},
    ),
    Case(
        "FEATURE_TYPE_HIGH_NUMBER_VALUES",
        INT + "value_count { min: 1 max: 2 } }",
        {"x": pa.array([[1], [1, 2]], INTS)},
        {"x": pa.array([[1], [1, 2, 3]], INTS)},
    ),
    Case(
        "FEATURE_TYPE_LOW_NUMBER_VALUES",
        INT + "value_count { min: 1 max: 2 } }",
        {"x": pa.array([[1], [1, 2]], INTS)},
        {"x": pa.array([[], [1]], INTS)},
    ),
    Case(
        "INVALID_FEATURE_SHAPE",
        INT + "shape { dim { size: 2 } } }",
        {"x": pa.array([[1, 2], [3, 4]], INTS)},
        {"x": pa.array([[1, 2], [3]], INTS)},
    ),
    Case("UNEXPECTED_DATA_TYPE", INT + "}", {"x": [1, 2]}, {"x": [1.5, 2.0]}),
    Case(
        "DOMAIN_INVALID_FOR_TYPE",
        BYTES + 'string_domain { value: "a" } }',
        {"x": ["a"]},
        {"x": pa.array([b"\xff\xfe", b"\xfa"], pa.binary())},
    ),
    Case(
        "ENUM_TYPE_UNEXPECTED_STRING_VALUES",
        BYTES + 'domain: "letters" } string_domain { name: "letters" value: "a" value: "b" }',
        {"x": ["a", "b", "a"]},
        {"x": ["a", "c"]},
    ),
    Case(
        "ENUM_TYPE_INVALID_UTF8",
        BYTES + 'string_domain { value: "a" } }',
        {"x": pa.array([b"a", b"a"], pa.binary())},
        {"x": pa.array([b"a", b"a", b"\xff"], pa.binary())},
    ),
    Case("BOOL_TYPE_BIG_INT", INT + "bool_domain {} }", {"x": [0, 1]}, {"x": [0, 2]}),
    Case("BOOL_TYPE_SMALL_INT", INT + "bool_domain {} }", {"x": [True, False]}, {"x": [-1, 1]}),
    Case(
        "BOOL_TYPE_UNEXPECTED_FLOAT",
        FLOAT + "bool_domain {} }",
        {"x": [0.0, 1.0, 1.0]},
        {"x": [0.0, 0.5, 1.0]},
    ),
    Case(
        "BOOL_TYPE_UNEXPECTED_STRING",
        BYTES + 'bool_domain { true_value: "true" false_value: "false" } }',
        {"x": ["true", "false"]},
        {"x": ["true", "yes"]},
    ),
    Case("INT_TYPE_BIG_INT", INT + "int_domain { min: 0 max: 10 } }", {"x": [0, 10]}, {"x": [11]}),
    Case("INT_TYPE_SMALL_INT", INT + "int_domain { min: 0 max: 10 } }", {"x": [5]}, {"x": [-1, 5]}),
    Case(
        "INT_TYPE_NOT_INT_STRING",
        BYTES + "int_domain {} }",
        {"x": ["1", "-22", "+3"]},
        {"x": ["1", "x"]},
    ),
    Case(
        "FLOAT_TYPE_BIG_FLOAT",
        FLOAT + "float_domain { min: 0 max: 0.1 } }",
        {"x": [0.0, 0.1]},  # 0.1 is not a float32: compared after rounding, as TFDV does
        {"x": [0.05, 0.11]},
    ),
    Case(
        "FLOAT_TYPE_SMALL_FLOAT",
        FLOAT + "float_domain { min: 0.1 max: 1 } }",
        {"x": [0.1, 1.0]},
        {"x": [0.09, 0.5]},
    ),
    Case(
        "FLOAT_TYPE_STRING_NOT_FLOAT",
        BYTES + "float_domain {} }",
        {"x": ["1.5", "2", "nan"]},
        {"x": ["1.5", "abc"]},
    ),
    Case(
        "FLOAT_TYPE_HAS_NAN",
        FLOAT + "float_domain { disallow_nan: true } }",
        {"x": [1.0, INF]},
        {"x": [1.0, NAN]},
    ),
    Case(
        "FLOAT_TYPE_HAS_INF",
        FLOAT + "float_domain { disallow_inf: true } }",
        {"x": [1.0, NAN]},
        {"x": [1.0, -INF]},
    ),
    Case(
        "FEATURE_TYPE_HIGH_UNIQUE",
        BYTES + "unique_constraints { min: 1 max: 2 } }",
        {"x": ["a", "b", "a"]},
        {"x": ["a", "b", "c"]},
    ),
    Case(
        "FEATURE_TYPE_LOW_UNIQUE",
        BYTES + "unique_constraints { min: 2 max: 5 } }",
        {"x": ["a", "b"]},
        {"x": ["a", "a"]},
    ),
    Case(
        "FEATURE_TYPE_NO_UNIQUE",
        INT + "int_domain { is_categorical: true } unique_constraints { min: 1 max: 5 } }",
        {"x": [1, 2]},
        {"x": [1, 2]},
        good_spec=CATEGORICAL,  # categorical ints count unique values; plain ints do not
    ),
    Case(
        "DATASET_LOW_NUM_EXAMPLES",
        INT + "} dataset_constraints { min_examples_count: 3 }",
        {"x": [1, 2, 3]},
        {"x": [1, 2]},
        "",
    ),
    Case(
        "DATASET_HIGH_NUM_EXAMPLES",
        INT + "} dataset_constraints { max_examples_count: 2 }",
        {"x": [1, 2]},
        {"x": [1, 2, 3]},
        "",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.anomaly)
def test_anomaly_type_triggered_and_not(case: Case) -> None:
    expected = schema(case.schema)
    good = validate_statistics(stats(case.good, case.good_spec), expected)
    assert reasons(good) == set()
    bad = validate_statistics(stats(case.bad), expected)
    assert (case.feature, case.anomaly) in reasons(bad)
    # Only the planted problem (presence and shape problems come with their causes).
    assert {kind for _, kind in reasons(bad)} <= {
        case.anomaly,
        "FEATURE_TYPE_LOW_FRACTION_PRESENT",
    }


def test_every_type_the_code_produces_has_a_case() -> None:
    source = "".join(p.read_text() for p in Path(beam_stats.schema.__file__).parent.rglob("*.py"))
    produced = set(re.findall(r"AnomalyType\.([A-Z][A-Z0-9_]*)\b", source))
    covered = (
        {c.anomaly for c in CASES}
        | {
            "INVALID_DOMAIN_SPECIFICATION",  # a schema problem: test_schema_specification_problems
            "VALUE_NESTEDNESS_MISMATCH",  # needs per-level statistics: tested below
        }
        | SCHEMA_LANGUAGE_TYPES
    )
    assert produced == covered
    for name in covered:
        anomalies_pb2.AnomalyInfo.Type.Value(name)


def test_new_column_in_an_environment_that_excludes_it() -> None:
    expected = schema(
        'default_environment: "TRAINING" default_environment: "SERVING" '
        'feature { name: "label" type: INT not_in_environment: "SERVING" '
        "presence { min_count: 1 } }"
    )
    serving_without = stats({"other": [1]})
    assert by_feature(validate_statistics(serving_without, expected, "SERVING")) == {
        "other": {"SCHEMA_NEW_COLUMN"}
    }
    serving_with = stats({"label": [1]})
    assert reasons(validate_statistics(serving_with, expected, "TRAINING")) == set()
    found = validate_statistics(serving_with, expected, "SERVING")
    assert reasons(found) == {("label", "SCHEMA_NEW_COLUMN")}
    assert "environment SERVING" in found.anomaly_info["label"].description


def test_missing_column_not_required_in_environment() -> None:
    expected = schema(
        'default_environment: "TRAINING" default_environment: "SERVING" '
        'feature { name: "label" type: INT not_in_environment: "SERVING" '
        'presence { min_count: 1 } } feature { name: "x" type: INT }'
    )
    data = stats({"x": [1]})
    assert reasons(validate_statistics(data, expected, "SERVING")) == set()
    assert reasons(validate_statistics(data, expected, "TRAINING")) == {
        ("label", "SCHEMA_MISSING_COLUMN")
    }
    assert reasons(validate_statistics(data, expected)) == {("label", "SCHEMA_MISSING_COLUMN")}


def test_deprecated_features_and_their_fields_are_not_checked() -> None:
    expected = schema(
        'feature { name: "x" type: INT lifecycle_stage: DEPRECATED presence { min_count: 1 } } '
        'feature { name: "s" type: STRUCT deprecated: true struct_domain { '
        '  feature { name: "a" type: INT int_domain { max: 0 } } } }'
    )
    data = stats({"s": [{"a": 5, "b": 1}], "y": [1]})
    assert reasons(validate_statistics(data, expected)) == {("y", "SCHEMA_NEW_COLUMN")}


def test_struct_fields_are_features_below_their_parent() -> None:
    data = stats({"s": [{"a": 1, "b": "u"}, {"a": 2, "b": "v"}]})
    expected = infer_schema(data)
    assert reasons(validate_statistics(data, expected)) == set()
    changed = stats({"s": [{"a": 1.5, "b": "w", "c": 1}]})
    assert by_feature(validate_statistics(changed, expected)) == {
        "s.a": {"UNEXPECTED_DATA_TYPE"},
        "s.b": {"ENUM_TYPE_UNEXPECTED_STRING_VALUES"},
        "s.c": {"SCHEMA_NEW_COLUMN"},
    }


def test_mixed_types_and_unreadable_values_are_unexpected_data_types() -> None:
    expected = schema(INT + "}")
    accumulator = DatasetAccumulator(StatisticsSpec())
    accumulator.add(pa.record_batch({"x": [1, 2, 3]}))
    accumulator.add(pa.record_batch({"x": ["a"]}))
    mixed = validate_statistics(accumulator.result(), expected)
    assert reasons(mixed) == {("x", "UNEXPECTED_DATA_TYPE")}
    assert "several types" in mixed.anomaly_info["x"].description
    field = pa.field("x", pa.int64(), metadata={INVALID_VALUES_KEY: b"2"})
    unreadable = pa.table([pa.array([1, None, None])], schema=pa.schema([field]))
    found = validate_statistics(stats(unreadable), expected)
    assert reasons(found) == {("x", "UNEXPECTED_DATA_TYPE")}
    assert "2 values could not be read" in found.anomaly_info["x"].description


@pytest.mark.parametrize(("exact_limit", "more"), [(100_000, 15), (0, 14)])
def test_unexpected_values_beyond_the_listed_ones_are_proven_by_the_distinct_count(
    exact_limit: int, more: int
) -> None:
    # Only 8 counters: the listed values are not all the values, but 20 distinct values
    # cannot fit a domain of 5. The count is exact (15 more), or with HyperLogLog only it is
    # given a standard error (at least 19, so at least 14 more).
    spec = StatisticsSpec(
        frequent_items=FrequentItemsSpec(capacity=8),
        distinct=DistinctCountSpec(exact_limit=exact_limit),
        num_top_values=4,
        num_rank_histogram_buckets=4,
    )
    domain = " ".join(f'value: "v{i}"' for i in range(5))
    expected = schema(BYTES + f"string_domain {{ {domain} }} }}")
    values = [f"v{i % 5}" for i in range(200)] + [f"w{i}" for i in range(15)]
    found = validate_statistics(stats({"x": values}, spec), expected)
    assert reasons(found) == {("x", "ENUM_TYPE_UNEXPECTED_STRING_VALUES")}
    description = found.anomaly_info["x"].description
    assert f"at least {more} more distinct values the statistics do not list" in description
    assert "(20 distinct values in all)" in description
    within = [f"v{i % 5}" for i in range(200)]
    assert reasons(validate_statistics(stats({"x": within}, spec), expected)) == set()


def test_min_domain_mass_tolerates_a_few_values_outside_the_domain() -> None:
    expected = schema(
        BYTES + 'string_domain { value: "a" } distribution_constraints { min_domain_mass: 0.9 } }'
    )
    few = stats({"x": ["a"] * 95 + ["b"] * 5})
    assert reasons(validate_statistics(few, expected)) == set()
    many = stats({"x": ["a"] * 80 + ["b"] * 20})
    assert reasons(validate_statistics(many, expected)) == {
        ("x", "ENUM_TYPE_UNEXPECTED_STRING_VALUES")
    }


def test_schema_specification_problems() -> None:
    dangling = schema(BYTES + 'domain: "nowhere" }')
    found = validate_statistics(stats({"x": ["a"]}), dangling)
    assert reasons(found) == {("x", "INVALID_DOMAIN_SPECIFICATION")}  # TFDV's type
    fixed = schema(BYTES + 'domain: "d" } string_domain { name: "d" value: "a" }')
    assert reasons(validate_statistics(stats({"x": ["a"]}), fixed)) == set()
    wrong_type = schema(INT + 'string_domain { value: "1" } }')
    assert reasons(validate_statistics(stats({"x": [1]}), wrong_type)) == {
        ("x", "DOMAIN_INVALID_FOR_TYPE")
    }


def test_value_nestedness_mismatch_needs_per_level_statistics() -> None:
    expected = schema(INT + "value_count { min: 1 } }")
    flat = stats({"x": pa.array([[1, 2], [3]], INTS)})
    assert reasons(validate_statistics(flat, expected)) == set()
    nested = stats({"x": pa.array([[1, 2], [3]], INTS)})
    common = nested.datasets[0].features[0].num_stats.common_stats
    common.presence_and_valency_stats.add(min_num_values=1, max_num_values=2)
    common.presence_and_valency_stats.add(min_num_values=1, max_num_values=1)
    assert reasons(validate_statistics(nested, expected)) == {("x", "VALUE_NESTEDNESS_MISMATCH")}
    two_levels = schema(INT + "value_counts { value_count { min: 1 } value_count { min: 2 } } }")
    assert reasons(validate_statistics(nested, two_levels)) == {
        ("x", "FEATURE_TYPE_LOW_NUMBER_VALUES")
    }
    # Flattened statistics say nothing about nested value counts: not checked.
    assert reasons(validate_statistics(flat, two_levels)) == set()


def test_estimated_distinct_counts_get_three_standard_errors_of_slack() -> None:
    statistics = stats({"x": ["a", "b", "c"]})
    feature = statistics.datasets[0].features[0]
    feature.string_stats.unique = 1030
    next(c for c in feature.custom_stats if c.name == "distinct_relative_standard_error").num = 0.01
    within = schema(BYTES + "unique_constraints { min: 1 max: 1000 } }")
    assert reasons(validate_statistics(statistics, within)) == set()
    beyond = schema(BYTES + "unique_constraints { min: 1 max: 900 } }")
    found = validate_statistics(statistics, beyond)
    assert reasons(found) == {("x", "FEATURE_TYPE_HIGH_UNIQUE")}
    assert "estimated" in found.anomaly_info["x"].description


@pytest.mark.parametrize("rows", [0, 3])
def test_an_undeclared_environment_is_an_error_with_or_without_data(rows: int) -> None:
    """As TFDV: an environment the schema does not declare is the caller's error, also when
    the statistics are empty (before, empty statistics answered "data missing" instead)."""
    from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

    from beam_stats import validate_statistics
    from beam_stats.errors import SchemaError

    declared = schema_pb2.Schema(default_environment=["TRAINING"])
    declared.feature.add(name="x", type=schema_pb2.INT)
    dataset = statistics_pb2.DatasetFeatureStatistics(name="d", num_examples=rows)
    statistics = statistics_pb2.DatasetFeatureStatisticsList(datasets=[dataset])
    with pytest.raises(SchemaError, match="'NOPE' is not declared"):
        validate_statistics(statistics, declared, "NOPE")
    assert validate_statistics(statistics, declared, "TRAINING").data_missing == (rows == 0)
