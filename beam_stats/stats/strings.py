"""Statistics of STRING and BYTES features, and of int features declared categorical.

Per batch the values are dictionary-encoded once (Arrow) and counted with ``np.bincount``;
everything else works on the batch's distinct values and their counts:

* top values and the rank histogram: Misra-Gries frequent items
  (:mod:`beam_stats.sketches.frequent`). A listed count is a lower bound, short of the true
  count by at most ``top_values_max_error`` (0 while the feature has at most ``capacity``
  distinct values, when every count is exact);
* ``unique``: exact up to the distinct-count sketch's ``exact_limit`` (100,000 by default;
  :mod:`beam_stats.sketches.distinct`), else its HyperLogLog estimate, whose relative
  standard error is reported as ``distinct_relative_standard_error`` (0 when exact), kept
  between what is certain (more than ``exact_limit``, and more than the frequent-items
  ``capacity`` once that sketch dropped a value) and the number of values, so it never reads
  more distinct values than values;
* lengths in bytes (total, min, max) and the number of values that are not valid UTF-8:
  exact, merged by sums and extremes.

Empty input leaves every count at zero. Values that are not valid UTF-8 are reported with
backslash escapes, since proto strings must be valid UTF-8.

:class:`StringFamily` is its registry entry (:mod:`beam_stats.stats.family`): it takes the
STRING and BYTES values, and the numbers of features declared categorical (as their
decimal text), is stored in ``FeatureState.string`` and reports ``string_stats`` (with the
custom statistics ``top_values_max_error`` and ``distinct_relative_standard_error``) or
``bytes_stats``.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from beam_stats.proto import sketches_pb2
from beam_stats.sketches import (
    DistinctCountAccumulator,
    DistinctCountSpec,
    FrequentItemsAccumulator,
    FrequentItemsSpec,
)
from beam_stats.stats.family import (
    NUMBERS,
    STRINGS,
    DistinctValues,
    FeatureBatch,
    FeatureReport,
)
from beam_stats.stats.string_reports import (
    STRING_FIELDS,
    WEIGHTED_FIELDS,
    PreparedReport,
    report_bytes,
)
from beam_stats.stats.utf8 import invalid_utf8_mask, printable

if TYPE_CHECKING:
    from beam_stats.stats.spec import StatisticsSpec


def _distinct_with_counts(
    values: pa.Array, weights: np.ndarray | None = None
) -> tuple[pa.Array, np.ndarray, np.ndarray | None]:
    """The distinct values of `values` (no nulls), how often each occurs and, given each
    value's weight, the total weight of each distinct value."""
    encoded = values if pa.types.is_dictionary(values.type) else pc.dictionary_encode(values)
    dictionary = encoded.dictionary
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    counts = np.bincount(indices, minlength=len(dictionary))
    weighted = None if weights is None else np.bincount(indices, weights, minlength=len(dictionary))
    if pa.types.is_dictionary(values.type) and not counts.all():
        used = counts > 0
        return (
            dictionary.filter(pa.array(used)),
            counts[used],
            None if weighted is None else weighted[used],
        )
    return dictionary, counts, weighted


def _pairs(texts: pa.Array, counts: np.ndarray) -> list[tuple[str, float]]:
    return list(zip(texts.to_pylist(), counts.tolist(), strict=True))


