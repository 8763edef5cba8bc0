"""Problems of the schema itself, found before any data is looked at.

A schema that contradicts itself is reported as such, with TFDV's anomaly types, and fixed
in the relaxed copy as TFDV fixes it, so that the data is checked against what the schema
can mean and no data anomaly is a side effect of a broken schema. Per active feature:

* no name: FEATURE_MISSING_NAME (deprecated); no type: FEATURE_MISSING_TYPE (BYTES when it
  has a string domain, else deprecated);
* INVALID_SCHEMA_SPECIFICATION: ``presence.min_fraction`` outside [0, 1] (cleared below 0,
  1 above 1), a negative value-count minimum (cleared), a value-count maximum below its
  minimum (raised to it), a shape dimension that is not positive (shape cleared),
  ``distribution_constraints`` on a feature without a string domain (cleared);
* DOMAIN_INVALID_FOR_TYPE: a domain the type cannot have (TFDV's table; cleared);
* INVALID_DOMAIN_SPECIFICATION: a named string domain the schema lacks (cleared), a bool
  domain whose true and false values are equal (false value cleared), repeated values in a
  string domain (dropped);
* DERIVED_FEATURE_BAD_LIFECYCLE: a feature with ``validation_derived_source`` whose
  lifecycle is not VALIDATION_DERIVED (set to it).

Beyond TFDV, which does not check them (each fixed so that it accepts what was meant):
a negative ``presence.min_count`` (cleared), ``min_domain_mass`` outside [0, 1] (clamped),
``unique_constraints`` or ``dataset_constraints`` with min above max (swapped), int or float
domains with min above max (INVALID_DOMAIN_SPECIFICATION; swapped), sparse or weighted
features without their components (deprecated). TFDV checks a feature only when the
statistics hold it; here every active feature of the schema is checked.
"""

from __future__ import annotations

from tensorflow_metadata.proto.v0 import schema_pb2

from beam_stats._types import FeaturePath
from beam_stats.schema.composite import composites
from beam_stats.schema.features import deprecate, is_deprecated, iter_features, string_domain
from beam_stats.schema.violations import AnomalyType, Violation, num, type_name

INVALID = AnomalyType.INVALID_SCHEMA_SPECIFICATION
INVALID_DOMAIN = AnomalyType.INVALID_DOMAIN_SPECIFICATION

#: Feature types each domain may describe (TFDV's table); other domains take any type.
DOMAIN_TYPES = {
    "domain": {schema_pb2.BYTES},
    "string_domain": {schema_pb2.BYTES},
    "bool_domain": {schema_pb2.INT, schema_pb2.FLOAT, schema_pb2.BYTES},
    "int_domain": {schema_pb2.INT, schema_pb2.BYTES},
    "float_domain": {schema_pb2.FLOAT, schema_pb2.BYTES},
    "struct_domain": {schema_pb2.STRUCT},
    "natural_language_domain": {schema_pb2.BYTES, schema_pb2.INT},
    "image_domain": {schema_pb2.BYTES},
    "mid_domain": {schema_pb2.BYTES},
    "url_domain": {schema_pb2.BYTES},
    "time_domain": {schema_pb2.INT, schema_pb2.BYTES},
}
_ANY_TYPE = {schema_pb2.INT, schema_pb2.FLOAT, schema_pb2.BYTES, schema_pb2.STRUCT}


def check_specification(
    schema: schema_pb2.Schema,
) -> tuple[dict[FeaturePath, list[Violation]], list[Violation]]:
    """The schema's own problems per feature path and for the dataset, fixing `schema`."""
    found: dict[FeaturePath, list[Violation]] = {}
    for path, feature in list(iter_features(schema, active_only=True)):
        violations = check_feature_specification(schema, feature)
        if violations:
            found[path] = violations
    for parts in composites(schema):
        if is_deprecated(parts.message):
            continue
        if not parts.path[-1] or not parts.value[-1:] or not parts.value[-1]:
            problem = "has no name or no value feature"
        elif not parts.others or not all(p and p[-1] for p in parts.others):
            problem = "has no index feature" if parts.sparse else "has no weight feature"
        else:
            continue
        kind = "sparse" if parts.sparse else "weighted"
        deprecate(parts.message)
        found.setdefault(parts.path, []).append(
            Violation(INVALID, f"Incomplete {kind} feature", f"The {kind} feature {problem}.")
        )
    return found, _dataset_constraints(schema)


