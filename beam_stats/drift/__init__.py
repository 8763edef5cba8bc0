"""Drift and skew: distances between two datasets' statistics (no Beam, no second pass).

One module per measure family, each documenting its formula, how the two datasets are
aligned on common bins and what happens with empty or one-sided categories:
:mod:`~beam_stats.drift.infinity_norm`, :mod:`~beam_stats.drift.normalized_difference`,
:mod:`~beam_stats.drift.jensen_shannon`, :mod:`~beam_stats.drift.psi`,
:mod:`~beam_stats.drift.kolmogorov_smirnov`, :mod:`~beam_stats.drift.wasserstein`,
:mod:`~beam_stats.drift.hellinger`, :mod:`~beam_stats.drift.chi_square`. What they read is
in :mod:`~beam_stats.drift.categorical` and :mod:`~beam_stats.drift.numeric`: the features'
sketch state when the statistics carry it, else the finished histograms and value lists.
Thresholds live in the schema (:mod:`~beam_stats.drift.thresholds`); validation turns
breaches into anomalies (:func:`beam_stats.validate_statistics`).
"""

from beam_stats.drift.compare import (
    MEASURES,
    DatasetComparison,
    FeatureComparison,
    Measured,
    compare_statistics,
)
from beam_stats.drift.measure import Distance, DistanceSpec
from beam_stats.drift.schema_skew import schema_differences
from beam_stats.drift.thresholds import (
    Thresholds,
    set_drift_thresholds,
    set_skew_thresholds,
    thresholds,
)

__all__ = [
    "MEASURES",
    "DatasetComparison",
    "Distance",
    "DistanceSpec",
    "FeatureComparison",
    "Measured",
    "Thresholds",
    "compare_statistics",
    "schema_differences",
    "set_drift_thresholds",
    "set_skew_thresholds",
    "thresholds",
]
