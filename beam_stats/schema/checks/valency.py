"""Value-count, nesting and shape constraints checked against a feature's statistics.

As in TFDV, each check relaxes the feature (a copy the caller owns) to accept the data:
lower bounds drop to the observed value (a value-count minimum of 0 is cleared), upper bounds
rise, a shape the data breaks is dropped, and value counts at the wrong nesting depth are
cleared. Statistics without per-level counts (beam-stats flattens nested lists) cannot check
value counts of more than one level, so those are skipped.
"""

from __future__ import annotations

import math

from tensorflow_metadata.proto.v0 import schema_pb2

from beam_stats.schema.view import FeatureView
from beam_stats.schema.violations import AnomalyType, Violation


def _value_count_violations(
    value_count: schema_pb2.ValueCount, low: int, high: int, level: str
) -> list[Violation]:
    found = []
    if value_count.HasField("min") and low < value_count.min:
        found.append(
            Violation(
                AnomalyType.FEATURE_TYPE_LOW_NUMBER_VALUES,
                f"{low} values in some examples{level}, expected >= {value_count.min}",
                f"Some examples have {low} values{level}; the schema expects at least "
                f"{value_count.min}.",
            )
        )
        if low == 0:
            value_count.ClearField("min")
        else:
            value_count.min = low
    if value_count.HasField("max") and high > value_count.max:
        found.append(
            Violation(
                AnomalyType.FEATURE_TYPE_HIGH_NUMBER_VALUES,
                f"{high} values in some examples{level}, expected <= {value_count.max}",
                f"Some examples have {high} values{level}; the schema expects at most "
                f"{value_count.max}.",
            )
        )
        value_count.max = high
    return found


def valency_violations(feature: schema_pb2.Feature, view: FeatureView) -> list[Violation]:
    levels = view.num_values_by_level()
    flat = [(int(view.common.min_num_values), int(view.common.max_num_values))]
    if feature.HasField("value_count"):
        expected = 1
    elif feature.HasField("value_counts"):
        expected = len(feature.value_counts.value_count)
        if levels is None and expected > 1:
            return []  # flattened statistics cannot check nested value counts
    else:
        return []
    levels = levels or flat
    if len(levels) != expected:
        feature.ClearField("value_count")
        feature.ClearField("value_counts")
        return [
            Violation(
                AnomalyType.VALUE_NESTEDNESS_MISMATCH,
                f"{len(levels)} nesting levels, expected {expected}",
                f"The values are nested {len(levels)} levels deep; the schema's value counts "
                f"describe {expected}. Value counts are not checked.",
            )
        ]
    if feature.HasField("value_count"):
        return _value_count_violations(feature.value_count, *levels[0], "")
    found = []
    for i, (low, high) in enumerate(levels):
        value_count = feature.value_counts.value_count[i]
        found += _value_count_violations(value_count, low, high, f" at nesting level {i}")
    return found


def shape_violations(feature: schema_pb2.Feature, view: FeatureView) -> list[Violation]:
    if not feature.HasField("shape"):
        return []
    dims = [d.size for d in feature.shape.dim]
    expected = math.prod(dims)
    levels = view.num_values_by_level() or [
        (int(view.common.min_num_values), int(view.common.max_num_values))
    ]
    fixed = all(low == high and low > 0 for low, high in levels)
    actual = math.prod(low for low, _ in levels) if fixed else -1
    shape = "[" + ", ".join(str(d) for d in dims) + "]"
    if view.num_missing:
        observed = f"is missing in {view.num_missing} of {view.num_examples} examples"
    elif not fixed:
        low, high = min(lv for lv, _ in levels), max(hv for _, hv in levels)
        observed = f"has between {low} and {high} values per example"
    elif actual != expected:
        observed = f"has {actual} values in every example"
    else:
        return []
    feature.ClearField("shape")
    return [
        Violation(
            AnomalyType.INVALID_FEATURE_SHAPE,
            f"Shape {shape} broken",
            f"The schema fixes the shape {shape} ({expected} value{'s' if expected != 1 else ''} "
            "in every example), but "
            f"the feature {observed}.",
        )
    ]
