"""Numeric statistics of INT and FLOAT features: exact moments plus a quantiles sketch.

Mean, standard deviation, min, max and zeros are exact (:mod:`beam_stats.stats.moments`).
The median and both histograms come from the quantiles sketch over the finite values, exact
while a feature has at most ``QuantilesSpec.exact_limit`` distinct values; past that their
certified bounds are reported with them (see :mod:`beam_stats.stats.histograms`). Merge:
moments by Chan's formula, sketches by their own merge.

:class:`NumericFamily` is its registry entry (:mod:`beam_stats.stats.family`): it takes the
INT and FLOAT values of features not declared categorical (its state is created by a
feature's first such batch, even one of nulls only), is stored in ``FeatureState.numeric``
and reports ``num_stats`` with the custom statistics ``num_nan``, ``num_pos_inf``,
``num_neg_inf`` and the error bounds.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pyarrow as pa
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.proto import sketches_pb2
from beam_stats.sketches import (
    QuantilesAccumulator,
    QuantilesSpec,
    WeightedQuantilesAccumulator,
    WeightedQuantilesSpec,
)
from beam_stats.sketches.weighted_quantiles import sort_by_value
from beam_stats.stats import histograms
from beam_stats.stats.family import NUMBERS, FeatureBatch, FeatureReport
from beam_stats.stats.moments import (
    MomentsAccumulator,
    WeightedMomentsAccumulator,
    split_finite,
)
from beam_stats.stats.numeric_reports import PreparedNumeric

if TYPE_CHECKING:
    from beam_stats.stats.spec import StatisticsSpec


class NumericAccumulator:
    """Moments and quantiles of one numeric feature."""

    __slots__ = (
        "has_float",
        "moments",
        "prepared",
        "quantiles",
        "weighted_moments",
        "weighted_quantiles",
        "weighted_spec",
    )

    def __init__(
        self, spec: QuantilesSpec, weighted_spec: WeightedQuantilesSpec | None = None
    ) -> None:
        self.moments = MomentsAccumulator()
        self.quantiles = spec.create()
        self.has_float = False
        self.weighted_spec = weighted_spec  # None: the default, made when first weighted
        self.weighted_moments: WeightedMomentsAccumulator | None = None
        self.weighted_quantiles: WeightedQuantilesAccumulator | None = None
        self.prepared: PreparedNumeric | None = None  # numeric_reports.prepare_numeric

    def add(self, values: pa.Array, weights: np.ndarray | None = None) -> None:
        """Adds non-null int64 or float64 values, and each value's weight if weighted."""
        if pa.types.is_floating(values.type):
            self.has_float = True
        array = values.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
        finite, kept, num_nan, num_pos_inf, num_neg_inf = split_finite(array)
        self.moments.add_finite(finite, num_nan, num_pos_inf, num_neg_inf)
        if weights is None:
            self.quantiles.add(finite)
            return
        if self.weighted_moments is None or self.weighted_quantiles is None:
            self.weighted_moments = WeightedMomentsAccumulator()
            self.weighted_quantiles = (self.weighted_spec or WeightedQuantilesSpec()).create()
        finite_weights = weights if kept is None else weights[kept]
        self.weighted_moments.add(finite, finite_weights)
        if finite_weights.all():  # no value dropped for a zero weight: one sort for both sketches
            finite, finite_weights = sort_by_value(finite, finite_weights)
        self.quantiles.add(finite)
        self.weighted_quantiles.add(finite, finite_weights)

    def merge(self, other: NumericAccumulator) -> None:
        self.merge_all([other])

    def merge_all(self, others: list[NumericAccumulator]) -> None:
        """Merges every state of `others` (each unchanged); the quantiles all at once
        (:meth:`~beam_stats.sketches.quantiles.QuantilesAccumulator.merge_all`)."""
        for other in others:
            self.moments.merge(other.moments)
            self.has_float = self.has_float or other.has_float
            if other.weighted_moments is not None and other.weighted_quantiles is not None:
                if self.weighted_moments is None or self.weighted_quantiles is None:
                    self.weighted_moments = WeightedMomentsAccumulator()
                    spec = self.weighted_spec or WeightedQuantilesSpec()
                    self.weighted_quantiles = spec.create()
                self.weighted_moments.merge(other.weighted_moments)
                self.weighted_quantiles.merge(other.weighted_quantiles)
        self.quantiles.merge_all([other.quantiles for other in others])

    def to_proto(self) -> sketches_pb2.NumericState:
        msg = sketches_pb2.NumericState(
            moments=self.moments.to_proto(),
            quantiles=self.quantiles.to_proto(),
            has_float=self.has_float,
        )
        if self.weighted_moments is not None and self.weighted_quantiles is not None:
            msg.weighted_moments.CopyFrom(self.weighted_moments.to_proto())
            msg.weighted_quantiles.CopyFrom(self.weighted_quantiles.to_proto())
        return msg

    @classmethod
    def from_proto(
        cls,
        msg: sketches_pb2.NumericState,
        spec: QuantilesSpec,
        weighted_spec: WeightedQuantilesSpec | None = None,
    ) -> NumericAccumulator:
        acc = cls(spec, weighted_spec)
        acc.moments = MomentsAccumulator.from_proto(msg.moments)
        acc.quantiles = QuantilesAccumulator.from_proto(msg.quantiles)
        acc.has_float = msg.has_float
        if msg.HasField("weighted_moments"):
            acc.weighted_moments = WeightedMomentsAccumulator.from_proto(msg.weighted_moments)
            acc.weighted_quantiles = WeightedQuantilesAccumulator.from_proto(msg.weighted_quantiles)
        return acc

    def result(
        self,
        common: statistics_pb2.CommonStatistics,
        num_histogram_buckets: int,
        num_quantiles_histogram_buckets: int,
    ) -> tuple[statistics_pb2.NumericStatistics, dict[str, float]]:
        """The finished statistics and the error bounds of their sketched parts.

        The bounds are normalized by the count (or total weight): ``quantiles_rank_error``
        (median and quantiles histogram edges, 0 while exact) and ``histogram_count_error``
        (any equi-width bucket's count), plus their ``weighted_`` forms when weighted.
        """
        m = self.moments
        stats = statistics_pb2.NumericStatistics(common_stats=common, num_zeros=m.num_zeros)
        bounds = {"quantiles_rank_error": self.quantiles.rank_error, "histogram_count_error": 0.0}
        edges = None  # of the quantiles histogram, found with the median
        buckets = (num_histogram_buckets, num_quantiles_histogram_buckets)
        prepared = self.prepared
        if m.count:
            stats.mean = m.mean
            stats.std_dev = m.std_dev
            stats.min = m.min
            stats.max = m.max
        if prepared is not None and prepared.fits(self, buckets):  # made for many at once
            stats.median = prepared.median
            stats.MergeFromString(prepared.histograms)
        elif m.count or m.num_nan:
            if m.count:
                stats.median, edges = histograms.median_and_edges(
                    self.quantiles, num_quantiles_histogram_buckets
                )
            standard, error = histograms.equi_width(
                self.quantiles, m.min, m.max, m.count, num_histogram_buckets, m.num_nan
            )
            stats.histograms.append(standard)
            bounds["histogram_count_error"] = error / m.count if m.count else 0.0
            quantiles = histograms.quantiles(
                self.quantiles, m.count, num_quantiles_histogram_buckets, edges
            )
            quantiles.num_nan = m.num_nan
            stats.histograms.append(quantiles)
        wm, wq = self.weighted_moments, self.weighted_quantiles
        if wm is not None and wq is not None:
            bounds["weighted_quantiles_rank_error"] = wq.rank_error
        if wm is not None and wq is not None and wm.weight > 0:
            weighted = stats.weighted_numeric_stats
            weighted.mean = wm.mean
            weighted.std_dev = wm.std_dev
            weighted.median = float(wq.quantiles([0.5])[0])
            standard, error = histograms.equi_width(
                wq, m.min, m.max, wm.weight, num_histogram_buckets
            )
            weighted.histograms.append(standard)
            bounds["weighted_histogram_count_error"] = error / wm.weight
            weighted.histograms.append(
                histograms.quantiles(wq, wm.weight, num_quantiles_histogram_buckets)
            )
        return stats, bounds


