"""The Anomalies messages: structure, descriptions, severities, slices."""

from __future__ import annotations

import pytest
from anomaly_helpers import by_feature, schema, stats
from tensorflow_metadata.proto.v0 import anomalies_pb2, statistics_pb2

from beam_stats.errors import InvalidInputError, SchemaError
from beam_stats.schema import infer_schema, with_severity_overrides
from beam_stats.validation import (
    AnomalyRow,
    ValidationSpec,
    anomaly_rows,
    validate_slices,
    validate_statistics,
)

Info = anomalies_pb2.AnomalyInfo
EXPECTED = schema(
    'feature { name: "n" type: INT int_domain { min: 0 max: 10 } '
    "  presence { min_fraction: 1 min_count: 1 } } "
    'feature { name: "s" type: STRUCT struct_domain { '
    '  feature { name: "c" type: BYTES string_domain { value: "red" value: "blue" } } } }'
)
BAD = {"n": [-1, 11, None], "s": [{"c": "green"}, {"c": "red"}, None], "new": [1, 2, 3]}


def test_one_anomaly_info_per_feature_with_its_reasons() -> None:
    found = validate_statistics(stats(BAD), EXPECTED)
    assert found.anomaly_name_format == anomalies_pb2.Anomalies.SERIALIZED_PATH
    assert found.baseline == EXPECTED
    assert sorted(found.anomaly_info) == ["n", "new", "s.c"]
    n = found.anomaly_info["n"]
    assert list(n.path.step) == ["n"] and n.severity == Info.ERROR
    assert [Info.Type.Name(r.type) for r in n.reason] == [
        "FEATURE_TYPE_LOW_FRACTION_PRESENT",
        "INT_TYPE_SMALL_INT",
        "INT_TYPE_BIG_INT",
    ]
    assert n.short_description == "Multiple errors"
    assert n.description == " ".join(r.description for r in n.reason)
    child = found.anomaly_info["s.c"]
    assert list(child.path.step) == ["s", "c"]
    assert child.short_description == child.reason[0].short_description
    assert child.description == child.reason[0].description


def test_descriptions_name_the_observed_and_the_expected_values() -> None:
    found = validate_statistics(stats(BAD), EXPECTED)
    n = {Info.Type.Name(r.type): r for r in found.anomaly_info["n"].reason}
    assert n["INT_TYPE_BIG_INT"].short_description == "Value 11 above maximum 10"
    assert "11" in n["INT_TYPE_BIG_INT"].description
    assert "ends at 10" in n["INT_TYPE_BIG_INT"].description
    presence = n["FEATURE_TYPE_LOW_FRACTION_PRESENT"].description
    assert "66.67% of the examples (2 of 3, missing in 1)" in presence
    assert "at least 100%" in presence
    enum = found.anomaly_info["s.c"].description
    assert '"green" (1 value, 50%)' in enum and '"blue", "red"' in enum


def test_user_text_is_kept_as_it_is() -> None:
    weird = 'a "quoted"\nvalue {0} %s \x1b[31m'
    expected = schema('feature { name: "x" type: BYTES string_domain { value: "ok" } }')
    found = validate_statistics(stats({"x": [weird, "ok"]}), expected)
    assert weird in found.anomaly_info["x"].description


def test_severity_overrides() -> None:
    statistics = stats(BAD)
    default = validate_statistics(statistics, EXPECTED)
    assert {i.severity for i in default.anomaly_info.values()} == {Info.ERROR}
    annotated = with_severity_overrides(EXPECTED, {"SCHEMA_NEW_COLUMN": "WARNING"})
    found = validate_statistics(statistics, annotated)
    assert found.anomaly_info["new"].severity == Info.WARNING
    assert found.anomaly_info["n"].severity == Info.ERROR
    # The caller's overrides win over the schema's; an info takes its worst reason.
    spec = ValidationSpec(
        severity_overrides={
            "SCHEMA_NEW_COLUMN": "ERROR",
            "INT_TYPE_BIG_INT": "warning",
            "INT_TYPE_SMALL_INT": "WARNING",
        }
    )
    found = validate_statistics(statistics, annotated, spec=spec)
    assert found.anomaly_info["new"].severity == Info.ERROR
    assert found.anomaly_info["n"].severity == Info.ERROR  # LOW_FRACTION_PRESENT is an error
    rows = list(anomaly_rows(found, spec))
    assert AnomalyRow("n", "INT_TYPE_BIG_INT", "WARNING", *_texts(found, "n", 2)) in rows
    with pytest.raises(SchemaError, match="unknown anomaly type"):
        ValidationSpec(severity_overrides={"NEW_COLUMN": "WARNING"})
    with pytest.raises(SchemaError, match="WARNING or ERROR"):
        ValidationSpec(severity_overrides={"SCHEMA_NEW_COLUMN": "UNKNOWN"})


