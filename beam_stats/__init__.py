"""beam-stats: mergeable statistics of ML data on Apache Beam, as tensorflow-metadata protos."""

from beam_stats.beam import (
    GenerateStatistics,
    MergeStatistics,
    ReadRecordBatches,
    StatisticsCombineFn,
    WriteStatistics,
    load_statistics,
    write_statistics,
)
from beam_stats.errors import (
    BeamStatsError,
    DeserializationError,
    IncompatibleMergeError,
    InvalidInputError,
)
from beam_stats.sketches import DistinctCountSpec, FrequentItemsSpec, QuantilesSpec
from beam_stats.stats import (
    SlicingSpec,
    StatisticsSpec,
    generate_statistics_from_table,
    merge_statistics,
)

__all__ = [
    "BeamStatsError",
    "DeserializationError",
    "DistinctCountSpec",
    "FrequentItemsSpec",
    "GenerateStatistics",
    "IncompatibleMergeError",
    "InvalidInputError",
    "MergeStatistics",
    "QuantilesSpec",
    "ReadRecordBatches",
    "SlicingSpec",
    "StatisticsCombineFn",
    "StatisticsSpec",
    "WriteStatistics",
    "generate_statistics_from_table",
    "load_statistics",
    "merge_statistics",
    "write_statistics",
]
