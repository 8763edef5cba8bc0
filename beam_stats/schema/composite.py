"""Sparse and weighted features: their components, and what statistics count of them.

A ``sparse_feature`` is made of a value feature and one or more index features (in the same
struct, or at the top level); a ``weighted_feature`` of a value feature and a weight feature
(top level). :func:`composites` lists them; :func:`composite_specs` builds the
``StatisticsSpec.composites`` that :mod:`beam_stats.stats.composite` counts, and
:mod:`beam_stats.schema.checks.sparse_weighted` checks them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import TypeAlias

from tensorflow_metadata.proto.v0 import schema_pb2

from beam_stats._types import FeaturePath
from beam_stats.errors import InvalidInputError, SchemaError
from beam_stats.schema.features import (
    iter_features,
)
from beam_stats.stats.composite import CompositeFeatureSpec

Composite: TypeAlias = schema_pb2.SparseFeature | schema_pb2.WeightedFeature


@dataclasses.dataclass(frozen=True)
class Parts:
    """One sparse or weighted feature: its path, value feature and other components."""

    path: FeaturePath
    message: Composite
    value: FeaturePath
    others: tuple[FeaturePath, ...]  # the index features, or the weight feature

    @property
    def sparse(self) -> bool:
        return isinstance(self.message, schema_pb2.SparseFeature)


def composites(schema: schema_pb2.Schema) -> Iterator[Parts]:
    """Every weighted feature, then every sparse feature (top level, then in structs)."""
    for weighted in schema.weighted_feature:
        yield Parts(
            (weighted.name,),
            weighted,
            tuple(weighted.feature.step),
            (tuple(weighted.weight_feature.step),),
        )
    containers: list[tuple[FeaturePath, schema_pb2.Schema | schema_pb2.StructDomain]] = [
        ((), schema)
    ]
    containers += [
        (p, f.struct_domain) for p, f in iter_features(schema) if f.HasField("struct_domain")
    ]
    for parent, container in containers:
        for sparse in container.sparse_feature:
            yield Parts(
                (*parent, sparse.name),
                sparse,
                (*parent, sparse.value_feature.name),
                tuple((*parent, index.name) for index in sparse.index_feature),
            )


def composite_specs(schema: schema_pb2.Schema) -> tuple[CompositeFeatureSpec, ...]:
    """What to count for the schema's sparse and weighted features (``StatisticsSpec``'s
    ``composites``): every weighted feature, then every sparse feature, top level and in
    structs. A composite without a value or other component is skipped (validation reports
    it as an invalid schema), and so is a second composite at one path (a name collision,
    reported by validation).

    Raises:
        SchemaError: a composite whose components are in different structs (not supported).
    """
    found: dict[FeaturePath, CompositeFeatureSpec] = {}
    for parts in composites(schema):
        if parts.path in found or not parts.value[-1:] or not parts.others:
            continue
        if any(not other[-1:] or not other[-1] for other in parts.others) or not parts.value[-1]:
            continue
        try:
            found[parts.path] = CompositeFeatureSpec(
                parts.path, "sparse" if parts.sparse else "weighted", parts.value, parts.others
            )
        except InvalidInputError as e:
            raise SchemaError(str(e)) from e
    return tuple(found.values())


def known_paths(schema: schema_pb2.Schema) -> set[FeaturePath]:
    """Paths the data may hold for composites: theirs and their components'."""
    return {p for parts in composites(schema) for p in (parts.path, parts.value, *parts.others)}
