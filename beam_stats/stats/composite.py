"""Sparse and weighted features: TFDV's custom statistics at the composite's own path.

A schema's ``sparse_feature`` joins a value feature and index features, a
``weighted_feature`` a value feature and a weight feature; each example (or each element of
the struct that holds them) should have all of them or none, with lists of equal lengths.
Given the composites (:class:`CompositeFeatureSpec`, built from a schema by
:func:`beam_stats.schema.composite_specs`), this module counts what TFDV's sparse and
weighted statistics generators count, exactly and per row:

* the rows that have some component (its list, possibly empty, is not null);
* among them, those that lack the value feature (``missing_value``) and those that lack each
  other component (``missing_index``, a rank histogram with a bucket per index feature, or
  ``missing_weight``);
* among them, the least and greatest ``len(component) - len(value)``, a missing list
  counting 0 values (``min_length_diff``/``max_length_diff``, rank histograms with a bucket
  per index feature, or ``min_weight_length_diff``/``max_weight_length_diff``); 0 when no
  row has a component, as in TFDV.

A component is a list column (its outermost list length is the length, as in TFDV) or a
scalar column (one value when not null); a component absent from a batch is missing in
every row. Components in a struct (``StructDomain.sparse_feature``) are compared per element
of that struct, lists of structs flattened, a null struct having no component. All of a
composite's components must share its parent; a parent that is not a struct fails with an
error naming it.

Merge: sums of counts and min/max of differences, so exact: one accumulator over every
batch, per-batch accumulators merged and their proto round trips agree. The result is a
``FeatureNameStatistics`` at the composite's path holding those custom statistics, with
TFDV's names and layout, plus the lossless state (``StoredFeatureState.composites``) so that
statistics files merge after the fact.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats._types import FeaturePath, path_str
from beam_stats.errors import InvalidInputError
from beam_stats.proto import sketches_pb2
from beam_stats.stats.integrity import seal

CompositeKind = Literal["sparse", "weighted"]
#: The custom statistics TFDV's sparse and weighted generators write (and this module).
TFDV_COMPOSITE_STATISTICS = frozenset(
    {
        "missing_value",
        "missing_index",
        "min_length_diff",
        "max_length_diff",
        "missing_weight",
        "min_weight_length_diff",
        "max_weight_length_diff",
    }
)


def is_composite_entry(feature: statistics_pb2.FeatureNameStatistics) -> bool:
    """Whether `feature` is only a sparse or weighted feature's statistics (TFDV's or
    beam-stats'), not a column's: no per-type statistics, some of TFDV's composite ones."""
    return feature.WhichOneof("stats") is None and any(
        c.name in TFDV_COMPOSITE_STATISTICS for c in feature.custom_stats
    )


def _path(value: object, what: str) -> FeaturePath:
    if isinstance(value, str) and value:
        return (value,)
    if isinstance(value, (tuple, list)) and value and all(isinstance(s, str) and s for s in value):
        return tuple(value)
    raise InvalidInputError(f"{what} must be a feature path (a tuple of names), got {value!r}")


