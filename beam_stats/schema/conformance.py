"""Where a dataset's statistics break a schema, and the relaxed schema that accepts them.

:func:`check_statistics` walks every feature of the statistics and of the schema, as TFDV's
validator does, and returns both the violations found and a relaxed copy of the schema:
validation reports the former, :func:`beam_stats.update_schema` keeps the latter. The order
and relaxations are TFDV's:

* the schema's own problems (:mod:`beam_stats.schema.specification`), for every active
  feature, fixed before the data is looked at;
* sparse and weighted features from their components (:mod:`beam_stats.schema.composite`);
* a feature in the data but not in the schema is a new column (added, inferred with the
  options the schema was inferred with), unless it is a sparse or weighted feature's
  component or the struct of features the schema names the old way (``"parent.child"``,
  which finds the statistics' nested path); deprecated features (lifecycle PLANNED, ALPHA,
  DEPRECATED, DEBUG_ONLY, DISABLED, as TFDV) and their fields are skipped;
* a feature present in no example but required is not present (deprecated);
* a feature present but not expected in the environment is a new column there (added to the
  environment);
* value counts, fixed shape, presence (:mod:`beam_stats.schema.valency`);
* a type other than the schema's is unexpected (feature deprecated, nothing else checked);
  values of several types, or values the reader could not convert, are unexpected too;
* domains (:mod:`beam_stats.schema.domains`, semantic ones in
  :mod:`beam_stats.schema.semantic`), unique-value counts, derived sources;
* a required feature absent from the statistics is a missing column (deprecated);
* the dataset's example count against ``dataset_constraints``.
"""

from __future__ import annotations

import dataclasses

from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

from beam_stats._types import FeaturePath
from beam_stats.schema import extras
from beam_stats.schema.composite import check_composites, known_paths
from beam_stats.schema.domains import check_domain
from beam_stats.schema.features import (
    check_environment,
    deprecate,
    dotted_path,
    find_feature,
    has_inactive_ancestor,
    holds_dotted_features,
    in_environment,
    is_deprecated,
    is_required,
    iter_features,
)
from beam_stats.schema.infer import infer_feature
from beam_stats.schema.semantic import (
    check_semantic,
    derived_source,
)
from beam_stats.schema.specification import check_specification
from beam_stats.schema.valency import presence_violations, shape_violations, valency_violations
from beam_stats.schema.view import FeatureView, dataset_views
from beam_stats.schema.violations import AnomalyType, Violation, pct, type_name


@dataclasses.dataclass
class Conformance:
    """What :func:`check_statistics` found.

    Attributes:
        schema: a relaxed copy of the schema that accepts the statistics.
        features: violations per feature path (only features with some).
        dataset: dataset-level violations.
    """

    schema: schema_pb2.Schema
    features: dict[FeaturePath, list[Violation]]
    dataset: list[Violation]


def check_statistics(
    schema: schema_pb2.Schema,
    dataset: statistics_pb2.DatasetFeatureStatistics,
    environment: str | None = None,
) -> Conformance:
    """Checks one dataset's statistics against `schema` (see the module docstring).

    Raises:
        SchemaError: `environment` is not declared in the schema.
    """
    relaxed = schema_pb2.Schema()
    relaxed.CopyFrom(schema)
    check_environment(relaxed, environment)
    features, dataset_problems = check_specification(relaxed)
    result = Conformance(relaxed, features, dataset_problems)
    result.dataset += _dataset_constraints(relaxed, dataset)
    views = dataset_views(dataset)
    for path, violations in check_composites(relaxed, views).items():
        result.features.setdefault(path, []).extend(violations)
    composite_parts = known_paths(relaxed)
    for path, view in views.items():
        if has_inactive_ancestor(relaxed, path):
            continue
        feature = find_feature(relaxed, path)
        if feature is None:
            if (
                path not in composite_parts
                and not view.composite_only
                and not holds_dotted_features(relaxed, path)
            ):
                result.features[path] = [_new_column(view)]
                infer_feature(relaxed, view, extras.spec_of(extras.provenance(relaxed)))
        elif not is_deprecated(feature):
            found = check_feature(relaxed, feature, view, environment)
            if found:
                result.features.setdefault(path, []).extend(found)
    missing: list[FeaturePath] = []
    for path, feature in list(iter_features(relaxed, active_only=True)):
        if path in views or any(path[: len(m)] == m for m in missing):
            continue
        if dotted_path(path) in views and find_feature(relaxed, dotted_path(path)) is feature:
            continue  # an old-style name, present under its nested path
        if is_required(relaxed, feature, environment):
            missing.append(path)
            result.features.setdefault(path, []).append(_missing_column(feature, environment))
            deprecate(feature)
    return result


