"""Per-feature accumulators over Arrow record batches (no Beam)."""

from beam_stats.stats.composite import CompositeAccumulator, CompositeFeatureSpec
from beam_stats.stats.custom import (
    CustomAccumulator,
    CustomStatisticSpec,
    MatchRate,
)
from beam_stats.stats.dataset import DatasetAccumulator
from beam_stats.stats.feature import FeatureAccumulator
from beam_stats.stats.inmemory import generate_statistics_from_table
from beam_stats.stats.privacy import PrivacySpec
from beam_stats.stats.slicing import SlicingSpec
from beam_stats.stats.spec import StatisticsSpec
from beam_stats.stats.stored import (
    accumulator_from_statistics,
    merge_statistics,
    protect_statistics,
)

__all__ = [
    "CompositeAccumulator",
    "CompositeFeatureSpec",
    "CustomAccumulator",
    "CustomStatisticSpec",
    "DatasetAccumulator",
    "FeatureAccumulator",
    "MatchRate",
    "PrivacySpec",
    "SlicingSpec",
    "StatisticsSpec",
    "accumulator_from_statistics",
    "generate_statistics_from_table",
    "merge_statistics",
    "protect_statistics",
]
