"""Two-sample Kolmogorov-Smirnov statistic of numeric features, from the quantiles sketches.

Formula, over the finite values (NaN and infinities are left out)::

    D = sup over x of | F_test(x) - F_base(x) |

with ``F`` each dataset's empirical CDF. Range 0 to 1; it is ``scipy.stats.ks_2samp``'s
statistic.

Evaluation: at the union ``z`` of both datasets' points (sketch state: the quantiles at ranks
``i / grid_size``, which are retained items; finished statistics: the histogram boundaries),
taking at each point both the CDF values (``<= z``) and their left limits (``< z``). Both
CDFs are step functions (sketches) or piecewise linear (histograms) with all their breaks at
those points up to the slack, so the supremum of the read CDFs is attained there.

Error (reported as ``error``, the result is ``D +- error``)::

    error = eps_base + eps_test + slack_base + slack_test

where ``eps`` bounds each CDF's error (the quantiles sketch's certified normalized rank
error, 0 while the sketch is exact; for histograms,
the largest bucket share) and ``slack`` bounds how much a sketch's CDF may move between two
consecutive points (``1 / grid_size``, 0 for exact sketches): see
:mod:`beam_stats.drift.numeric`. Empty input: a dataset without finite values gives no
statistic (None).
"""

from __future__ import annotations

import numpy as np

from beam_stats.drift import numeric
from beam_stats.drift.measure import Distance, joint_source


def kolmogorov_smirnov(
    base: numeric.Numeric, test: numeric.Numeric, grid_size: int
) -> Distance | None:
    """The KS statistic of the two datasets' finite values, with its error bound."""
    z, inclusive, exclusive = numeric.cdf_differences(base, test, grid_size)
    if z.size == 0:
        return None
    worst = np.maximum(np.abs(inclusive), np.abs(exclusive))
    i = int(np.argmax(worst))
    return Distance(
        float(worst[i]),
        numeric.cdf_error(base, test, grid_size),
        joint_source(base.source, test.source),
        f"largest CDF difference at {z[i]:.6g}",
    )
