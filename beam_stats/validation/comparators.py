"""Comparator anomalies: drift against previous statistics, skew against serving statistics.

Per feature of the schema that is active and present in the validated statistics, with
thresholds in its ``drift_comparator``/``skew_comparator`` (and beam-stats'
``FeatureComparators`` annotation, :mod:`beam_stats.drift.threshold_schema`), every measure that
has a threshold is computed (:mod:`beam_stats.drift`); a value beyond its threshold is a
reason of the feature's anomaly:

=============================  ================================================
measure                        anomaly type (short description)
=============================  ================================================
``l_infinity``                 COMPARATOR_L_INFTY_HIGH (TFDV's text)
``jensen_shannon``             COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH (TFDV's)
``normalized_abs_difference``  COMPARATOR_NORMALIZED_ABSOLUTE_DIFFERENCE_HIGH
``psi``                        CUSTOM_VALIDATION (``COMPARATOR_PSI_HIGH``)
``ks``                         CUSTOM_VALIDATION
                               (``COMPARATOR_KOLMOGOROV_SMIRNOV_HIGH``)
``wasserstein``                CUSTOM_VALIDATION (``COMPARATOR_WASSERSTEIN_HIGH``)
``hellinger``                  CUSTOM_VALIDATION (``COMPARATOR_HELLINGER_HIGH``)
``chi_squared``                CUSTOM_VALIDATION
                               (``COMPARATOR_CHI_SQUARED_P_VALUE_LOW``)
``missing_fraction``           CUSTOM_VALIDATION
                               (``COMPARATOR_MISSING_FRACTION_HIGH``)
``concept_shift``              CUSTOM_VALIDATION
                               (``COMPARATOR_CONCEPT_SHIFT_HIGH``)
``group_share``                CUSTOM_VALIDATION (``GROUP_SHARE_MOVED``)
=============================  ================================================

tensorflow-metadata has no anomaly type for the last eight, so they share
``CUSTOM_VALIDATION`` and are told apart by their short description, a stable name. The
long description gives the value (with its error bound where one exists), the threshold
and what was read (sketch state or finished statistics).

Every value measured for the three TFMD measures is recorded in
``Anomalies.drift_skew_info`` (``drift_measurements`` against previous statistics,
``skew_measurements`` against serving ones), breached or not, as TFDV does. The enum of
``DriftSkewInfo.Measurement.type`` is closed and knows only those three, so the values of
the other measures are in the anomaly descriptions when breached, and all of them in
:func:`beam_stats.drift.compare_statistics` (``beam-stats compare``).

Also, as TFDV: a feature with thresholds that the control statistics lack is
COMPARATOR_CONTROL_DATA_MISSING; ``dataset_constraints.num_examples_drift_comparator``
bounds the ratio of example counts, current over previous (COMPARATOR_LOW_NUM_EXAMPLES,
COMPARATOR_HIGH_NUM_EXAMPLES). Beyond TFDV, with serving statistics,
SCHEMA_TRAINING_SERVING_SKEW for a feature typed or shaped differently in serving
(:mod:`beam_stats.drift.schema_skew`), or present in only one of the two datasets where the
schema's environments expect it in both (features not expected in the serving environment,
like a label, or not in the validated one, are not).
"""

from __future__ import annotations

import dataclasses

from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2, statistics_pb2

from beam_stats._types import FeaturePath
from beam_stats.drift import DistanceSpec, Measured
from beam_stats.drift.compare import FeatureData, compare_feature, features_of
from beam_stats.drift.schema_skew import schema_skew
from beam_stats.drift.threshold_schema import Kind, thresholds
from beam_stats.schema.features import (
    dotted_path,
    in_environment,
    iter_features,
)
from beam_stats.schema.violations import Violation, num

AnomalyType = anomalies_pb2.AnomalyInfo.Type
Measurement = anomalies_pb2.DriftSkewInfo.Measurement

