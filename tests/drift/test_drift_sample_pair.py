"""The bundled training/serving pair trips exactly its planted changes, drift and skew.

data/sample/README.md lists them. Against training as the previous span, with drift
thresholds on every feature (common rules of thumb), serving shows its schema anomalies
(tests/validation/test_validation_sample_pair.py) plus:

* ``session_minutes`` (shifted up): Jensen-Shannon, PSI, Kolmogorov-Smirnov, Wasserstein,
  Hellinger;
* ``device`` (mobile 50% -> 75%): L-infinity and chi-squared;
* ``country`` (new value "BR" in 1.5% of the rows): chi-squared, which any consistent new
  value makes significant;
* ``referrer`` (missing in ~12% of the rows, never in training): presence drift.

Unchanged features, and planted changes too small for a distribution measure (NaN in 2% of
``income``, 5 outliers in ``num_purchases``, 3 "N/A" zip codes), stay under the thresholds.
``user_id`` has no thresholds: unique identifiers have no distribution to compare.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from anomaly_helpers import by_feature, stats
from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2, statistics_pb2

from beam_stats.drift import set_drift_thresholds, set_skew_thresholds
from beam_stats.schema import (
    RangeInferenceSpec,
    SchemaInferenceSpec,
    add_environments,
    infer_schema,
)
from beam_stats.validation import validate_statistics

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
PLANTED_SCHEMA = {
    "promo_code": {"SCHEMA_NEW_COLUMN"},
    "country": {"ENUM_TYPE_UNEXPECTED_STRING_VALUES"},
    "tenure_days": {"UNEXPECTED_DATA_TYPE"},
    "referrer": {"FEATURE_TYPE_LOW_FRACTION_PRESENT", "INVALID_FEATURE_SHAPE"},
    "income": {"FLOAT_TYPE_HAS_NAN"},
    "num_purchases": {"INT_TYPE_BIG_INT"},
    "zip_code": {"INT_TYPE_NOT_INT_STRING"},
}
THRESHOLDS = {
    "l_infinity": 0.1,
    "jensen_shannon": 0.1,
    "psi": 0.3,
    "ks": 0.1,
    "wasserstein": 0.25,
    "hellinger": 0.25,
    "chi_squared": 1e-6,
    "missing_fraction": 0.1,
}
SESSION_MINUTES = {
    "High approximate Jensen-Shannon divergence between {}",
    "COMPARATOR_PSI_HIGH",
    "COMPARATOR_KOLMOGOROV_SMIRNOV_HIGH",
    "COMPARATOR_WASSERSTEIN_HIGH",
    "COMPARATOR_HELLINGER_HIGH",
}
DEVICE = {"High Linfty distance between {}", "COMPARATOR_CHI_SQUARED_P_VALUE_LOW"}


@pytest.fixture(scope="module")
def train() -> statistics_pb2.DatasetFeatureStatisticsList:
    return stats(pq.read_table(SAMPLE / "train.parquet"), name="train")


@pytest.fixture(scope="module")
def serving() -> statistics_pb2.DatasetFeatureStatisticsList:
    return stats(pq.read_table(SAMPLE / "serving.parquet"), name="serving")


@pytest.fixture(scope="module")
def schema(train: statistics_pb2.DatasetFeatureStatisticsList) -> schema_pb2.Schema:
    spec = SchemaInferenceSpec(ranges=RangeInferenceSpec(margin=0.1), disallow_nan=True)
    inferred = infer_schema(train, spec)
    declared = add_environments(inferred, ["TRAINING", "SERVING"], not_in={"churned": ["SERVING"]})
    for feature in declared.feature:
        if feature.name != "user_id":
            declared = set_drift_thresholds(declared, feature.name, **THRESHOLDS)
            declared = set_skew_thresholds(declared, feature.name, **THRESHOLDS)
    return declared


def comparator_reasons(anomalies: anomalies_pb2.Anomalies, between: str) -> dict[str, set[str]]:
    """Feature -> the short descriptions of its comparator reasons, `between` as {}."""
    found: dict[str, set[str]] = {}
    for feature, info in anomalies.anomaly_info.items():
        for reason in info.reason:
            name = anomalies_pb2.AnomalyInfo.Type.Name(reason.type)
            if name.startswith("COMPARATOR") or name == "CUSTOM_VALIDATION":
                short = reason.short_description.replace(between, "{}")
                found.setdefault(feature, set()).add(short)
    return found


def test_serving_against_training_as_previous_span(
    train: statistics_pb2.DatasetFeatureStatisticsList,
    serving: statistics_pb2.DatasetFeatureStatisticsList,
    schema: schema_pb2.Schema,
) -> None:
    found = validate_statistics(serving, schema, "SERVING", previous_statistics=train)
    assert comparator_reasons(found, "current and previous") == {
        "session_minutes": SESSION_MINUTES,
        "device": DEVICE,
        "country": {"COMPARATOR_CHI_SQUARED_P_VALUE_LOW"},
        "referrer": {"COMPARATOR_MISSING_FRACTION_HIGH"},
    }
    schema_only = {
        feature: {t for t in types if t != "CUSTOM_VALIDATION" and "COMPARATOR" not in t}
        for feature, types in by_feature(found).items()
    }
    assert {f: t for f, t in schema_only.items() if t} == PLANTED_SCHEMA
    measured = {".".join(info.path.step) for info in found.drift_skew_info}
    compared = {f.name for f in schema.feature} - {"user_id", "churned"}  # churned: not served
    assert measured == compared  # breached or not


def test_training_against_serving(
    train: statistics_pb2.DatasetFeatureStatisticsList,
    serving: statistics_pb2.DatasetFeatureStatisticsList,
    schema: schema_pb2.Schema,
) -> None:
    found = validate_statistics(train, schema, "TRAINING", serving_statistics=serving)
    assert comparator_reasons(found, "training and serving") == {
        "session_minutes": SESSION_MINUTES,
        "device": DEVICE,
        "country": {"COMPARATOR_CHI_SQUARED_P_VALUE_LOW"},
        "referrer": {"COMPARATOR_MISSING_FRACTION_HIGH"},
    }
    skew = {
        feature: {r.short_description for r in info.reason if r.type == 37}
        for feature, info in found.anomaly_info.items()
    }
    assert {f: s for f, s in skew.items() if s} == {
        "tenure_days": {"Type skew"},  # INT in training, written as double in serving
        "promo_code": {"Feature only in serving"},
    }  # churned is only in training, but the schema does not expect it in SERVING
    assert all(
        r.type in (37, 42, 63, 86) for info in found.anomaly_info.values() for r in info.reason
    )  # training satisfies its own schema


def test_no_drift_against_itself(
    train: statistics_pb2.DatasetFeatureStatisticsList, schema: schema_pb2.Schema
) -> None:
    found = validate_statistics(train, schema, "TRAINING", train, train)
    assert by_feature(found) == {}
    values = [m.value for info in found.drift_skew_info for m in info.drift_measurements]
    assert values and set(values) == {0.0}
