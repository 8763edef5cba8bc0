"""Jensen-Shannon divergence (TFDV's ``jensen_shannon_divergence``), categorical and numeric.

Formula, with ``M = (P + Q) / 2`` and base-2 logarithms (TFDV's)::

    JS(P, Q) = (KL(P || M) + KL(Q || M)) / 2,   KL(P || M) = sum_i p_i log2(p_i / m_i)

with ``0 log 0 = 0``. Range 0 (same distribution) to 1 (disjoint supports); TFDV caps
rounding at 1, and so does this.

Bins:

* categorical: the union of the listed values, each dataset's counts divided by the sum of
  its listed counts (``listed`` shares of :mod:`beam_stats.drift.categorical`; TFDV's
  definition). A one-sided value has share 0 on the other side: its terms stay finite, since
  ``m_i > 0``.
* numeric: the bins of :func:`beam_stats.drift.numeric.binned_shares`: ``num_bins``
  equal-mass bins of the two datasets' even mixture (edges where ``(F_base + F_test) / 2``
  reaches ``i / num_bins``), each dataset's share of a bin read from its own CDF (sketch
  state) or its piecewise-linear histogram CDF (finished statistics), plus bins for -inf,
  +inf and NaN. TFDV instead rebuckets the standard histograms on the union of their
  boundaries; TFDV's ``HistogramSelection`` (``source``) is not used here.

Empty input: a dataset without values (or without finite ones, for numeric features)
gives no divergence (None). Error: 0 when both inputs are exact (every value listed
exactly; sketches that never compacted), else not bounded (each bin share read from a
sketch is within ``2 eps`` of the true share, but the divergence has no useful bound in
terms of that).
"""

from __future__ import annotations

import numpy as np

from beam_stats.drift import numeric, shares
from beam_stats.drift.categorical import Categorical
from beam_stats.drift.measure import Distance

F64 = numeric.F64


def divergence(p: F64, q: F64) -> float:
    """JS divergence of two share vectors that each sum to 1."""
    m = (p + q) / 2

    def kl(x: F64) -> float:
        used = x > 0
        return float(np.sum(x[used] * np.log2(x[used] / m[used])))

    return min(max((kl(p) + kl(q)) / 2, 0.0), 1.0)


def jensen_shannon_categorical(base: Categorical, test: Categorical) -> Distance | None:
    """The JS divergence of the two datasets' value shares."""
    return shares.of_categories(divergence, base, test, with_rest=False)


def jensen_shannon_numeric(
    base: numeric.Numeric, test: numeric.Numeric, num_bins: int, grid_size: int
) -> Distance | None:
    """The JS divergence of the two datasets' shares of common quantile bins."""
    return shares.of_bins(divergence, base, test, num_bins, grid_size)