def check_feature_specification(
    schema: schema_pb2.Schema, feature: schema_pb2.Feature
) -> list[Violation]:
    """The problems of one active feature's own specification, fixing `feature`."""
    if not feature.HasField("name"):
        deprecate(feature)
        return [
            Violation(
                AnomalyType.FEATURE_MISSING_NAME,
                "Feature without a name",
                "The feature has no name (maybe meant to be the empty string); deprecated.",
            )
        ]
    found: list[Violation] = []
    if not feature.HasField("type"):
        if feature.WhichOneof("domain_info") not in ("domain", "string_domain"):
            deprecate(feature)
            return [
                Violation(
                    AnomalyType.FEATURE_MISSING_TYPE,
                    "Feature without a type",
                    "The feature has no type; it is not validated until one is set.",
                )
            ]
        feature.type = schema_pb2.BYTES
        found.append(
            Violation(
                AnomalyType.FEATURE_MISSING_TYPE,
                "Feature without a type",
                "The feature has no type; BYTES is assumed, as it has a string domain.",
            )
        )
    found += _counts(feature)
    found += _domain(schema, feature)
    if (
        feature.HasField("validation_derived_source")
        and feature.lifecycle_stage != schema_pb2.VALIDATION_DERIVED
    ):
        stage = schema_pb2.LifecycleStage.Name(feature.lifecycle_stage)
        feature.lifecycle_stage = schema_pb2.VALIDATION_DERIVED
        found.append(
            Violation(
                AnomalyType.DERIVED_FEATURE_BAD_LIFECYCLE,
                "Derived feature has wrong lifecycle.",
                f"The feature has a validation_derived_source, so its lifecycle_stage must be "
                f"VALIDATION_DERIVED, not {stage}.",
            )
        )
    return found


def _invalid(short: str, long: str, anomaly: int = INVALID) -> Violation:
    return Violation(anomaly, short, long)


def _counts(feature: schema_pb2.Feature) -> list[Violation]:
    found = []
    presence = feature.presence
    if presence.min_fraction < 0.0 or presence.min_fraction > 1.0:
        fraction = presence.min_fraction
        if fraction < 0.0:
            presence.ClearField("min_fraction")
        else:
            presence.min_fraction = 1.0
        found.append(
            _invalid(
                "Invalid presence.min_fraction",
                f"presence.min_fraction is {num(fraction)}; a fraction lies in [0, 1].",
            )
        )
    if presence.min_count < 0:
        count = presence.min_count
        presence.ClearField("min_count")
        found.append(
            _invalid("Negative presence.min_count", f"presence.min_count is {count}, below 0.")
        )
    levels = [(feature.value_count, "ValueCount")] if feature.HasField("value_count") else []
    levels += [
        (count, f"ValueCounts level {i}")
        for i, count in enumerate(feature.value_counts.value_count)
    ]
    for count, name in levels:
        if count.min < 0:
            low = count.min
            count.ClearField("min")
            found.append(_invalid(f"Negative {name}.min", f"{name}.min is {low}, below 0."))
        if count.HasField("max") and count.max < count.min:
            high = count.max
            count.max = count.min
            found.append(
                _invalid(
                    f"{name}.max below min",
                    f"{name}.max ({high}) is below {name}.min ({count.min}).",
                )
            )
    if any(dim.size <= 0 for dim in feature.shape.dim):
        sizes = ", ".join(str(dim.size) for dim in feature.shape.dim)
        feature.ClearField("shape")
        found.append(
            _invalid(
                "Invalid shape",
                f"The shape [{sizes}] has a dimension that is not a positive integer.",
            )
        )
    unique = feature.unique_constraints
    if unique.HasField("min") and unique.HasField("max") and unique.min > unique.max:
        unique.min, unique.max = unique.max, unique.min
        found.append(
            _invalid(
                "unique_constraints min above max",
                f"unique_constraints.min ({unique.max}) is above max ({unique.min}); "
                "checked as swapped.",
            )
        )
    return found


