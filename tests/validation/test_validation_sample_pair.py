"""The bundled training/serving pair yields exactly the planted anomalies and no others.

The planted changes (data/sample/make_pair.py, listed in data/sample/README.md), with the
schema inferred from training with ranges (margin 10%) and NaN bans, environments TRAINING
and SERVING, and the label ``churned`` not in SERVING:

1. ``promo_code`` is a new column                    -> SCHEMA_NEW_COLUMN
2. ``country`` gains "BR", outside its domain        -> ENUM_TYPE_UNEXPECTED_STRING_VALUES
3. ``tenure_days`` (int) is written as double        -> UNEXPECTED_DATA_TYPE
4. ``referrer``, always present in training, is missing in ~12% of the rows
                                                     -> FEATURE_TYPE_LOW_FRACTION_PRESENT and
                                                        INVALID_FEATURE_SHAPE (shape [1])
5. ``income`` has NaN                                -> FLOAT_TYPE_HAS_NAN
6. ``num_purchases`` has values 40..60 (training max 11)
                                                     -> INT_TYPE_BIG_INT
7. ``zip_code`` (int-like strings) has "N/A"         -> INT_TYPE_NOT_INT_STRING
8. ``churned`` is not served                         -> nothing in SERVING; without an
                                                        environment SCHEMA_MISSING_COLUMN
Drift only, no schema anomaly: ``session_minutes`` (shifted up, inside the training range)
and ``device`` (frequencies change). Unchanged: every other column.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from anomaly_helpers import by_feature, stats
from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

from beam_stats.schema import (
    RangeInferenceSpec,
    SchemaInferenceSpec,
    add_environments,
    infer_schema,
    update_schema,
)
from beam_stats.validation import validate_statistics

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
PLANTED = {
    "promo_code": {"SCHEMA_NEW_COLUMN"},  # 1
    "country": {"ENUM_TYPE_UNEXPECTED_STRING_VALUES"},  # 2
    "tenure_days": {"UNEXPECTED_DATA_TYPE"},  # 3
    "referrer": {"FEATURE_TYPE_LOW_FRACTION_PRESENT", "INVALID_FEATURE_SHAPE"},  # 4
    "income": {"FLOAT_TYPE_HAS_NAN"},  # 5
    "num_purchases": {"INT_TYPE_BIG_INT"},  # 6
    "zip_code": {"INT_TYPE_NOT_INT_STRING"},  # 7
}


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
    return add_environments(inferred, ["TRAINING", "SERVING"], not_in={"churned": ["SERVING"]})


def test_serving_has_exactly_the_planted_anomalies(
    serving: statistics_pb2.DatasetFeatureStatisticsList, schema: schema_pb2.Schema
) -> None:
    assert by_feature(validate_statistics(serving, schema, "SERVING")) == PLANTED


def test_without_the_serving_environment_the_label_is_missing(
    serving: statistics_pb2.DatasetFeatureStatisticsList, schema: schema_pb2.Schema
) -> None:
    found = by_feature(validate_statistics(serving, schema))
    assert found == {**PLANTED, "churned": {"SCHEMA_MISSING_COLUMN"}}  # 8


def test_training_satisfies_its_own_schema(
    train: statistics_pb2.DatasetFeatureStatisticsList, schema: schema_pb2.Schema
) -> None:
    assert by_feature(validate_statistics(train, schema, "TRAINING")) == {}


def test_tfdv_default_inference_catches_the_changes_it_can_express(
    train: statistics_pb2.DatasetFeatureStatisticsList,
    serving: statistics_pb2.DatasetFeatureStatisticsList,
) -> None:
    # No ranges, no NaN ban: changes 5 and 6 pass; the label is missing (no environments).
    found = by_feature(validate_statistics(serving, infer_schema(train)))
    expected = {k: v for k, v in PLANTED.items() if k not in ("income", "num_purchases")}
    assert found == {**expected, "churned": {"SCHEMA_MISSING_COLUMN"}}


def test_the_drift_only_changes_are_real(
    train: statistics_pb2.DatasetFeatureStatisticsList,
    serving: statistics_pb2.DatasetFeatureStatisticsList,
) -> None:
    def feature(
        statistics: statistics_pb2.DatasetFeatureStatisticsList, name: str
    ) -> statistics_pb2.FeatureNameStatistics:
        return next(f for f in statistics.datasets[0].features if f.path.step == [name])

    train_minutes = feature(train, "session_minutes").num_stats
    serving_minutes = feature(serving, "session_minutes").num_stats
    assert serving_minutes.mean > train_minutes.mean + 10
    assert train_minutes.min <= serving_minutes.min and serving_minutes.max <= train_minutes.max

    def mobile_share(statistics: statistics_pb2.DatasetFeatureStatisticsList) -> float:
        device = feature(statistics, "device").string_stats
        counts = {v.value: v.frequency for v in device.top_values}
        return float(counts["mobile"] / sum(counts.values()))

    assert mobile_share(train) == pytest.approx(0.5, abs=0.03)
    assert mobile_share(serving) == pytest.approx(0.75, abs=0.03)


def test_the_updated_schema_accepts_serving(
    serving: statistics_pb2.DatasetFeatureStatisticsList, schema: schema_pb2.Schema
) -> None:
    updated = update_schema(schema, serving, "SERVING")
    assert by_feature(validate_statistics(serving, updated, "SERVING")) == {}
    assert by_feature(validate_statistics(serving, schema, "SERVING")) == PLANTED  # unchanged


def test_the_committed_files_are_what_the_generator_writes(tmp_path: Path) -> None:
    module_spec = importlib.util.spec_from_file_location("make_pair", SAMPLE / "make_pair.py")
    assert module_spec is not None and module_spec.loader is not None
    make_pair = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(make_pair)
    train = make_pair.training()
    assert train.num_rows == 5000 and "churned" in train.column_names
    serving = make_pair.serving(train)
    assert serving.num_rows == 2000 and "churned" not in serving.column_names
    for table, name in ((train, "train"), (serving, "serving")):
        committed = pq.read_table(SAMPLE / f"{name}.parquet")
        assert committed.schema == table.schema
        for column in table.column_names:
            made, read = table.column(column), committed.column(column)
            if pa.types.is_floating(made.type):  # NaN == NaN here
                np.testing.assert_array_equal(made.to_numpy(), read.to_numpy())
            else:
                assert made.equals(read), column
