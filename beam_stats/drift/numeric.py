"""The distribution of a numeric feature's values, and how two datasets are aligned on bins.

What is read, per dataset:

* sketch state (``source="sketch"``): the quantiles sketch of the finite values. Its CDF
  ``F`` is a step function jumping at the retained values; each CDF value is within the
  sketch's certified normalized rank error ``eps`` (``QuantilesAccumulator.rank_error``; 0
  while the sketch is exact) of the true one. It is read at the quantiles of ranks
  ``i / grid_size``; between two consecutive points, ``F`` varies by less than
  ``1 / grid_size`` (the ``slack``; 0 for an exact sketch with ``n <= grid_size``, whose
  every value is a grid point).
* finished statistics without state (``quantiles_histogram``, else ``standard_histogram``):
  the CDF is taken as piecewise linear through the bucket boundaries (values spread
  uniformly inside a bucket, TFDV's assumption), with vertical steps at zero-width buckets.
  It is off by at most the largest bucket's share, plus ``quantiles_rank_error`` when the
  statistics state one: that sum is its ``eps``; its slack is 0.

NaN, +inf and -inf are not in either CDF (the quantiles sketch holds finite values only); they are
counted apart (exactly from sketch state; from the histograms' ``num_nan``, infinite bucket
bounds or beam-stats' ``num_pos_inf``/``num_neg_inf`` otherwise), and the binned measures
give each its own bin.

Bin alignment (:func:`binned_shares`, for Jensen-Shannon, PSI and Hellinger): equal-mass
bins of the even mixture of the two datasets. Both CDFs are read at the union ``z`` of their
points; the mixture CDF is ``M(z) = (F_base(z) + F_test(z)) / 2``; edge ``i`` (``i = 0..
num_bins``) is the first point of ``z`` where ``M`` reaches ``i / num_bins``, so the edges
start at the smaller minimum and end at the larger maximum of the two, and repeated edges
(point masses) are merged: ``e_0 < ... < e_m``. The bins are ``[e_i, e_{i+1})`` for
``i < m``, then the point ``{e_m}``: a value equal to an edge, such as a point mass of a
discrete feature, falls in the bin that starts there, and a 0/1 feature gets the bins
``[0, 1)`` and ``{1}``. Each bin holds about ``1 / num_bins`` of the mixture; the binning is
symmetric in the two datasets, and no bin is a sliver between two nearly equal quantiles of
the two datasets (which would turn sketch error and sampling noise into PSI). Each dataset's
share of ``[e_i, e_{i+1})`` is ``F(< e_{i+1}) - F(< e_i)`` read from its own CDF (for
sketches: within ``2 eps`` of the exact share; no uniformity assumption), times its share of
finite values; then come three bins for -inf, +inf and NaN when either dataset has such
values. A feature constant, and equal, in both datasets gives a single bin holding
everything.
"""

from __future__ import annotations

import abc
import dataclasses
import math

import numpy as np
import numpy.typing as npt
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.sketches import QuantilesAccumulator
from beam_stats.stats import FeatureAccumulator

F64 = npt.NDArray[np.float64]
HistogramType = statistics_pb2.Histogram.HistogramType


@dataclasses.dataclass(frozen=True)
class Counts:
    """How many values are finite, NaN, +inf and -inf."""

    finite: float
    nan: float = 0.0
    pos_inf: float = 0.0
    neg_inf: float = 0.0

    @property
    def total(self) -> float:
        return self.finite + self.nan + self.pos_inf + self.neg_inf


class Numeric(abc.ABC):
    """The finite values' distribution of one dataset's feature (module docstring)."""

    source: str
    counts: Counts
    std: float  # population standard deviation of the finite values
    eps: float  # bound on |F - true F| at any point

    @abc.abstractmethod
    def cdf(self, points: F64, *, inclusive: bool) -> F64:
        """Fraction of the finite values ``<= p`` (``< p`` unless `inclusive`) per point."""

    @abc.abstractmethod
    def quantiles(self, ranks: F64) -> F64:
        """The smallest value whose inclusive CDF reaches each rank."""

    @abc.abstractmethod
    def points(self, grid_size: int) -> F64:
        """Sorted points between which the CDF varies by at most :meth:`slack`."""

    @abc.abstractmethod
    def slack(self, grid_size: int) -> float:
        """How much the CDF may vary between two consecutive :meth:`points`."""