#: measure -> (anomaly type, DriftSkewInfo measurement type or None, short name, text)
ANOMALIES: dict[str, tuple[int, int | None, str, str]] = {
    "l_infinity": (AnomalyType.COMPARATOR_L_INFTY_HIGH, Measurement.L_INFTY, "", "Linfty distance"),
    "jensen_shannon": (
        AnomalyType.COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH,
        Measurement.JENSEN_SHANNON_DIVERGENCE,
        "",
        "approximate Jensen-Shannon divergence",
    ),
    "normalized_abs_difference": (
        AnomalyType.COMPARATOR_NORMALIZED_ABSOLUTE_DIFFERENCE_HIGH,
        Measurement.NORMALIZED_ABSOLUTE_DIFFERENCE,
        "",
        "normalized absolute difference",
    ),
    "psi": (
        AnomalyType.CUSTOM_VALIDATION,
        None,
        "COMPARATOR_PSI_HIGH",
        "population stability index",
    ),
    "ks": (
        AnomalyType.CUSTOM_VALIDATION,
        None,
        "COMPARATOR_KOLMOGOROV_SMIRNOV_HIGH",
        "Kolmogorov-Smirnov statistic",
    ),
    "wasserstein": (
        AnomalyType.CUSTOM_VALIDATION,
        None,
        "COMPARATOR_WASSERSTEIN_HIGH",
        "Wasserstein distance (in base standard deviations)",
    ),
    "hellinger": (
        AnomalyType.CUSTOM_VALIDATION,
        None,
        "COMPARATOR_HELLINGER_HIGH",
        "Hellinger distance",
    ),
    "chi_squared": (
        AnomalyType.CUSTOM_VALIDATION,
        None,
        "COMPARATOR_CHI_SQUARED_P_VALUE_LOW",
        "chi-squared test p-value",
    ),
    "missing_fraction": (
        AnomalyType.CUSTOM_VALIDATION,
        None,
        "COMPARATOR_MISSING_FRACTION_HIGH",
        "change of the fraction of examples missing the feature",
    ),
    "concept_shift": (
        AnomalyType.CUSTOM_VALIDATION,
        None,
        "COMPARATOR_CONCEPT_SHIFT_HIGH",
        "concept shift (change of the label's distribution given the feature)",
    ),
    "group_share": (
        AnomalyType.CUSTOM_VALIDATION,
        None,
        "GROUP_SHARE_MOVED",
        "largest change of a group's share of examples",
    ),
}
#: (treatment, control) names of each comparison, as TFDV writes them.
NAMES = {"drift": ("current", "previous"), "skew": ("training", "serving")}


@dataclasses.dataclass
class Findings:
    """What the comparisons found: reasons per feature and for the dataset, and the
    measurements of ``drift_skew_info`` per feature."""

    features: dict[FeaturePath, list[Violation]] = dataclasses.field(default_factory=dict)
    dataset: list[Violation] = dataclasses.field(default_factory=list)
    measurements: dict[FeaturePath, anomalies_pb2.DriftSkewInfo] = dataclasses.field(
        default_factory=dict
    )

    def add(self, path: FeaturePath, violations: list[Violation]) -> None:
        if violations:
            self.features.setdefault(path, []).extend(violations)


def compare(
    dataset: statistics_pb2.DatasetFeatureStatistics,
    schema: schema_pb2.Schema,
    environment: str | None,
    previous: statistics_pb2.DatasetFeatureStatistics | None,
    serving: statistics_pb2.DatasetFeatureStatistics | None,
    serving_environment: str | None,
    spec: DistanceSpec,
) -> Findings:
    """Every comparator reason of `dataset` (see the module docstring)."""
    found = Findings()
    current = features_of(dataset)
    if previous is not None:
        found.dataset.extend(num_examples_comparator(schema, dataset, previous))
        distribution_comparators(found, schema, current, features_of(previous), "drift", None, spec)
    if serving is not None:
        others = features_of(serving)
        distribution_comparators(found, schema, current, others, "skew", serving_environment, spec)
        for path, violations in schema_skew(
            schema, dataset, serving, environment, serving_environment
        ).items():
            found.add(path, violations)
    return found


