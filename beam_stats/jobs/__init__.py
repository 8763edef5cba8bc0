"""The jobs users run end to end, as Python functions the command line only parses
arguments for: :func:`check` (``beam-stats run``, the main job), :func:`compute_statistics`
(``beam-stats stats``), :func:`validate_examples` (``beam-stats validate-examples``),
:func:`feature_skew` (``beam-stats feature-skew``), :func:`label_join`
(``beam-stats label-join``), :func:`monitor` (``beam-stats monitor``), with
:func:`store_history` and :func:`history_report` (``beam-stats report --history``), and
:func:`backfill_history` (``beam-stats stats --history``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from beam_stats._lazy import lazy_names

if TYPE_CHECKING:
    from beam_stats.jobs.backfill import BackfillResult, backfill_history
    from beam_stats.jobs.examples import ExamplesResult, validate_examples
    from beam_stats.jobs.join_labels import LabelJoinResult, label_join
    from beam_stats.jobs.monitoring import MonitorResult, history_report, monitor, store_history
    from beam_stats.jobs.run import OUTPUTS, CheckResult, CheckSpec, check, inferred_schema
    from beam_stats.jobs.skew import SkewResult, feature_skew
    from beam_stats.jobs.statistics import StatisticsResult, compute_statistics, with_schema

# Imported on first use (PEP 562): `compute_statistics` of local files runs without Beam,
# which the other jobs' modules import.
_PUBLIC = {
    "BackfillResult": "beam_stats.jobs.backfill",
    "CheckResult": "beam_stats.jobs.run",
    "CheckSpec": "beam_stats.jobs.run",
    "ExamplesResult": "beam_stats.jobs.examples",
    "LabelJoinResult": "beam_stats.jobs.join_labels",
    "MonitorResult": "beam_stats.jobs.monitoring",
    "OUTPUTS": "beam_stats.jobs.run",
    "SkewResult": "beam_stats.jobs.skew",
    "StatisticsResult": "beam_stats.jobs.statistics",
    "backfill_history": "beam_stats.jobs.backfill",
    "check": "beam_stats.jobs.run",
    "compute_statistics": "beam_stats.jobs.statistics",
    "feature_skew": "beam_stats.jobs.skew",
    "history_report": "beam_stats.jobs.monitoring",
    "inferred_schema": "beam_stats.jobs.run",
    "label_join": "beam_stats.jobs.join_labels",
    "monitor": "beam_stats.jobs.monitoring",
    "store_history": "beam_stats.jobs.monitoring",
    "validate_examples": "beam_stats.jobs.examples",
    "with_schema": "beam_stats.jobs.statistics",
}

__all__ = [
    "OUTPUTS",
    "BackfillResult",
    "CheckResult",
    "CheckSpec",
    "ExamplesResult",
    "LabelJoinResult",
    "MonitorResult",
    "SkewResult",
    "StatisticsResult",
    "backfill_history",
    "check",
    "compute_statistics",
    "feature_skew",
    "history_report",
    "inferred_schema",
    "label_join",
    "monitor",
    "store_history",
    "validate_examples",
    "with_schema",
]

__getattr__, __dir__ = lazy_names(__name__, _PUBLIC, __all__)
