"""Finding features in a schema, lifecycle, and environments.

A feature's path is its name, then the names of the struct fields below it
(``struct_domain``), as in the statistics.

Environments follow TFDV: with no environment every feature is expected. With environment
``E``, a feature is expected when ``E`` is in its ``in_environment``; else not when ``E`` is in
its ``not_in_environment``; else when ``E`` is in the schema's ``default_environment``.
A feature is *required* (its absence is an anomaly) when it is expected, not deprecated,
and its presence constraint asks for at least one example.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from google.protobuf.internal.containers import RepeatedCompositeFieldContainer
from tensorflow_metadata.proto.v0 import schema_pb2

from beam_stats._types import FeaturePath, path_str
from beam_stats.errors import InvalidInputError, SchemaError

Features = RepeatedCompositeFieldContainer[schema_pb2.Feature]

#: Lifecycle stages whose features are not validated (TFDV's list). UNKNOWN_STAGE, BETA,
#: PRODUCTION and VALIDATION_DERIVED features are.
INACTIVE_STAGES = frozenset(
    {
        schema_pb2.PLANNED,
        schema_pb2.ALPHA,
        schema_pb2.DEPRECATED,
        schema_pb2.DEBUG_ONLY,
        schema_pb2.DISABLED,
    }
)


def as_path(feature: str | FeaturePath) -> FeaturePath:
    """A dotted name or a tuple of names as a path."""
    if isinstance(feature, str) and feature:
        return tuple(feature.split("."))
    if isinstance(feature, tuple) and feature and all(isinstance(s, str) for s in feature):
        return feature
    raise InvalidInputError(f"a feature is a dotted name or a tuple of names, got {feature!r}")


def is_deprecated(
    feature: schema_pb2.Feature | schema_pb2.SparseFeature | schema_pb2.WeightedFeature,
) -> bool:
    """Whether a feature (plain, sparse or weighted) is left out of validation, as in TFDV."""
    if not isinstance(feature, schema_pb2.WeightedFeature) and feature.deprecated:
        return True
    return feature.lifecycle_stage in INACTIVE_STAGES


def deprecate(
    feature: schema_pb2.Feature | schema_pb2.SparseFeature | schema_pb2.WeightedFeature,
) -> None:
    feature.lifecycle_stage = schema_pb2.DEPRECATED


def iter_features(
    schema: schema_pb2.Schema, *, active_only: bool = False
) -> Iterator[tuple[FeaturePath, schema_pb2.Feature]]:
    """Every feature with its path, parents first; `active_only` skips deprecated subtrees."""

    def walk(
        prefix: FeaturePath, features: Iterable[schema_pb2.Feature]
    ) -> Iterator[tuple[FeaturePath, schema_pb2.Feature]]:
        for feature in features:
            if active_only and is_deprecated(feature):
                continue
            path = (*prefix, feature.name)
            yield path, feature
            if feature.HasField("struct_domain"):
                yield from walk(path, feature.struct_domain.feature)

    return walk((), schema.feature)


def find_feature(schema: schema_pb2.Schema, path: FeaturePath) -> schema_pb2.Feature | None:
    """The feature at `path`, or None.

    A nested path that no struct holds finds a top-level feature named the old way, with the
    dotted path (``name: "parent.child"``), as schemas inferred from old statistics have them.
    """
    features: Iterable[schema_pb2.Feature] = schema.feature
    found = None
    for step in path:
        found = next((f for f in features if f.name == step), None)
        if found is None:
            break
        features = found.struct_domain.feature
    if found is None and len(path) > 1:
        dotted = ".".join(path)
        found = next((f for f in schema.feature if f.name == dotted), None)
    return found


def holds_dotted_features(schema: schema_pb2.Schema, path: FeaturePath) -> bool:
    """Whether top-level features named the old way (``"parent.child"``) lie below `path`."""
    prefix = ".".join(path) + "."
    return any(f.name.startswith(prefix) for f in schema.feature)


def dotted_path(path: FeaturePath) -> FeaturePath:
    """The nested path an old-style dotted top-level name stands for (else `path`)."""
    return tuple(path[0].split(".")) if len(path) == 1 and "." in path[0] else path


def get_feature(schema: schema_pb2.Schema, feature: str | FeaturePath) -> schema_pb2.Feature:
    """The feature named `feature` (dotted name or path), to read or edit in place.

    Raises:
        InvalidInputError: the schema has no such feature.
    """
    path = as_path(feature)
    found = find_feature(schema, path)
    if found is None:
        raise InvalidInputError(f"the schema has no feature {path_str(path)}")
    return found


def has_inactive_ancestor(schema: schema_pb2.Schema, path: FeaturePath) -> bool:
    for end in range(1, len(path)):
        parent = find_feature(schema, path[:end])
        if parent is not None and is_deprecated(parent):
            return True
    return False


def add_feature(schema: schema_pb2.Schema, path: FeaturePath) -> schema_pb2.Feature:
    """A new feature at `path`; a missing parent is added as a STRUCT feature."""
    if len(path) == 1:
        siblings: Features = schema.feature
    else:
        parent = find_feature(schema, path[:-1]) or add_feature(schema, path[:-1])
        if not parent.type:
            parent.type = schema_pb2.STRUCT
        siblings = parent.struct_domain.feature
    return siblings.add(name=path[-1])


def string_domain(
    schema: schema_pb2.Schema, feature: schema_pb2.Feature
) -> schema_pb2.StringDomain | None:
    """The feature's own string domain, or the schema-level one it names, or None."""
    if feature.HasField("string_domain"):
        return feature.string_domain
    if feature.HasField("domain"):
        return next((d for d in schema.string_domain if d.name == feature.domain), None)
    return None


