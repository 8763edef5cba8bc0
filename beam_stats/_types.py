"""Small shared types."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeAlias

from beam_stats.errors import InvalidInputError

#: A feature's address: top-level column name, then nested struct field names.
FeaturePath: TypeAlias = tuple[str, ...]


def path_str(path: FeaturePath) -> str:
    """The dotted form used in messages and TFDV-style feature names."""
    return ".".join(path)


def feature_paths(features: Iterable[str | FeaturePath]) -> frozenset[FeaturePath]:
    """Features given as dotted names or tuples of names, as paths.

    Raises:
        InvalidInputError: an element is neither.
    """
    paths = set()
    for feature in features:
        if isinstance(feature, str):
            paths.add(tuple(feature.split(".")))
        elif isinstance(feature, tuple) and feature and all(isinstance(s, str) for s in feature):
            paths.add(feature)
        else:
            raise InvalidInputError(
                f"a feature is a dotted name or a tuple of names, got {feature!r}"
            )
    return frozenset(paths)
