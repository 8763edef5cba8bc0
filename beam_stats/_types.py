"""Small shared types."""

from __future__ import annotations

from typing import TypeAlias

#: A feature's address: top-level column name, then nested struct field names.
FeaturePath: TypeAlias = tuple[str, ...]


def path_str(path: FeaturePath) -> str:
    """The dotted form used in messages and TFDV-style feature names."""
    return ".".join(path)
