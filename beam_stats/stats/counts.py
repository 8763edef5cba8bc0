"""Presence and valency: how many examples have a feature and how many values each has.

Exact: counts of examples with the feature, total, minimum and maximum number of values per
example. Merge: sums, and min/max of the extremes. Missing examples are not counted here:
the number missing is the dataset's example count minus ``num_non_missing``, which stays
right when a feature is absent from a whole batch or file.

The distribution of values per example feeds a quantiles histogram from a quantiles sketch (see
:mod:`beam_stats.sketches.quantiles` for its rank error). Most features have the same number
of values in every example (one, for scalars), so the sketch is filled only once two
different counts have been seen; until then ``min == max`` describes the distribution
exactly and costs nothing per row. The sketch itself is created only then, so a feature seen
with one count (most sparse features) holds a few integers, not an empty sketch.

:class:`PresenceFamily` is its registry entry (:mod:`beam_stats.stats.family`): every
feature has this state (it is eager), stored in ``FeatureState.common``; its report goes
first and fills in the ``common_stats`` the other families embed.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.proto import sketches_pb2
from beam_stats.sketches import QuantilesAccumulator, QuantilesSpec
from beam_stats.stats import histograms
from beam_stats.stats.family import FeatureBatch, FeatureReport

if TYPE_CHECKING:
    from beam_stats.stats.spec import StatisticsSpec


class CommonAccumulator:
    """Presence and valency of one feature (see the module docstring)."""

    __slots__ = (
        "_num_values",
        "_spec",
        "max_num_values",
        "min_num_values",
        "num_non_missing",
        "tot_num_values",
        "weighted_num_non_missing",
        "weighted_tot_num_values",
    )

    def __init__(self, spec: QuantilesSpec) -> None:
        self.num_non_missing = 0
        self.tot_num_values = 0
        self.min_num_values = 0
        self.max_num_values = 0
        self.weighted_num_non_missing = 0.0
        self.weighted_tot_num_values = 0.0
        self._spec = spec
        # None (or empty) while every example seen has min_num_values values.
        self._num_values: QuantilesAccumulator | None = None

    @property
    def _is_constant(self) -> bool:
        return self._num_values is None or self._num_values.is_empty

    def _sketch(self) -> QuantilesAccumulator:
        if self._num_values is None:
            self._num_values = self._spec.create()
        return self._num_values

    def _materialise(self) -> None:
        if self._is_constant and self.num_non_missing:
            self._sketch().add_constant(float(self.min_num_values), self.num_non_missing)

    def add(
        self, present: np.ndarray, num_values: np.ndarray, weights: np.ndarray | None = None
    ) -> None:
        """Adds one batch: which examples have the feature, their numbers of values and,
        for weighted statistics, the examples' weights."""
        everywhere = bool(present.all())
        counts = num_values if everywhere else num_values[present]
        low, high = (int(counts.min()), int(counts.max())) if counts.size else (0, 0)
        if weights is not None:
            # Present everywhere: weights[present] is weights; one value each: so is
            # weights * num_values (x * 1 == x); the same sums, summed once.
            present_weight = float(weights.sum() if everywhere else weights[present].sum())
            self.weighted_num_non_missing += present_weight
            if everywhere and low == high == 1:
                self.weighted_tot_num_values += present_weight
            else:
                self.weighted_tot_num_values += float((weights * num_values).sum())
        if counts.size == 0:
            return
        if self.num_non_missing == 0:
            self.min_num_values, self.max_num_values = low, high
        elif not (low == high == self.min_num_values == self.max_num_values):
            self._materialise()
        if low != high or not self._is_constant:
            self._sketch().add(counts.astype(np.float64))
        self.num_non_missing += int(counts.size)
        self.tot_num_values += int(counts.sum())
        self.min_num_values = min(self.min_num_values, low)
        self.max_num_values = max(self.max_num_values, high)

    def merge(self, other: CommonAccumulator) -> None:
        if other.num_non_missing == 0:
            return  # nothing was present, so no weight either
        if self.num_non_missing == 0:
            self.min_num_values = other.min_num_values
            self.max_num_values = other.max_num_values
        same_constant = (
            self._is_constant
            and other._is_constant
            and self.min_num_values == other.min_num_values == self.max_num_values
        )
        if not same_constant:
            self._materialise()
            if other._num_values is None or other._is_constant:
                self._sketch().add_constant(float(other.min_num_values), other.num_non_missing)
            else:
                self._sketch().merge(other._num_values)
        self.num_non_missing += other.num_non_missing
        self.tot_num_values += other.tot_num_values
        self.weighted_num_non_missing += other.weighted_num_non_missing
        self.weighted_tot_num_values += other.weighted_tot_num_values
        self.min_num_values = min(self.min_num_values, other.min_num_values)
        self.max_num_values = max(self.max_num_values, other.max_num_values)

    def to_proto(self) -> sketches_pb2.CommonState:
        msg = sketches_pb2.CommonState(
            num_non_missing=self.num_non_missing,
            tot_num_values=self.tot_num_values,
            min_num_values=self.min_num_values,
            max_num_values=self.max_num_values,
            weighted_num_non_missing=self.weighted_num_non_missing,
            weighted_tot_num_values=self.weighted_tot_num_values,
        )
        if self._num_values is not None and not self._is_constant:
            msg.num_values.CopyFrom(self._num_values.to_proto())
        return msg

    @classmethod
    def from_proto(cls, msg: sketches_pb2.CommonState, spec: QuantilesSpec) -> CommonAccumulator:
        acc = cls(spec)
        acc.num_non_missing = msg.num_non_missing
        acc.tot_num_values = msg.tot_num_values
        acc.min_num_values = msg.min_num_values
        acc.max_num_values = msg.max_num_values
        acc.weighted_num_non_missing = msg.weighted_num_non_missing
        acc.weighted_tot_num_values = msg.weighted_tot_num_values
        if msg.HasField("num_values"):
            acc._num_values = QuantilesAccumulator.from_proto(msg.num_values)
        return acc

    def result(
        self, num_examples: int, num_buckets: int, weighted_num_examples: float | None = None
    ) -> statistics_pb2.CommonStatistics:
        """The finished statistics; `num_examples` is the dataset's example count and
        `weighted_num_examples` its total weight (None: unweighted statistics)."""
        stats = statistics_pb2.CommonStatistics(
            num_non_missing=self.num_non_missing,
            num_missing=max(num_examples - self.num_non_missing, 0),
            min_num_values=self.min_num_values,
            max_num_values=self.max_num_values,
            tot_num_values=self.tot_num_values,
        )
        if self.num_non_missing:
            stats.avg_num_values = self.tot_num_values / self.num_non_missing
            if self._num_values is None or self._is_constant:
                histogram = histograms.constant_quantiles(
                    float(self.min_num_values), self.num_non_missing, num_buckets
                )
            else:
                histogram = histograms.quantiles(
                    self._num_values, self.num_non_missing, num_buckets
                )
            stats.num_values_histogram.CopyFrom(histogram)
        if weighted_num_examples is not None:
            weighted = stats.weighted_common_stats
            weighted.num_non_missing = self.weighted_num_non_missing
            weighted.num_missing = max(weighted_num_examples - self.weighted_num_non_missing, 0)
            weighted.tot_num_values = self.weighted_tot_num_values
            if self.weighted_num_non_missing > 0:
                weighted.avg_num_values = (
                    self.weighted_tot_num_values / self.weighted_num_non_missing
                )
        return stats


