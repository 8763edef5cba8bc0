"""The jobs users run end to end, as Python functions the command line only parses
arguments for: :func:`check` (``beam-stats run``), the main job."""

from beam_stats.jobs.check import OUTPUTS, CheckResult, CheckSpec, check, inferred_schema

__all__ = ["OUTPUTS", "CheckResult", "CheckSpec", "check", "inferred_schema"]