class StringAccumulator:
    """Frequent values, distinct count and lengths of one string-like feature."""

    def __init__(self, frequent: FrequentItemsSpec, distinct: DistinctCountSpec) -> None:
        self.top_values = frequent.create()
        self.distinct = distinct.create()
        self.num_values = 0
        self.total_length = 0
        self.min_length = 0
        self.max_length = 0
        self.invalid_utf8_count = 0
        self.weighted_top_values: FrequentItemsAccumulator | None = None
        self.prepared: PreparedReport | None = None

    def add(self, values: pa.Array, weights: np.ndarray | None = None) -> None:
        """Adds non-null string, binary or dictionary-encoded values, and each value's
        weight if weighted."""
        if len(values) == 0:
            return
        if pa.types.is_fixed_size_binary(values.type):
            values = values.cast(pa.binary())
        distinct, counts, weighted = _distinct_with_counts(values, weights)
        if weighted is not None:
            if self.weighted_top_values is None:
                self.weighted_top_values = self.top_values.spec.create()
            self.weighted_top_values.add_counts(distinct, weighted)
        lengths = pc.binary_length(distinct).to_numpy(zero_copy_only=False)
        self._add_counted(distinct, counts, lengths, invalid_utf8_mask(distinct))
        self.distinct.add(distinct)

    def add_distinct(self, distinct: DistinctValues) -> None:
        """Adds an unweighted batch given as its distinct values (what :meth:`add` of the
        batch's values does)."""
        if distinct.counts.size == 0:
            return
        self._add_counted(distinct.values, distinct.counts, distinct.lengths, distinct.invalid_utf8)
        self.distinct.add_hashes(distinct.hashes)

    def _add_counted(
        self, values: pa.Array, counts: np.ndarray, lengths: np.ndarray, invalid: np.ndarray
    ) -> None:
        self.total_length += int(lengths @ counts)
        low, high = int(lengths.min()), int(lengths.max())
        if self.num_values == 0:
            self.min_length, self.max_length = low, high
        else:
            self.min_length = min(self.min_length, low)
            self.max_length = max(self.max_length, high)
        self.num_values += int(counts.sum())
        self.invalid_utf8_count += int(counts[invalid].sum())
        self.top_values.add_counts(values, counts.astype(np.float64))

    def merge(self, other: StringAccumulator) -> None:
        self.merge_all([other])

    def merge_all(self, others: list[StringAccumulator]) -> None:
        """Merges every state of `others` (each unchanged); the distinct counts and the top
        values all at once (their sketches' ``merge_all``)."""
        for other in others:
            if other.num_values and self.num_values:
                self.min_length = min(self.min_length, other.min_length)
                self.max_length = max(self.max_length, other.max_length)
            elif other.num_values:
                self.min_length, self.max_length = other.min_length, other.max_length
            self.num_values += other.num_values
            self.total_length += other.total_length
            self.invalid_utf8_count += other.invalid_utf8_count
        self.distinct.merge_all([other.distinct for other in others])
        self.top_values.merge_all([other.top_values for other in others])
        weighted = [o.weighted_top_values for o in others if o.weighted_top_values is not None]
        if weighted:
            if self.weighted_top_values is None:
                self.weighted_top_values = self.top_values.spec.create()
            self.weighted_top_values.merge_all(weighted)

    @property
    def unique_is_exact(self) -> bool:
        """True when :attr:`unique` is exact (an exact distinct state, or a frequent-items
        sketch that never dropped a value)."""
        return self.distinct.is_exact or self.top_values.max_error == 0

    @property
    def unique(self) -> int:
        """Distinct values: exact up to the distinct sketch's limit, else estimated.

        The estimate is kept within what is certain: a dense distinct state has more than its
        ``exact_limit`` hashes; the frequent-items sketch drops a value only when it holds
        ``capacity`` others, so there are more than ``capacity``; and there are no more
        distinct values than values. A HyperLogLog-only state (``exact_limit=0``) is still
        exact while the frequent-items sketch never dropped a value.
        """
        if self.distinct.is_exact:
            return self.distinct.result()
        capacity = self.top_values.spec.capacity
        listed = len(self.top_values.top_arrays(capacity)[0])
        if self.top_values.max_error == 0:
            return listed
        # Values folded by a privacy policy were not dropped for room: only the listed are sure.
        floor = capacity + 1 if self.top_values.offset > 0 else listed
        return int(min(max(self.distinct.result(), floor), self.num_values))

    def top(self, k: int, numeric: bool = False) -> list[tuple[str, float]]:
        """The k most frequent values, printable, with their lower-bound counts, ties by value
        descending (as numbers if `numeric`: categorical ints), as TFDV orders them.

        A value that was kept has occurred at least once, so its count is at least 1 even
        when Misra-Gries' decrements brought the lower bound to 0 (all-unique features).
        """
        return _pairs(*self.top_arrays(k, numeric))

    def top_arrays(self, k: int, numeric: bool = False) -> tuple[pa.Array, np.ndarray]:
        """:meth:`top` as two arrays: the values' text (a string array) and their counts."""
        values, lowers = self.top_values.top_arrays(k, numeric=numeric)
        return printable(values), np.maximum(lowers, 1.0)

    def weighted_top(self, k: int, numeric: bool = False) -> list[tuple[str, float]]:
        """The k values of largest total weight, with lower bounds of their weights (ties as
        in :meth:`top`)."""
        return _pairs(*self.weighted_top_arrays(k, numeric))

    def weighted_top_arrays(self, k: int, numeric: bool = False) -> tuple[pa.Array, np.ndarray]:
        """:meth:`weighted_top` as two arrays, as :meth:`top_arrays`."""
        if self.weighted_top_values is None:
            return pa.array([], type=pa.string()), np.zeros(0)
        values, lowers = self.weighted_top_values.top_arrays(k, numeric=numeric)
        return printable(values), lowers

    def to_proto(self) -> sketches_pb2.StringState:
        msg = sketches_pb2.StringState()
        self.write(msg)
        return msg

    def write(self, msg: sketches_pb2.StringState) -> None:
        """Writes :meth:`to_proto` into `msg` (empty), the frequent items in place."""
        self.top_values.write(msg.top_values)
        msg.distinct.CopyFrom(self.distinct.to_proto())
        msg.num_values = self.num_values
        msg.total_length = self.total_length
        msg.invalid_utf8_count = self.invalid_utf8_count
        msg.min_length = self.min_length
        msg.max_length = self.max_length
        if self.weighted_top_values is not None:
            self.weighted_top_values.write(msg.weighted_top_values)

    @classmethod
    def from_proto(cls, msg: sketches_pb2.StringState) -> StringAccumulator:
        acc = cls.__new__(cls)
        acc.top_values = FrequentItemsAccumulator.from_proto(msg.top_values)
        acc.distinct = DistinctCountAccumulator.from_proto(msg.distinct)
        acc.num_values = msg.num_values
        acc.total_length = msg.total_length
        acc.invalid_utf8_count = msg.invalid_utf8_count
        acc.min_length = msg.min_length
        acc.max_length = msg.max_length
        acc.weighted_top_values = (
            FrequentItemsAccumulator.from_proto(msg.weighted_top_values)
            if msg.HasField("weighted_top_values")
            else None
        )
        acc.prepared = None
        return acc


