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
(:mod:`~beam_stats.drift.threshold_schema`); validation turns breaches into anomalies
(:func:`beam_stats.validate_statistics`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from beam_stats._lazy import lazy_names

if TYPE_CHECKING:
    from beam_stats.drift.compare import (
        MEASURES,
        DatasetComparison,
        FeatureComparison,
        Measured,
        compare_statistics,
    )
    from beam_stats.drift.file_groups import group_tables, groups_of
    from beam_stats.drift.groups import GroupRow, GroupTable, group_share_shift
    from beam_stats.drift.measure import Distance, DistanceSpec
    from beam_stats.drift.schema_skew import schema_differences
    from beam_stats.drift.series_limits import HistoryLimits, MetricLimits, SeriesLimits
    from beam_stats.drift.series_schema import history_limits, with_history_limits
    from beam_stats.drift.threshold_schema import (
        GroupThresholds,
        Thresholds,
        group_thresholds,
        set_drift_thresholds,
        set_group_thresholds,
        set_skew_thresholds,
        thresholds,
    )

# Imported on first use (PEP 562): a module of this package (the series limits the command
# line shows as defaults) comes without the measures.
_PUBLIC = {
    "DatasetComparison": "beam_stats.drift.compare",
    "Distance": "beam_stats.drift.measure",
    "DistanceSpec": "beam_stats.drift.measure",
    "FeatureComparison": "beam_stats.drift.compare",
    "GroupRow": "beam_stats.drift.groups",
    "GroupTable": "beam_stats.drift.groups",
    "GroupThresholds": "beam_stats.drift.threshold_schema",
    "HistoryLimits": "beam_stats.drift.series_limits",
    "MEASURES": "beam_stats.drift.compare",
    "Measured": "beam_stats.drift.compare",
    "MetricLimits": "beam_stats.drift.series_limits",
    "SeriesLimits": "beam_stats.drift.series_limits",
    "Thresholds": "beam_stats.drift.threshold_schema",
    "compare_statistics": "beam_stats.drift.compare",
    "group_share_shift": "beam_stats.drift.groups",
    "group_tables": "beam_stats.drift.file_groups",
    "group_thresholds": "beam_stats.drift.threshold_schema",
    "groups_of": "beam_stats.drift.file_groups",
    "history_limits": "beam_stats.drift.series_schema",
    "schema_differences": "beam_stats.drift.schema_skew",
    "set_drift_thresholds": "beam_stats.drift.threshold_schema",
    "set_group_thresholds": "beam_stats.drift.threshold_schema",
    "set_skew_thresholds": "beam_stats.drift.threshold_schema",
    "thresholds": "beam_stats.drift.threshold_schema",
    "with_history_limits": "beam_stats.drift.series_schema",
}

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

__getattr__, __dir__ = lazy_names(__name__, _PUBLIC, __all__)
