"""beam_stats.drift.series_limits and series_schema: the limits of the metric series per
metric and per feature, their precedence, and the schema that keeps them."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from beam_stats import (
    HistoryLimits,
    MetricLimits,
    SeriesLimits,
    history_limits,
    load_schema,
    with_history_limits,
    write_schema,
)
from beam_stats.drift.series_limits import MetricRule, check_limits, metric_limits
from beam_stats.errors import InvalidInputError, SchemaError
from beam_stats.proto import schema_pb2 as bs_schema_pb2
from beam_stats.schema.extras import severity_overrides, with_severity_overrides

FEATURES = """
feature { name: "price" type: FLOAT }
feature { name: "country" type: BYTES }
feature { name: "user" type: STRUCT struct_domain { feature { name: "age" type: INT } } }
"""
# As a user writes it by hand: the expanded form of the Any.
HAND_WRITTEN = (
    FEATURES
    + """
annotation { extra_metadata { [type.googleapis.com/beam_stats.HistoryLimits] {
  limits { z: 4 min_history: 5 }
  limits { metric: "missing_fraction" strategy: "absolute" threshold: 0.02 }
  features {
    path: "price"
    limits { metric: "mean" strategy: "zscore" z: 5 floor: 0.5 }
    limits { metric: "*" z: 6 }
  }
  features { path: "user" path: "age" limits { floor: 0.1 } }
} } }
"""
)
EXPECTED = HistoryLimits(
    metrics={
        "*": MetricLimits(z=4, min_history=5),
        "missing_fraction": MetricLimits(strategy="absolute", threshold=0.02),
    },
    features={
        ("price",): {
            "mean": MetricLimits(strategy="zscore", z=5, floor=0.5),
            "*": MetricLimits(z=6),
        },
        ("user", "age"): {"*": MetricLimits(floor=0.1)},
    },
)


def _schema(text: str) -> schema_pb2.Schema:
    return text_format.Parse(text, schema_pb2.Schema())


def test_a_hand_written_schema_is_read(tmp_path: Path) -> None:
    path = tmp_path / "schema.pbtxt"
    path.write_text(HAND_WRITTEN)
    assert history_limits(load_schema(path)) == EXPECTED
    assert history_limits(_schema(FEATURES)) is None


@pytest.mark.parametrize("suffix", [".pbtxt", ".pb"])
def test_the_limits_round_trip_through_a_schema_file(tmp_path: Path, suffix: str) -> None:
    kept = with_severity_overrides(_schema(FEATURES), {"SCHEMA_NEW_COLUMN": "WARNING"})
    schema = with_history_limits(kept, EXPECTED)
    path = write_schema(schema, tmp_path / f"schema{suffix}")
    loaded = load_schema(path)
    assert loaded == schema
    assert history_limits(loaded) == EXPECTED
    assert severity_overrides(loaded) == severity_overrides(kept)  # other settings kept
    if suffix == ".pbtxt":
        text = Path(path).read_text()
        # Packed (TFDV reads it without beam-stats' types), with a readable comment.
        assert "[type.googleapis.com/beam_stats.HistoryLimits]" not in text
        assert 'type_url: "type.googleapis.com/beam_stats.HistoryLimits"' in text
        comment = next(line for line in text.splitlines() if "beam_stats.HistoryLimits {" in line)
        assert comment.startswith("# ") and 'metric: "missing_fraction"' in comment
        assert 'strategy: "absolute"' in comment and "threshold: 0.02" in comment


def test_writing_again_replaces_and_empty_limits_remove() -> None:
    schema = with_history_limits(_schema(FEATURES), EXPECTED)
    other = HistoryLimits(metrics={"std": MetricLimits(z=2)})
    again = with_history_limits(schema, other)
    kinds = [e.type_url for e in again.annotation.extra_metadata]
    assert kinds == ["type.googleapis.com/beam_stats.HistoryLimits"]
    assert history_limits(again) == other
    assert history_limits(with_history_limits(again, HistoryLimits())) is None
    assert not with_history_limits(again, HistoryLimits()).annotation.extra_metadata


def test_precedence_feature_metric_then_feature_then_schema_then_caller() -> None:
    caller = SeriesLimits(
        strategy="mad",
        z=2,
        min_history=3,
        mean_change=0.1,
        metrics={"mean": MetricLimits(z=2.5, floor=0.2), "top_share": MetricLimits(z=1.5)},
    )
    rule = metric_limits(caller, EXPECTED, ("price",), "mean")
    assert rule == MetricRule(strategy="zscore", z=5, floor=0.5, min_history=5, threshold=None)
    # The feature's "*" over the schema's "*"; the floor is the caller's (relative_change).
    assert metric_limits(caller, EXPECTED, ("price",), "std") == MetricRule("mad", 6, 0.25, 5, None)
    # The feature's "*" floor, the schema's "*" z over the caller's metric z.
    assert metric_limits(caller, EXPECTED, ("user", "age"), "mean") == MetricRule(
        "mad", 4, 0.1, 5, None
    )
    # A feature the schema does not name: the schema's "*", then the caller's metric floor.
    assert metric_limits(caller, EXPECTED, ("country",), "mean") == MetricRule(
        "mad", 4, 0.2, 5, None
    )
    # The schema's metric entry applies to every feature, under a feature's own fields.
    assert metric_limits(caller, EXPECTED, ("price",), "missing_fraction") == MetricRule(
        "absolute", 6, 0.05, 5, 0.02
    )
    assert metric_limits(caller, EXPECTED, (), "num_examples") == MetricRule("mad", 4, 0.3, 5, None)
    # Without a schema: the caller's metric entry, then its fields.
    assert metric_limits(caller, None, ("country",), "top_share") == MetricRule(
        "mad", 1.5, 0.05, 3, None
    )
    assert metric_limits(caller, None, ("x",), "drift_previous") == MetricRule(
        "mad", 2, 0.05, 3, None
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: MetricLimits(z=-1), "z must be a finite number >= 0, got -1"),
        (lambda: MetricLimits(threshold=float("nan")), "threshold must be .* got nan"),
        (lambda: MetricLimits(strategy="median"), "strategy must be one of .* got 'median'"),
        (lambda: MetricLimits(min_history=0), "min_history must be an integer >= 1, got 0"),
        (lambda: HistoryLimits(metrics={"mena": MetricLimits()}), "unknown metric 'mena'"),
        (
            lambda: HistoryLimits(features={("x",): {"num_examples": MetricLimits()}}),
            "'num_examples' is the dataset's metric",
        ),
        (lambda: HistoryLimits(features={"x": {}}), "a feature path is a tuple of names, got 'x'"),
        (lambda: SeriesLimits(metrics={"mean": 3}), "must be MetricLimits, got 3"),
        (lambda: SeriesLimits(metrics={"*": MetricLimits()}), "its own fields are the limits"),
        (lambda: SeriesLimits(drift_change=-0.1), "drift_change must be .* got -0.1"),
        (lambda: SeriesLimits(strategy="median"), "got 'median'"),
    ],
)
def test_bad_python_limits_are_refused(make: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        make()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ('limits { metric: "mena" z: 3 }', "unknown metric 'mena'"),
        ("limits { z: -2 }", "history limits of '\\*' for every feature: z must be .* got -2.0"),
        ('limits { strategy: "median" }', "strategy must be one of .* got 'median'"),
        ('limits { metric: "std" } limits { metric: "std" z: 1 }', "set 'std' twice"),
        ('features { path: "nope" limits { z: 3 } }', "name feature 'nope', which the schema"),
        (
            'features { path: "price" limits { metric: "num_examples" z: 3 } }',
            "'num_examples' is the dataset's metric",
        ),
        (
            'features { path: "price" limits { metric: "mean" min_history: 0 } }',
            "of 'mean' for feature 'price': min_history must be an integer >= 1, got 0",
        ),
    ],
)
def test_bad_limits_in_a_schema_are_a_schema_error(limits: str, message: str) -> None:
    schema = _schema(
        FEATURES
        + "annotation { extra_metadata { [type.googleapis.com/beam_stats.HistoryLimits] { "
        + limits
        + " } } }"
    )
    with pytest.raises(SchemaError, match=message):
        history_limits(schema)


def test_an_unreadable_annotation_is_a_schema_error() -> None:
    schema = _schema(FEATURES)
    extra = schema.annotation.extra_metadata.add()
    extra.type_url = "type.googleapis.com/" + bs_schema_pb2.HistoryLimits.DESCRIPTOR.full_name
    extra.value = b"\x0a\xff"  # a length beyond the data
    with pytest.raises(SchemaError, match="unreadable HistoryLimits"):
        history_limits(schema)


def test_writing_limits_of_an_unknown_feature_is_refused() -> None:
    limits = HistoryLimits(features={("nope",): {"mean": MetricLimits(z=3)}})
    with pytest.raises(InvalidInputError, match=r"features the schema lacks: \['nope'\]"):
        with_history_limits(_schema(FEATURES), limits)


def test_the_absolute_strategy_needs_a_threshold_at_some_level() -> None:
    with pytest.raises(InvalidInputError, match="absolute strategy of 'num_examples' \\(the data"):
        check_limits(SeriesLimits(strategy="absolute"), None)
    everywhere = {m: MetricLimits(threshold=1.0) for m in ("num_examples", "missing_fraction")}
    everywhere |= {m: MetricLimits(threshold=1.0) for m in ("mean", "std", "distinct")}
    everywhere |= {m: MetricLimits(threshold=1.0) for m in ("top_share", "drift_previous")}
    check_limits(SeriesLimits(strategy="absolute"), HistoryLimits(metrics=everywhere))
    check_limits(SeriesLimits(strategy="absolute", metrics=everywhere), None)
    # The threshold for every metric, in the schema's "*".
    check_limits(SeriesLimits(strategy="absolute"), HistoryLimits(metrics={"*": everywhere["std"]}))
    per_feature = HistoryLimits(features={("price",): {"std": MetricLimits(strategy="absolute")}})
    with pytest.raises(InvalidInputError, match="absolute strategy of 'std' \\(feature 'price'\\)"):
        check_limits(SeriesLimits(), per_feature)
