"""The fused accumulators: every statistic of one feature, and of every feature of a dataset.

:class:`DatasetAccumulator` is what the Beam ``CombineFn`` holds: ``add`` takes an Arrow
record batch, ``merge`` combines partitions, ``to_proto``/``from_proto`` are its lossless wire
format, and ``result`` writes a tensorflow-metadata ``DatasetFeatureStatistics``.

Each feature's finished statistics carry its lossless state (a ``StoredFeatureState`` in the
custom statistic ``beam_stats.state``), so statistics files merge later without the data
(:mod:`beam_stats.stats.stored`).

A feature's type is decided when the result is written, from the number of values of each
kind seen (merge-safe, since those counts add up). When a feature's type changed between
batches or files (an INT column that is STRING in one file), each kind is summarised by its
own accumulator, the majority kind is reported, and the custom statistic ``type_conflict``
says how many values of each kind were seen: nothing is dropped silently.

Features are reported in the data's column order (TFDV's too): by the smallest position a
feature had among a batch's flattened columns, ties by path, so the order does not depend on
how batches or states were merged.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats._types import FeaturePath, path_str
from beam_stats.arrow import FeatureColumn, Kind, flatten_batch
from beam_stats.errors import DeserializationError, IncompatibleMergeError, InvalidInputError
from beam_stats.proto import sketches_pb2
from beam_stats.stats import histograms
from beam_stats.stats.composite import CompositeAccumulator, add_composite
from beam_stats.stats.counts import CommonAccumulator
from beam_stats.stats.custom import CustomStates
from beam_stats.stats.integrity import seal
from beam_stats.stats.numeric import NumericAccumulator
from beam_stats.stats.spec import StatisticsSpec
from beam_stats.stats.strings import StringAccumulator

#: 2: deterministic quantiles (QuantilesState fields 3-8), distinct counts with exact hashes
#: (DistinctCountState.hashes), features with a position.
FORMAT_VERSION = 2
#: 3: entries with the state of sparse and weighted features (StoredFeatureState.composites);
#: only those entries are written as format 3, so files without composites read as before.
COMPOSITE_FORMAT_VERSION = 3
#: The custom statistic that carries a feature's StoredFeatureState.
STATE_NAME = "beam_stats.state"
FeatureType = statistics_pb2.FeatureNameStatistics.Type


class FeatureAccumulator:
    """Every statistic of one feature (see the module docstring)."""

    __slots__ = (
        "categorical",
        "common",
        "custom",
        "declared_bytes",
        "kind_counts",
        "num_invalid_values",
        "num_invalid_weights",
        "numeric",
        "path",
        "position",
        "spec",
        "string",
    )

    def __init__(self, path: FeaturePath, spec: StatisticsSpec) -> None:
        self.path = path
        self.spec = spec
        self.common = CommonAccumulator(spec.quantiles)
        self.numeric: NumericAccumulator | None = None
        self.string: StringAccumulator | None = None
        # Custom statistics (StatisticsSpec.statistics); None while the spec has none.
        self.custom = CustomStates(spec.statistics) if spec.statistics else None
        self.kind_counts: collections.Counter[str] = collections.Counter()
        self.num_invalid_values = 0
        self.categorical = path in spec.categorical_features
        self.declared_bytes = path in spec.bytes_features
        self.num_invalid_weights = 0  # only on the weight feature
        # Smallest column position over the batches the feature was in (None: never a
        # column); the canonical, merge-order-free version of "the data's column order".
        self.position: int | None = None

    def _string(self) -> StringAccumulator:
        if self.string is None:
            self.string = StringAccumulator(self.spec.frequent_items, self.spec.distinct)
        return self.string

    def _numeric(self) -> NumericAccumulator:
        if self.numeric is None:
            self.numeric = NumericAccumulator(self.spec.quantiles, self.spec.weighted_quantiles)
        return self.numeric

    def add(self, column: FeatureColumn, weights: np.ndarray | None = None) -> None:
        """Adds one batch of the feature, with the examples' weights if weighted."""
        self.common.add(column.present, column.num_values, weights)
        kind, values = column.kind, column.values
        self.kind_counts[kind.value] += len(values)
        self.num_invalid_values += column.num_invalid
        # Values are in example order, so each takes its example's weight.
        value_weights = None if weights is None else np.repeat(weights, column.num_values)
        if kind in (Kind.INT, Kind.FLOAT):
            if self.categorical:
                self._string().add(pc.cast(values, pa.string()), value_weights)
            else:
                self._numeric().add(values, value_weights)
        elif kind in (Kind.STRING, Kind.BYTES):
            self._string().add(values, value_weights)
        if self.custom is not None and len(values):
            self.custom.add(kind.value, values, value_weights)

    def merge(self, other: FeatureAccumulator) -> None:
        self.common.merge(other.common)
        if other.numeric is not None:
            self._numeric().merge(other.numeric)
        if other.string is not None:
            self._string().merge(other.string)
        self.kind_counts.update(other.kind_counts)
        self.num_invalid_values += other.num_invalid_values
        self.categorical = self.categorical or other.categorical
        self.declared_bytes = self.declared_bytes or other.declared_bytes
        self.num_invalid_weights += other.num_invalid_weights
        self.note_position(other.position)
        if other.custom is not None and self.custom is not None:
            self.custom.merge(other.custom)

    def note_position(self, position: int | None) -> None:
        """Records that the feature was seen at column `position` (keeps the smallest)."""
        if position is not None and (self.position is None or position < self.position):
            self.position = position

    def order_key(self) -> tuple[int, int, FeaturePath]:
        """Where the feature goes in the output: column position, then path."""
        return (0, self.position, self.path) if self.position is not None else (1, 0, self.path)

    def to_proto(self) -> sketches_pb2.FeatureState:
        msg = sketches_pb2.FeatureState(path=self.path, common=self.common.to_proto())
        if self.numeric is not None:
            msg.numeric.CopyFrom(self.numeric.to_proto())
        if self.string is not None:
            msg.string.CopyFrom(self.string.to_proto())
        msg.kind_counts.update(self.kind_counts)
        msg.num_invalid_values = self.num_invalid_values
        msg.categorical = self.categorical
        msg.declared_bytes = self.declared_bytes
        msg.num_invalid_weights = self.num_invalid_weights
        if self.position is not None:
            msg.position = self.position
        if self.custom is not None:
            msg.custom.update(self.custom.to_proto())
        return msg

    @classmethod
    def from_proto(cls, msg: sketches_pb2.FeatureState, spec: StatisticsSpec) -> FeatureAccumulator:
        acc = cls(tuple(msg.path), spec)
        acc.common = CommonAccumulator.from_proto(msg.common, spec.quantiles)
        if msg.HasField("numeric"):
            acc.numeric = NumericAccumulator.from_proto(
                msg.numeric, spec.quantiles, spec.weighted_quantiles
            )
        if msg.HasField("string"):
            acc.string = StringAccumulator.from_proto(msg.string)
        acc.kind_counts.update(dict(msg.kind_counts))
        acc.num_invalid_values = msg.num_invalid_values
        acc.categorical = msg.categorical
        acc.declared_bytes = msg.declared_bytes
        acc.num_invalid_weights = msg.num_invalid_weights
        acc.position = msg.position if msg.HasField("position") else None
        if msg.custom:
            if acc.custom is None:
                raise DeserializationError(
                    f"state of custom statistics {sorted(msg.custom)} in a spec without them"
                )
            acc.custom.load(msg.custom)
        return acc

    def _reported_kind(self) -> Kind:
        counts = self.kind_counts
        groups = {
            Kind.FLOAT: counts[Kind.INT.value] + counts[Kind.FLOAT.value],
            Kind.STRING: counts[Kind.STRING.value] + counts[Kind.BYTES.value],
            Kind.STRUCT: counts[Kind.STRUCT.value],
        }
        seen = [kind for kind in (Kind.FLOAT, Kind.STRING, Kind.STRUCT) if groups[kind] > 0]
        if not seen:  # no values: the declared type of the (all-null) column, if any
            seen = [
                group
                for group, kinds in (
                    (Kind.FLOAT, (Kind.INT, Kind.FLOAT)),
                    (Kind.STRING, (Kind.STRING, Kind.BYTES)),
                    (Kind.STRUCT, (Kind.STRUCT,)),
                )
                if any(kind.value in counts for kind in kinds)
            ]
        group = max(seen, key=lambda kind: groups[kind], default=Kind.NULL)
        if group is Kind.FLOAT:
            float_seen = self.numeric is not None and self.numeric.has_float
            return Kind.FLOAT if float_seen or Kind.FLOAT.value in counts else Kind.INT
        if group is Kind.STRING:
            string = self.string
            if self.declared_bytes or (
                Kind.BYTES.value in counts
                and string is not None
                and string.invalid_utf8_count * 2 > string.num_values
            ):
                return Kind.BYTES
        return group

    def result(
        self,
        num_examples: int,
        include_state: bool = True,
        weighted_num_examples: float | None = None,
    ) -> statistics_pb2.FeatureNameStatistics:
        """The finished statistics, with the lossless state unless `include_state` is off,
        and the weighted ones given the dataset's total weight."""
        spec = self.spec
        stats = statistics_pb2.FeatureNameStatistics()
        stats.path.step.extend(self.path)
        common = self.common.result(
            num_examples, spec.num_values_histogram_buckets, weighted_num_examples
        )
        kind = self._reported_kind()
        categorical = self.categorical and kind in (Kind.INT, Kind.FLOAT)
        if kind is Kind.STRUCT:
            stats.type = FeatureType.STRUCT
            stats.struct_stats.common_stats.CopyFrom(common)
        elif kind in (Kind.INT, Kind.FLOAT) and not categorical:
            stats.type = FeatureType.FLOAT if kind is Kind.FLOAT else FeatureType.INT
            numeric = self.numeric or NumericAccumulator(spec.quantiles, spec.weighted_quantiles)
            num_stats, bounds = numeric.result(
                common, spec.num_histogram_buckets, spec.num_quantiles_histogram_buckets
            )
            stats.num_stats.CopyFrom(num_stats)
            self._numeric_custom_stats(stats, numeric, bounds)
        elif kind is Kind.BYTES:
            stats.type = FeatureType.BYTES
            self._bytes_stats(stats.bytes_stats, common)
        else:
            stats.type = FeatureType.INT if categorical else FeatureType.STRING
            self._string_stats(stats, common)
        self._type_conflict(stats, kind)
        if self.num_invalid_values:
            stats.custom_stats.add(name="num_invalid_values", num=self.num_invalid_values)
        if unsupported := self.kind_counts[Kind.UNSUPPORTED.value]:
            # Values of an Arrow type without statistics (union, interval, map ...): counted
            # here, so that an empty STRING summary is not mistaken for no values.
            stats.custom_stats.add(name="unsupported_values", num=unsupported)
        if self.num_invalid_weights:
            stats.custom_stats.add(name="num_invalid_weights", num=self.num_invalid_weights)
        for name, value in self.custom.results() if self.custom is not None else ():
            if isinstance(value, str):
                stats.custom_stats.add(name=name, str=value)
            else:
                stats.custom_stats.add(name=name, num=value)
        if include_state:
            stored = sketches_pb2.StoredFeatureState(
                format_version=FORMAT_VERSION,
                settings=spec.settings(),
                options=spec.options(),
                state=self.to_proto(),
            )
            stats.custom_stats.add(name=STATE_NAME).any.Pack(seal(stored))
        return stats

    def _numeric_custom_stats(
        self,
        stats: statistics_pb2.FeatureNameStatistics,
        numeric: NumericAccumulator,
        bounds: dict[str, float],
    ) -> None:
        moments = numeric.moments
        for name, value in (
            ("num_nan", moments.num_nan),
            ("num_pos_inf", moments.num_pos_inf),
            ("num_neg_inf", moments.num_neg_inf),
            *bounds.items(),
        ):
            stats.custom_stats.add(name=name, num=value)

    def _string_stats(
        self, stats: statistics_pb2.FeatureNameStatistics, common: statistics_pb2.CommonStatistics
    ) -> None:
        string_stats = stats.string_stats
        string_stats.common_stats.CopyFrom(common)
        string = self.string
        if string is None or string.num_values == 0:
            return
        string_stats.unique = string.unique
        string_stats.avg_length = string.total_length / string.num_values
        string_stats.invalid_utf8_count = string.invalid_utf8_count
        numeric = stats.type == FeatureType.INT  # a categorical int: ties as numbers (TFDV)
        top = string.top(
            max(self.spec.num_top_values, self.spec.num_rank_histogram_buckets), numeric
        )
        for value, count in top[: self.spec.num_top_values]:
            string_stats.top_values.add(value=value, frequency=count)
        string_stats.rank_histogram.CopyFrom(
            histograms.rank(top, self.spec.num_rank_histogram_buckets)
        )
        if string.weighted_top_values is not None:
            weighted = string.weighted_top(
                max(self.spec.num_top_values, self.spec.num_rank_histogram_buckets), numeric
            )
            for value, weight in weighted[: self.spec.num_top_values]:
                string_stats.weighted_string_stats.top_values.add(value=value, frequency=weight)
            string_stats.weighted_string_stats.rank_histogram.CopyFrom(
                histograms.rank(weighted, self.spec.num_rank_histogram_buckets)
            )
        rse = 0.0 if string.unique_is_exact else self.spec.distinct.relative_standard_error
        stats.custom_stats.add(name="top_values_max_error", num=string.top_values.offset)
        stats.custom_stats.add(name="distinct_relative_standard_error", num=rse)

    def _bytes_stats(
        self, bytes_stats: statistics_pb2.BytesStatistics, common: statistics_pb2.CommonStatistics
    ) -> None:
        bytes_stats.common_stats.CopyFrom(common)
        string = self.string
        if string is None or string.num_values == 0:
            return
        bytes_stats.unique = string.unique
        bytes_stats.avg_num_bytes = string.total_length / string.num_values
        bytes_stats.min_num_bytes = string.min_length
        bytes_stats.max_num_bytes = string.max_length
        bytes_stats.max_num_bytes_int = string.max_length

    def _type_conflict(self, stats: statistics_pb2.FeatureNameStatistics, kind: Kind) -> None:
        with_values = {name: n for name, n in self.kind_counts.items() if n}
        numeric = {Kind.INT.value, Kind.FLOAT.value}
        strings = {Kind.STRING.value, Kind.BYTES.value}
        if len(with_values) < 2 or set(with_values) <= numeric or set(with_values) <= strings:
            return
        seen = ", ".join(f"{name}: {n} values" for name, n in sorted(with_values.items()))
        stats.custom_stats.add(name="type_conflict", str=f"{seen}; reported as {kind.value}")


