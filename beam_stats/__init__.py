"""beam-stats: mergeable statistics of ML data on Apache Beam, as tensorflow-metadata protos.

The names here are what users call (docs/API.md lists them, by task); the building blocks
are in the sub-packages (``beam_stats.stats``, ``beam_stats.validation``, ...). TFDV's
names, where the meaning is the same, are here too and in :mod:`beam_stats.tfdv`.
"""

from __future__ import annotations

import importlib
import warnings
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from beam_stats.beam import (
    GenerateStatistics,
    MergeStatistics,
    ReadRecordBatches,
    SpanEntry,
    SpanFromPath,
    StatisticsStore,
    WriteStatistics,
    load_schema,
    load_statistics,
    read_hash_key,
    write_schema,
    write_statistics,
)
from beam_stats.drift import (
    DistanceSpec,
    HistoryLimits,
    MetricLimits,
    SeriesLimits,
    compare_statistics,
    group_tables,
    history_limits,
    set_drift_thresholds,
    set_group_thresholds,
    set_skew_thresholds,
    with_history_limits,
)
from beam_stats.errors import (
    BeamStatsError,
    DeserializationError,
    IncompatibleMergeError,
    InvalidInputError,
    OutputError,
    SchemaError,
)
from beam_stats.jobs import (
    BackfillResult,
    CheckResult,
    CheckSpec,
    ExamplesResult,
    LabelJoinResult,
    MonitorResult,
    SkewResult,
    StatisticsResult,
    backfill_history,
    check,
    compute_statistics,
    feature_skew,
    history_report,
    label_join,
    monitor,
    store_history,
    validate_examples,
)
from beam_stats.pipelines import ValidateExamples, WriteExamples
from beam_stats.pipelines.label_join import JoinLabels
from beam_stats.pipelines.skew import DetectFeatureSkew
from beam_stats.report import render_history_report, render_report
from beam_stats.schema import (
    RangeInferenceSpec,
    SchemaInferenceSpec,
    UniqueInferenceSpec,
    add_environments,
    get_feature,
    infer_schema,
    update_schema,
)
from beam_stats.sketches import (
    DistinctCountSpec,
    FrequentItemsSpec,
    QuantilesSpec,
    WeightedQuantilesSpec,
)
from beam_stats.stats import (
    PrivacySpec,
    SlicingSpec,
    StatisticsSpec,
    generate_statistics_from_table,
    merge_statistics,
    protect_statistics,
)
from beam_stats.tfdv import (
    StatsOptions,
    generate_statistics_from_csv,
    generate_statistics_from_dataframe,
    generate_statistics_from_tfrecord,
    get_domain,
    get_feature_stats,
    get_slice_stats,
    get_statistics_html,
    load_anomalies_text,
    load_schema_text,
    load_stats_binary,
    load_stats_text,
    set_domain,
    write_anomalies_text,
    write_schema_text,
    write_stats_text,
)
from beam_stats.validation import (
    HistorySeries,
    MonitorSpec,
    SeriesMark,
    ValidationSpec,
    monitor_statistics,
    validate_slices,
    validate_statistics,
)

try:
    __version__ = version("beam-stats")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "BackfillResult",
    "BeamStatsError",
    "CheckResult",
    "CheckSpec",
    "DeserializationError",
    "DetectFeatureSkew",
    "DistanceSpec",
    "DistinctCountSpec",
    "ExamplesResult",
    "FrequentItemsSpec",
    "GenerateStatistics",
    "HistoryLimits",
    "HistorySeries",
    "IncompatibleMergeError",
    "InvalidInputError",
    "JoinLabels",
    "LabelJoinResult",
    "MergeStatistics",
    "MetricLimits",
    "MonitorResult",
    "MonitorSpec",
    "OutputError",
    "PrivacySpec",
    "QuantilesSpec",
    "RangeInferenceSpec",
    "ReadRecordBatches",
    "SchemaError",
    "SchemaInferenceSpec",
    "SeriesLimits",
    "SeriesMark",
    "SkewResult",
    "SlicingSpec",
    "SpanEntry",
    "SpanFromPath",
    "StatisticsResult",
    "StatisticsSpec",
    "StatisticsStore",
    "StatsOptions",
    "UniqueInferenceSpec",
    "ValidateExamples",
    "ValidationSpec",
    "WeightedQuantilesSpec",
    "WriteExamples",
    "WriteStatistics",
    "__version__",
    "add_environments",
    "backfill_history",
    "check",
    "compare_statistics",
    "compute_statistics",
    "feature_skew",
    "generate_statistics_from_csv",
    "generate_statistics_from_dataframe",
    "generate_statistics_from_table",
    "generate_statistics_from_tfrecord",
    "get_domain",
    "get_feature",
    "get_feature_stats",
    "get_slice_stats",
    "get_statistics_html",
    "group_tables",
    "history_limits",
    "history_report",
    "infer_schema",
    "label_join",
    "load_anomalies_text",
    "load_schema",
    "load_schema_text",
    "load_statistics",
    "load_stats_binary",
    "load_stats_text",
    "merge_statistics",
    "monitor",
    "monitor_statistics",
    "protect_statistics",
    "read_hash_key",
    "render_history_report",
    "render_report",
    "set_domain",
    "set_drift_thresholds",
    "set_group_thresholds",
    "set_skew_thresholds",
    "store_history",
    "update_schema",
    "validate_examples",
    "validate_slices",
    "validate_statistics",
    "with_history_limits",
    "write_anomalies_text",
    "write_schema",
    "write_schema_text",
    "write_statistics",
    "write_stats_text",
]

#: Names that were at the top before 0.2 and now live in a sub-package: still importable
#: from here, with a DeprecationWarning naming the new place.
_MOVED = {
    "AnomalyRow": "beam_stats.validation",
    "anomaly_rows": "beam_stats.validation",
    "check_batch": "beam_stats.validation",
    "ExampleChecks": "beam_stats.validation",
    "with_severity_overrides": "beam_stats.schema",
    "composite_specs": "beam_stats.schema",
    "CompositeFeatureSpec": "beam_stats.stats",
    "StatisticsCombineFn": "beam_stats.beam",
}


def __getattr__(name: str) -> Any:
    if name not in _MOVED:
        raise AttributeError(f"module 'beam_stats' has no attribute {name!r}")
    module = _MOVED[name]
    warnings.warn(f"beam_stats.{name} moved to {module}.{name}", DeprecationWarning, stacklevel=2)
    return getattr(importlib.import_module(module), name)