class SketchNumeric(Numeric):
    """A quantiles sketch with the exact moments of the same values."""

    def __init__(self, sketch: QuantilesAccumulator, counts: Counts, std: float) -> None:
        self.sketch = sketch
        self.source = "sketch"
        self.counts = counts
        self.std = std
        self.exact = sketch.is_exact
        self.eps = sketch.rank_error

    def cdf(self, points: F64, *, inclusive: bool) -> F64:
        return self.sketch.cdf(points, inclusive=inclusive)[:-1]

    def quantiles(self, ranks: F64) -> F64:
        return self.sketch.quantiles(ranks)

    def points(self, grid_size: int) -> F64:
        return np.unique(self.sketch.quantiles(np.linspace(0.0, 1.0, grid_size + 1)))

    def slack(self, grid_size: int) -> float:
        return 0.0 if self.exact and self.sketch.n <= grid_size else 1.0 / grid_size


class HistogramNumeric(Numeric):
    """A piecewise-linear CDF through histogram boundaries (knots ``x``, values ``f``)."""

    def __init__(self, x: F64, f: F64, counts: Counts, std: float, eps: float, source: str) -> None:
        self.x, self.f = x, f
        self.source = source
        self.counts = counts
        self.std = std
        self.eps = eps

    def cdf(self, points: F64, *, inclusive: bool) -> F64:
        x, f = self.x, self.f
        # The last knot <= p (inclusive) or < p; the next knot lies beyond p, so the
        # segment between them has a positive width: interpolate on it.
        i = np.searchsorted(x, points, side="right" if inclusive else "left") - 1
        out = np.zeros(points.size)
        after = i >= x.size - 1
        out[after] = f[-1]
        inside = (i >= 0) & ~after
        j = i[inside]
        out[inside] = f[j] + (f[j + 1] - f[j]) * (points[inside] - x[j]) / (x[j + 1] - x[j])
        return out

    def quantiles(self, ranks: F64) -> F64:
        x, f = self.x, self.f
        i = np.clip(np.searchsorted(f, ranks, side="left"), 1, x.size - 1)
        rise = f[i] - f[i - 1]
        frac = np.where(rise > 0, (ranks - f[i - 1]) / np.where(rise > 0, rise, 1.0), 1.0)
        out: F64 = x[i - 1] + (x[i] - x[i - 1]) * np.clip(frac, 0.0, 1.0)
        out[ranks <= f[0]] = x[0]
        return out

    def points(self, grid_size: int) -> F64:
        return np.unique(self.x)

    def slack(self, grid_size: int) -> float:
        return 0.0


def from_state(accumulator: FeatureAccumulator) -> Numeric | None:
    """The sketch behind a numeric feature's statistics; None without numeric state."""
    numeric = accumulator.numeric
    if numeric is None:
        return None
    m = numeric.moments
    counts = Counts(m.count, m.num_nan, m.num_pos_inf, m.num_neg_inf)
    return SketchNumeric(numeric.quantiles, counts, m.std_dev if m.count else 0.0)


