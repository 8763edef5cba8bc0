"""``history_series``: the metric series of a history and its anomalies as marks, in memory."""

from __future__ import annotations

import numpy as np
import pytest
from history_store import SPANS, day_table, metrics_of
from tensorflow_metadata.proto.v0 import anomalies_pb2

from beam_stats import (
    PrivacySpec,
    StatisticsSpec,
    compare_statistics,
    generate_statistics_from_table,
    monitor_statistics,
)
from beam_stats.errors import InvalidInputError
from beam_stats.validation import history_series
from beam_stats.validation.pii import WITHHELD


def _history(spec: StatisticsSpec | None = None) -> tuple[list, dict]:
    rng = np.random.default_rng(5)
    history, tables = [], {}
    for i, span in enumerate(SPANS):
        table = day_table(rng, outage=False, missing_day=i == 10)
        tables[span] = table
        history.append((span, generate_statistics_from_table(table, spec)))
    return history, tables


def test_series_follow_the_data_and_marks_their_metric() -> None:
    history, tables = _history()
    found = monitor_statistics(history, spans=SPANS)
    series = history_series(history, found)
    assert series.spans == tuple(SPANS)
    for span_index, span in enumerate(SPANS):
        want = metrics_of(tables[span], "country")
        for metric, value in want.items():
            got = series.series["country"][metric][span_index]
            assert got == pytest.approx(value, rel=1e-12), (span, metric)
    outliers = [m for m in series.marks if m.anomaly == "HISTORY_METRIC_OUTLIER"]
    assert [(m.span, m.feature, m.metric) for m in outliers] == [
        (SPANS[10], "country", "missing_fraction")
    ]
    comparator = [m for m in series.marks if m.anomaly == "COMPARATOR_MISSING_FRACTION_HIGH"]
    assert comparator and all(m.metric == "missing_fraction" for m in comparator)
    rolling = [m for m in series.marks if m.anomaly == "HISTORY_ROLLING_DRIFT_HIGH"]
    assert rolling and all(m.metric is None for m in rolling)


def test_an_empty_span_is_data_missing_on_the_examples_chart() -> None:
    history, _ = _history()
    empty = generate_statistics_from_table(
        day_table(np.random.default_rng(1), outage=True, missing_day=False).slice(0, 0)
    )
    history.append(("2026-02-01", empty))
    found = monitor_statistics(history, spans=["2026-02-01"])
    series = history_series(history, found)
    assert series.series[""]["num_examples"][-1] == 0.0
    assert series.series["amount"]["mean"][-1] is None  # no values: no mean, a gap
    (mark,) = series.marks
    assert (mark.span, mark.feature, mark.metric, mark.anomaly) == (
        "2026-02-01",
        "",
        "num_examples",
        "DATA_MISSING",
    )


def test_descriptions_of_protected_features_are_withheld() -> None:
    spec = StatisticsSpec(privacy=PrivacySpec(redact=frozenset({"country"})))
    history, _ = _history(spec)
    found = monitor_statistics(history, spans=SPANS)
    raw = [
        r.description
        for a in found.values()
        for name, info in a.anomaly_info.items()
        if name == "country"
        for r in info.reason
    ]
    assert raw and not any(WITHHELD in d for d in raw)
    marks = [m for m in history_series(history, found).marks if m.feature == "country"]
    assert marks and all(WITHHELD in m.description for m in marks)


def test_bad_arguments() -> None:
    with pytest.raises(InvalidInputError, match="no span in the history"):
        history_series([], {})
    history, _ = _history()
    with pytest.raises(InvalidInputError, match="spans not in the history: \\['x'\\]"):
        history_series(history[:2], {"x": anomalies_pb2.Anomalies()})


def test_drift_from_the_previous_span_is_a_series_and_its_outliers_mark_it() -> None:
    history, _ = _history()
    found = monitor_statistics(history, spans=SPANS)
    series = history_series(history, found)
    drift = series.series["country"]["drift_previous"]
    assert drift[0] is None  # the first span has no previous span
    # Each value is the distance compare_statistics measures between the two spans.
    for i in range(1, len(SPANS)):
        compared = compare_statistics(history[i - 1][1], history[i][1]).features
        measured = next(f for f in compared if f.path == ("country",)).measured
        want = next(m for m in measured if m.measure == "l_infinity").distance.value
        assert drift[i] == pytest.approx(want, rel=1e-12)
    # An outlier of drift_previous (described with the distance's name) marks that chart.
    anomalies = anomalies_pb2.Anomalies()
    info = anomalies.anomaly_info["country"]
    info.path.step.append("country")
    reason = info.reason.add(
        type=anomalies_pb2.AnomalyInfo.CUSTOM_VALIDATION,
        short_description="HISTORY_METRIC_OUTLIER",
        description=f"Span {SPANS[5]}: the Linfty distance from the previous span "
        "(drift_previous) is 0.3, expected range [0, 0.08] (around 0.02; strategy mad, "
        "from 5 earlier spans).",
    )
    info.severity = anomalies_pb2.AnomalyInfo.ERROR
    info.description = reason.description
    marks = history_series(history, {SPANS[5]: anomalies}).marks
    assert [(m.span, m.feature, m.metric) for m in marks] == [
        (SPANS[5], "country", "drift_previous")
    ]