@dataclasses.dataclass(frozen=True)
class CompositeFeatureSpec:
    """A sparse feature (`components` are its index features) or a weighted feature
    (`components` is its weight feature), with paths as tuples of names.

    Raises:
        InvalidInputError: an unknown kind, no component, a weighted feature with several,
            or components with another parent than the composite's.
    """

    path: FeaturePath
    kind: CompositeKind
    value: FeaturePath
    components: tuple[FeaturePath, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", _path(self.path, "a composite's path"))
        object.__setattr__(self, "value", _path(self.value, f"{path_str(self.path)}'s value"))
        if isinstance(self.components, str):
            raise InvalidInputError(
                f"components of {path_str(self.path)} must be a sequence of paths, "
                f"got {self.components!r}"
            )
        components = tuple(
            _path(c, f"a component of {path_str(self.path)}") for c in self.components
        )
        object.__setattr__(self, "components", components)
        if self.kind not in ("sparse", "weighted"):
            raise InvalidInputError(
                f"kind of {path_str(self.path)} must be 'sparse' or 'weighted', got {self.kind!r}"
            )
        if not components or (self.kind == "weighted" and len(components) != 1):
            want = "one weight feature" if self.kind == "weighted" else "index features"
            raise InvalidInputError(
                f"the {self.kind} feature {path_str(self.path)} needs {want}, got {components}"
            )
        parents = {p[:-1] for p in (self.value, *components)}
        if len(parents) != 1:
            raise InvalidInputError(
                f"the components of {path_str(self.path)} ({path_str(self.value)}, "
                f"{', '.join(path_str(c) for c in components)}) must share one parent; "
                "components in different structs are not supported"
            )

    @property
    def parent(self) -> FeaturePath:
        return self.value[:-1]

    def to_proto(self) -> sketches_pb2.CompositeSpec:
        return sketches_pb2.CompositeSpec(
            path=sketches_pb2.PathSteps(step=self.path),
            kind=self.kind,
            value=sketches_pb2.PathSteps(step=self.value),
            components=[sketches_pb2.PathSteps(step=c) for c in self.components],
        )

    @classmethod
    def from_proto(cls, msg: sketches_pb2.CompositeSpec) -> CompositeFeatureSpec:
        kind: CompositeKind = "sparse" if msg.kind == "sparse" else "weighted"
        if msg.kind != kind:
            raise InvalidInputError(f"unknown composite kind {msg.kind!r}")
        return cls(
            tuple(msg.path.step),
            kind,
            tuple(msg.value.step),
            tuple(tuple(c.step) for c in msg.components),
        )

    def create(self) -> CompositeAccumulator:
        return CompositeAccumulator(self)


def _is_list(arrow_type: pa.DataType) -> bool:
    return bool(
        pa.types.is_list(arrow_type)
        or pa.types.is_large_list(arrow_type)
        or pa.types.is_fixed_size_list(arrow_type)
    )


def _rows(
    batch: pa.RecordBatch, parent: FeaturePath, spec: CompositeFeatureSpec
) -> tuple[int, dict[str, pa.Array]]:
    """The rows the composite is counted over (examples, or the elements of the struct that
    holds its components) and the arrays of that level's fields, one element per row."""
    if not parent:
        return batch.num_rows, dict(zip(batch.schema.names, batch.columns, strict=True))
    index = batch.schema.get_field_index(parent[0])
    if index < 0:
        return 0, {}
    array: pa.Array = batch.column(index)
    for depth, step in enumerate(parent):
        if depth:
            fields = [f.name for f in array.type]
            if step not in fields:
                return 0, {}
            array = array.flatten()[fields.index(step)]  # with the struct's nulls
        while pa.types.is_dictionary(array.type) or _is_list(array.type):
            array = (
                array.dictionary_decode()
                if pa.types.is_dictionary(array.type)
                else pc.list_flatten(array)
            )
        if not pa.types.is_struct(array.type):
            raise InvalidInputError(
                f"the components of {spec.kind} feature {path_str(spec.path)} are in "
                f"{path_str(parent[: depth + 1])}, which is a {array.type}, not a struct"
            )
    names = [f.name for f in array.type]
    return len(array), dict(zip(names, array.flatten(), strict=True))


def _lengths(count: int, column: pa.Array | None) -> tuple[np.ndarray, np.ndarray]:
    """(present, length) per row of one component (None: absent from the batch)."""
    if (
        column is not None
        and pa.types.is_dictionary(column.type)
        and _is_list(column.type.value_type)
    ):
        column = column.dictionary_decode()
    if column is None or pa.types.is_null(column.type):
        return np.zeros(count, dtype=bool), np.zeros(count, dtype=np.int64)
    present = np.asarray(column.is_valid(), dtype=bool)
    if _is_list(column.type):
        lengths = pc.fill_null(pc.list_value_length(column), 0)
        return present, np.asarray(lengths.to_numpy(zero_copy_only=False), dtype=np.int64)
    return present, present.astype(np.int64)


class CompositeAccumulator:
    """The counts of one composite (see the module docstring)."""

    def __init__(self, spec: CompositeFeatureSpec) -> None:
        self.spec = spec
        width = len(spec.components)
        self.num_present = 0
        self.missing_value = 0
        self.missing = np.zeros(width, dtype=np.int64)
        self.min_diff = np.zeros(width, dtype=np.int64)  # meaningful when num_present > 0
        self.max_diff = np.zeros(width, dtype=np.int64)

    def add(self, batch: pa.RecordBatch) -> None:
        """Adds one record batch, vectorised."""
        spec = self.spec
        count, fields = _rows(batch, spec.parent, spec)
        if not count:
            return
        value_present, value_length = _lengths(count, fields.get(spec.value[-1]))
        parts = [_lengths(count, fields.get(c[-1])) for c in spec.components]
        some = value_present.copy()
        for present, _ in parts:
            some |= present
        num_present = int(np.count_nonzero(some))
        if not num_present:
            return
        self.missing_value += int(np.count_nonzero(some & ~value_present))
        low, high = np.empty_like(self.min_diff), np.empty_like(self.max_diff)
        for i, (present, length) in enumerate(parts):
            self.missing[i] += int(np.count_nonzero(some & ~present))
            diff = length[some] - value_length[some]
            low[i], high[i] = diff.min(), diff.max()
        self._combine(num_present, low, high)

    def _combine(self, num_present: int, low: np.ndarray, high: np.ndarray) -> None:
        if self.num_present:
            low, high = np.minimum(self.min_diff, low), np.maximum(self.max_diff, high)
        self.min_diff, self.max_diff = low.astype(np.int64), high.astype(np.int64)
        self.num_present += num_present

    def merge(self, other: CompositeAccumulator) -> None:
        """Adds `other`'s counts (of the same composite) to this accumulator."""
        if other.spec != self.spec:
            raise InvalidInputError(f"cannot merge {other.spec} into {self.spec}")
        self.missing_value += other.missing_value
        self.missing += other.missing
        if other.num_present:
            self._combine(other.num_present, other.min_diff, other.max_diff)

    def to_proto(self) -> sketches_pb2.CompositeState:
        return sketches_pb2.CompositeState(
            path=sketches_pb2.PathSteps(step=self.spec.path),
            num_present=self.num_present,
            missing_value=self.missing_value,
            missing=self.missing.tolist(),
            min_length_diff=self.min_diff.tolist(),
            max_length_diff=self.max_diff.tolist(),
        )

    @classmethod
    def from_proto(
        cls, msg: sketches_pb2.CompositeState, spec: CompositeFeatureSpec
    ) -> CompositeAccumulator:
        """The accumulator of `spec` stored in `msg`.

        Raises:
            ValueError: `msg` is of another composite, or has the wrong number of entries.
        """
        width = len(spec.components)
        if tuple(msg.path.step) != spec.path or any(
            len(f) != width for f in (msg.missing, msg.min_length_diff, msg.max_length_diff)
        ):
            raise ValueError(
                f"state of composite {path_str(tuple(msg.path.step))} does not fit {spec}"
            )
        acc = cls(spec)
        acc.num_present, acc.missing_value = msg.num_present, msg.missing_value
        acc.missing = np.array(msg.missing, dtype=np.int64)
        acc.min_diff = np.array(msg.min_length_diff, dtype=np.int64)
        acc.max_diff = np.array(msg.max_length_diff, dtype=np.int64)
        return acc

    def result(self) -> list[statistics_pb2.CustomStatistic]:
        """TFDV's custom statistics of the composite, in TFDV's order."""
        spec = self.spec
        if spec.kind == "weighted":
            return [
                statistics_pb2.CustomStatistic(name="missing_weight", num=int(self.missing[0])),
                statistics_pb2.CustomStatistic(name="missing_value", num=self.missing_value),
                statistics_pb2.CustomStatistic(
                    name="min_weight_length_diff", num=int(self.min_diff[0])
                ),
                statistics_pb2.CustomStatistic(
                    name="max_weight_length_diff", num=int(self.max_diff[0])
                ),
            ]
        order = sorted(range(len(spec.components)), key=lambda i: spec.components[i])

        def histogram(counts: np.ndarray) -> statistics_pb2.RankHistogram:
            return statistics_pb2.RankHistogram(
                buckets=[
                    statistics_pb2.RankHistogram.Bucket(
                        label=spec.components[i][-1], sample_count=float(counts[i])
                    )
                    for i in order
                ]
            )

        return [
            statistics_pb2.CustomStatistic(name="missing_value", num=self.missing_value),
            statistics_pb2.CustomStatistic(
                name="missing_index", rank_histogram=histogram(self.missing)
            ),
            statistics_pb2.CustomStatistic(
                name="max_length_diff", rank_histogram=histogram(self.max_diff)
            ),
            statistics_pb2.CustomStatistic(
                name="min_length_diff", rank_histogram=histogram(self.min_diff)
            ),
        ]


def add_composite(
    entry: statistics_pb2.FeatureNameStatistics,
    acc: CompositeAccumulator,
    stored: sketches_pb2.StoredFeatureState | None,
    state_name: str,
) -> None:
    """Adds one composite's statistics to `entry`, the statistics at its path: a new entry,
    or TFDV's statistics added to the feature at the same path (TFDV merges a generator's
    output by path, too).

    Args:
        entry: the statistics at the composite's path, changed in place.
        acc: the composite's accumulator.
        stored: settings and options of the state to write (None: no state).
        state_name: the custom statistic that holds the ``StoredFeatureState``.
    """
    state = next((c for c in entry.custom_stats if c.name == state_name), None)
    if stored is not None:
        msg = sketches_pb2.StoredFeatureState()
        if state is None:
            msg.CopyFrom(stored)
            state = statistics_pb2.CustomStatistic(name=state_name)
        else:
            state.any.Unpack(msg)
            msg.format_version = max(msg.format_version, stored.format_version)
        msg.composites.append(acc.to_proto())
        state.any.Pack(seal(msg), deterministic=True)
    # TFDV's statistics after the feature's own, the state (if any) last.
    kept = [c for c in entry.custom_stats if c.name != state_name]
    del entry.custom_stats[:]
    entry.custom_stats.extend([*kept, *acc.result(), *([state] if state else [])])
