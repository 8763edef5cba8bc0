"""What the report reads off the protos: numbers, re-binned histograms, findings."""

from __future__ import annotations

import numpy as np
import pytest
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import anomalies_pb2, statistics_pb2

from beam_stats.report.charts import chart, rebin
from beam_stats.report.findings import Finding, findings, measures
from beam_stats.report.model import feature_name, fmt, percent, summarize
from beam_stats.report.page import script_json


def _feature(text: str) -> statistics_pb2.FeatureNameStatistics:
    return text_format.Parse(text, statistics_pb2.FeatureNameStatistics())


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "\u2014"),
        (0, "0"),
        (5000, "5,000"),
        (-3.0, "-3"),
        (0.21583, "0.2158"),
        (55728.61, "55,728.6"),
        (2.5e10, "25,000,000,000"),
        (2.5e10 + 0.5, "2.500e+10"),
        (1e-4, "1.000e-04"),
        (float("nan"), "NaN"),
        (float("-inf"), "-\u221e"),
    ],
)
def test_fmt(value: float | None, shown: str) -> None:
    assert fmt(value) == shown


def test_percent() -> None:
    assert [percent(f) for f in (None, 0, 0.0004, 0.1234, 0.9995, 1)] == [
        "\u2014",
        "0.0%",
        "<0.1%",
        "12.3%",
        ">99.9%",
        "100.0%",
    ]


def test_rebin_spreads_buckets_evenly_and_keeps_points() -> None:
    edges = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    counts = rebin([(0.0, 2.0, 4.0), (2.5, 2.5, 3.0), (3.0, 4.0, 1.0)], edges)
    assert counts.tolist() == [2.0, 2.0, 3.0, 1.0]
    assert rebin([(4.0, 4.0, 5.0)], edges).tolist() == [0, 0, 0, 5.0]  # the closed last bin


def test_histograms_of_two_datasets_share_bins() -> None:
    base = _feature(
        "type: FLOAT num_stats { common_stats { num_non_missing: 4 tot_num_values: 4 } "
        "histograms { buckets { low_value: 0 high_value: 1 sample_count: 3 } "
        "buckets { low_value: 1 high_value: 2 sample_count: 1 } } }"
    )
    test = _feature(
        "type: FLOAT num_stats { common_stats { num_non_missing: 2 tot_num_values: 2 } "
        "histograms { buckets { low_value: 2 high_value: 3 sample_count: 1 } "
        "buckets { low_value: 3 high_value: 4 sample_count: 1 } } }"
    )
    assert chart([base, test]) == {
        "k": "h",
        "e": [0.0, 2.0, 4.0],
        "s": [[1.0, 0.0], [0.0, 1.0]],
    }
    assert chart([base]) == {"k": "h", "e": [0.0, 1.0, 2.0], "s": [[0.75, 0.25]]}
    assert chart([None, test])["s"][0] is None  # type: ignore[index]


def test_infinite_bucket_edges_of_other_tools() -> None:
    feature = _feature(
        "type: FLOAT num_stats { common_stats { num_non_missing: 4 tot_num_values: 4 } "
        "histograms { buckets { low_value: -inf high_value: 0 sample_count: 1 } "
        "buckets { low_value: 0 high_value: 3 sample_count: 2 } "
        "buckets { low_value: 3 high_value: inf sample_count: 1 } } }"
    )
    assert chart([feature]) == {
        "k": "h",
        "e": [0.0, 1.0, 2.0, 3.0],
        "s": [[0.41667, 0.16667, 0.41667]],
    }
    constant = _feature(
        "type: FLOAT num_stats { common_stats { num_non_missing: 2 tot_num_values: 2 } "
        "histograms { buckets { low_value: -inf high_value: 1 sample_count: 1 } "
        "buckets { low_value: 1 high_value: inf sample_count: 1 } } }"
    )
    assert chart([constant]) == {"k": "h", "e": [1.0, 1.0], "s": [[1.0]]}


def test_legacy_names_and_empty_features() -> None:
    feature = _feature("name: 'old' type: STRING string_stats { common_stats { num_missing: 3 } }")
    assert feature_name(feature) == "old"
    summary = summarize(feature)
    assert (summary.type, summary.missing, summary.distinct, summary.top) == (
        "STRING",
        1.0,
        None,
        None,
    )
    assert chart([feature]) is None
    assert summarize(_feature("type: STRUCT")).missing is None


def test_findings_severities_and_measures() -> None:
    anomalies = text_format.Parse(
        """
        data_missing: true
        dataset_anomaly_info { reason { type: DATASET_LOW_NUM_EXAMPLES short_description: "few" } }
        anomaly_info { key: "b" value { severity: WARNING description: "legacy, no reasons" } }
        anomaly_info {
          key: "ignored"
          value {
            path { step: "a" step: "x" }
            severity: ERROR
            reason { type: SCHEMA_NEW_COLUMN short_description: "new" description: "long" }
          }
        }
        drift_skew_info {
          path { step: "a" step: "x" }
          drift_measurements { type: L_INFTY value: 0.2 threshold: 0.1 }
          skew_measurements { type: JENSEN_SHANNON_DIVERGENCE value: 0.1 threshold: 0.1 }
        }
        """,
        anomalies_pb2.Anomalies(),
    )
    assert list(findings(anomalies)) == [
        Finding("", "DATA_MISSING", "ERROR", "No data", "The dataset has no examples."),
        Finding("", "DATASET_LOW_NUM_EXAMPLES", "ERROR", "few", ""),
        Finding("a.x", "SCHEMA_NEW_COLUMN", "ERROR", "new", "long"),
        Finding("b", "UNKNOWN_TYPE", "WARNING", "", "legacy, no reasons"),
    ]
    found = list(measures(anomalies))
    assert [(m.feature, m.kind, m.type, m.breach) for m in found] == [
        ("a.x", "drift", "L_INFTY", True),
        ("a.x", "skew", "JENSEN_SHANNON_DIVERGENCE", False),
    ]


def test_script_json_cannot_end_the_script() -> None:
    text = script_json({"k": "</script><!--\u2028\u2029&"})
    # U+2028/9 (like NUL and bidi overrides) are shown as escapes, not kept (issue 11).
    assert text == '{"k":"\\u003c/script\\u003e\\u003c!--\\\\u2028\\\\u2029\\u0026"}'
    # Another tool's NaN or infinity is null: JSON has no such number.
    assert (
        script_json({"k": float("nan"), "i": [float("-inf"), 1.5]}) == '{"k":null,"i":[null,1.5]}'
    )
