"""Exact moments of numeric values: count, mean, variance, min, max, zeros, non-finite values.

Algorithm: per batch, numpy's two-pass mean and sum of squared deviations ``M2``; batches and
partitions merge with the parallel formula of Chan, Golub and LeVeque (1979)::

    n = na + nb,   d = mean_b - mean_a
    mean = mean_a + d * nb / n
    M2 = M2_a + M2_b + d**2 * na * nb / n

which is numerically stable (no catastrophic cancellation of sums of squares), so mean and
standard deviation agree with numpy on the whole data to floating-point precision. The
standard deviation is the population one, ``sqrt(M2 / n)``, as in TFDV.

NaN, +inf and -inf are counted apart and kept out of every other figure. Empty input leaves
the count at zero; min and max are then NaN and not reported.
"""

from __future__ import annotations

import math

import numpy as np

from beam_stats.proto import sketches_pb2


def split_finite(values: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, int, int, int]:
    """`values` without NaN and infinities, the mask that kept them (None: all were kept),
    and the counts of NaN, +inf and -inf."""
    finite = np.isfinite(values)
    if finite.all():
        return values, None, 0, 0, 0
    num_nan = int(np.count_nonzero(np.isnan(values)))
    num_pos_inf = int(np.count_nonzero(values == np.inf))
    num_neg_inf = int(values.size - np.count_nonzero(finite) - num_nan - num_pos_inf)
    return values[finite], finite, num_nan, num_pos_inf, num_neg_inf


class MomentsAccumulator:
    """Exact count, mean, M2, min, max and special-value counts (module docstring)."""

    def __init__(self) -> None:
        self.count = 0
        self.mean = 0.0
        self.m2 = 0.0
        self.min = math.nan
        self.max = math.nan
        self.num_zeros = 0
        self.num_nan = 0
        self.num_pos_inf = 0
        self.num_neg_inf = 0

    def add(self, values: np.ndarray) -> None:
        """Adds float64 values, which may hold NaN and infinities."""
        finite, _, num_nan, num_pos_inf, num_neg_inf = split_finite(values)
        self.add_finite(finite, num_nan, num_pos_inf, num_neg_inf)

    def add_finite(
        self, finite: np.ndarray, num_nan: int = 0, num_pos_inf: int = 0, num_neg_inf: int = 0
    ) -> None:
        """Adds values already split by :func:`split_finite`."""
        self.num_nan += num_nan
        self.num_pos_inf += num_pos_inf
        self.num_neg_inf += num_neg_inf
        if finite.size == 0:
            return
        other = MomentsAccumulator()
        other.count = int(finite.size)
        other.mean = float(finite.mean())
        other.m2 = float(np.square(finite - other.mean).sum())
        other.min = float(finite.min())
        other.max = float(finite.max())
        other.num_zeros = int(finite.size - np.count_nonzero(finite))
        self._merge_finite(other)

    def _merge_finite(self, other: MomentsAccumulator) -> None:
        if other.count == 0:
            return
        if self.count == 0:
            self.count, self.mean, self.m2 = other.count, other.mean, other.m2
            self.min, self.max = other.min, other.max
        else:
            count = self.count + other.count
            delta = other.mean - self.mean
            self.mean += delta * other.count / count
            self.m2 += other.m2 + delta * delta * self.count * other.count / count
            self.count = count
            self.min = min(self.min, other.min)
            self.max = max(self.max, other.max)
        self.num_zeros += other.num_zeros

    def merge(self, other: MomentsAccumulator) -> None:
        self.num_nan += other.num_nan
        self.num_pos_inf += other.num_pos_inf
        self.num_neg_inf += other.num_neg_inf
        self._merge_finite(other)

    @property
    def std_dev(self) -> float:
        return math.sqrt(self.m2 / self.count) if self.count else math.nan

    def to_proto(self) -> sketches_pb2.MomentsState:
        return sketches_pb2.MomentsState(
            count=self.count,
            mean=self.mean,
            m2=self.m2,
            min=self.min,
            max=self.max,
            num_zeros=self.num_zeros,
            num_nan=self.num_nan,
            num_pos_inf=self.num_pos_inf,
            num_neg_inf=self.num_neg_inf,
        )

    @classmethod
    def from_proto(cls, msg: sketches_pb2.MomentsState) -> MomentsAccumulator:
        acc = cls()
        acc.count = int(msg.count)
        acc.mean, acc.m2 = msg.mean, msg.m2
        acc.min, acc.max = (msg.min, msg.max) if acc.count else (math.nan, math.nan)
        acc.num_zeros = msg.num_zeros
        acc.num_nan = msg.num_nan
        acc.num_pos_inf = msg.num_pos_inf
        acc.num_neg_inf = msg.num_neg_inf
        return acc


class WeightedMomentsAccumulator:
    """Weighted total, mean and M2 of finite values (Chan et al.'s merge with weights).

    With weights ``w``: ``W = sum(w)``, ``mean = sum(w * x) / W``,
    ``M2 = sum(w * (x - mean)**2)``; merging uses the formula of the module docstring with
    the counts replaced by the total weights. The weighted standard deviation is
    ``sqrt(M2 / W)`` (population, as TFDV).
    """

    def __init__(self) -> None:
        self.weight = 0.0
        self.mean = 0.0
        self.m2 = 0.0

    def add(self, finite: np.ndarray, weights: np.ndarray) -> None:
        """Adds finite values with their (non-negative) weights."""
        weight = float(weights.sum())
        if weight <= 0:
            return
        other = WeightedMomentsAccumulator()
        other.weight = weight
        other.mean = float(np.dot(weights, finite) / weight)
        other.m2 = float(np.dot(weights, np.square(finite - other.mean)))
        self.merge(other)

    def merge(self, other: WeightedMomentsAccumulator) -> None:
        if other.weight <= 0:
            return
        if self.weight <= 0:
            self.weight, self.mean, self.m2 = other.weight, other.mean, other.m2
            return
        weight = self.weight + other.weight
        delta = other.mean - self.mean
        self.mean += delta * other.weight / weight
        self.m2 += other.m2 + delta * delta * self.weight * other.weight / weight
        self.weight = weight

    @property
    def std_dev(self) -> float:
        return math.sqrt(self.m2 / self.weight) if self.weight > 0 else math.nan

    def to_proto(self) -> sketches_pb2.WeightedMomentsState:
        return sketches_pb2.WeightedMomentsState(weight=self.weight, mean=self.mean, m2=self.m2)

    @classmethod
    def from_proto(cls, msg: sketches_pb2.WeightedMomentsState) -> WeightedMomentsAccumulator:
        acc = cls()
        acc.weight, acc.mean, acc.m2 = msg.weight, msg.mean, msg.m2
        return acc
