"""Chi-squared test of homogeneity of a categorical feature across the two datasets.

Formula: the 2 x K contingency table of counts ``O[d][v]`` (dataset ``d``, category
``v``), with row totals ``R_d``, column totals ``C_v`` and grand total ``N``::

    E[d][v] = R_d * C_v / N,        X2 = sum over d, v of (O[d][v] - E[d][v])**2 / E[d][v]

over the categories with ``C_v > 0``; degrees of freedom ``K' - 1`` for those ``K'``
categories. This is ``scipy.stats.chi2_contingency(table, correction=False)``. The p-value
is ``P(chi2(K' - 1) >= X2)``, the regularized upper incomplete gamma function
``Q((K' - 1) / 2, X2 / 2)``, computed here (series below ``a + 1``, Lentz's continued
fraction above; Numerical Recipes 6.2) with ``math.lgamma``: no scipy at run time.

Bins: the union of the listed values plus ``REST`` (values a dataset does not list), raw
counts of all values (``with_rest`` in :mod:`beam_stats.drift.categorical`). A one-sided
category is fine (its column total is positive); a category absent from both is not a
column. Counts, not shares: with large datasets every small difference is significant, so
a p-value threshold says more about sample size than effect size; pair it with PSI or
Jensen-Shannon. The comparator threshold is on the p-value (an anomaly below it); the value
reported is the statistic ``X2``, with the p-value beside it.

Empty input: a dataset without values, or a single category in all, gives no test (None).
Error: 0 when both datasets list every value exactly, else not bounded.
"""

from __future__ import annotations

import math

import numpy as np

from beam_stats.drift.categorical import Categorical, aligned_counts, error_of, undercount_note
from beam_stats.drift.measure import Distance, joint_source

_EPSILON = 1e-15
_TINY = 1e-300


def chi2_sf(statistic: float, dof: float) -> float:
    """``P(chi2(dof) >= statistic)``, the chi-squared survival function."""
    if dof <= 0:
        raise ValueError(f"dof must be > 0, got {dof}")
    if statistic <= 0:
        return 1.0
    if math.isinf(statistic):
        return 0.0
    return _gamma_q(dof / 2, statistic / 2)


def _gamma_q(a: float, x: float) -> float:
    """Regularized upper incomplete gamma ``Q(a, x)``."""
    log_prefix = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:  # the series of P(a, x) converges fast here
        term = total = 1.0 / a
        n = a
        for _ in range(10_000):
            n += 1
            term *= x / n
            total += term
            if abs(term) < abs(total) * _EPSILON:
                break
        return max(0.0, 1.0 - total * math.exp(log_prefix))
    # Lentz's continued fraction for Q(a, x).
    b = x + 1 - a
    c = 1 / _TINY
    d = 1 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < _EPSILON:
            break
    return min(1.0, math.exp(log_prefix) * h)


def chi_squared(base: Categorical, test: Categorical) -> Distance | None:
    """The chi-squared statistic of homogeneity and its p-value (module docstring)."""
    counts = aligned_counts(base, test, with_rest=True)
    table = np.vstack([counts.base, counts.test])
    rows, columns = table.sum(axis=1), table.sum(axis=0)
    used = columns > 0
    if rows.min() <= 0 or used.sum() < 2:
        return None
    table, columns = table[:, used], columns[used]
    expected = np.outer(rows, columns) / table.sum()
    statistic = float(np.sum((table - expected) ** 2 / expected))
    dof = int(used.sum()) - 1
    p_value = chi2_sf(statistic, dof)
    note = undercount_note(base, test)
    detail = f"{dof} degree{'s' if dof > 1 else ''} of freedom"
    return Distance(
        statistic,
        error_of(base, test),
        joint_source(base.source, test.source),
        f"{detail}; {note}" if note else detail,
        p_value=p_value,
    )