def _domain(schema: schema_pb2.Schema, feature: schema_pb2.Feature) -> list[Violation]:
    found = []
    which = feature.WhichOneof("domain_info")
    if which is not None and feature.type not in DOMAIN_TYPES.get(which, _ANY_TYPE):
        feature.ClearField(which)
        found.append(
            Violation(
                AnomalyType.DOMAIN_INVALID_FOR_TYPE,
                "The domain does not match the type",
                f'The domain "{which}" does not describe the type {type_name(feature.type)}.',
            )
        )
        which = None
    if which == "domain" and string_domain(schema, feature) is None:
        missing = feature.domain
        feature.ClearField("domain")
        which = None
        found.append(
            _invalid(
                "Missing string domain",
                f"The feature names the string domain {missing}, which the schema does not have.",
                INVALID_DOMAIN,
            )
        )
    if which == "string_domain":
        values = list(feature.string_domain.value)
        repeated = sorted({v for i, v in enumerate(values) if v in values[:i]})
        if repeated:
            del feature.string_domain.value[:]
            feature.string_domain.value.extend(dict.fromkeys(values))
            shown = ", ".join(f'"{v}"' for v in repeated)
            found.append(
                _invalid(
                    "Malformed StringDomain",
                    f"Repeated values in the string domain: {shown}.",
                    INVALID_DOMAIN,
                )
            )
    if which == "bool_domain":
        bool_domain = feature.bool_domain
        if (
            bool_domain.HasField("true_value")
            and bool_domain.HasField("false_value")
            and bool_domain.true_value == bool_domain.false_value
        ):
            bool_domain.ClearField("false_value")
            found.append(
                _invalid(
                    "Malformed BoolDomain",
                    f'The true and false values of the bool domain are both "'
                    f'{bool_domain.true_value}"; the false value is dropped.',
                    INVALID_DOMAIN,
                )
            )
    for name in ("int_domain", "float_domain"):
        if which == name:
            domain = getattr(feature, name)
            if domain.HasField("min") and domain.HasField("max") and domain.min > domain.max:
                domain.min, domain.max = domain.max, domain.min
                found.append(
                    _invalid(
                        f"{name} min above max",
                        f"The {name} starts at {num(domain.max)} and ends at {num(domain.min)}; "
                        "checked as swapped.",
                        INVALID_DOMAIN,
                    )
                )
    found += _distribution_constraints(feature, which)
    return found


def _distribution_constraints(feature: schema_pb2.Feature, which: str | None) -> list[Violation]:
    if not feature.HasField("distribution_constraints"):
        return []
    if which not in ("domain", "string_domain"):
        feature.ClearField("distribution_constraints")
        kind = f"{which} features" if which else "features without a string domain"
        return [
            _invalid(
                "Distribution constraints not supported",
                f"distribution_constraints describe string domains, not {kind}.",
            )
        ]
    constraints = feature.distribution_constraints
    mass = constraints.min_domain_mass
    if 0.0 <= mass <= 1.0:
        return []
    constraints.min_domain_mass = min(max(mass, 0.0), 1.0)
    return [
        _invalid(
            "Invalid min_domain_mass",
            f"distribution_constraints.min_domain_mass is {num(mass)}; a fraction lies in [0, 1].",
        )
    ]


def _dataset_constraints(schema: schema_pb2.Schema) -> list[Violation]:
    constraints = schema.dataset_constraints
    if not (
        constraints.HasField("min_examples_count")
        and constraints.HasField("max_examples_count")
        and constraints.min_examples_count > constraints.max_examples_count
    ):
        return []
    low, high = constraints.min_examples_count, constraints.max_examples_count
    constraints.min_examples_count, constraints.max_examples_count = high, low
    return [
        _invalid(
            "dataset_constraints min above max",
            f"dataset_constraints.min_examples_count ({low}) is above max_examples_count "
            f"({high}); checked as swapped.",
        )
    ]
