"""The Beam layer: the only code that imports apache_beam."""

from beam_stats.beam import _quiet  # noqa: F401  (before apache_beam is imported)
from beam_stats.beam.artifacts import (
    load_schema,
    load_statistics,
    read_hash_key,
    write_schema,
    write_statistics,
)
from beam_stats.beam.combine import StatisticsCombineFn
from beam_stats.beam.history import SpanEntry, StatisticsStore
from beam_stats.beam.sources import ReadRecordBatches
from beam_stats.beam.spans import SpanFromPath
from beam_stats.beam.transforms import GenerateStatistics, MergeStatistics, WriteStatistics

__all__ = [
    "GenerateStatistics",
    "MergeStatistics",
    "ReadRecordBatches",
    "SpanEntry",
    "SpanFromPath",
    "StatisticsCombineFn",
    "StatisticsStore",
    "WriteStatistics",
    "load_schema",
    "load_statistics",
    "read_hash_key",
    "write_schema",
    "write_statistics",
]
