"""TFDV's schema language: semantic domains, derived features, lifecycle stages, invalid
schemas, old-style nested names, bool domains over TFDV's float statistics."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from anomaly_helpers import by_feature, reasons, schema, stats
from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

from beam_stats import get_feature, update_schema
from beam_stats.schema import infer_schema
from beam_stats.validation import ExampleChecks, validate_statistics

#: Anomaly types the schema package produces that are tested here and in
#: test_composite_features.py (test_validation_anomalies checks that every type is tested).
SCHEMA_LANGUAGE_TYPES = {
    "DERIVED_FEATURE_BAD_LIFECYCLE",
    "DERIVED_FEATURE_INVALID_SOURCE",
    "FEATURE_COVERAGE_TOO_LOW",
    "FEATURE_COVERAGE_TOO_SHORT_AVG_TOKEN_LENGTH",
    "FEATURE_MISSING_NAME",
    "FEATURE_MISSING_TYPE",
    "INVALID_SCHEMA_SPECIFICATION",
    "LOW_SUPPORTED_IMAGE_FRACTION",
    "MAX_IMAGE_BYTE_SIZE_EXCEEDED",
    "SEMANTIC_DOMAIN_UPDATE",
    "SEQUENCE_VALUE_TOO_FEW_OCCURRENCES",
    "SEQUENCE_VALUE_TOO_LARGE_FRACTION",
    "SEQUENCE_VALUE_TOO_MANY_OCCURRENCES",
    "SEQUENCE_VALUE_TOO_SMALL_FRACTION",
    "SPARSE_FEATURE_LENGTH_MISMATCH",
    "SPARSE_FEATURE_MISSING_INDEX",
    "SPARSE_FEATURE_MISSING_VALUE",
    "SPARSE_FEATURE_NAME_COLLISION",
    "STATS_NOT_AVAILABLE",
    "WEIGHTED_FEATURE_LENGTH_MISMATCH",
    "WEIGHTED_FEATURE_MISSING_VALUE",
    "WEIGHTED_FEATURE_MISSING_WEIGHT",
    "WEIGHTED_FEATURE_NAME_COLLISION",
}

URLS = ["https://a.example/x", "https://b.example/y?q=1"]
IMAGES = pa.array(
    [b"\x89PNG\r\n\x1a\n" + bytes(range(128, 140)), b"\xff\xd8\xff\xe0" + b"\x80"], pa.binary()
)


@pytest.mark.parametrize(
    ("feature", "data"),
    [
        ("type: BYTES image_domain {}", IMAGES),
        ("type: BYTES natural_language_domain {}", ["a short text", "another text"]),
        ("type: INT natural_language_domain {}", [12, 7]),
        ("type: BYTES url_domain {}", URLS),
        ('type: BYTES time_domain { string_format: "%Y-%m-%d" }', ["2024-01-02", "2024-02-03"]),
        ("type: INT time_domain { integer_format: UNIX_SECONDS }", [1700000000, 1700000100]),
        ('type: BYTES time_of_day_domain { string_format: "%H:%M" }', ["10:30", "23:59"]),
        ("type: INT time_of_day_domain { integer_format: PACKED_64_NANOS }", [1, 2]),
        ("type: BYTES mid_domain {}", ["/m/012", "/m/0abc"]),
        ("type: BYTES audio_domain {}", IMAGES),
        ("type: BYTES video_domain {}", IMAGES),
        ("type: BYTES content_chunk_domain {}", ["chunk one", "chunk two"]),
    ],
)
def test_semantic_domains_are_understood(feature: str, data: Any) -> None:
    expected = schema(f'feature {{ name: "x" {feature} presence {{ min_count: 1 }} }}')
    statistics = stats({"x": data})
    assert reasons(validate_statistics(statistics, expected)) == set()
    assert update_schema(expected, statistics) == expected


def test_image_byte_size() -> None:
    small = schema('feature { name: "x" type: BYTES image_domain { max_image_byte_size: 20 } }')
    statistics = stats({"x": IMAGES})  # 20 and 5 bytes
    assert reasons(validate_statistics(statistics, small)) == set()
    tight = schema('feature { name: "x" type: BYTES image_domain { max_image_byte_size: 19 } }')
    found = validate_statistics(statistics, tight)
    assert reasons(found) == {("x", "MAX_IMAGE_BYTE_SIZE_EXCEEDED")}
    assert "20 bytes" in found.anomaly_info["x"].description
    assert update_schema(tight, statistics).feature[0].image_domain.max_image_byte_size == 20


def test_supported_image_fraction_from_tfdv_statistics() -> None:
    expected = schema(
        'feature { name: "x" type: BYTES image_domain { minimum_supported_image_fraction: 0.8 } }'
    )
    statistics = stats({"x": IMAGES})
    assert reasons(validate_statistics(statistics, expected)) == set()  # nothing to read
    histogram = statistics.datasets[0].features[0].custom_stats.add(name="image_format_histogram")
    png = histogram.rank_histogram.buckets.add(label="png", sample_count=9)
    unknown = histogram.rank_histogram.buckets.add(label="UNKNOWN", sample_count=1)
    assert reasons(validate_statistics(statistics, expected)) == set()
    png.sample_count, unknown.sample_count = 1, 1
    assert reasons(validate_statistics(statistics, expected)) == {
        ("x", "LOW_SUPPORTED_IMAGE_FRACTION")
    }


NL = 'feature { name: "x" type: BYTES natural_language_domain { %s } }'


def with_nl_stats(coverage: float, length: float, token: dict[str, float]) -> Any:
    statistics = stats({"x": ["some text", "more text"]})
    nl = statistics_pb2.NaturalLanguageStatistics(
        feature_coverage=coverage, avg_token_length=length
    )
    nl.token_statistics.add(string_token="text", **token)
    statistics.datasets[0].features[0].custom_stats.add(name="nl_statistics").any.Pack(nl)
    return statistics


def test_natural_language_constraints_need_tfdv_statistics() -> None:
    expected = schema(NL % "coverage { min_coverage: 0.5 }")
    found = validate_statistics(stats({"x": ["some text"]}), expected)
    assert reasons(found) == {("x", "STATS_NOT_AVAILABLE")}
    assert reasons(validate_statistics(with_nl_stats(0.9, 4, {}), expected)) == set()
    assert reasons(validate_statistics(with_nl_stats(0.1, 4, {}), expected)) == {
        ("x", "FEATURE_COVERAGE_TOO_LOW")
    }
    short = schema(NL % "coverage { min_avg_token_length: 3 }")
    assert reasons(validate_statistics(with_nl_stats(0.9, 4, {}), short)) == set()
    assert reasons(validate_statistics(with_nl_stats(0.9, 2, {}), short)) == {
        ("x", "FEATURE_COVERAGE_TOO_SHORT_AVG_TOKEN_LENGTH")
    }


@pytest.mark.parametrize(
    ("constraint", "clean", "bad", "anomaly"),
    [
        ("min_fraction_of_sequences: 0.5", 0.6, 0.4, "SEQUENCE_VALUE_TOO_SMALL_FRACTION"),
        ("max_fraction_of_sequences: 0.5", 0.4, 0.6, "SEQUENCE_VALUE_TOO_LARGE_FRACTION"),
        ("min_per_sequence: 2", 2, 1, "SEQUENCE_VALUE_TOO_FEW_OCCURRENCES"),
        ("max_per_sequence: 2", 2, 3, "SEQUENCE_VALUE_TOO_MANY_OCCURRENCES"),
    ],
)
def test_natural_language_token_constraints(
    constraint: str, clean: float, bad: float, anomaly: str
) -> None:
    expected = schema(NL % f'token_constraints {{ string_value: "text" {constraint} }}')
    field = {
        "min_fraction_of_sequences": "fraction_of_sequences",
        "max_fraction_of_sequences": "fraction_of_sequences",
        "min_per_sequence": "per_sequence_min_frequency",
        "max_per_sequence": "per_sequence_max_frequency",
    }[constraint.split(":")[0]]
    assert reasons(validate_statistics(with_nl_stats(1, 4, {field: clean}), expected)) == set()
    assert reasons(validate_statistics(with_nl_stats(1, 4, {field: bad}), expected)) == {
        ("x", anomaly)
    }
    other_token = schema(NL % f'token_constraints {{ string_value: "absent" {constraint} }}')
    assert reasons(validate_statistics(with_nl_stats(1, 4, {field: clean}), other_token)) == {
        ("x", "STATS_NOT_AVAILABLE")
    }


def test_semantic_domain_update_from_tfdv_domain_info() -> None:
    statistics = stats({"x": URLS})
    plain = schema('feature { name: "x" type: BYTES }')
    assert reasons(validate_statistics(statistics, plain)) == set()
    statistics.datasets[0].features[0].custom_stats.add(name="domain_info", str="url_domain {}")
    assert reasons(validate_statistics(statistics, plain)) == {("x", "SEMANTIC_DOMAIN_UPDATE")}
    assert update_schema(plain, statistics).feature[0].HasField("url_domain")
    with_domain = schema('feature { name: "x" type: BYTES url_domain {} }')
    assert reasons(validate_statistics(statistics, with_domain)) == set()
    new_column = update_schema(schema(""), statistics)  # a new column takes it silently
    assert new_column.feature[0].HasField("url_domain")


# --- derived features and lifecycle stages ------------------------------------------------
DERIVED = 'validation_derived_source { deriver_name: "len" source_path { step: "y" } }'


def test_derived_feature_with_a_wrong_lifecycle() -> None:
    data = stats({"x": [1, 2], "y": [3, 4]})
    good = schema(
        f'feature {{ name: "x" type: INT lifecycle_stage: VALIDATION_DERIVED {DERIVED} }} '
        'feature { name: "y" type: INT }'
    )
    assert reasons(validate_statistics(data, good)) == set()
    bad = schema(
        f'feature {{ name: "x" type: INT lifecycle_stage: PRODUCTION {DERIVED} }} '
        'feature { name: "y" type: INT }'
    )
    assert reasons(validate_statistics(data, bad)) == {("x", "DERIVED_FEATURE_BAD_LIFECYCLE")}
    assert update_schema(bad, data) == good


def test_derived_feature_source_from_tfdv_statistics() -> None:
    expected = schema('feature { name: "x" type: INT } feature { name: "y" type: INT }')
    data = stats({"x": [1, 2], "y": [3, 4]})
    assert reasons(validate_statistics(data, expected)) == set()
    source = data.datasets[0].features[0].validation_derived_source
    source.deriver_name = "len"
    source.source_path.add().step.append("y")
    assert reasons(validate_statistics(data, expected)) == {("x", "DERIVED_FEATURE_INVALID_SOURCE")}
    relaxed = update_schema(expected, data)
    assert relaxed.feature[0].lifecycle_stage == schema_pb2.VALIDATION_DERIVED
    assert reasons(validate_statistics(data, relaxed)) == set()


@pytest.mark.parametrize(
    ("stage", "checked"),
    [
        ("UNKNOWN_STAGE", True),
        ("PLANNED", False),
        ("ALPHA", False),
        ("BETA", True),
        ("PRODUCTION", True),
        ("DEPRECATED", False),
        ("DEBUG_ONLY", False),
        ("DISABLED", False),
        ("VALIDATION_DERIVED", True),
    ],
)
def test_lifecycle_stages_that_exclude_features_from_validation(stage: str, checked: bool) -> None:
    expected = schema(
        f'feature {{ name: "x" type: INT lifecycle_stage: {stage} int_domain {{ max: 5 }} }} '
        f'feature {{ name: "gone" type: INT lifecycle_stage: {stage} presence {{ min_count: 1 }} }}'
    )
    assert reasons(validate_statistics(stats({"x": [1, 2], "gone": [1, 1]}), expected)) == set()
    found = reasons(validate_statistics(stats({"x": [1, 9]}), expected))
    if checked:
        assert found == {("x", "INT_TYPE_BIG_INT"), ("gone", "SCHEMA_MISSING_COLUMN")}
    else:
        assert found == set()


# --- invalid schemas ----------------------------------------------------------------------
INT = 'feature { name: "x" type: INT '
BYTES = 'feature { name: "x" type: BYTES '


ONES = pa.array([[1], [1], [1]], pa.list_(pa.int64()))  # one value in every example
FLOATS = [0.5, 2.0]
STRINGS = ["a", "b"]


@pytest.mark.parametrize(
    ("text", "data", "anomaly"),
    [
        (INT + "presence { min_fraction: 1.5 } }", ONES, "INVALID_SCHEMA_SPECIFICATION"),
        (INT + "presence { min_fraction: -0.5 } }", ONES, "INVALID_SCHEMA_SPECIFICATION"),
        (INT + "presence { min_count: -1 } }", ONES, "INVALID_SCHEMA_SPECIFICATION"),
        (INT + "value_count { min: 1 max: 0 } }", ONES, "INVALID_SCHEMA_SPECIFICATION"),
        (INT + "value_count { min: -1 } }", ONES, "INVALID_SCHEMA_SPECIFICATION"),
        (INT + "shape { dim { size: 0 } } }", ONES, "INVALID_SCHEMA_SPECIFICATION"),
        (
            INT + "int_domain { } distribution_constraints { } }",
            ONES,
            "INVALID_SCHEMA_SPECIFICATION",
        ),
        (
            BYTES
            + 'string_domain { value: "a" value: "b" } '
            + "distribution_constraints { min_domain_mass: 1.5 } }",
            STRINGS,
            "INVALID_SCHEMA_SPECIFICATION",
        ),
        (BYTES + "unique_constraints { min: 5 max: 1 } }", STRINGS, "INVALID_SCHEMA_SPECIFICATION"),
        (INT + "int_domain { min: 10 max: 0 } }", ONES, "INVALID_DOMAIN_SPECIFICATION"),
        (
            'feature { name: "x" type: FLOAT float_domain { min: 10 max: 0 } }',
            FLOATS,
            "INVALID_DOMAIN_SPECIFICATION",
        ),
        (
            BYTES + 'bool_domain { true_value: "a" false_value: "a" } }',
            ["a"],
            "INVALID_DOMAIN_SPECIFICATION",
        ),
        (
            BYTES + 'string_domain { value: "a" value: "b" value: "a" } }',
            STRINGS,
            "INVALID_DOMAIN_SPECIFICATION",
        ),
        ('feature { name: "x" presence { min_count: 1 } }', ONES, "FEATURE_MISSING_TYPE"),
        (INT + "} feature { type: INT presence { min_count: 1 } }", ONES, "FEATURE_MISSING_NAME"),
    ],
)
def test_invalid_schemas_are_reported_as_such_not_as_data_anomalies(
    text: str, data: Any, anomaly: str
) -> None:
    statistics = stats({"x": data})
    found = validate_statistics(statistics, schema(text))
    assert {kind for _, kind in reasons(found)} == {anomaly}
    # Fixed in the relaxed schema, which the same data then satisfies.
    relaxed = update_schema(schema(text), statistics)
    assert reasons(validate_statistics(statistics, relaxed)) == set()


def test_a_missing_type_with_a_string_domain_is_bytes() -> None:
    expected = schema('feature { name: "x" string_domain { value: "a" } }')
    found = validate_statistics(stats({"x": ["a", "b"]}), expected)
    assert by_feature(found) == {
        "x": {"FEATURE_MISSING_TYPE", "ENUM_TYPE_UNEXPECTED_STRING_VALUES"}
    }
    assert update_schema(expected, stats({"x": ["a"]})).feature[0].type == schema_pb2.BYTES


def test_dataset_constraints_min_above_max() -> None:
    expected = schema(
        INT + "} dataset_constraints { min_examples_count: 10 max_examples_count: 2 }"
    )
    found = validate_statistics(stats({"x": [1, 2, 3]}), expected)
    assert reasons(found) == {("", "INVALID_SCHEMA_SPECIFICATION")}
    fine = schema(INT + "} dataset_constraints { min_examples_count: 2 max_examples_count: 10 }")
    assert reasons(validate_statistics(stats({"x": [1, 2, 3]}), fine)) == set()


# --- old-style names ------------------------------------------------------------------------
def old_style(statistics: statistics_pb2.DatasetFeatureStatisticsList) -> Any:
    """The statistics as older writers name features: a dotted ``name``, no ``path``."""
    for feature in statistics.datasets[0].features:
        feature.name = ".".join(feature.path.step)
        feature.ClearField("path")
    return statistics


def test_old_style_dotted_names_resolve_to_paths() -> None:
    rows = {"s": [{"a": 1, "b": "u"}, {"a": 2, "b": "v"}], "x.y": [1, 2]}
    expected = infer_schema(stats(rows))
    assert [f.name for f in expected.feature] == ["s", "x.y"]
    assert reasons(validate_statistics(old_style(stats(rows)), expected)) == set()
    changed = {"s": [{"a": 1.5, "b": "u"}, {"a": 2.5, "b": "v"}], "x.y": [1, 2]}
    found = validate_statistics(old_style(stats(changed)), expected)
    assert reasons(found) == {("s.a", "UNEXPECTED_DATA_TYPE")}
    assert list(found.anomaly_info["s.a"].path.step) == ["s", "a"]


# --- bool domains over TFDV's float statistics ------------------------------------------
def tfdv_float_histogram(statistics: statistics_pb2.DatasetFeatureStatisticsList) -> Any:
    """The equi-width histogram TFDV writes for 0.0/1.0 data: interpolated fractional counts
    in the middle buckets."""
    num_stats = statistics.datasets[0].features[0].num_stats
    standard = next(h for h in num_stats.histograms if h.type == statistics_pb2.Histogram.STANDARD)
    del standard.buckets[:]
    edges = [i / 10 for i in range(11)]
    counts = [5.4] + [0.13] * 8 + [4.56]
    for low, high, count in zip(edges[:-1], edges[1:], counts, strict=True):
        standard.buckets.add(low_value=low, high_value=high, sample_count=count)
    return statistics


def test_bool_domain_float_feature_in_tfdv_statistics() -> None:
    expected = schema('feature { name: "x" type: FLOAT bool_domain {} }')
    zeros_and_ones = tfdv_float_histogram(stats({"x": [0.0, 1.0] * 5}))
    assert reasons(validate_statistics(zeros_and_ones, expected)) == set()
    halves = tfdv_float_histogram(stats({"x": [0.0, 0.5, 1.0] * 5}))
    assert reasons(validate_statistics(halves, expected)) == {("x", "BOOL_TYPE_UNEXPECTED_FLOAT")}
    twos = stats({"x": [0.0, 2.0]})
    assert reasons(validate_statistics(twos, expected)) == {("x", "BOOL_TYPE_UNEXPECTED_FLOAT")}


def test_old_style_dotted_names_in_a_schema_find_nested_paths() -> None:
    """A schema inferred from old statistics names a struct's field "s.a" at the top level."""
    old_schema = schema(
        'feature { name: "s.a" type: INT presence { min_count: 1 } int_domain { max: 5 } } '
        'feature { name: "x.y" type: INT presence { min_count: 1 } }'
    )
    rows = {"s": [{"a": 1}, {"a": 2}], "x.y": [1, 2]}
    assert reasons(validate_statistics(stats(rows), old_schema)) == set()
    assert get_feature(old_schema, "s.a") is get_feature(old_schema, ("s", "a"))
    found = validate_statistics(stats({"s": [{"a": 9}], "x.y": [1]}), old_schema)
    assert reasons(found) == {("s.a", "INT_TYPE_BIG_INT")}
    missing = validate_statistics(stats({"s": [{"b": 1}], "x.y": [1]}), old_schema)
    assert reasons(missing) == {("s.a", "SCHEMA_MISSING_COLUMN"), ("s.b", "SCHEMA_NEW_COLUMN")}


def test_per_row_checks_use_the_schema_as_fixed() -> None:
    broken = schema(
        'feature { name: "t" presence { min_fraction: 1.0 } } '
        'feature { name: "x" type: INT value_count { min: 1 max: 0 } }'
    )
    checks = ExampleChecks(broken)
    assert [(p.feature, p.anomaly) for p in checks.schema_problems] == [
        ("t", "FEATURE_MISSING_TYPE"),
        ("x", "INVALID_SCHEMA_SPECIFICATION"),
    ]
    result = checks.check(pa.RecordBatch.from_pydict({"x": [[1], [2]]}))
    assert result.good.num_rows == 2  # no row is bad for the schema's own problems
    assert ExampleChecks(schema('feature { name: "x" type: INT }')).schema_problems == []
