"""A measure of two share vectors, applied to categorical values or to common numeric bins.

PSI, Jensen-Shannon and Hellinger are each a function of two aligned share vectors; this
module aligns them (:func:`beam_stats.drift.categorical.aligned_shares` for values,
:func:`beam_stats.drift.numeric.binned_shares` for numbers) and wraps the result in a
:class:`~beam_stats.drift.measure.Distance` with its error and source.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from beam_stats.drift import numeric
from beam_stats.drift.categorical import Categorical, aligned_shares, error_of, undercount_note
from beam_stats.drift.measure import Distance, joint_source

SharesMeasure = Callable[[np.ndarray, np.ndarray], float]


def of_categories(
    measure: SharesMeasure, base: Categorical, test: Categorical, *, with_rest: bool
) -> Distance | None:
    """`measure` of the value shares (plus one "unlisted values" share if `with_rest`)."""
    shares = aligned_shares(base, test, with_rest=with_rest)
    if shares is None:
        return None
    return Distance(
        measure(shares.base, shares.test),
        error_of(base, test),
        joint_source(base.source, test.source),
        undercount_note(base, test),
    )


def of_bins(
    measure: SharesMeasure,
    base: numeric.Numeric,
    test: numeric.Numeric,
    num_bins: int,
    grid_size: int,
) -> Distance:
    """`measure` of the two datasets' shares of their common quantile bins."""
    labels, p, q = numeric.binned_shares(base, test, num_bins, grid_size)
    exact = base.eps == 0 and test.eps == 0
    return Distance(
        measure(p, q),
        0.0 if exact else None,
        joint_source(base.source, test.source),
        f"{len(labels)} bins",
    )
