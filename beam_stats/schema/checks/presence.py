"""Presence: how many examples have a feature, against the schema's ``presence``.

* a required feature (``presence.min_count`` or ``min_fraction`` above 0, expected in the
  data's environment) present in no example -> FEATURE_TYPE_NOT_PRESENT (the feature is
  deprecated in the relaxed schema);
* fewer examples than ``presence.min_count`` -> FEATURE_TYPE_LOW_NUMBER_PRESENT;
* a smaller fraction than ``presence.min_fraction`` (or any example missing it when that
  is 1) -> FEATURE_TYPE_LOW_FRACTION_PRESENT. The bounds drop to the observed values.
"""

from __future__ import annotations

from tensorflow_metadata.proto.v0 import schema_pb2

from beam_stats.schema.features import deprecate, is_required
from beam_stats.schema.view import FeatureView
from beam_stats.schema.violations import AnomalyType, Violation, pct


def not_present(
    schema: schema_pb2.Schema,
    feature: schema_pb2.Feature,
    view: FeatureView,
    environment: str | None,
) -> list[Violation]:
    """FEATURE_TYPE_NOT_PRESENT for a required feature in no example, deprecating it."""
    if not is_required(schema, feature, environment):
        return []
    deprecate(feature)
    return [
        Violation(
            AnomalyType.FEATURE_TYPE_NOT_PRESENT,
            "Present in no example",
            f"The feature is present in none of the {view.num_examples} examples; the "
            f"schema expects it in {presence_text(feature.presence)}.",
        )
    ]


def presence_text(presence: schema_pb2.FeaturePresence) -> str:
    """What `presence` asks for, in words ("every example", "at least 3 examples")."""
    if presence.min_fraction >= 1.0:
        return "every example"
    if presence.min_fraction > 0.0:
        return f"at least {pct(presence.min_fraction)} of the examples"
    count = max(presence.min_count, 1)
    return f"at least {count} example{'s' if count > 1 else ''}"


def presence_violations(presence: schema_pb2.FeaturePresence, view: FeatureView) -> list[Violation]:
    found = []
    if presence.HasField("min_count") and view.num_present < presence.min_count:
        found.append(
            Violation(
                AnomalyType.FEATURE_TYPE_LOW_NUMBER_PRESENT,
                f"Present in {view.num_present} examples, expected >= {presence.min_count}",
                f"The feature is present in {view.num_present} examples; the schema expects at "
                f"least {presence.min_count}.",
            )
        )
        presence.min_count = view.num_present
    fraction = view.fraction_present
    if (
        presence.HasField("min_fraction")
        and fraction is not None
        and (fraction < presence.min_fraction or (presence.min_fraction >= 1 and view.num_missing))
    ):
        found.append(
            Violation(
                AnomalyType.FEATURE_TYPE_LOW_FRACTION_PRESENT,
                f"Present in {pct(fraction)} of examples, expected >= {pct(presence.min_fraction)}",
                f"The feature is present in {pct(fraction)} of the examples ({view.num_present} "
                f"of {view.num_examples}, missing in {view.num_missing}); the schema expects at "
                f"least {pct(presence.min_fraction)}.",
            )
        )
        presence.min_fraction = fraction
    return found