def from_statistics(stats: statistics_pb2.FeatureNameStatistics) -> Numeric | None:
    """The CDF the histograms of numeric statistics give; None without one."""
    if stats.WhichOneof("stats") != "num_stats":
        return None
    num_stats = stats.num_stats
    by_type = {h.type: h for h in num_stats.histograms if h.buckets}
    histogram = by_type.get(HistogramType.QUANTILES) or by_type.get(HistogramType.STANDARD)
    if histogram is None:
        return None
    custom = {c.name: c.num for c in stats.custom_stats}
    finite = [b for b in histogram.buckets if math.isfinite(b.low_value + b.high_value)]
    neg = sum(b.sample_count for b in histogram.buckets if b.low_value == -math.inf)
    pos = sum(b.sample_count for b in histogram.buckets if b.high_value == math.inf)
    mass = sum(b.sample_count for b in finite)
    if mass <= 0:
        return None
    counts = Counts(
        mass,
        float(custom.get("num_nan", histogram.num_nan)),
        float(custom.get("num_pos_inf", pos)),
        float(custom.get("num_neg_inf", neg)),
    )
    x, f = [finite[0].low_value], [0.0]
    for bucket in sorted(finite, key=lambda b: (b.low_value, b.high_value)):
        if bucket.low_value > x[-1]:
            x.append(bucket.low_value)
            f.append(f[-1])
        x.append(max(bucket.high_value, x[-1]))
        f.append(f[-1] + bucket.sample_count / mass)
    f[-1] = 1.0
    eps = max(b.sample_count for b in finite) / mass + custom.get("quantiles_rank_error", 0.0)
    source = (
        "quantiles_histogram" if histogram.type == HistogramType.QUANTILES else "standard_histogram"
    )
    return HistogramNumeric(
        np.array(x), np.array(f), counts, float(num_stats.std_dev), min(eps, 1.0), source
    )


def bin_edges(base: Numeric, test: Numeric, num_bins: int, grid_size: int) -> F64:
    """Equal-mass edges of the two datasets' even mixture (module docstring)."""
    z = np.unique(np.concatenate([base.points(grid_size), test.points(grid_size)]))
    mixture = (base.cdf(z, inclusive=True) + test.cdf(z, inclusive=True)) / 2
    ranks = np.linspace(0.0, 1.0, num_bins + 1)
    # The first point where the mixture's CDF reaches each rank (up to rounding).
    index = np.searchsorted(mixture, ranks - 1e-12, side="left")
    return np.unique(z[np.minimum(index, z.size - 1)])


def binned_shares(
    base: Numeric, test: Numeric, num_bins: int, grid_size: int
) -> tuple[list[str], F64, F64]:
    """Bin labels and both datasets' shares of every bin (module docstring)."""
    edges = bin_edges(base, test, num_bins, grid_size)
    labels = [f"[{lo:.6g}, {hi:.6g})" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    labels.append(f"{{{edges[-1]:.6g}}}")
    shares = []
    for side in (base, test):
        below = side.cdf(edges[1:], inclusive=False)
        finite = np.diff(np.concatenate(([0.0], below, [1.0]))) * side.counts.finite
        shares.append(finite / side.counts.total)
    for label, field in (("-inf", "neg_inf"), ("+inf", "pos_inf"), ("NaN", "nan")):
        a, b = getattr(base.counts, field), getattr(test.counts, field)
        if a or b:
            labels.append(label)
            shares = [
                np.append(shares[0], a / base.counts.total),
                np.append(shares[1], b / test.counts.total),
            ]
    return labels, shares[0], shares[1]


def cdf_differences(base: Numeric, test: Numeric, grid_size: int) -> tuple[F64, F64, F64]:
    """The points ``z`` (union of both datasets' points) and ``F_test - F_base`` there,
    inclusive (the right limits) and exclusive (the left limits)."""
    z = np.unique(np.concatenate([base.points(grid_size), test.points(grid_size)]))
    inclusive = test.cdf(z, inclusive=True) - base.cdf(z, inclusive=True)
    exclusive = test.cdf(z, inclusive=False) - base.cdf(z, inclusive=False)
    return z, inclusive, exclusive


def cdf_error(base: Numeric, test: Numeric, grid_size: int) -> float:
    """Bound on the error of ``F_test - F_base`` anywhere: the CDF errors plus the slack."""
    return base.eps + test.eps + base.slack(grid_size) + test.slack(grid_size)
