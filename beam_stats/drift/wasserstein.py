"""Wasserstein-1 (earth mover's) distance of numeric features, normalised by the base's
standard deviation.

Formula, over the finite values (NaN and infinities are left out)::

    W1 = integral over x of | F_test(x) - F_base(x) | dx,      reported: W1 / sigma_base

with ``F`` each dataset's CDF and ``sigma_base`` the base dataset's population standard
deviation (exact, from the moments in both sketch state and finished statistics). The
normalisation makes the value unit-free: a shift of the whole distribution by ``d`` gives
``d / sigma_base`` (an effect size in standard deviations). The standard deviation rather
than the interquartile range, because it is exact in every statistics file and never 0
unless the base is constant. A constant base gives 0 if the test has the same value, else
infinity. Unnormalised, W1 is ``scipy.stats.wasserstein_distance``.

Evaluation: the CDFs are read at the union of both datasets' points (as for the
Kolmogorov-Smirnov statistic, :mod:`beam_stats.drift.kolmogorov_smirnov`), and
``|F_test - F_base|`` is integrated exactly between consecutive points taking it as linear
from the right limit at one point to the left limit at the next (exact for histogram CDFs,
which are linear there, and for sketch CDFs without breaks between points).

Error: wherever the CDF difference is off by at most ``e`` (the KS error bound), the
integral is off by at most ``e * (max - min)`` over the joint range of the values, so::

    error = (eps_base + eps_test + slack_base + slack_test) * (max - min) / sigma_base

Empty input: a dataset without finite values gives no distance (None).
"""

from __future__ import annotations

import math

import numpy as np

from beam_stats.drift import numeric
from beam_stats.drift.measure import Distance, joint_source

F64 = numeric.F64


def integrate_abs(left: F64, right: F64, widths: F64) -> float:
    """Integral of ``|d|`` over segments where ``d`` goes linearly from `left` to `right`."""
    same_sign = left * right >= 0
    plain = widths * (np.abs(left) + np.abs(right)) / 2
    denominator = np.where(same_sign, 1.0, np.abs(left) + np.abs(right))
    crossing = widths * (left**2 + right**2) / (2 * denominator)
    return float(np.sum(np.where(same_sign, plain, crossing)))


def wasserstein(base: numeric.Numeric, test: numeric.Numeric, grid_size: int) -> Distance | None:
    """W1 of the two datasets' finite values divided by the base's standard deviation."""
    z, inclusive, exclusive = numeric.cdf_differences(base, test, grid_size)
    if z.size == 0:
        return None
    w1 = integrate_abs(inclusive[:-1], exclusive[1:], np.diff(z)) if z.size > 1 else 0.0
    sigma = base.std
    source = joint_source(base.source, test.source)
    detail = f"W1 {w1:.6g} / base standard deviation {sigma:.6g}"
    span = float(z[-1] - z[0])
    bound = numeric.cdf_error(base, test, grid_size) * span
    if sigma <= 0:
        value = 0.0 if w1 == 0 else math.inf
        return Distance(value, 0.0 if bound == 0 else math.inf, source, "base is constant")
    return Distance(w1 / sigma, bound / sigma, source, detail)
