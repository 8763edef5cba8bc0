"""Helpers of the schema and validation tests: statistics of small tables, anomaly summaries."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2, statistics_pb2

from beam_stats import StatisticsSpec, generate_statistics_from_table


def stats(
    columns: dict[str, Any] | pa.Table, spec: StatisticsSpec | None = None, name: str = ""
) -> statistics_pb2.DatasetFeatureStatisticsList:
    """Statistics of a table given as {column: values} (lists, or Arrow arrays)."""
    table = columns if isinstance(columns, pa.Table) else pa.table(columns)
    return generate_statistics_from_table(table, spec, name=name)


def schema(text: str) -> schema_pb2.Schema:
    return text_format.Parse(text, schema_pb2.Schema())


def reasons(anomalies: anomalies_pb2.Anomalies) -> set[tuple[str, str]]:
    """(feature, anomaly type name) of every reason; the feature is "" at dataset level."""
    name = anomalies_pb2.AnomalyInfo.Type.Name
    found = {("", name(r.type)) for r in anomalies.dataset_anomaly_info.reason}
    for feature, info in anomalies.anomaly_info.items():
        found.update((feature, name(r.type)) for r in info.reason)
    return found


def by_feature(anomalies: anomalies_pb2.Anomalies) -> dict[str, set[str]]:
    """Feature -> the anomaly type names of its reasons."""
    result: dict[str, set[str]] = {}
    for feature, kind in reasons(anomalies):
        result.setdefault(feature, set()).add(kind)
    return result
