"""Per-row checks of sparse and weighted features: exact where statistics are not.

In each row where some component of an active sparse or weighted feature is present (and,
for one inside a struct, its struct is), as TFDV's sparse and weighted statistics count:

* a component missing -> SPARSE_FEATURE_MISSING_VALUE / _MISSING_INDEX,
  WEIGHTED_FEATURE_MISSING_VALUE / _MISSING_WEIGHT (the value: the component's name);
* an index (weight) list of another length than the value list, a missing list counting 0
  values -> SPARSE_FEATURE_LENGTH_MISMATCH / WEIGHTED_FEATURE_LENGTH_MISMATCH (the value:
  ``"<component>: <n> values, <value feature>: <m> values"``).

Each reason names the sparse or weighted feature. Vectorised over rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tensorflow_metadata.proto.v0 import schema_pb2

from beam_stats._types import FeaturePath, path_str
from beam_stats.arrow import FeatureColumn
from beam_stats.schema.composite import Parts, composites
from beam_stats.schema.features import has_inactive_ancestor, is_deprecated


class CompositeFinding(NamedTuple):
    rows: np.ndarray  # sorted, distinct
    feature: str
    anomaly: str
    values: pa.Array  # text, one per row


def active_composites(schema: schema_pb2.Schema) -> list[Parts]:
    return [
        parts
        for parts in composites(schema)
        if not is_deprecated(parts.message) and not has_inactive_ancestor(schema, parts.path)
    ]


def check_composites(
    parts_list: list[Parts], columns: Mapping[FeaturePath, FeatureColumn], num_rows: int
) -> Iterator[CompositeFinding]:
    """The reasons of every composite in `parts_list`, row by row (see the module docstring)."""
    none = np.zeros(num_rows, dtype=bool)
    for parts in parts_list:
        parent = np.ones(num_rows, dtype=bool)
        if len(parts.path) > 1:
            parent_column = columns.get(parts.path[:-1])
            parent = parent_column.present if parent_column is not None else none
        present: dict[FeaturePath, np.ndarray] = {}
        lengths: dict[FeaturePath, np.ndarray] = {}
        for path in (parts.value, *parts.others):
            column = columns.get(path)
            present[path] = parent & column.present if column is not None else none
            lengths[path] = (
                np.where(parent, column.num_values, 0)
                if column is not None
                else np.zeros(num_rows, dtype=np.int64)
            )
        components = (parts.value, *parts.others)
        somewhere = np.logical_or.reduce([present[p] for p in components])
        feature = path_str(parts.path)
        for path in components:
            rows = np.flatnonzero(somewhere & ~present[path])
            if len(rows):
                values = pa.array([path_str(path)] * len(rows), pa.string())
                yield CompositeFinding(rows, feature, _missing(parts, path), values)
        value_lengths = lengths[parts.value]
        for other in parts.others:
            other_lengths = lengths[other]
            rows = np.flatnonzero(somewhere & (other_lengths != value_lengths))
            if len(rows):
                text = pc.binary_join_element_wise(
                    pa.array([f"{path_str(other)}: "] * len(rows)),
                    pa.array(other_lengths[rows]).cast(pa.string()),
                    pa.array([f" values, {path_str(parts.value)}: "] * len(rows)),
                    pa.array(value_lengths[rows]).cast(pa.string()),
                    pa.array([" values"] * len(rows)),
                    "",
                )
                yield CompositeFinding(rows, feature, _mismatch(parts), text)


def _missing(parts: Parts, component: FeaturePath) -> str:
    if component == parts.value:
        kind = "SPARSE_FEATURE_MISSING_VALUE" if parts.sparse else "WEIGHTED_FEATURE_MISSING_VALUE"
    else:
        kind = "SPARSE_FEATURE_MISSING_INDEX" if parts.sparse else "WEIGHTED_FEATURE_MISSING_WEIGHT"
    return kind


def _mismatch(parts: Parts) -> str:
    return "SPARSE_FEATURE_LENGTH_MISMATCH" if parts.sparse else "WEIGHTED_FEATURE_LENGTH_MISMATCH"
