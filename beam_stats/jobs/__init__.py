"""The jobs users run end to end, as Python functions the command line only parses
arguments for: :func:`check` (``beam-stats run``, the main job) and
:func:`compute_statistics` (``beam-stats stats``)."""

from beam_stats.jobs.check import OUTPUTS, CheckResult, CheckSpec, check, inferred_schema
from beam_stats.jobs.statistics import StatisticsResult, compute_statistics, with_schema

__all__ = [
    "OUTPUTS",
    "CheckResult",
    "CheckSpec",
    "StatisticsResult",
    "check",
    "compute_statistics",
    "inferred_schema",
    "with_schema",
]