#: The environments of training data and of serving data, as TFDV names them. A command
#: that knows which one its data is (``run``, ``validate --serving``) uses the name when the
#: schema declares it (:func:`environment_if_declared`), else checks every feature.
TRAINING = "TRAINING"
SERVING = "SERVING"


def environment_if_declared(schema: schema_pb2.Schema, environment: str) -> str | None:
    """`environment` when `schema` declares it, else None (every feature expected)."""
    return environment if environment in declared_environments(schema) else None


def declared_environments(schema: schema_pb2.Schema) -> set[str]:
    names = set(schema.default_environment)
    for _, feature in iter_features(schema):
        names.update(feature.in_environment)
        names.update(feature.not_in_environment)
    return names


def check_environment(schema: schema_pb2.Schema, environment: str | None) -> None:
    """Raises SchemaError when `environment` is given but the schema never names it."""
    if environment is not None and environment not in declared_environments(schema):
        known = ", ".join(sorted(declared_environments(schema))) or "none"
        raise SchemaError(
            f"environment {environment!r} is not declared in the schema (declared: {known}); "
            "list it in default_environment or a feature's in_environment"
        )


def in_environment(
    schema: schema_pb2.Schema, feature: schema_pb2.Feature, environment: str | None
) -> bool:
    if environment is None or environment in feature.in_environment:
        return True
    if environment in feature.not_in_environment:
        return False
    return environment in schema.default_environment


def is_required(
    schema: schema_pb2.Schema, feature: schema_pb2.Feature, environment: str | None
) -> bool:
    if is_deprecated(feature):
        return False
    if feature.presence.min_count <= 0 and feature.presence.min_fraction <= 0.0:
        return False
    return in_environment(schema, feature, environment)


def add_environments(
    schema: schema_pb2.Schema,
    default: Iterable[str] = (),
    *,
    not_in: Mapping[str, Iterable[str]] | None = None,
    only_in: Mapping[str, Iterable[str]] | None = None,
) -> schema_pb2.Schema:
    """A copy of `schema` with environments declared.

    Args:
        default: environments every feature is expected in unless excluded
            (``default_environment``), e.g. ``("TRAINING", "SERVING")``.
        not_in: feature (dotted name) -> environments it is not expected in, e.g.
            ``{"label": ["SERVING"]}``.
        only_in: feature -> environments it is expected in although they are not defaults.

    Raises:
        InvalidInputError: a named feature is not in the schema, or a name is empty.
    """
    result = schema_pb2.Schema()
    result.CopyFrom(schema)
    for name in default:
        _check_name(name)
        if name not in result.default_environment:
            result.default_environment.append(name)
    for mapping, field in ((not_in or {}, "not_in_environment"), (only_in or {}, "in_environment")):
        for feature_name, names in mapping.items():
            feature = get_feature(result, feature_name)
            listed = getattr(feature, field)
            for name in names:
                _check_name(name)
                if name not in listed:
                    listed.append(name)
    return result


def _check_name(name: object) -> None:
    if not isinstance(name, str) or not name:
        raise InvalidInputError(f"an environment is a non-empty string, got {name!r}")
