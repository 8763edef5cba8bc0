"""update_schema relaxes a schema just enough; environments say where a feature is expected."""

from __future__ import annotations

import pyarrow as pa
import pytest
from anomaly_helpers import by_feature, reasons, schema, stats
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

from beam_stats import StatisticsSpec
from beam_stats.errors import InvalidInputError, SchemaError
from beam_stats.schema import (
    RangeInferenceSpec,
    SchemaInferenceSpec,
    add_environments,
    get_feature,
    infer_schema,
    update_schema,
)
from beam_stats.stats import DatasetAccumulator
from beam_stats.validation import validate_statistics

BASE = {
    "n": [1, 5, 9],
    "f": [0.5, 1.0, 1.5],
    "s": ["a", "b", "a"],
    "k": ["1", "2", "3"],
    "flag": [0, 1, 1],
    "l": pa.array([[1, 2], [3, 4], [5, 6]], pa.list_(pa.int64())),
}
SPEC = SchemaInferenceSpec(ranges=RangeInferenceSpec(margin=0), disallow_nan=True)


def one_line(feature: schema_pb2.Feature) -> str:
    return text_format.MessageToString(feature, as_one_line=True)


def test_relaxes_each_constraint_to_the_new_data() -> None:
    original = infer_schema(stats(BASE), SPEC)
    new = stats(
        {
            "n": [0, 5, 12],
            "f": [0.25, float("nan"), None],
            "s": ["a", "c", "d"],
            "k": ["1", "x", "3"],
            "flag": [0, 1, 2],
            "l": pa.array([[1, 2], [3], [5, 6]], pa.list_(pa.int64())),
            "extra": [7, 8, 9],
        }
    )
    before = validate_statistics(new, original)
    assert by_feature(before) == {
        "n": {"INT_TYPE_SMALL_INT", "INT_TYPE_BIG_INT"},
        "f": {
            "FLOAT_TYPE_SMALL_FLOAT",
            "FLOAT_TYPE_HAS_NAN",
            "FEATURE_TYPE_LOW_FRACTION_PRESENT",
            "INVALID_FEATURE_SHAPE",
        },
        "s": {"ENUM_TYPE_UNEXPECTED_STRING_VALUES"},
        "k": {"INT_TYPE_NOT_INT_STRING"},
        "flag": {"BOOL_TYPE_BIG_INT"},
        "l": {"INVALID_FEATURE_SHAPE"},
        "extra": {"SCHEMA_NEW_COLUMN"},
    }
    updated = update_schema(original, new)
    assert reasons(validate_statistics(new, updated)) == set()
    # The old data is still accepted, but for the column it lacks.
    assert reasons(validate_statistics(stats(BASE), updated)) == {
        ("extra", "SCHEMA_MISSING_COLUMN")
    }
    assert validate_statistics(new, original) == before  # the argument is not modified
    n = get_feature(updated, "n").int_domain
    assert (n.min, n.max) == (0, 12)
    assert list(updated.string_domain[0].value) == ["a", "b", "c", "d"]
    assert not get_feature(updated, "k").HasField("int_domain")
    assert get_feature(updated, "flag").int_domain.max == 2
    assert not get_feature(updated, "f").float_domain.disallow_nan
    assert get_feature(updated, "f").presence.min_fraction == pytest.approx(2 / 3)
    assert not get_feature(updated, "l").HasField("shape")
    # A new column is inferred with the options the schema was inferred with (ranges here).
    extra = get_feature(updated, "extra").int_domain
    assert (extra.min, extra.max) == (7, 9)


def test_type_changes_and_missing_columns_deprecate() -> None:
    original = infer_schema(stats({"a": [1, 2], "b": [1, 2]}))
    updated = update_schema(original, stats({"a": [1.5, 2.5]}))
    assert get_feature(updated, "a").lifecycle_stage == schema_pb2.DEPRECATED
    assert get_feature(updated, "b").lifecycle_stage == schema_pb2.DEPRECATED
    assert reasons(validate_statistics(stats({"a": [0.5]}), updated)) == set()


def test_several_datasets_and_empty_ones() -> None:
    original = infer_schema(stats({"s": ["a"]}))
    both = statistics_pb2.DatasetFeatureStatisticsList(
        datasets=[stats({"s": ["b"]}, name="1").datasets[0], stats({"s": ["c"]}).datasets[0]]
    )
    updated = update_schema(original, both)
    assert list(updated.string_domain[0].value) == ["a", "b", "c"]
    empty = statistics_pb2.DatasetFeatureStatistics(name="empty")
    assert update_schema(original, empty) == original  # no examples, no evidence


def test_mixed_types_cannot_be_accepted() -> None:
    accumulator = DatasetAccumulator(StatisticsSpec())
    accumulator.add(pa.record_batch({"x": [1, 2, 3]}))
    accumulator.add(pa.record_batch({"x": ["a"]}))
    mixed = accumulator.result()
    updated = update_schema(schema('feature { name: "x" type: INT }'), mixed)
    assert reasons(validate_statistics(mixed, updated)) == {("x", "UNEXPECTED_DATA_TYPE")}


def test_add_environments() -> None:
    original = infer_schema(stats({"label": [0, 1], "x": [1, 2]}))
    with_envs = add_environments(
        original, ["TRAINING", "SERVING"], not_in={"label": ["SERVING"]}, only_in={"x": ["DEBUG"]}
    )
    assert list(with_envs.default_environment) == ["TRAINING", "SERVING"]
    assert list(get_feature(with_envs, "label").not_in_environment) == ["SERVING"]
    assert list(get_feature(with_envs, "x").in_environment) == ["DEBUG"]
    assert not original.default_environment  # a copy
    again = add_environments(with_envs, ["SERVING"], not_in={"label": ["SERVING"]})
    assert again == with_envs  # idempotent
    with pytest.raises(InvalidInputError, match="no feature nope"):
        add_environments(original, not_in={"nope": ["SERVING"]})
    with pytest.raises(InvalidInputError, match="non-empty string"):
        add_environments(original, [""])


def test_environments_follow_tfdv() -> None:
    expected = add_environments(
        infer_schema(stats({"label": [0, 1], "x": [1, 2], "debug": [3, 4]})),
        ["TRAINING", "SERVING"],
        not_in={"label": ["SERVING"], "debug": ["TRAINING", "SERVING"]},
        only_in={"debug": ["DEBUG"]},
    )
    serving = stats({"x": [1]})
    assert by_feature(validate_statistics(serving, expected, "SERVING")) == {}
    assert by_feature(validate_statistics(serving, expected, "TRAINING")) == {
        "label": {"SCHEMA_MISSING_COLUMN"}
    }
    # DEBUG is not a default: only `debug` (in_environment) is expected there.
    assert by_feature(validate_statistics(stats({"debug": [1]}), expected, "DEBUG")) == {}
    found = validate_statistics(stats({"debug": [1], "x": [1]}), expected, "DEBUG")
    assert by_feature(found) == {"x": {"SCHEMA_NEW_COLUMN"}}
    # update_schema moves a feature seen in an environment into it.
    updated = update_schema(expected, stats({"x": [1], "label": [0]}), "SERVING")
    assert list(get_feature(updated, "label").not_in_environment) == []
    with pytest.raises(SchemaError, match="environment 'SERVNG' is not declared"):
        validate_statistics(serving, expected, "SERVNG")
    with pytest.raises(SchemaError, match="declared: none"):
        update_schema(infer_schema(serving), serving, "SERVING")