@dataclasses.dataclass(frozen=True)
class PresenceFamily:
    """The registry entry of :class:`CommonAccumulator` (see the module docstring)."""

    name: ClassVar[str] = "presence"
    quantiles: QuantilesSpec
    num_values_histogram_buckets: int

    @classmethod
    def from_spec(cls, spec: StatisticsSpec) -> PresenceFamily:
        return cls(spec.quantiles, spec.num_values_histogram_buckets)

    @property
    def eager(self) -> bool:
        return True

    def takes(self, batch: FeatureBatch) -> bool:
        return True

    def create(self) -> CommonAccumulator:
        return CommonAccumulator(self.quantiles)

    def add(self, state: CommonAccumulator, batch: FeatureBatch) -> None:
        state.add(batch.column.present, batch.column.num_values, batch.weights)

    def load(self, msg: sketches_pb2.FeatureState) -> CommonAccumulator:
        return CommonAccumulator.from_proto(msg.common, self.quantiles)

    def write(self, state: CommonAccumulator, msg: sketches_pb2.FeatureState) -> None:
        msg.common.CopyFrom(state.to_proto())

    def report(self, state: CommonAccumulator | None, out: FeatureReport) -> None:
        common = (state or self.create()).result(
            out.num_examples, self.num_values_histogram_buckets, out.weighted_num_examples
        )
        out.common.CopyFrom(common)
        getattr(out.stats, out.section).common_stats.CopyFrom(common)
