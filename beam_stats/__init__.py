"""beam-stats: mergeable statistics of ML data on Apache Beam, as tensorflow-metadata protos.

The names here are what users call (docs/API.md lists them, by task); the building blocks
are in the sub-packages (``beam_stats.stats``, ``beam_stats.validation``, ...). TFDV's
names, where the meaning is the same, are here too and in :mod:`beam_stats.tfdv`.
"""

from __future__ import annotations

import importlib
import warnings
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from beam_stats.errors import (
    BeamStatsError,
    DeserializationError,
    IncompatibleMergeError,
    InvalidInputError,
    OutputError,
    SchemaError,
)

if TYPE_CHECKING:
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

#: Where each public name lives. Imported on first use (PEP 562), so that ``import beam_stats``
#: and what reads statistics and schemas only (``validate``, ``infer-schema``, ``compare``,
#: ``report``) do not import apache_beam, about 1.4 s of a command's start-up.
_PUBLIC = {
    "BackfillResult": "beam_stats.jobs",
    "CheckResult": "beam_stats.jobs",
    "CheckSpec": "beam_stats.jobs",
    "DetectFeatureSkew": "beam_stats.pipelines.skew",
    "DistanceSpec": "beam_stats.drift",
    "DistinctCountSpec": "beam_stats.sketches",
    "ExamplesResult": "beam_stats.jobs",
    "FrequentItemsSpec": "beam_stats.sketches",
    "GenerateStatistics": "beam_stats.beam",
    "HistoryLimits": "beam_stats.drift",
    "HistorySeries": "beam_stats.validation",
    "JoinLabels": "beam_stats.pipelines.label_join",
    "LabelJoinResult": "beam_stats.jobs",
    "MergeStatistics": "beam_stats.beam",
    "MetricLimits": "beam_stats.drift",
    "MonitorResult": "beam_stats.jobs",
    "MonitorSpec": "beam_stats.validation",
    "PrivacySpec": "beam_stats.stats",
    "QuantilesSpec": "beam_stats.sketches",
    "RangeInferenceSpec": "beam_stats.schema",
    "ReadRecordBatches": "beam_stats.beam",
    "SchemaInferenceSpec": "beam_stats.schema",
    "SeriesLimits": "beam_stats.drift",
    "SeriesMark": "beam_stats.validation",
    "SkewResult": "beam_stats.jobs",
    "SlicingSpec": "beam_stats.stats",
    "SpanEntry": "beam_stats.beam",
    "SpanFromPath": "beam_stats.beam",
    "StatisticsResult": "beam_stats.jobs",
    "StatisticsSpec": "beam_stats.stats",
    "StatisticsStore": "beam_stats.beam",
    "StatsOptions": "beam_stats.tfdv",
    "UniqueInferenceSpec": "beam_stats.schema",
    "ValidateExamples": "beam_stats.pipelines",
    "ValidationSpec": "beam_stats.validation",
    "WeightedQuantilesSpec": "beam_stats.sketches",
    "WriteExamples": "beam_stats.pipelines",
    "WriteStatistics": "beam_stats.beam",
    "add_environments": "beam_stats.schema",
    "backfill_history": "beam_stats.jobs",
    "check": "beam_stats.jobs",
    "compare_statistics": "beam_stats.drift",
    "compute_statistics": "beam_stats.jobs",
    "feature_skew": "beam_stats.jobs",
    "generate_statistics_from_csv": "beam_stats.tfdv",
    "generate_statistics_from_dataframe": "beam_stats.tfdv",
    "generate_statistics_from_table": "beam_stats.stats",
    "generate_statistics_from_tfrecord": "beam_stats.tfdv",
    "get_domain": "beam_stats.tfdv",
    "get_feature": "beam_stats.schema",
    "get_feature_stats": "beam_stats.tfdv",
    "get_slice_stats": "beam_stats.tfdv",
    "get_statistics_html": "beam_stats.tfdv",
    "group_tables": "beam_stats.drift",
    "history_limits": "beam_stats.drift",
    "history_report": "beam_stats.jobs",
    "infer_schema": "beam_stats.schema",
    "label_join": "beam_stats.jobs",
    "load_anomalies_text": "beam_stats.tfdv",
    "load_schema": "beam_stats.beam",
    "load_schema_text": "beam_stats.tfdv",
    "load_statistics": "beam_stats.beam",
    "load_stats_binary": "beam_stats.tfdv",
    "load_stats_text": "beam_stats.tfdv",
    "merge_statistics": "beam_stats.stats",
    "monitor": "beam_stats.jobs",
    "monitor_statistics": "beam_stats.validation",
    "protect_statistics": "beam_stats.stats",
    "read_hash_key": "beam_stats.beam",
    "render_history_report": "beam_stats.report",
    "render_report": "beam_stats.report",
    "set_domain": "beam_stats.tfdv",
    "set_drift_thresholds": "beam_stats.drift",
    "set_group_thresholds": "beam_stats.drift",
    "set_skew_thresholds": "beam_stats.drift",
    "store_history": "beam_stats.jobs",
    "update_schema": "beam_stats.schema",
    "validate_examples": "beam_stats.jobs",
    "validate_slices": "beam_stats.validation",
    "validate_statistics": "beam_stats.validation",
    "with_history_limits": "beam_stats.drift",
    "write_anomalies_text": "beam_stats.tfdv",
    "write_schema": "beam_stats.beam",
    "write_schema_text": "beam_stats.tfdv",
    "write_statistics": "beam_stats.beam",
    "write_stats_text": "beam_stats.tfdv",
}

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
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
        globals()[name] = value  # found once
        return value
    if name not in _MOVED:
        raise AttributeError(f"module 'beam_stats' has no attribute {name!r}")
    module = _MOVED[name]
    warnings.warn(f"beam_stats.{name} moved to {module}.{name}", DeprecationWarning, stacklevel=2)
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
