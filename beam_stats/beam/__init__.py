"""The Beam layer: the only code that imports apache_beam.

The names below are imported on first use (PEP 562): what needs only the Beam-free parts of
this package (the file formats, local files written atomically) does not import apache_beam.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from beam_stats._lazy import lazy_names
from beam_stats.beam import _quiet  # noqa: F401  (before apache_beam is imported)

if TYPE_CHECKING:
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

_PUBLIC = {
    "GenerateStatistics": "beam_stats.beam.transforms",
    "MergeStatistics": "beam_stats.beam.transforms",
    "ReadRecordBatches": "beam_stats.beam.sources",
    "SpanEntry": "beam_stats.beam.history",
    "SpanFromPath": "beam_stats.beam.spans",
    "StatisticsCombineFn": "beam_stats.beam.combine",
    "StatisticsStore": "beam_stats.beam.history",
    "WriteStatistics": "beam_stats.beam.transforms",
    "load_schema": "beam_stats.beam.artifacts",
    "load_statistics": "beam_stats.beam.artifacts",
    "read_hash_key": "beam_stats.beam.artifacts",
    "write_schema": "beam_stats.beam.artifacts",
    "write_statistics": "beam_stats.beam.artifacts",
}

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

__getattr__, __dir__ = lazy_names(__name__, _PUBLIC, __all__)
