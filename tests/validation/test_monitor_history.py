"""beam_stats.drift.series (metric series and their strategies) and
beam_stats.validation.history (a history's spans checked: the HISTORY_* anomalies)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from anomaly_helpers import schema
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats import generate_statistics_from_table, set_drift_thresholds
from beam_stats.drift.series import SeriesLimits, series_outliers, span_metrics
from beam_stats.errors import InvalidInputError
from beam_stats.validation import anomaly_rows
from beam_stats.validation.catalogue import CATALOGUE
from beam_stats.validation.history import MonitorSpec, monitor_statistics

KEY = (("x",), "mean")


def _series(values: list[float]) -> list[dict[tuple[tuple[str, ...], str], float]]:
    return [{KEY: v, (("x",), "std"): 1.0} for v in values]


def test_span_metrics_match_numpy() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(3, 2, 400)
    c = np.array(["a"] * 250 + ["b"] * 100 + [None] * 50, dtype=object)
    stats = generate_statistics_from_table(pa.table({"x": x, "c": pa.array(list(c), pa.string())}))
    found = span_metrics(stats)
    assert found[(), "num_examples"] == 400
    assert found[("x",), "mean"] == pytest.approx(np.mean(x))
    assert found[("x",), "std"] == pytest.approx(np.std(x))
    assert found[("x",), "missing_fraction"] == 0
    assert found[("c",), "missing_fraction"] == pytest.approx(50 / 400)
    assert found[("c",), "distinct"] == 2
    assert found[("c",), "top_share"] == pytest.approx(250 / 350)


def test_the_mad_strategy_and_its_floor() -> None:
    values = [10.0, 10.2, 9.9, 10.1, 10.0, 9.8, 10.3, 10.1]
    spans = [f"s{i}" for i in range(len(values) + 1)]
    median = float(np.median(values))
    scale = 1.4826 * float(np.median(np.abs(np.array(values) - median)))
    half = max(3.5 * scale, 0.25 * 1.0)  # the floor: a quarter of the typical std
    inside = series_outliers(spans, _series([*values, median + 0.99 * half]), len(values))
    assert inside == []
    [outlier] = series_outliers(spans, _series([*values, median + 1.01 * half]), len(values))
    assert (outlier.metric, outlier.strategy, outlier.history) == ("mean", "mad", 8)
    assert outlier.expected == pytest.approx(median)
    assert (outlier.low, outlier.high) == pytest.approx((median - half, median + half))


def test_zscore_relative_and_min_history() -> None:
    values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    spans = [f"s{i}" for i in range(8)]
    z = SeriesLimits(strategy="zscore", z=1.0, mean_change=0.0)
    [found] = series_outliers(spans, _series([*values, 9.0]), 7, z)
    assert found.expected == pytest.approx(4.0)
    assert found.high == pytest.approx(4.0 + np.std(values, ddof=1))
    relative = SeriesLimits(strategy="relative", mean_change=1.5)
    assert series_outliers(spans, _series([*values, 8.4]), 7, relative) == []
    [found] = series_outliers(spans, _series([*values, 8.6]), 7, relative)
    assert (found.expected, found.strategy) == (7.0, "relative")
    assert series_outliers(spans, _series([*values, 100.0]), 7, SeriesLimits(min_history=8)) == []


def test_the_seasonal_strategy_uses_the_same_weekday() -> None:
    # 2026-01-03 is a Saturday: weekends are at 20, weekdays at 10.
    spans = [f"2026-01-{d:02d}" for d in range(1, 30)]
    weekday = [10.0 if d % 7 not in (3, 4) else 20.0 for d in range(1, 30)]
    metrics = _series(weekday)
    saturday = spans.index("2026-01-24")
    assert series_outliers(spans, metrics, saturday) == []  # mad would flag it
    mad = series_outliers(spans, metrics, saturday, SeriesLimits(strategy="mad"))
    assert [o.strategy for o in mad] == ["mad"]
    metrics[saturday] = {**metrics[saturday], KEY: 10.0}  # a weekday value on a Saturday
    [found] = series_outliers(spans, metrics, saturday)
    assert (found.strategy, found.expected) == ("seasonal", 20.0)


def test_bad_limits_and_histories_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="strategy must be one of"):
        SeriesLimits(strategy="median")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="z must be a finite number >= 0, got -1"):
        SeriesLimits(z=-1)
    with pytest.raises(InvalidInputError, match="baseline_spans must be a positive integer"):
        MonitorSpec(baseline_spans=0)
    stats = generate_statistics_from_table(pa.table({"x": [1.0, 2.0]}))
    with pytest.raises(InvalidInputError, match="not in increasing order"):
        monitor_statistics([("b", stats), ("a", stats)])
    with pytest.raises(InvalidInputError, match=r"spans not in the history: \['c'\]"):
        monitor_statistics([("a", stats)], spans=["c"])
    with pytest.raises(InvalidInputError, match="no span in the history"):
        monitor_statistics([])


def _history(shift_last: float, rows_last: int, missing_last: float) -> list[tuple[str, object]]:
    rng = np.random.default_rng(5)
    history = []
    for day in range(10):
        last = day == 9
        n = rows_last if last else 1000
        x = rng.normal(shift_last if last else 0.0, 1, n)
        missing = rng.random(n) < (missing_last if last else 0.0)
        column = pa.array(np.where(missing, np.nan, x), mask=missing)
        history.append((f"run-{day:02d}", generate_statistics_from_table(pa.table({"x": column}))))
    return history


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("HISTORY_ROLLING_DRIFT_HIGH", (1.0, 1000, 0.0)),
        ("HISTORY_NUM_EXAMPLES_DROP", (0.0, 100, 0.0)),
        ("HISTORY_METRIC_OUTLIER", (0.0, 1000, 0.5)),
    ],
)
def test_each_history_anomaly_is_raised_at_its_catalogued_severity(
    name: str, args: tuple[float, int, float]
) -> None:
    history = _history(*args)
    found = monitor_statistics(history)  # type: ignore[arg-type]
    assert list(found) == ["run-09"]
    rows = [r for r in anomaly_rows(found["run-09"]) if r.short_description == name]
    entry = next(e for e in CATALOGUE if e.name == name)
    assert rows and {r.severity for r in rows} == {entry.severity}
    assert all(r.description.startswith("Span run-09") for r in rows)
    quiet = monitor_statistics(_history(0.0, 1000, 0.0))  # type: ignore[arg-type]
    assert not quiet["run-09"].anomaly_info and not quiet["run-09"].dataset_anomaly_info.reason


def test_a_schema_sets_the_thresholds() -> None:
    history = _history(0.3, 1000, 0.0)
    defaults = monitor_statistics(history)  # type: ignore[arg-type]
    assert "x" in defaults["run-09"].anomaly_info  # ks 0.12 > 0.1 by default
    loose = set_drift_thresholds(schema('feature { name: "x" type: FLOAT }'), "x", ks=0.5)
    found = monitor_statistics(history, loose)  # type: ignore[arg-type]
    reasons = {r.short_description for r in found["run-09"].anomaly_info["x"].reason}
    assert reasons == {"HISTORY_METRIC_OUTLIER"}  # the mean moved 0.3 sd; no distance breach
    assert found["run-09"].baseline == loose
    strict = set_drift_thresholds(loose, "x", ks=0.01)
    found = monitor_statistics(history, strict)  # type: ignore[arg-type]
    reasons = {r.short_description for r in found["run-09"].anomaly_info["x"].reason}
    assert "HISTORY_ROLLING_DRIFT_HIGH" in reasons


def test_an_empty_span_is_data_missing() -> None:
    empty = statistics_pb2.DatasetFeatureStatisticsList()
    empty.datasets.add(num_examples=0)
    stats = generate_statistics_from_table(pa.table({"x": [1.0]}))
    found = monitor_statistics([("a", stats), ("b", empty)])
    assert found["b"].data_missing