@dataclasses.dataclass(frozen=True)
class StringFamily:
    """The registry entry of :class:`StringAccumulator` (see the module docstring)."""

    name: ClassVar[str] = "string"
    frequent_items: FrequentItemsSpec
    distinct: DistinctCountSpec
    num_top_values: int
    num_rank_histogram_buckets: int

    @classmethod
    def from_spec(cls, spec: StatisticsSpec) -> StringFamily:
        return cls(
            spec.frequent_items,
            spec.distinct,
            spec.num_top_values,
            spec.num_rank_histogram_buckets,
        )

    @property
    def eager(self) -> bool:
        return False

    def takes(self, batch: FeatureBatch) -> bool:
        kind = batch.column.kind
        return kind in STRINGS or (batch.categorical and kind in NUMBERS)

    def create(self) -> StringAccumulator:
        return StringAccumulator(self.frequent_items, self.distinct)

    def add(self, state: StringAccumulator, batch: FeatureBatch) -> None:
        if batch.distinct is not None:  # worked out for many batches at once
            state.add_distinct(batch.distinct)
            return
        if batch.encoded is not None:  # made once for this family and the label state
            state.add(batch.encoded, batch.value_weights)
            return
        values = batch.column.values
        if batch.column.kind in NUMBERS:
            values = pc.cast(values, pa.string())
        state.add(values, batch.value_weights)

    def load(self, msg: sketches_pb2.FeatureState) -> StringAccumulator | None:
        return StringAccumulator.from_proto(msg.string) if msg.HasField("string") else None

    def write(self, state: StringAccumulator, msg: sketches_pb2.FeatureState) -> None:
        state.write(msg.string)

    def report(self, state: StringAccumulator | None, out: FeatureReport) -> None:
        if state is None or state.num_values == 0:
            return
        if out.section == "string_stats":
            self._string_stats(state, out)
        elif out.section == "bytes_stats":
            bytes_stats = out.stats.bytes_stats
            bytes_stats.unique = state.unique
            bytes_stats.avg_num_bytes = state.total_length / state.num_values
            bytes_stats.min_num_bytes = state.min_length
            bytes_stats.max_num_bytes = state.max_length
            bytes_stats.max_num_bytes_int = state.max_length

    def _string_stats(self, string: StringAccumulator, out: FeatureReport) -> None:
        string_stats = out.stats.string_stats
        string_stats.unique = string.unique
        string_stats.avg_length = string.total_length / string.num_values
        string_stats.invalid_utf8_count = string.invalid_utf8_count
        numeric = out.kind in NUMBERS  # a categorical int: ties as numbers (TFDV)
        top, rank = self.num_top_values, self.num_rank_histogram_buckets
        prepared, (values, counts) = string.prepared, string.top_values.entries
        if (
            prepared is not None
            and not numeric
            and prepared.entries[0] is values  # any change since replaced them
            and prepared.entries[1] is counts
            and (prepared.top, prepared.rank) == (top, rank)
        ):
            string_stats.MergeFromString(prepared.data)
        else:  # a categorical int, or not prepared (string_reports.py)
            texts, counts = string.top_arrays(max(top, rank), numeric)
            (data,) = report_bytes(texts, counts, [len(texts)], top, rank, STRING_FIELDS)
            string_stats.MergeFromString(data)
        if string.weighted_top_values is not None:
            texts, weights = string.weighted_top_arrays(max(top, rank), numeric)
            (data,) = report_bytes(texts, weights, [len(texts)], top, rank, WEIGHTED_FIELDS)
            string_stats.weighted_string_stats.MergeFromString(data)
        rse = 0.0 if string.unique_is_exact else self.distinct.relative_standard_error
        out.note("top_values_max_error", string.top_values.max_error)
        out.note("distinct_relative_standard_error", rse)