def _texts(anomalies: anomalies_pb2.Anomalies, feature: str, i: int) -> tuple[str, str]:
    reason = anomalies.anomaly_info[feature].reason[i]
    return reason.short_description, reason.description


def test_rows_list_dataset_reasons_first_then_features_by_path() -> None:
    expected = schema(
        'feature { name: "b" type: INT int_domain { max: 0 } } '
        'feature { name: "a" type: INT int_domain { max: 0 } } '
        "dataset_constraints { min_examples_count: 5 }"
    )
    found = validate_statistics(stats({"b": [1], "a": [1]}), expected)
    rows = list(anomaly_rows(found))
    assert [(r.feature, r.type) for r in rows] == [
        ("", "DATASET_LOW_NUM_EXAMPLES"),
        ("a", "INT_TYPE_BIG_INT"),
        ("b", "INT_TYPE_BIG_INT"),
    ]
    assert found.dataset_anomaly_info.severity == Info.ERROR
    assert "1 examples; the schema expects at least 5" in rows[0].description


def test_no_examples_means_data_missing_and_nothing_else() -> None:
    empty = statistics_pb2.DatasetFeatureStatistics(name="empty", num_examples=0)
    found = validate_statistics(empty, EXPECTED)
    assert found.data_missing and not found.anomaly_info
    assert found.baseline == EXPECTED
    assert list(anomaly_rows(found)) == []


def test_every_slice_against_the_same_schema() -> None:
    expected = infer_schema(stats({"x": ["a", "b"]}))
    sliced = statistics_pb2.DatasetFeatureStatisticsList(
        datasets=[
            stats({"x": ["a"]}, name="country=US").datasets[0],
            stats({"x": ["c"]}, name="country=FR").datasets[0],
            statistics_pb2.DatasetFeatureStatistics(name="country=JP"),
        ]
    )
    found = validate_slices(sliced, expected)
    assert list(found) == ["country=US", "country=FR", "country=JP"]
    assert by_feature(found["country=US"]) == {}
    assert by_feature(found["country=FR"]) == {"x": {"ENUM_TYPE_UNEXPECTED_STRING_VALUES"}}
    assert found["country=JP"].data_missing
    with pytest.raises(InvalidInputError, match="one dataset, got 3"):
        validate_statistics(sliced, expected)
    sliced.datasets[1].name = "country=US"
    with pytest.raises(InvalidInputError, match="two datasets are named 'country=US'"):
        validate_slices(sliced, expected)
    single = validate_slices(stats({"x": ["a"]}), expected)
    assert list(single) == [""]


def test_bad_arguments() -> None:
    with pytest.raises(InvalidInputError, match="expected a Schema"):
        validate_statistics(stats(BAD), stats(BAD))
    with pytest.raises(InvalidInputError, match="expected a DatasetFeatureStatisticsList"):
        validate_statistics(EXPECTED, EXPECTED)
    with pytest.raises(InvalidInputError, match="must be a mapping"):
        ValidationSpec(severity_overrides=["SCHEMA_NEW_COLUMN"])  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="statistics list feature n twice"):
        twice = stats({"n": [1]})
        twice.datasets[0].features.append(twice.datasets[0].features[0])
        validate_statistics(twice, EXPECTED)


def test_a_sliced_file_is_validated_by_its_all_examples_dataset() -> None:
    """As TFDV: of several datasets, the default slice "All Examples" is the one validated."""
    expected = infer_schema(stats({"x": ["a", "b"]}))
    sliced = statistics_pb2.DatasetFeatureStatisticsList(
        datasets=[
            stats({"x": ["a", "c"]}, name="All Examples").datasets[0],
            stats({"x": ["a"]}, name="x=a").datasets[0],
        ]
    )
    assert by_feature(validate_statistics(sliced, expected)) == {
        "x": {"ENUM_TYPE_UNEXPECTED_STRING_VALUES"}
    }
    assert infer_schema(sliced) == infer_schema(sliced.datasets[0])
