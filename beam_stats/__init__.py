"""beam-stats: mergeable statistics of ML data on Apache Beam, as tensorflow-metadata protos."""

from beam_stats.beam import (
    GenerateStatistics,
    MergeStatistics,
    ReadRecordBatches,
    StatisticsCombineFn,
    WriteStatistics,
    load_schema,
    load_statistics,
    write_schema,
    write_statistics,
)
from beam_stats.drift import (
    DistanceSpec,
    compare_statistics,
    set_drift_thresholds,
    set_skew_thresholds,
)
from beam_stats.errors import (
    BeamStatsError,
    DeserializationError,
    IncompatibleMergeError,
    InvalidInputError,
    SchemaError,
)
from beam_stats.pipelines import ValidateExamples, WriteExamples
from beam_stats.pipelines.skew import DetectFeatureSkew
from beam_stats.report import render_report
from beam_stats.schema import (
    RangeInferenceSpec,
    SchemaInferenceSpec,
    UniqueInferenceSpec,
    add_environments,
    composite_specs,
    get_feature,
    infer_schema,
    update_schema,
    with_severity_overrides,
)
from beam_stats.sketches import DistinctCountSpec, FrequentItemsSpec, QuantilesSpec
from beam_stats.stats import (
    CompositeFeatureSpec,
    SlicingSpec,
    StatisticsSpec,
    generate_statistics_from_table,
    merge_statistics,
)
from beam_stats.validation import (
    AnomalyRow,
    ExampleChecks,
    ValidationSpec,
    anomaly_rows,
    check_batch,
    validate_slices,
    validate_statistics,
)

__all__ = [
    "AnomalyRow",
    "BeamStatsError",
    "CompositeFeatureSpec",
    "DeserializationError",
    "DetectFeatureSkew",
    "DistanceSpec",
    "DistinctCountSpec",
    "ExampleChecks",
    "FrequentItemsSpec",
    "GenerateStatistics",
    "IncompatibleMergeError",
    "InvalidInputError",
    "MergeStatistics",
    "QuantilesSpec",
    "RangeInferenceSpec",
    "ReadRecordBatches",
    "SchemaError",
    "SchemaInferenceSpec",
    "SlicingSpec",
    "StatisticsCombineFn",
    "StatisticsSpec",
    "UniqueInferenceSpec",
    "ValidateExamples",
    "ValidationSpec",
    "WriteExamples",
    "WriteStatistics",
    "add_environments",
    "anomaly_rows",
    "check_batch",
    "compare_statistics",
    "composite_specs",
    "generate_statistics_from_table",
    "get_feature",
    "infer_schema",
    "load_schema",
    "load_statistics",
    "merge_statistics",
    "render_report",
    "set_drift_thresholds",
    "set_skew_thresholds",
    "update_schema",
    "validate_slices",
    "validate_statistics",
    "with_severity_overrides",
    "write_schema",
    "write_statistics",
]
