"""Hellinger distance, categorical and numeric.

Formula, with base shares ``p_i`` and test shares ``q_i``::

    H = sqrt(1 - sum_i sqrt(p_i * q_i))  =  ||sqrt(P) - sqrt(Q)||_2 / sqrt(2)

Range 0 (same distribution) to 1 (disjoint supports). Zero shares need no special care: a
one-sided category or bin simply adds nothing to the overlap ``sum_i sqrt(p_i q_i)``.

Bins: as the PSI's (see :mod:`beam_stats.drift.psi`): for categorical features the union of
the listed values plus ``REST`` for unlisted ones, shares of all values; for numeric
features the equal-mass bins of the two datasets' even mixture
(:func:`beam_stats.drift.numeric.binned_shares`).

Empty input: a dataset without values gives no distance (None). Error: 0 when both inputs
are exact, else not bounded.
"""

from __future__ import annotations

import math

import numpy as np

from beam_stats.drift import numeric, shares
from beam_stats.drift.categorical import Categorical
from beam_stats.drift.measure import Distance

F64 = numeric.F64


def distance(p: F64, q: F64) -> float:
    """The Hellinger distance of two share vectors that each sum to 1."""
    # The norm form is exactly 0 for equal shares (1 - overlap may round to 1e-16).
    return min(math.sqrt(float(np.sum(np.square(np.sqrt(p) - np.sqrt(q)))) / 2), 1.0)


def hellinger_categorical(base: Categorical, test: Categorical) -> Distance | None:
    """The Hellinger distance of the two datasets' value shares."""
    return shares.of_categories(distance, base, test, with_rest=True)


def hellinger_numeric(
    base: numeric.Numeric, test: numeric.Numeric, num_bins: int, grid_size: int
) -> Distance | None:
    """The Hellinger distance of the two datasets' shares of common quantile bins."""
    return shares.of_bins(distance, base, test, num_bins, grid_size)