@dataclasses.dataclass(frozen=True)
class NumericFamily:
    """The registry entry of :class:`NumericAccumulator` (see the module docstring)."""

    name: ClassVar[str] = "numeric"
    quantiles: QuantilesSpec
    weighted_quantiles: WeightedQuantilesSpec
    num_histogram_buckets: int
    num_quantiles_histogram_buckets: int

    @classmethod
    def from_spec(cls, spec: StatisticsSpec) -> NumericFamily:
        return cls(
            spec.quantiles,
            spec.weighted_quantiles,
            spec.num_histogram_buckets,
            spec.num_quantiles_histogram_buckets,
        )

    @property
    def eager(self) -> bool:
        return False

    def takes(self, batch: FeatureBatch) -> bool:
        return batch.column.kind in NUMBERS and not batch.categorical

    def create(self) -> NumericAccumulator:
        return NumericAccumulator(self.quantiles, self.weighted_quantiles)

    def add(self, state: NumericAccumulator, batch: FeatureBatch) -> None:
        state.add(batch.column.values, batch.value_weights)

    def load(self, msg: sketches_pb2.FeatureState) -> NumericAccumulator | None:
        if not msg.HasField("numeric"):
            return None
        return NumericAccumulator.from_proto(msg.numeric, self.quantiles, self.weighted_quantiles)

    def write(self, state: NumericAccumulator, msg: sketches_pb2.FeatureState) -> None:
        msg.numeric.CopyFrom(state.to_proto())

    def report(self, state: NumericAccumulator | None, out: FeatureReport) -> None:
        if out.section != "num_stats":
            return
        numeric = state or self.create()
        num_stats, bounds = numeric.result(
            out.common, self.num_histogram_buckets, self.num_quantiles_histogram_buckets
        )
        out.stats.num_stats.CopyFrom(num_stats)
        moments = numeric.moments
        out.note("num_nan", moments.num_nan)
        out.note("num_pos_inf", moments.num_pos_inf)
        out.note("num_neg_inf", moments.num_neg_inf)
        for name, value in bounds.items():
            out.note(name, value)
