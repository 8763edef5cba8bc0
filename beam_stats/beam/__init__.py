"""The Beam layer: the only code that imports apache_beam."""

from beam_stats.beam.combine import StatisticsCombineFn
from beam_stats.beam.files import load_statistics, write_statistics
from beam_stats.beam.sources import ReadRecordBatches
from beam_stats.beam.transforms import GenerateStatistics, WriteStatistics

__all__ = [
    "GenerateStatistics",
    "ReadRecordBatches",
    "StatisticsCombineFn",
    "WriteStatistics",
    "load_statistics",
    "write_statistics",
]
