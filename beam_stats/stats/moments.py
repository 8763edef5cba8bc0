"""Exact moments of numeric values: count, mean, variance, min, max, zeros, non-finite values.

Algorithm: per batch, numpy's two-pass mean and sum of squared deviations ``M2``; batches and
partitions merge with the parallel formula of Chan, Golub and LeVeque (1979)::

    n = na + nb,   d = mean_b - mean_a
    mean = mean_a + d * nb / n
    M2 = M2_a + M2_b + d**2 * na * nb / n

which is numerically stable (no catastrophic cancellation of sums of squares), so mean and
standard deviation agree with numpy on the whole data to floating-point precision. The
standard deviation is the population one, ``sqrt(M2 / n)``, as in TFDV.

Values near the float64 limit (``|x| >= 2**400``) would overflow squares and sums, so such a
batch is divided by a power of two ``2**e`` (exact) before the sums; ``M2`` is kept divided by
``4**e`` with ``e`` in the state (``m2_exponent``), and merging brings both sides to the
larger ``e``. For usual data ``e == 0`` and nothing is scaled; ``[1.7e308] * 10`` has a
finite mean and standard deviation (as numpy computes them on the scaled values), not inf.

NaN, +inf and -inf are counted apart and kept out of every other figure. Empty input leaves
the count at zero; min and max are then NaN and not reported.
"""

from __future__ import annotations

import math

import numpy as np

from beam_stats.proto import sketches_pb2

_HEADROOM = 400  # values are scaled below 2**400, so squares and their sums stay finite


def scale_exponent(largest: float) -> int:
    """The power of two to divide values by so that all ``|x| < 2**400`` (0 for usual data)."""
    return max(0, math.frexp(largest)[1] - _HEADROOM)


def chan_merge(
    a: tuple[float, float, float, int], b: tuple[float, float, float, int]
) -> tuple[float, float, int]:
    """Chan et al.'s merge of ``(count, mean, scaled M2, e)`` pairs: the mean, scaled M2, e."""
    count_a, mean_a, m2_a, e_a = a
    count_b, mean_b, m2_b, e_b = b
    e = max(e_a, e_b)
    m2_a, m2_b = math.ldexp(m2_a, 2 * (e_a - e)), math.ldexp(m2_b, 2 * (e_b - e))
    scaled_a, scaled_b = math.ldexp(mean_a, -e), math.ldexp(mean_b, -e)
    count = count_a + count_b
    delta = scaled_b - scaled_a
    mean = math.ldexp(scaled_a + delta * count_b / count, e)
    return mean, m2_a + m2_b + delta * delta * count_a * count_b / count, e


def _scaled(values: np.ndarray, largest: float) -> tuple[np.ndarray, int]:
    e = scale_exponent(largest)
    return (np.ldexp(values, -e) if e else values), e


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

    __slots__ = (
        "count",
        "m2",
        "m2_exponent",
        "max",
        "mean",
        "min",
        "num_nan",
        "num_neg_inf",
        "num_pos_inf",
        "num_zeros",
    )

    def __init__(self) -> None:
        self.count = 0
        self.mean = 0.0
        self.m2 = 0.0  # divided by 4**m2_exponent
        self.m2_exponent = 0
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
        other.min = float(finite.min())
        other.max = float(finite.max())
        scaled, other.m2_exponent = _scaled(finite, max(-other.min, other.max))
        mean = float(scaled.mean())
        other.mean = math.ldexp(mean, other.m2_exponent)
        other.m2 = float(np.square(scaled - mean).sum())
        other.num_zeros = int(finite.size - np.count_nonzero(finite))
        self._merge_finite(other)

    def _merge_finite(self, other: MomentsAccumulator) -> None:
        if other.count == 0:
            return
        if self.count == 0:
            self.count, self.mean, self.m2 = other.count, other.mean, other.m2
            self.m2_exponent = other.m2_exponent
            self.min, self.max = other.min, other.max
        else:
            self.mean, self.m2, self.m2_exponent = chan_merge(
                (self.count, self.mean, self.m2, self.m2_exponent),
                (other.count, other.mean, other.m2, other.m2_exponent),
            )
            self.count += other.count
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
        if not self.count:
            return math.nan
        return math.ldexp(math.sqrt(self.m2 / self.count), self.m2_exponent)

    def to_proto(self) -> sketches_pb2.MomentsState:
        return sketches_pb2.MomentsState(
            count=self.count,
            mean=self.mean,
            m2=self.m2,
            m2_exponent=self.m2_exponent,
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
        acc.mean, acc.m2, acc.m2_exponent = msg.mean, msg.m2, msg.m2_exponent
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
        self.m2 = 0.0  # divided by 4**m2_exponent, as in MomentsAccumulator
        self.m2_exponent = 0

    def add(self, finite: np.ndarray, weights: np.ndarray) -> None:
        """Adds finite values with their (non-negative) weights."""
        weight = float(weights.sum())
        if weight <= 0 or finite.size == 0:
            return
        other = WeightedMomentsAccumulator()
        other.weight = weight
        # max |x| without an array of |x|; the same number (negation is exact)
        largest = max(-float(finite.min()), float(finite.max()))
        scaled, other.m2_exponent = _scaled(finite, largest)
        product = weights * scaled
        mean = float(product.sum() / weight)  # no BLAS (see stats/labels.py)
        other.mean = math.ldexp(mean, other.m2_exponent)
        # weights * (scaled - mean)**2 in one temporary: the same products, in place
        np.subtract(scaled, mean, out=product)
        np.square(product, out=product)
        product *= weights
        other.m2 = float(product.sum())
        self.merge(other)

    def merge(self, other: WeightedMomentsAccumulator) -> None:
        if other.weight <= 0:
            return
        if self.weight <= 0:
            self.weight, self.mean, self.m2 = other.weight, other.mean, other.m2
            self.m2_exponent = other.m2_exponent
            return
        self.mean, self.m2, self.m2_exponent = chan_merge(
            (self.weight, self.mean, self.m2, self.m2_exponent),
            (other.weight, other.mean, other.m2, other.m2_exponent),
        )
        self.weight += other.weight

    @property
    def std_dev(self) -> float:
        if self.weight <= 0:
            return math.nan
        return math.ldexp(math.sqrt(self.m2 / self.weight), self.m2_exponent)

    def to_proto(self) -> sketches_pb2.WeightedMomentsState:
        return sketches_pb2.WeightedMomentsState(
            weight=self.weight, mean=self.mean, m2=self.m2, m2_exponent=self.m2_exponent
        )

    @classmethod
    def from_proto(cls, msg: sketches_pb2.WeightedMomentsState) -> WeightedMomentsAccumulator:
        acc = cls()
        acc.weight, acc.mean, acc.m2 = msg.weight, msg.mean, msg.m2
        acc.m2_exponent = msg.m2_exponent
        return acc