def distribution_comparators(
    found: Findings,
    schema: schema_pb2.Schema,
    current: dict[FeaturePath, FeatureData],
    control: dict[FeaturePath, FeatureData],
    kind: Kind,
    control_environment: str | None,
    spec: DistanceSpec,
) -> None:
    treatment_name, control_name = NAMES[kind]
    for schema_path, feature in iter_features(schema, active_only=True):
        limits = thresholds(feature, kind)
        # An old-style top-level name ("parent.child") stands for the nested path.
        path = schema_path if schema_path in current else dotted_path(schema_path)
        if path not in current or limits.empty:
            continue
        if not in_environment(schema, feature, control_environment):
            continue
        if path not in control:
            found.add(
                path,
                [
                    Violation(
                        AnomalyType.COMPARATOR_CONTROL_DATA_MISSING,
                        f"{control_name} data missing",
                        f"{control_name} data is missing.",
                    )
                ],
            )
            continue
        # The control is the reference for drift (previous span); for skew, training is.
        base, test = control[path], current[path]
        if kind == "skew":
            base, test = test, base
        names = [name for name, _ in limits.items()]
        comparison = compare_feature(base, test, limits, measures=names, spec=spec)
        for measured in comparison.measured:
            _record(found, path, kind, measured)
            if measured.breached:
                found.add(path, [_violation(measured, treatment_name, control_name)])


def _record(found: Findings, path: FeaturePath, kind: Kind, measured: Measured) -> None:
    measurement_type = ANOMALIES[measured.measure][1]
    if measurement_type is None or measured.distance is None or measured.threshold is None:
        return
    info = found.measurements.get(path)
    if info is None:
        info = found.measurements[path] = anomalies_pb2.DriftSkewInfo()
        info.path.step.extend(path)
    target = info.drift_measurements if kind == "drift" else info.skew_measurements
    target.add(type=measurement_type, value=measured.distance.value, threshold=measured.threshold)


def _violation(measured: Measured, treatment: str, control: str) -> Violation:
    anomaly, _, short, text = ANOMALIES[measured.measure]
    distance = measured.distance
    assert distance is not None and measured.threshold is not None
    between = f"{treatment} and {control}"
    if measured.measure == "chi_squared":
        p_value = distance.p_value if distance.p_value is not None else 0.0
        long = (
            f"The {text} between {between} is {num(p_value)} (statistic {num(distance.value)}), "
            f"below the threshold {num(measured.threshold)}"
        )
    else:
        error = f" +- {num(distance.error)}" if distance.error else ""
        long = (
            f"The {text} between {between} is {num(distance.value)}{error}, above the "
            f"threshold {num(measured.threshold)}"
        )
    long += f" (read from: {distance.source}"
    long += f"; {distance.detail})." if distance.detail else ")."
    if not short:  # the TFMD types: TFDV's wording
        short = f"High {text} between {between}"
    return Violation(anomaly, short, long)


def num_examples_comparator(
    schema: schema_pb2.Schema,
    dataset: statistics_pb2.DatasetFeatureStatistics,
    previous: statistics_pb2.DatasetFeatureStatistics,
) -> list[Violation]:
    constraints = schema.dataset_constraints
    if not constraints.HasField("num_examples_drift_comparator"):
        return []
    comparator = constraints.num_examples_drift_comparator
    n, before = int(dataset.num_examples), int(previous.num_examples)
    found = []
    if comparator.HasField("max_fraction_threshold"):
        if before == 0:
            found.append(
                Violation(
                    AnomalyType.COMPARATOR_HIGH_NUM_EXAMPLES,
                    "High num examples in current dataset versus the previous span, which has 0.",
                    "The previous span has 0 examples, so there is a high number of examples "
                    "in the current dataset versus the previous span.",
                )
            )
        elif n / before > comparator.max_fraction_threshold:
            found.append(_ratio(n, before, comparator.max_fraction_threshold, "High", "above"))
    low = comparator.min_fraction_threshold
    if comparator.HasField("min_fraction_threshold") and before and n / before < low:
        found.append(_ratio(n, before, comparator.min_fraction_threshold, "Low", "below"))
    return found


def _ratio(n: int, before: int, threshold: float, level: str, side: str) -> Violation:
    anomaly = (
        AnomalyType.COMPARATOR_HIGH_NUM_EXAMPLES
        if level == "High"
        else AnomalyType.COMPARATOR_LOW_NUM_EXAMPLES
    )
    return Violation(
        anomaly,
        f"{level} num examples in current dataset versus the previous span.",
        f"The ratio of num examples in the current dataset versus the previous span is "
        f"{num(n / before)} ({n} / {before}), which is {side} the threshold {num(threshold)}.",
    )
