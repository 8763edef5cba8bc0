"""New and missing columns: the data against the schema's list of features and environments.

* a feature in the data but not in the schema -> SCHEMA_NEW_COLUMN (the caller adds it to
  the relaxed schema, inferred as the schema was);
* a schema feature present in the data but not expected in the data's environment ->
  SCHEMA_NEW_COLUMN (added to the environment);
* a required feature absent from the statistics -> SCHEMA_MISSING_COLUMN (the caller
  deprecates it).
"""

from __future__ import annotations

from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

from beam_stats.schema.checks.presence import presence_text
from beam_stats.schema.features import in_environment
from beam_stats.schema.view import FeatureView
from beam_stats.schema.violations import AnomalyType, Violation


def new_column(view: FeatureView) -> Violation:
    """SCHEMA_NEW_COLUMN for a feature of the data the schema does not list."""
    observed = statistics_pb2.FeatureNameStatistics.Type.Name(view.stats_type)
    return Violation(
        AnomalyType.SCHEMA_NEW_COLUMN,
        "New column",
        f"The data has a column the schema does not list ({observed}, present in "
        f"{view.num_present} of {view.num_examples} examples).",
    )


def environment_violations(
    schema: schema_pb2.Schema,
    feature: schema_pb2.Feature,
    view: FeatureView,
    environment: str | None,
) -> list[Violation]:
    """SCHEMA_NEW_COLUMN for a present feature not expected in `environment` (added to it)."""
    if in_environment(schema, feature, environment):
        return []
    assert environment is not None  # every feature is expected without an environment
    if environment in feature.not_in_environment:
        feature.not_in_environment.remove(environment)
    if not in_environment(schema, feature, environment):
        feature.in_environment.append(environment)
    return [
        Violation(
            AnomalyType.SCHEMA_NEW_COLUMN,
            f"Column not expected in {environment}",
            f"The feature is present in {view.num_present} of {view.num_examples} examples, "
            f"but the schema does not expect it in environment {environment}.",
        )
    ]


def missing_column(feature: schema_pb2.Feature, environment: str | None) -> Violation:
    """SCHEMA_MISSING_COLUMN for a required feature the statistics do not have."""
    where = f" in environment {environment}" if environment else ""
    return Violation(
        AnomalyType.SCHEMA_MISSING_COLUMN,
        "Column missing",
        f"The data has no such column; the schema expects it{where} in "
        f"{presence_text(feature.presence)}.",
    )