def _numeric(data_type: pa.DataType) -> bool:
    return bool(pa.types.is_integer(data_type) or pa.types.is_floating(data_type))


def _weight_values(column: pa.Array, path: FeaturePath) -> np.ndarray:
    """One float per example: a numeric column, or a list column (a TFRecord feature) of one
    value per example, where an example with none or several gets NaN (an invalid weight)."""
    if _numeric(column.type):
        weights: np.ndarray = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
        return weights.copy()
    is_list = pa.types.is_list(column.type) or pa.types.is_large_list(column.type)
    if not (is_list and _numeric(column.type.value_type)):
        raise InvalidInputError(
            f"the weight feature {path_str(path)!r} must be a numeric column with one "
            f"value per example, got {column.type}"
        )
    lengths = pc.fill_null(pc.list_value_length(column), 0).to_numpy(zero_copy_only=False)
    parents = pc.list_parent_indices(column).to_numpy(zero_copy_only=False)
    values = pc.cast(pc.list_flatten(column), pa.float64()).to_numpy(zero_copy_only=False)
    weights = np.full(len(column), np.nan)
    single = lengths[parents] == 1
    weights[parents[single]] = values[single]
    return weights


class DatasetAccumulator:
    """Every feature of one dataset: the state a statistics run combines."""

    def __init__(self, spec: StatisticsSpec) -> None:
        self.spec = spec
        self.num_examples = 0
        self.weighted_num_examples = 0.0
        self.features: dict[FeaturePath, FeatureAccumulator] = {}
        self.composites: list[CompositeAccumulator] = [c.create() for c in spec.composites]
        self.released = False  # spent by result(release=True)

    def _feature(self, path: FeaturePath) -> FeatureAccumulator:
        feature = self.features.get(path)
        if feature is None:
            feature = self.features[path] = FeatureAccumulator(path, self.spec)
        return feature

    def add(self, batch: pa.RecordBatch) -> None:
        """Adds one record batch (one example per row).

        Raises:
            InvalidInputError: two columns of `batch` have the same name (their values would
                fold into one feature).
        """
        names = batch.schema.names
        if len(set(names)) != len(names):
            twice = sorted({n for n in names if names.count(n) > 1})
            raise InvalidInputError(
                f"column names {twice} appear more than once in a record batch; each column "
                "needs its own name (their values would fold into one feature)"
            )
        self.num_examples += batch.num_rows
        weights = self._weights(batch)
        for position, column in enumerate(flatten_batch(batch)):
            feature = self._feature(column.path)
            feature.note_position(position)
            feature.add(column, weights)
        for composite in self.composites:
            composite.add(batch)

    def _weights(self, batch: pa.RecordBatch) -> np.ndarray | None:
        """The examples' weights (invalid ones as 0, counted), or None if unweighted."""
        path = self.spec.weight_feature
        if path is None:
            return None
        index = batch.schema.get_field_index(path[0]) if len(path) == 1 else -1
        if index < 0:
            weights = np.zeros(batch.num_rows)
        else:
            weights = _weight_values(batch.column(index), path)
        invalid = ~(np.isfinite(weights) & (weights >= 0))
        if invalid.any():
            weights[invalid] = 0.0
            self._feature(path).num_invalid_weights += int(np.count_nonzero(invalid))
        self.weighted_num_examples += float(weights.sum())
        return weights

    def add_all(self, batches: Iterable[pa.RecordBatch]) -> None:
        for batch in batches:
            self.add(batch)

    def merge(self, other: DatasetAccumulator) -> None:
        if other.spec.settings() != self.spec.settings():
            raise IncompatibleMergeError(
                f"sketch settings differ: {self.spec.settings()} vs {other.spec.settings()}"
            )
        self.num_examples += other.num_examples
        self.weighted_num_examples += other.weighted_num_examples
        for path, feature in other.features.items():
            self._feature(path).merge(feature)
        for composite, theirs in zip(self.composites, other.composites, strict=True):
            composite.merge(theirs)

    def to_proto(self) -> sketches_pb2.DatasetState:
        return sketches_pb2.DatasetState(
            format_version=FORMAT_VERSION,
            num_examples=self.num_examples,
            weighted_num_examples=self.weighted_num_examples,
            features=[feature.to_proto() for feature in self.ordered_features()],
            settings=self.spec.settings(),
            composites=[composite.to_proto() for composite in self.composites],
        )

    @classmethod
    def from_proto(cls, msg: sketches_pb2.DatasetState, spec: StatisticsSpec) -> DatasetAccumulator:
        if msg.settings != spec.settings():
            raise IncompatibleMergeError(
                f"state made with sketch settings {msg.settings}, expected {spec.settings()}"
            )
        acc = cls(spec)
        acc.num_examples = msg.num_examples
        acc.weighted_num_examples = msg.weighted_num_examples
        for feature in msg.features:
            acc.features[tuple(feature.path)] = FeatureAccumulator.from_proto(feature, spec)
        acc.composites = [
            CompositeAccumulator.from_proto(state, composite)
            for state, composite in zip(msg.composites, spec.composites, strict=True)
        ]
        return acc

    def result(
        self,
        name: str = "",
        include_state: bool = True,
        release: bool = False,
        into: statistics_pb2.DatasetFeatureStatistics | None = None,
    ) -> statistics_pb2.DatasetFeatureStatistics:
        """The finished statistics of every feature (with their state, see FeatureAccumulator).

        With `release` each feature's accumulator is dropped once its statistics are
        written, so the two are not held at once (the accumulator is spent: its features
        are gone, and a later ``result`` raises). With `into` (an empty message, e.g.
        ``statistics_list.datasets.add()``) the statistics are written there and it is
        returned: putting a finished message in a list would copy it.

        Raises:
            ValueError: the accumulator was spent by an earlier ``result(release=True)``.
        """
        stats = statistics_pb2.DatasetFeatureStatistics() if into is None else into
        results = self.feature_results(include_state, release)  # raises if spent
        stats.name, stats.num_examples = name, self.num_examples
        if self.spec.weight_feature is not None:
            stats.weighted_num_examples = self.weighted_num_examples
        for feature in results:
            stats.features.append(feature)
        return stats

    def feature_results(
        self, include_state: bool = True, release: bool = False
    ) -> Iterator[statistics_pb2.FeatureNameStatistics]:
        """Each entry of :meth:`result`'s ``features``, in order, made one at a time: the
        features' statistics (with those of a sparse or weighted feature at the same path),
        then the sparse and weighted features' own entries. `release` as in ``result``.

        Raises:
            ValueError: the accumulator was spent by an earlier ``result(release=True)``.
        """
        if self.released:
            raise ValueError("this DatasetAccumulator was spent by result(release=True)")
        features = collections.deque(self.ordered_features())
        if release:
            self.features, self.released = {}, True
        return self._feature_results(features, include_state)

    def _feature_results(
        self, features: collections.deque[FeatureAccumulator], include_state: bool
    ) -> Iterator[statistics_pb2.FeatureNameStatistics]:
        weighted = self.weighted_num_examples if self.spec.weight_feature is not None else None
        stored = sketches_pb2.StoredFeatureState(
            format_version=COMPOSITE_FORMAT_VERSION,
            settings=self.spec.settings(),
            options=self.spec.options(),
        )
        stored_or_none = stored if include_state else None
        by_path: dict[FeaturePath, list[CompositeAccumulator]] = {}
        for composite in self.composites:  # applied in this order
            by_path.setdefault(composite.spec.path, []).append(composite)
        while features:
            feature = features.popleft()
            entry = feature.result(self.num_examples, include_state, weighted)
            for composite in by_path.pop(feature.path, ()):
                add_composite(entry, composite, stored_or_none, STATE_NAME)
            yield entry
        for path, composites in by_path.items():
            entry = statistics_pb2.FeatureNameStatistics()
            entry.path.step.extend(path)
            for composite in composites:
                add_composite(entry, composite, stored_or_none, STATE_NAME)
            yield entry

    def ordered_features(self) -> list[FeatureAccumulator]:
        """The features in the data's column order: by smallest column position over every
        batch (a feature's position in the flattened columns of a batch), ties by path. Unlike
        first appearance this does not depend on the order batches and states are merged."""
        return sorted(self.features.values(), key=FeatureAccumulator.order_key)
