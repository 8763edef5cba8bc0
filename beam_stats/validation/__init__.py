"""Validation against a schema: statistics -> ``Anomalies`` (no Beam)."""

from beam_stats.validation.examples import ExampleChecks, check_batch
from beam_stats.validation.history import MonitorSpec, monitor_statistics
from beam_stats.validation.history_series import HistorySeries, SeriesMark, history_series
from beam_stats.validation.statistics import (
    AnomalyRow,
    ValidationSpec,
    anomaly_rows,
    validate_slices,
    validate_statistics,
)

__all__ = [
    "AnomalyRow",
    "ExampleChecks",
    "HistorySeries",
    "MonitorSpec",
    "SeriesMark",
    "ValidationSpec",
    "anomaly_rows",
    "check_batch",
    "history_series",
    "monitor_statistics",
    "validate_slices",
    "validate_statistics",
]
