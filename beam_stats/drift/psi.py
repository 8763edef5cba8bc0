"""Population stability index (PSI), categorical and numeric.

Formula, with base shares ``p_i``, test shares ``q_i`` and natural logarithms::

    PSI = sum_i (q_i - p_i) * ln(q_i / p_i)

i.e. the symmetrised Kullback-Leibler divergence ``KL(Q || P) + KL(P || Q)``. Shares are
floored at ``DistanceSpec.psi_floor`` (1e-4) before the sum, so a bin or category empty on
one side adds a large but finite term (``(q - 1e-4) ln(q / 1e-4)``) instead of infinity.
Common reading: below 0.1 stable, 0.1 to 0.25 a moderate shift, above 0.25 a major one.

Bins:

* categorical: the union of the listed values plus ``REST`` for values a dataset does not
  list, shares of each dataset's total number of values (``with_rest`` in
  :mod:`beam_stats.drift.categorical`). One-sided values hit the floor on the other side.
* numeric: the common bins of :func:`beam_stats.drift.numeric.binned_shares`:
  ``num_bins`` equal-mass bins of the two datasets' even mixture, CDF shares, -inf/+inf/NaN
  bins. Classic PSI takes the base's deciles; the mixture's keep bins fine where either
  dataset has mass, and are never slivers between two nearly equal quantiles (where sketch
  error and sampling noise would dominate the index).

Empty input: a dataset without values gives no index (None). Error: 0 when both inputs are
exact, else not bounded (sketch bin shares are within ``2 eps`` each).
"""

from __future__ import annotations

import functools

import numpy as np

from beam_stats.drift import numeric, shares
from beam_stats.drift.categorical import Categorical
from beam_stats.drift.measure import Distance

F64 = numeric.F64


def index(p: F64, q: F64, floor: float) -> float:
    """The PSI of base shares `p` and test shares `q`, each floored at `floor`."""
    p, q = np.maximum(p, floor), np.maximum(q, floor)
    return float(np.sum((q - p) * np.log(q / p)))


def psi_categorical(base: Categorical, test: Categorical, floor: float) -> Distance | None:
    """The PSI of the two datasets' value shares, unlisted values as one category."""
    return shares.of_categories(functools.partial(index, floor=floor), base, test, with_rest=True)


def psi_numeric(
    base: numeric.Numeric, test: numeric.Numeric, num_bins: int, grid_size: int, floor: float
) -> Distance | None:
    """The PSI of the two datasets' shares of common quantile bins."""
    return shares.of_bins(functools.partial(index, floor=floor), base, test, num_bins, grid_size)
