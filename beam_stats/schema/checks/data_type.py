"""The type of a feature's values against the schema's ``type``: UNEXPECTED_DATA_TYPE.

* statistics of another type than the schema's (the feature is deprecated in the relaxed
  schema, and nothing else of it is checked);
* values of several types (the ``type_conflict`` custom statistic), or values the reader
  could not convert to the column's type (``num_invalid_values``).
"""

from __future__ import annotations

from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

from beam_stats.schema.features import deprecate
from beam_stats.schema.view import FeatureView
from beam_stats.schema.violations import AnomalyType, Violation, type_name


def type_mismatch(feature: schema_pb2.Feature, view: FeatureView) -> list[Violation]:
    """UNEXPECTED_DATA_TYPE when the statistics' type is not the schema's (deprecating it)."""
    if not feature.type or view.schema_type == feature.type:
        return []
    deprecate(feature)
    observed = statistics_pb2.FeatureNameStatistics.Type.Name(view.stats_type)
    return [
        Violation(
            AnomalyType.UNEXPECTED_DATA_TYPE,
            f"Type {observed}, expected {type_name(feature.type)}",
            f"Expected data of type {type_name(feature.type)}, but got {observed}.",
        )
    ]


def mixed_types(feature: schema_pb2.Feature, view: FeatureView) -> list[Violation]:
    """UNEXPECTED_DATA_TYPE for values of several types or values that were not readable."""
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
