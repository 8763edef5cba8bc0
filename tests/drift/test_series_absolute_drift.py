"""beam_stats.drift.series: the absolute strategy, and drift_previous (each span's drift
distance from the previous span) as a metric series."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats import (
    MetricLimits,
    MonitorSpec,
    SeriesLimits,
    StatisticsStore,
    compare_statistics,
    generate_statistics_from_table,
    monitor,
    monitor_statistics,
)
from beam_stats.drift.compare import features_of
from beam_stats.drift.series import drift_metrics, series_outliers, span_metrics
from beam_stats.validation import anomaly_rows

Stats = statistics_pb2.DatasetFeatureStatisticsList


def _days(means: list[float], rows: int = 2000, seed: int = 4) -> list[tuple[np.ndarray, Stats]]:
    rng = np.random.default_rng(seed)
    found = []
    for mean in means:
        x = rng.normal(mean, 1.0, rows)
        found.append((x, generate_statistics_from_table(pa.table({"x": x}))))
    return found


def test_the_absolute_strategy_is_the_previous_value_plus_or_minus_a_threshold() -> None:
    days = _days([10.0] * 8 + [10.2, 10.6])
    spans = [f"s{i}" for i in range(len(days))]
    metrics = [span_metrics(stats) for _, stats in days]
    # z and the floor would hide any change here: the absolute strategy uses neither.
    limits = SeriesLimits(
        z=100, mean_change=100, metrics={"mean": MetricLimits(strategy="absolute", threshold=0.3)}
    )
    flagged = []
    for target in (8, 9):
        previous, current = np.mean(days[target - 1][0]), np.mean(days[target][0])
        found = [o for o in series_outliers(spans, metrics, target, limits) if o.metric == "mean"]
        assert bool(found) == (abs(current - previous) > 0.3), target
        flagged.append(bool(found))
    assert flagged == [False, True]  # +0.2 then +0.4 (the sample means, about)
    [outlier] = [o for o in series_outliers(spans, metrics, 9, limits) if o.metric == "mean"]
    previous = float(np.mean(days[8][0]))
    assert (outlier.strategy, outlier.history) == ("absolute", 9)
    assert outlier.expected == pytest.approx(previous)
    assert (outlier.low, outlier.high) == pytest.approx((previous - 0.3, previous + 0.3))
    assert outlier.value == pytest.approx(np.mean(days[9][0]))


def test_absolute_thresholds_are_in_the_metric_unit_and_keep_their_bounds() -> None:
    values = [0.10, 0.11, 0.09, 0.10]
    spans = ["a", "b", "c", "d", "e"]
    key = (("x",), "missing_fraction")
    limits = SeriesLimits(
        min_history=2,
        metrics={"missing_fraction": MetricLimits(strategy="absolute", threshold=0.02)},
    )
    quiet = [{key: v} for v in [*values, 0.119]]
    assert series_outliers(spans, quiet, 4, limits) == []
    loud = [{key: v} for v in [*values, 0.121]]
    [found] = series_outliers(spans, loud, 4, limits)
    assert (found.low, found.high) == pytest.approx((0.08, 0.12))
    # A share's range stays in [0, 1].
    near_zero = [{key: v} for v in [0.0, 0.0, 0.01, 0.0, 0.5]]
    [found] = series_outliers(spans, near_zero, 4, limits)
    assert (found.low, found.high) == pytest.approx((0.0, 0.02))
    # Its own min_history: one earlier span is enough when it says so.
    short = MetricLimits(strategy="absolute", threshold=0.02, min_history=1)
    one = SeriesLimits(metrics={"missing_fraction": short})
    two = [{key: 0.1}, {key: 0.2}]
    assert [o.expected for o in series_outliers(spans[:2], two, 1, one)] == [0.1]
    assert series_outliers(spans[:2], two, 1, limits) == []


def _mixed(seed: int, categories: list[float], shift: float, rows: int = 3000) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "x": rng.normal(shift, 1.0, rows),
            "c": rng.choice(np.array(["a", "b", "c"]), rows, p=categories),
            "id": [f"u{seed}-{i}" for i in range(rows)],  # id-like: no drift series
        }
    )


def test_drift_previous_is_the_default_distance_of_compare_statistics() -> None:
    a = generate_statistics_from_table(_mixed(1, [0.5, 0.3, 0.2], 0.0))
    b = generate_statistics_from_table(_mixed(2, [0.4, 0.3, 0.3], 0.4))
    found = drift_metrics(features_of(a), features_of(b))
    features = compare_statistics(a, b).features
    compared = {f.path: {m.measure: m for m in f.measured} for f in features}
    distance_c = compared[("c",)]["l_infinity"].distance
    distance_x = compared[("x",)]["jensen_shannon"].distance
    assert distance_c is not None and distance_x is not None
    assert found == {
        (("c",), "drift_previous"): pytest.approx(distance_c.value),
        (("x",), "drift_previous"): pytest.approx(distance_x.value),
    }
    assert found[("c",), "drift_previous"] > 0.05  # the shares moved by 0.1
    # A feature in one span only, or of another kind in each, has no distance.
    only_x = generate_statistics_from_table(pa.table({"x": ["1", "2"], "d": [1.0, 2.0]}))
    assert drift_metrics(features_of(a), features_of(only_x)) == {}


def _categorical_days(last: list[float], days: int = 12) -> list[tuple[str, Stats]]:
    history = []
    for day in range(days):
        shares = last if day == days - 1 else [0.5, 0.3, 0.2]
        table = _mixed(100 + day, shares, 0.0, rows=5000).drop_columns(["id"])
        history.append((f"run-{day:02d}", generate_statistics_from_table(table)))
    return history


def test_an_unusual_day_over_day_distance_is_a_metric_outlier() -> None:
    # The two rarer values trade 7 points: L-infinity about 0.07, under the default drift
    # threshold (0.1), far above the day-to-day noise (about 0.01); the top value's share
    # does not move.
    history = _categorical_days([0.5, 0.23, 0.27])
    found = monitor_statistics(history)["run-11"]  # type: ignore[arg-type]
    rows = [(r.feature, r.short_description) for r in anomaly_rows(found)]
    assert rows == [("c", "HISTORY_METRIC_OUTLIER")]
    [reason] = found.anomaly_info["c"].reason
    expected = compare_statistics(history[-2][1], history[-1][1]).features
    distance = next(m for f in expected if f.path == ("c",) for m in f.measured)
    assert distance.measure == "l_infinity" and distance.distance is not None
    assert reason.description.startswith(
        "Span run-11: the Linfty distance from the previous span (drift_previous) is "
        f"{distance.distance.value:.4g}, expected range [0, "
    )
    # The same data, unchanged: nothing.
    quiet = monitor_statistics(_categorical_days([0.5, 0.3, 0.2]))["run-11"]  # type: ignore[arg-type]
    assert not list(anomaly_rows(quiet))
    # A floor of 0.1 (the drift threshold) silences the series.
    loose = MonitorSpec(series=SeriesLimits(drift_change=0.1))
    assert not list(anomaly_rows(monitor_statistics(history, spec=loose)["run-11"]))  # type: ignore[arg-type]


def test_the_monitor_job_reads_the_span_before_the_window(tmp_path: Path) -> None:
    store = StatisticsStore(tmp_path / "store")
    history = _categorical_days([0.5, 0.23, 0.27])
    for span, statistics in history:
        store.add(statistics, span)
    spec = MonitorSpec(series=SeriesLimits(min_history=3))
    found = monitor(store, baseline_spans=5, spec=spec).anomalies["run-11"]
    in_memory = monitor_statistics(
        history,  # type: ignore[arg-type]
        spec=MonitorSpec(baseline_spans=5, series=SeriesLimits(min_history=3)),
    )["run-11"]
    [reason] = found.anomaly_info["c"].reason
    assert "(drift_previous)" in reason.description
    assert "from 5 earlier spans" in reason.description  # each of the 5 has its distance
    assert found == in_memory


def test_a_numeric_feature_is_measured_with_jensen_shannon() -> None:
    history = [(f"run-{i:02d}", stats) for i, (_, stats) in enumerate(_days([0.0] * 9 + [1.5]))]
    found = monitor_statistics(history)["run-09"]  # type: ignore[arg-type]
    [reason] = [r for r in found.anomaly_info["x"].reason if "(drift_previous)" in r.description]
    compared = compare_statistics(history[-2][1], history[-1][1]).features
    distance = next(m for m in compared[0].measured if m.measure == "jensen_shannon").distance
    assert distance is not None and distance.value > 0.1
    assert reason.description.startswith(
        "Span run-09: the approximate Jensen-Shannon divergence from the previous span "
        f"(drift_previous) is {distance.value:.4g}"
    )
