"""Schema-level skew: a feature typed or shaped differently in training and serving.

:func:`schema_differences` compares one feature's statistics in the two datasets:

* type: the schema type each would be inferred as (INT, FLOAT, BYTES for string and bytes
  statistics, STRUCT), so an INT feature served as FLOAT is skew, a string feature with
  some invalid UTF-8 is not;
* valency, level by level: a fixed number of values per example (``min == max``) in one
  dataset and a variable number, or another fixed number, in the other; or a different
  nesting depth. Two variable ranges (0 to 3 against 1 to 5) are a distribution change,
  not skew. Not checked when a dataset has the feature in no example.

Features present in only one of the datasets are schema skew too; validation reports them,
as it knows from the schema's environments where a feature is expected
(:mod:`beam_stats.validation.comparisons`).
"""

from __future__ import annotations

from tensorflow_metadata.proto.v0 import anomalies_pb2

from beam_stats.schema.view import FeatureView
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
