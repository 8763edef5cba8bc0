"""Per-feature accumulators over Arrow record batches (no Beam)."""

from beam_stats.stats.feature import DatasetAccumulator, FeatureAccumulator
from beam_stats.stats.inmemory import generate_statistics_from_table
from beam_stats.stats.spec import StatisticsSpec

__all__ = [
    "DatasetAccumulator",
    "FeatureAccumulator",
    "StatisticsSpec",
    "generate_statistics_from_table",
]
