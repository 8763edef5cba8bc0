"""Concept shift of one feature: how much P(label | feature) moved between two datasets.

Covariate drift measures P(x) and label shift P(y); concept shift is the change of the
mapping x -> y while both may stay the same. From each dataset's label-conditional state
(:mod:`beam_stats.stats.labels`), on the same buckets of x (:func:`aligned_tables`: the
union of listed values, or equal-mass buckets of both datasets' values pooled) and the
same label classes::

    shift = sum over buckets v of  w(v) * max(0, TV(v) - noise(v))
    TV(v) = 1/2 sum_y | n_a(v, y) / n_a(v) - n_b(v, y) / n_b(v) |
    w(v) = 1/2 (n_a(v) / N_a + n_b(v) / N_b)

over the buckets with examples on both sides: the total-variation distance between the
label distributions given x = v, weighted by how common v is. ``noise(v)`` is the distance
sampling alone gives: ``z/2 sum_y sqrt(p(y|v) (1 - p(y|v)) (1/n_a(v) + 1/n_b(v)))`` with
``p(y|v)`` pooled over both datasets and ``z = 3`` (``Z``), i.e. ``z`` standard errors of
each class share. Under no shift the expected TV of a bucket is about ``sqrt(2/pi)`` of
that sum without ``z``, so the subtraction removes it with a wide margin: a bucket of a
few examples, whose shares swing by chance, cannot raise an alarm, while a real reversal
in a common bucket survives almost whole. Range 0 (same mapping, or too little data) to 1.

``detail`` names the buckets that moved most. Error: 0 while both states are exact
(every count is; the noise term is part of the definition); None once a pair summary or
quantiles sketch dropped values, since bucket counts are then estimates.
"""

from __future__ import annotations

import numpy as np

from beam_stats.drift.measure import Distance
from beam_stats.stats.label_tables import aligned_tables
from beam_stats.stats.labels import LabelAccumulator

#: Standard errors of each class share that sampling noise may account for.
Z = 3.0


def label_classes_of(base: LabelAccumulator, test: LabelAccumulator) -> list[str]:
    """The label classes either dataset has, most examples first."""
    counts: dict[str, int] = {}
    for acc in (base, test):
        for name, n in acc.class_counts.items():
            counts[name] = counts.get(name, 0) + n
    return sorted(counts, key=lambda name: (-counts[name], name))


def concept_shift(
    base: LabelAccumulator, test: LabelAccumulator, *, numeric: bool, z: float = Z
) -> Distance | None:
    """The concept shift of one feature between two datasets (module docstring); None
    when either side has no labeled value of the feature."""
    classes = label_classes_of(base, test)
    tables = aligned_tables(base, test, classes, numeric=numeric)
    if tables is None:
        return None
    a, b = tables
    n_a, n_b = a.counts.sum(axis=1), b.counts.sum(axis=1)
    both = (n_a > 0) & (n_b > 0)
    if not both.any():
        return None
    p_a = a.counts[both] / n_a[both, None]
    p_b = b.counts[both] / n_b[both, None]
    tv = 0.5 * np.abs(p_a - p_b).sum(axis=1)
    pooled = (a.counts[both] + b.counts[both]) / (n_a[both] + n_b[both])[:, None]
    spread = np.sqrt(pooled * (1.0 - pooled) * (1.0 / n_a[both] + 1.0 / n_b[both])[:, None])
    noise = 0.5 * z * spread.sum(axis=1)
    weight = 0.5 * (n_a[both] / a.counts.sum() + n_b[both] / b.counts.sum())
    part = weight * np.maximum(tv - noise, 0.0)
    rows = [r if r else "(other values)" for r, keep in zip(a.rows, both, strict=True) if keep]
    order = np.argsort(-part, kind="stable")[:3]
    moved = [f'"{rows[i]}" (label shares moved by {tv[i]:.3g})' for i in order if part[i] > 0]
    detail = "most moved: " + ", ".join(moved) if moved else "no bucket moved beyond noise"
    exact = _exact(base) and _exact(test)
    return Distance(float(part.sum()), 0.0 if exact else None, "sketch", detail)


def _exact(acc: LabelAccumulator) -> bool:
    pairs_exact = acc.pairs is None or acc.pairs.max_error == 0
    return pairs_exact and all(q.is_exact for q in acc.quantiles.values())
