"""Where a dataset's statistics break a schema, and the relaxed schema that accepts them.

:func:`check_statistics` walks every feature of the statistics and of the schema, as TFDV's
validator does, and returns both the violations found and a relaxed copy of the schema:
validation reports the former, :func:`beam_stats.update_schema` keeps the latter. The order
and relaxations are TFDV's:

* the schema's own problems (:mod:`~beam_stats.schema.checks.specification`), for every
  active feature, fixed before the data is looked at;
* sparse and weighted features from their components
  (:mod:`~beam_stats.schema.checks.sparse_weighted`);
* a feature in the data but not in the schema is a new column
  (:mod:`~beam_stats.schema.checks.columns`; added, inferred with the options the schema was
  inferred with), unless it is a sparse or weighted feature's component or the struct of
  features the schema names the old way (``"parent.child"``, which finds the statistics'
  nested path); deprecated features (lifecycle PLANNED, ALPHA, DEPRECATED, DEBUG_ONLY,
  DISABLED, as TFDV) and their fields are skipped;
* a feature present in no example but required is not present (deprecated;
  :mod:`~beam_stats.schema.checks.presence`);
* a feature present but not expected in the environment is a new column there (added to the
  environment);
* value counts, fixed shape (:mod:`~beam_stats.schema.checks.valency`), presence;
* a type other than the schema's is unexpected (feature deprecated, nothing else checked);
  values of several types, or values the reader could not convert, are unexpected too
  (:mod:`~beam_stats.schema.checks.data_type`);
* domains (:mod:`~beam_stats.schema.checks.domains`, semantic ones and derived sources in
  :mod:`~beam_stats.schema.checks.semantic`), unique-value counts
  (:mod:`~beam_stats.schema.checks.uniqueness`);
* a required feature absent from the statistics is a missing column (deprecated);
* the dataset's example count against ``dataset_constraints``
  (:mod:`~beam_stats.schema.checks.dataset`).

:mod:`beam_stats.validation.catalogue` lists every anomaly type with the check that raises it.
"""

from __future__ import annotations

import dataclasses

from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

from beam_stats._types import FeaturePath
from beam_stats.schema import extras
from beam_stats.schema.checks.columns import environment_violations, missing_column, new_column
from beam_stats.schema.checks.data_type import mixed_types, type_mismatch
from beam_stats.schema.checks.dataset import dataset_violations
from beam_stats.schema.checks.domains import check_domain
from beam_stats.schema.checks.presence import not_present, presence_violations
from beam_stats.schema.checks.semantic import check_semantic, derived_source
from beam_stats.schema.checks.sparse_weighted import check_composites
from beam_stats.schema.checks.specification import check_specification
from beam_stats.schema.checks.uniqueness import unique_violations
from beam_stats.schema.checks.valency import shape_violations, valency_violations
from beam_stats.schema.composite import known_paths
from beam_stats.schema.features import (
    check_environment,
    deprecate,
    dotted_path,
    find_feature,
    has_inactive_ancestor,
    holds_dotted_features,
    is_deprecated,
    is_required,
    iter_features,
)
from beam_stats.schema.infer import infer_feature
from beam_stats.schema.view import FeatureView, dataset_views
from beam_stats.schema.violations import Violation


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
    result.dataset += dataset_violations(relaxed, dataset)
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
                result.features[path] = [new_column(view)]
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
            result.features.setdefault(path, []).append(missing_column(feature, environment))
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
        return not_present(schema, feature, view, environment)
    found = environment_violations(schema, feature, view, environment)
    found += valency_violations(feature, view)
    found += shape_violations(feature, view)
    found += presence_violations(feature.presence, view)
    mismatch = type_mismatch(feature, view)
    if mismatch:  # the feature is deprecated: nothing else of it is checked
        return found + mismatch
    found += mixed_types(feature, view)
    found += check_domain(schema, feature, view)
    found += check_semantic(feature, view)
    found += unique_violations(feature, view)
    found += derived_source(feature, view)
    return found
