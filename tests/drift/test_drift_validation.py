"""validate_statistics with previous and serving statistics: comparator anomalies."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from anomaly_helpers import by_feature, schema, stats
from tensorflow_metadata.proto.v0 import anomalies_pb2, statistics_pb2

from beam_stats import SlicingSpec, generate_statistics_from_table
from beam_stats.drift import set_drift_thresholds, set_skew_thresholds
from beam_stats.errors import InvalidInputError, SchemaError
from beam_stats.schema import add_environments, infer_schema
from beam_stats.validation import validate_slices, validate_statistics

AnomalyInfo = anomalies_pb2.AnomalyInfo
Measurement = anomalies_pb2.DriftSkewInfo.Measurement


def shorts(anomalies: anomalies_pb2.Anomalies, feature: str) -> set[str]:
    return {r.short_description for r in anomalies.anomaly_info[feature].reason}


def devices(shares: dict[str, float], n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return list(rng.choice(list(shares), size=n, p=list(shares.values())))


def test_tfmd_comparators_report_breaches_and_record_every_measurement() -> None:
    before = stats({"d": devices({"a": 0.5, "b": 0.5}, 1000, 1), "e": ["x", "y"] * 500})
    after = stats({"d": devices({"a": 0.8, "b": 0.2}, 1000, 2), "e": ["x", "y"] * 500})
    limits = {"l_infinity": 0.1, "jensen_shannon": 0.5, "normalized_abs_difference": 0.1}
    checked = set_drift_thresholds(infer_schema(before), None, **limits)
    found = validate_statistics(after, checked, previous_statistics=before)
    assert by_feature(found) == {"d": {"COMPARATOR_L_INFTY_HIGH", AnomalyInfo.Type.Name(87)}}
    assert shorts(found, "d") == {
        "High Linfty distance between current and previous",
        "High normalized absolute difference between current and previous",
    }
    recorded = {
        (tuple(info.path.step), Measurement.Type.Name(m.type), m.threshold)
        for info in found.drift_skew_info
        for m in info.drift_measurements
    }
    expected = {
        ((f,), kind, limit)
        for f in ("d", "e")
        for kind, limit in (
            ("L_INFTY", 0.1),
            ("JENSEN_SHANNON_DIVERGENCE", 0.5),
            ("NORMALIZED_ABSOLUTE_DIFFERENCE", 0.1),
        )
    }
    assert recorded == expected  # breached or not
    assert all(not info.skew_measurements for info in found.drift_skew_info)


def test_new_measures_are_custom_validation_with_a_stable_name() -> None:
    rng = np.random.default_rng(3)
    before = stats({"n": rng.normal(0, 1, 2000), "c": devices({"a": 0.5, "b": 0.5}, 2000, 4)})
    after = stats({"n": rng.normal(1, 1, 2000), "c": devices({"a": 0.3, "b": 0.7}, 2000, 5)})
    checked = set_drift_thresholds(
        infer_schema(before),
        None,
        psi=0.1,
        ks=0.1,
        wasserstein=0.1,
        hellinger=0.1,
        chi_squared=1e-6,
    )
    found = validate_statistics(after, checked, previous_statistics=before)
    assert by_feature(found) == {"n": {"CUSTOM_VALIDATION"}, "c": {"CUSTOM_VALIDATION"}}
    assert shorts(found, "n") == {
        "COMPARATOR_PSI_HIGH",
        "COMPARATOR_KOLMOGOROV_SMIRNOV_HIGH",
        "COMPARATOR_WASSERSTEIN_HIGH",
        "COMPARATOR_HELLINGER_HIGH",
    }
    assert shorts(found, "c") == {
        "COMPARATOR_PSI_HIGH",
        "COMPARATOR_HELLINGER_HIGH",
        "COMPARATOR_CHI_SQUARED_P_VALUE_LOW",
    }
    ks = next(r for r in found.anomaly_info["n"].reason if "KOLMOGOROV" in r.short_description)
    # Exact sketches (2,000 values): the distance is exact, so no error bound is stated.
    assert "+- " not in ks.description and "read from: sketch" in ks.description
    assert not found.drift_skew_info  # TFMD's measurement types cannot name these


def test_presence_drift_catches_a_feature_going_missing() -> None:
    def frame(missing: int) -> pa.Table:
        values = [None] * missing + [1.5] * (100 - missing)
        return pa.table({"f": pa.array(values, type=pa.float64())})

    before, after = stats(frame(5)), stats(frame(40))
    inferred = infer_schema(before)
    # TFDV-style presence (at least one example) cannot tell 5% from 40% missing:
    assert by_feature(validate_statistics(after, inferred)) == {}
    checked = set_drift_thresholds(inferred, "f", missing_fraction=0.1)
    found = validate_statistics(after, checked, previous_statistics=before)
    assert shorts(found, "f") == {"COMPARATOR_MISSING_FRACTION_HIGH"}
    assert "5% of base examples, 40% of test examples" in found.anomaly_info["f"].description
    same = validate_statistics(stats(frame(8)), checked, previous_statistics=before)
    assert by_feature(same) == {}


def test_control_data_missing_and_no_control_at_all() -> None:
    before = stats({"a": ["x", "y"]})
    after = stats({"a": ["x", "y"], "b": ["z", "z"]})
    checked = set_drift_thresholds(infer_schema(after), None, l_infinity=0.1)
    found = validate_statistics(after, checked, previous_statistics=before)
    assert by_feature(found) == {"b": {"COMPARATOR_CONTROL_DATA_MISSING"}}
    assert found.anomaly_info["b"].short_description == "previous data missing"
    assert by_feature(validate_statistics(after, checked)) == {}  # nothing to compare with


def test_num_examples_drift_comparator() -> None:
    checked = schema(
        """
        feature { name: "a" type: INT }
        dataset_constraints {
          num_examples_drift_comparator { min_fraction_threshold: 0.5 max_fraction_threshold: 2 }
        }
        """
    )
    before = stats({"a": list(range(100))})

    def dataset_reasons(n: int) -> set[str]:
        found = validate_statistics(stats({"a": list(range(n))}), checked, None, before)
        return {AnomalyInfo.Type.Name(r.type) for r in found.dataset_anomaly_info.reason}

    assert dataset_reasons(100) == dataset_reasons(50) == dataset_reasons(200) == set()
    assert dataset_reasons(49) == {"COMPARATOR_LOW_NUM_EXAMPLES"}
    assert dataset_reasons(201) == {"COMPARATOR_HIGH_NUM_EXAMPLES"}


def test_schema_skew_type_valency_and_one_sided_features() -> None:
    training = stats(
        {"t": [1, 2, 3], "v": [[1], [2], [3]], "only_t": ["a", "b", "c"], "label": [0, 1, 0]}
    )
    serving = stats({"t": [1.5, 2.0, 3.0], "v": [[1, 2], [2], []], "only_s": ["x", "y", "z"]})
    declared = add_environments(
        infer_schema(training), ["TRAINING", "SERVING"], not_in={"label": ["SERVING"]}
    )
    found = validate_statistics(training, declared, "TRAINING", serving_statistics=serving)
    assert by_feature(found) == {
        "t": {"SCHEMA_TRAINING_SERVING_SKEW"},
        "v": {"SCHEMA_TRAINING_SERVING_SKEW"},
        "only_t": {"SCHEMA_TRAINING_SERVING_SKEW"},
        "only_s": {"SCHEMA_TRAINING_SERVING_SKEW"},
    }  # not the label: the schema does not expect it in SERVING
    assert shorts(found, "t") == {"Type skew"}
    assert (
        found.anomaly_info["t"].description
        == "The feature is INT in training but FLOAT in serving."
    )
    assert shorts(found, "v") == {"Valency skew"}
    assert shorts(found, "only_t") == {"Feature only in training"}
    assert shorts(found, "only_s") == {"Feature only in serving"}
    everywhere = validate_statistics(
        training, declared, "TRAINING", serving_statistics=serving, serving_environment="TRAINING"
    )
    assert "label" in by_feature(everywhere)


def test_skew_comparators_compare_training_with_serving() -> None:
    training = stats({"c": ["a"] * 50 + ["b"] * 50})
    serving = stats({"c": ["a"] * 90 + ["b"] * 10})
    checked = set_skew_thresholds(infer_schema(training), "c", l_infinity=0.1, psi=0.1)
    found = validate_statistics(training, checked, serving_statistics=serving)
    assert shorts(found, "c") == {
        "High Linfty distance between training and serving",
        "COMPARATOR_PSI_HIGH",
    }
    (info,) = found.drift_skew_info
    assert [Measurement.Type.Name(m.type) for m in info.skew_measurements] == ["L_INFTY"]
    assert info.skew_measurements[0].value == pytest.approx(0.4)
    drift_only = set_drift_thresholds(infer_schema(training), "c", l_infinity=0.1)
    assert by_feature(validate_statistics(training, drift_only, None, None, serving)) == {}


def test_slices_are_compared_by_name() -> None:
    def sliced(share: float) -> statistics_pb2.DatasetFeatureStatisticsList:
        values = devices({"a": share, "b": 1 - share}, 400, 7)
        table = pa.table({"c": values, "k": ["p", "q"] * 200})
        return generate_statistics_from_table(table, slicing=SlicingSpec(features=("k",)))

    before, after = sliced(0.5), sliced(0.9)
    checked = set_drift_thresholds(infer_schema(before.datasets[0]), "c", l_infinity=0.2)
    found = validate_slices(after, checked, previous_statistics=before)
    assert list(found) == ["All Examples", "k=p", "k=q"]
    assert all(by_feature(a) == {"c": {"COMPARATOR_L_INFTY_HIGH"}} for a in found.values())
    del before.datasets[2]  # no previous "k=q": that slice is not compared
    found = validate_slices(after, checked, previous_statistics=before)
    assert by_feature(found["k=q"]) == {} and by_feature(found["k=p"])


def test_bad_arguments() -> None:
    one = stats({"a": [1]})
    two = stats({"a": [1]})
    two.datasets.append(two.datasets[0])
    with pytest.raises(InvalidInputError, match="one dataset"):
        validate_statistics(one, infer_schema(one), previous_statistics=two)
    with pytest.raises(SchemaError, match="PROD"):
        validate_statistics(
            one, infer_schema(one), serving_statistics=one, serving_environment="PROD"
        )
    assert by_feature(validate_statistics(one, infer_schema(one), None, one, one)) == {}


def test_old_style_dotted_schema_names_get_drift_checks_on_nested_statistics() -> None:
    def nested(shares: dict[str, float], seed: int) -> statistics_pb2.DatasetFeatureStatisticsList:
        kinds = devices(shares, 1000, seed)
        table = pa.table({"user": pa.StructArray.from_arrays([pa.array(kinds)], ["device"])})
        return generate_statistics_from_table(table)

    before, after = nested({"a": 0.5, "b": 0.5}, 1), nested({"a": 0.9, "b": 0.1}, 2)
    old_style = schema(
        """
        feature { name: "user.device" type: BYTES
                  drift_comparator { infinity_norm { threshold: 0.1 } } }
        """
    )
    found = validate_statistics(after, old_style, previous_statistics=before)
    assert "COMPARATOR_L_INFTY_HIGH" in by_feature(found)["user.device"]
    # The exact L-infinity distance: the largest change of a value's share.
    measured = [m.value for i in found.drift_skew_info for m in i.drift_measurements]
    before_a = devices({"a": 0.5, "b": 0.5}, 1000, 1).count("a") / 1000
    after_a = devices({"a": 0.9, "b": 0.1}, 1000, 2).count("a") / 1000
    assert measured == [pytest.approx(abs(after_a - before_a))]