def check_feature(
    schema: schema_pb2.Schema,
    feature: schema_pb2.Feature,
    view: FeatureView,
    environment: str | None,
) -> list[Violation]:
    """The violations of one feature, relaxing `feature` (part of `schema`) to accept them."""
    if view.num_present == 0:
        if not is_required(schema, feature, environment):
            return []
        deprecate(feature)
        return [
            Violation(
                AnomalyType.FEATURE_TYPE_NOT_PRESENT,
                "Present in no example",
                f"The feature is present in none of the {view.num_examples} examples; the "
                f"schema expects it in {_presence_text(feature.presence)}.",
            )
        ]
    found = []
    if not in_environment(schema, feature, environment):
        assert environment is not None  # every feature is expected without an environment
        if environment in feature.not_in_environment:
            feature.not_in_environment.remove(environment)
        if not in_environment(schema, feature, environment):
            feature.in_environment.append(environment)
        found.append(
            Violation(
                AnomalyType.SCHEMA_NEW_COLUMN,
                f"Column not expected in {environment}",
                f"The feature is present in {view.num_present} of {view.num_examples} examples, "
                f"but the schema does not expect it in environment {environment}.",
            )
        )
    found += valency_violations(feature, view)
    found += shape_violations(feature, view)
    found += presence_violations(feature.presence, view)
    if feature.type and view.schema_type != feature.type:
        deprecate(feature)
        observed = statistics_pb2.FeatureNameStatistics.Type.Name(view.stats_type)
        return [
            *found,
            Violation(
                AnomalyType.UNEXPECTED_DATA_TYPE,
                f"Type {observed}, expected {type_name(feature.type)}",
                f"Expected data of type {type_name(feature.type)}, but got {observed}.",
            ),
        ]
    found += _mixed_types(feature, view)
    found += check_domain(schema, feature, view)
    found += check_semantic(feature, view)
    found += _unique(feature, view)
    found += derived_source(feature, view)
    return found


def _new_column(view: FeatureView) -> Violation:
    observed = statistics_pb2.FeatureNameStatistics.Type.Name(view.stats_type)
    return Violation(
        AnomalyType.SCHEMA_NEW_COLUMN,
        "New column",
        f"The data has a column the schema does not list ({observed}, present in "
        f"{view.num_present} of {view.num_examples} examples).",
    )


def _missing_column(feature: schema_pb2.Feature, environment: str | None) -> Violation:
    where = f" in environment {environment}" if environment else ""
    return Violation(
        AnomalyType.SCHEMA_MISSING_COLUMN,
        "Column missing",
        f"The data has no such column; the schema expects it{where} in "
        f"{_presence_text(feature.presence)}.",
    )


def _presence_text(presence: schema_pb2.FeaturePresence) -> str:
    if presence.min_fraction >= 1.0:
        return "every example"
    if presence.min_fraction > 0.0:
        return f"at least {pct(presence.min_fraction)} of the examples"
    count = max(presence.min_count, 1)
    return f"at least {count} example{'s' if count > 1 else ''}"


def _mixed_types(feature: schema_pb2.Feature, view: FeatureView) -> list[Violation]:
    parts = []
    conflict = view.custom_str("type_conflict")
    if conflict:
        parts.append(f"values of several types were seen ({conflict})")
    invalid = int(view.custom_num("num_invalid_values") or 0)
    if invalid:
        parts.append(
            f"{invalid} values could not be read as the column's type and were counted as missing"
        )
    if not parts:
        return []
    return [
        Violation(
            AnomalyType.UNEXPECTED_DATA_TYPE,
            "Values of an unexpected type",
            f"Expected data of type {type_name(feature.type)}, but {'; '.join(parts)}.",
        )
    ]


def _unique(feature: schema_pb2.Feature, view: FeatureView) -> list[Violation]:
    if not feature.HasField("unique_constraints"):
        return []
    constraints = feature.unique_constraints
    unique = view.unique
    if unique is None:
        feature.ClearField("unique_constraints")
        return [
            Violation(
                AnomalyType.FEATURE_TYPE_NO_UNIQUE,
                "Unique values not counted",
                "The schema constrains the number of unique values, but the statistics do not "
                "count them (the feature is neither a string nor categorical).",
            )
        ]
    error = view.unique_relative_error
    estimate = f" (estimated, relative standard error {pct(error)})" if error else ""
    found = []
    if constraints.HasField("min") and unique * (1 + 3 * error) < constraints.min:
        found.append(
            Violation(
                AnomalyType.FEATURE_TYPE_LOW_UNIQUE,
                f"{unique} unique values, expected >= {constraints.min}",
                f"Expected at least {constraints.min} unique values but found {unique}{estimate}.",
            )
        )
        constraints.min = unique
    if constraints.HasField("max") and unique * (1 - 3 * error) > constraints.max:
        found.append(
            Violation(
                AnomalyType.FEATURE_TYPE_HIGH_UNIQUE,
                f"{unique} unique values, expected <= {constraints.max}",
                f"Expected no more than {constraints.max} unique values but found {unique}"
                f"{estimate}.",
            )
        )
        constraints.max = unique
    return found


def _dataset_constraints(
    schema: schema_pb2.Schema, dataset: statistics_pb2.DatasetFeatureStatistics
) -> list[Violation]:
    if not schema.HasField("dataset_constraints"):
        return []
    constraints = schema.dataset_constraints
    n = int(dataset.num_examples)
    found = []
    if constraints.HasField("min_examples_count") and n < constraints.min_examples_count:
        found.append(
            Violation(
                AnomalyType.DATASET_LOW_NUM_EXAMPLES,
                f"{n} examples, expected >= {constraints.min_examples_count}",
                f"The dataset has {n} examples; the schema expects at least "
                f"{constraints.min_examples_count}.",
            )
        )
        constraints.min_examples_count = n
    if constraints.HasField("max_examples_count") and n > constraints.max_examples_count:
        found.append(
            Violation(
                AnomalyType.DATASET_HIGH_NUM_EXAMPLES,
                f"{n} examples, expected <= {constraints.max_examples_count}",
                f"The dataset has {n} examples; the schema expects at most "
                f"{constraints.max_examples_count}.",
            )
        )
        constraints.max_examples_count = n
    return found
