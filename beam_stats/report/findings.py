"""The anomalies and the drift/skew measures of an ``Anomalies`` message, flattened.

Severity of a reason: its type's severity from the baseline schema's overrides (as
``beam-stats validate`` prints it), else the severity the file gives its feature's
``AnomalyInfo`` (files of other tools, TFDV's), else ERROR.

A drift or skew measurement is a breach when its value is above its threshold (TFDV's rule:
a distance equal to the threshold passes).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from tensorflow_metadata.proto.v0 import anomalies_pb2

from beam_stats._types import path_str
from beam_stats.errors import BeamStatsError
from beam_stats.validation import ValidationSpec
from beam_stats.validation.catalogue import CUSTOM_NAMES

AnomalyInfo = anomalies_pb2.AnomalyInfo
Measurement = anomalies_pb2.DriftSkewInfo.Measurement
#: The feature of dataset-level anomalies.
DATASET = ""


class Finding(NamedTuple):
    """One reason of an anomaly."""

    feature: str  # dotted path; DATASET for a dataset-level reason
    type: str
    severity: str  # ERROR or WARNING
    short_description: str
    description: str


class Measure(NamedTuple):
    """One drift or skew measurement of a feature."""

    feature: str
    kind: str  # "drift" or "skew"
    type: str  # L_INFTY, JENSEN_SHANNON_DIVERGENCE, NORMALIZED_ABSOLUTE_DIFFERENCE
    value: float
    threshold: float

    @property
    def breach(self) -> bool:
        return self.value > self.threshold


def _severities(anomalies: Any) -> dict[int, int]:
    try:
        return ValidationSpec().severities(anomalies.baseline)
    except BeamStatsError:  # a bad annotation: fall back to the file's own severities
        return {}


def _info_name(key: str, info: Any) -> str:
    steps = tuple(info.path.step)
    return path_str(steps) if steps else key


def findings(anomalies: Any) -> Iterator[Finding]:
    """Every reason of `anomalies`: dataset-level first, then the features by name."""
    if anomalies.data_missing:
        yield Finding(DATASET, "DATA_MISSING", "ERROR", "No data", "The dataset has no examples.")
    severities = _severities(anomalies)

    def rows(feature: str, info: Any) -> Iterator[Finding]:
        fallback = info.severity if info.severity != AnomalyInfo.UNKNOWN else AnomalyInfo.ERROR
        reasons = list(info.reason)
        if not reasons and (info.short_description or info.description):
            # An info without reasons (older files) still says what is wrong.
            yield Finding(
                feature,
                "UNKNOWN_TYPE",
                AnomalyInfo.Severity.Name(fallback),
                info.short_description,
                info.description,
            )
        for reason in reasons:
            level = severities.get(reason.type, fallback)
            kind = AnomalyInfo.Type.Name(reason.type)
            if kind == "CUSTOM_VALIDATION" and reason.short_description in CUSTOM_NAMES:
                kind = reason.short_description  # beam-stats' own (PSI, KS, groups, ...)
            yield Finding(
                feature,
                kind,
                AnomalyInfo.Severity.Name(level),
                reason.short_description,
                reason.description,
            )

    if anomalies.HasField("dataset_anomaly_info"):
        yield from rows(DATASET, anomalies.dataset_anomaly_info)
    infos = {_info_name(key, info): info for key, info in anomalies.anomaly_info.items()}
    for name in sorted(infos):
        yield from rows(name, infos[name])


def measures(anomalies: Any) -> Iterator[Measure]:
    """Every drift and skew measurement of `anomalies`, in the file's order."""
    for info in anomalies.drift_skew_info:
        feature = path_str(tuple(info.path.step))
        for kind, found in (("drift", info.drift_measurements), ("skew", info.skew_measurements)):
            for m in found:
                yield Measure(feature, kind, Measurement.Type.Name(m.type), m.value, m.threshold)
