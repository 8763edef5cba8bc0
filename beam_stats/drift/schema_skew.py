"""Schema-level skew: a feature typed or shaped differently in training and serving.

:func:`schema_differences` compares one feature's statistics in the two datasets:

* type: the schema type each would be inferred as (INT, FLOAT, BYTES for string and bytes
  statistics, STRUCT), so an INT feature served as FLOAT is skew, a string feature with
  some invalid UTF-8 is not;
* valency, level by level: a fixed number of values per example (``min == max``) in one
  dataset and a variable number, or another fixed number, in the other; or a different
  nesting depth. Two variable ranges (0 to 3 against 1 to 5) are a distribution change,
  not skew. Not checked when a dataset has the feature in no example.

:func:`schema_skew` does so for every feature of the two datasets that the schema lets be
compared (active, expected in the environments), and reports a feature present in only one
of them where the schema's environments expect it in both (features not expected in the
serving environment, like a label, or not in the training one, are not). Validation with
serving statistics calls it (:mod:`beam_stats.validation.comparators`).
"""

from __future__ import annotations

from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2, statistics_pb2

from beam_stats._types import FeaturePath
from beam_stats.schema.features import (
    find_feature,
    has_inactive_ancestor,
    in_environment,
    is_deprecated,
)
from beam_stats.schema.view import FeatureView, dataset_views
from beam_stats.schema.violations import Violation, type_name

SKEW = anomalies_pb2.AnomalyInfo.SCHEMA_TRAINING_SERVING_SKEW


def _levels(view: FeatureView) -> list[tuple[int, int]]:
    return view.num_values_by_level() or [
        (int(view.common.min_num_values), int(view.common.max_num_values))
    ]


def _valency(levels: list[tuple[int, int]]) -> str:
    return ", ".join(f"{low}" if low == high else f"{low} to {high}" for low, high in levels)


def schema_differences(training: FeatureView, serving: FeatureView) -> list[Violation]:
    """How one feature's type and valency differ between training and serving statistics."""
    found = []
    if training.schema_type != serving.schema_type:
        found.append(
            Violation(
                SKEW,
                "Type skew",
                f"The feature is {type_name(training.schema_type)} in training but "
                f"{type_name(serving.schema_type)} in serving.",
            )
        )
    if training.num_present == 0 or serving.num_present == 0:
        return found
    a, b = _levels(training), _levels(serving)
    fixed_a = [low == high for low, high in a]
    fixed_b = [low == high for low, high in b]
    differ = len(a) != len(b) or any(
        fa != fb or (fa and x != y) for fa, fb, x, y in zip(fixed_a, fixed_b, a, b, strict=False)
    )
    if differ:
        found.append(
            Violation(
                SKEW,
                "Valency skew",
                f"Examples have {_valency(a)} values of the feature in training but "
                f"{_valency(b)} in serving.",
            )
        )
    return found


def schema_skew(
    schema: schema_pb2.Schema,
    training: statistics_pb2.DatasetFeatureStatistics,
    serving: statistics_pb2.DatasetFeatureStatistics,
    environment: str | None,
    serving_environment: str | None,
) -> dict[FeaturePath, list[Violation]]:
    """The schema skew of every feature between `training` and `serving` (by path).

    Args:
        schema: what the environments expect; deprecated features are not compared.
        environment: the environment of `training`; `serving_environment` of `serving`.
    """
    found: dict[FeaturePath, list[Violation]] = {}
    # A sparse or weighted feature's checks (composite_only) are no column to compare.
    views, serving_views = (
        {p: v for p, v in dataset_views(d).items() if not v.composite_only}
        for d in (training, serving)
    )

    def checked(path: FeaturePath, where: str | None) -> bool:
        """Whether the schema lets the feature be compared (None: expected everywhere)."""
        if has_inactive_ancestor(schema, path):
            return False
        feature = find_feature(schema, path)
        if feature is None:
            return True
        return not is_deprecated(feature) and in_environment(schema, feature, where)

    for path in sorted(set(views) | set(serving_views)):
        view, other = views.get(path), serving_views.get(path)
        if view is not None and other is not None:
            if checked(path, None):
                differences = schema_differences(view, other)
                if differences:
                    found[path] = differences
        elif view is not None and checked(path, serving_environment):
            found[path] = [_one_sided("training", "serving", serving_environment)]
        elif other is not None and checked(path, environment):
            found[path] = [_one_sided("serving", "training", environment)]
    return found


def _one_sided(present: str, absent: str, where: str | None) -> Violation:
    expected = f" (expected in environment {where})" if where else ""
    return Violation(
        SKEW,
        f"Feature only in {present}",
        f"The feature is in the {present} statistics but not in the {absent} ones{expected}.",
    )
