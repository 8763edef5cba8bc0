"""The number of distinct values against ``unique_constraints``.

* statistics that count no distinct values (a feature neither string nor categorical) ->
  FEATURE_TYPE_NO_UNIQUE (the constraint is cleared);
* fewer than ``min`` -> FEATURE_TYPE_LOW_UNIQUE, more than ``max`` ->
  FEATURE_TYPE_HIGH_UNIQUE (the bound moves to the observed count). An estimated distinct
  count is an anomaly only beyond three of its relative standard errors.
"""

from __future__ import annotations

from tensorflow_metadata.proto.v0 import schema_pb2

from beam_stats.schema.view import FeatureView
from beam_stats.schema.violations import AnomalyType, Violation, pct


def unique_violations(feature: schema_pb2.Feature, view: FeatureView) -> list[Violation]:
    """The ``unique_constraints`` violations of one present feature, relaxing `feature`."""
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
