"""Validation against a schema: statistics -> ``Anomalies`` (no Beam)."""

from beam_stats.validation.examples import ExampleChecks, check_batch
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
    "ValidationSpec",
    "anomaly_rows",
    "check_batch",
    "validate_slices",
    "validate_statistics",
]
