"""The jobs users run end to end, as Python functions the command line only parses
arguments for: :func:`check` (``beam-stats run``, the main job), :func:`compute_statistics`
(``beam-stats stats``), :func:`validate_examples` (``beam-stats validate-examples``),
:func:`feature_skew` (``beam-stats feature-skew``), :func:`label_join`
(``beam-stats label-join``), :func:`monitor` (``beam-stats monitor``), with
:func:`store_history` and :func:`history_report` (``beam-stats report --history``), and
:func:`backfill_history` (``beam-stats stats --history``)."""

from beam_stats.jobs.backfill import BackfillResult, backfill_history
from beam_stats.jobs.check import OUTPUTS, CheckResult, CheckSpec, check, inferred_schema
from beam_stats.jobs.examples import ExamplesResult, validate_examples
from beam_stats.jobs.label_join import LabelJoinResult, label_join
from beam_stats.jobs.monitor import MonitorResult, history_report, monitor, store_history
from beam_stats.jobs.skew import SkewResult, feature_skew
from beam_stats.jobs.statistics import StatisticsResult, compute_statistics, with_schema

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
