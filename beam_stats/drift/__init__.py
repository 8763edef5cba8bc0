"""Drift and skew: distances between two datasets' statistics (no Beam, no second pass).

One module per measure family, each documenting its formula, how the two datasets are
aligned on common bins and what happens with empty or one-sided categories:
:mod:`~beam_stats.drift.infinity_norm`, :mod:`~beam_stats.drift.normalized_difference`,
:mod:`~beam_stats.drift.jensen_shannon`, :mod:`~beam_stats.drift.psi`,
:mod:`~beam_stats.drift.kolmogorov_smirnov`, :mod:`~beam_stats.drift.wasserstein`,
:mod:`~beam_stats.drift.hellinger`, :mod:`~beam_stats.drift.chi_square`. What they read is
in :mod:`~beam_stats.drift.categorical` and :mod:`~beam_stats.drift.numeric`: the features'
sketch state when the statistics carry it, else the finished histograms and value lists.
Groups of a group feature (share, label distribution, disparity) are read by
:mod:`~beam_stats.drift.groups`. Monitoring over time: the metric series of a statistics
history and their strategies (:mod:`~beam_stats.drift.series`), their limits
(:mod:`~beam_stats.drift.series_limits`) and where a schema keeps them
(:mod:`~beam_stats.drift.series_schema`). Thresholds live in the schema
(:mod:`~beam_stats.drift.thresholds`); validation turns breaches into anomalies
(:func:`beam_stats.validate_statistics`).
"""

from beam_stats.drift.compare import (
    MEASURES,
    DatasetComparison,
    FeatureComparison,
    Measured,
    compare_statistics,
)
from beam_stats.drift.group_tables import group_tables, groups_of
from beam_stats.drift.groups import GroupRow, GroupTable, group_share_shift
from beam_stats.drift.measure import Distance, DistanceSpec
from beam_stats.drift.schema_skew import schema_differences
from beam_stats.drift.series_limits import HistoryLimits, MetricLimits, SeriesLimits
from beam_stats.drift.series_schema import history_limits, with_history_limits
from beam_stats.drift.thresholds import (
    GroupThresholds,
    Thresholds,
    group_thresholds,
    set_drift_thresholds,
    set_group_thresholds,
    set_skew_thresholds,
    thresholds,
)

__all__ = [
    "MEASURES",
    "DatasetComparison",
    "Distance",
    "DistanceSpec",
    "FeatureComparison",
    "GroupRow",
    "GroupTable",
    "GroupThresholds",
    "HistoryLimits",
    "Measured",
    "MetricLimits",
    "SeriesLimits",
    "Thresholds",
    "compare_statistics",
    "group_share_shift",
    "group_tables",
    "group_thresholds",
    "groups_of",
    "history_limits",
    "schema_differences",
    "set_drift_thresholds",
    "set_group_thresholds",
    "set_skew_thresholds",
    "thresholds",
    "with_history_limits",
]
