"""The proof of issue 15: 30 generated daily spans in a store, checked over time.

The data (fixed seed, ~5,000 rows a day): ``amount`` drifts slowly (+1% of its mean per
day), 2026-01-15 is an outage (20% of the rows), on 2026-01-22 ``country`` is missing from
30% of the examples (1% otherwise), and ``visits`` is higher on weekends. ``monitor
--all-spans`` must flag exactly the outage, the missing day and the slow drift (against the
rolling baseline only: no day-over-day change of ``amount`` crosses a threshold).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from tensorflow_metadata.proto.v0 import anomalies_pb2

from beam_stats import generate_statistics_from_table, load_anomalies_text
from beam_stats.beam.history import StatisticsStore
from beam_stats.cli import main
from beam_stats.drift import compare_statistics
from beam_stats.drift.defaults import DEFAULT_THRESHOLDS
from beam_stats.jobs.monitoring import monitor
from beam_stats.validation import anomaly_rows

START = datetime.date(2026, 1, 1)
DAYS = 30
OUTAGE, MISSING = "2026-01-15", "2026-01-22"


def _day(day: int, rng: np.random.Generator) -> pa.Table:
    date = START + datetime.timedelta(days=day)
    rows = 1000 if date.isoformat() == OUTAGE else 5000
    shares = [0.3, 0.25, 0.2, 0.15, 0.1]
    country = rng.choice(np.array(["de", "fr", "it", "es", "nl"]), rows, p=shares)
    missing = rng.random(rows) < (0.3 if date.isoformat() == MISSING else 0.01)
    weekend = date.weekday() >= 5
    return pa.table(
        {
            "amount": rng.normal(100 * (1 + 0.01 * day), 20, rows),  # +1% of the mean a day
            "visits": rng.normal(50 + (1.5 if weekend else 0.0), 10, rows),
            "age": rng.normal(40, 12, rows),
            "country": pa.array(np.where(missing, None, country).tolist(), pa.string()),
            "device": rng.choice(np.array(["ios", "android", "web"]), rows, p=[0.4, 0.4, 0.2]),
        }
    )


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[StatisticsStore, list[str]]:
    rng = np.random.default_rng(15)
    store = StatisticsStore(tmp_path_factory.mktemp("monitor") / "store")
    spans = []
    for day in range(DAYS):
        span = (START + datetime.timedelta(days=day)).isoformat()
        store.add(generate_statistics_from_table(_day(day, rng)), span)
        spans.append(span)
    return store, spans


def _flags(found: dict[str, anomalies_pb2.Anomalies]) -> dict[str, set[tuple[str, str]]]:
    flags: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for span, anomalies in found.items():
        for row in anomaly_rows(anomalies):
            flags[span].add((row.feature, row.short_description))
    return dict(flags)


def test_monitor_flags_the_outage_the_missing_day_and_the_slow_drift(
    history: tuple[StatisticsStore, list[str]],
) -> None:
    store, spans = history
    result = monitor(store, all_spans=True)
    assert list(result.anomalies) == spans
    assert result.exit_status == 1
    flags = _flags(result.anomalies)
    # The outage: the number of examples, nothing else.
    assert flags.pop(OUTAGE) - {("amount", "HISTORY_ROLLING_DRIFT_HIGH")} == {
        ("", "HISTORY_NUM_EXAMPLES_DROP")
    }
    # The missing day: against the previous span, the rolling baseline and the series.
    assert flags.pop(MISSING) - {("amount", "HISTORY_ROLLING_DRIFT_HIGH")} == {
        ("country", "COMPARATOR_MISSING_FRACTION_HIGH"),
        ("country", "HISTORY_ROLLING_DRIFT_HIGH"),
        ("country", "HISTORY_METRIC_OUTLIER"),
    }
    # Every other flag is the slow drift against the rolling baseline, from some day on.
    assert flags and set().union(*flags.values()) == {("amount", "HISTORY_ROLLING_DRIFT_HIGH")}
    assert spans[-1] in flags and spans[-2] in flags
    # The day after the missing day came back to normal: the recovery is not an anomaly.
    assert "2026-01-23" not in flags or flags["2026-01-23"] == {
        ("amount", "HISTORY_ROLLING_DRIFT_HIGH")
    }
    # No day-over-day change of amount crosses a default threshold (computed independently).
    for before, after in zip(spans, spans[1:], strict=False):
        compared = compare_statistics(
            store.load(before), store.load(after), defaults=DEFAULT_THRESHOLDS
        )
        amount = next(f for f in compared.features if f.path == ("amount",))
        assert not amount.breaches, (after, amount.breaches)
    # The seasonal feature raises nothing.
    assert not any(f == "visits" for found in _flags(result.anomalies).values() for f, _ in found)


def test_the_descriptions_name_span_metric_value_range_and_strategy(
    history: tuple[StatisticsStore, list[str]],
) -> None:
    store, _ = history
    found = monitor(store, all_spans=True).anomalies
    drop = found[OUTAGE].dataset_anomaly_info.reason[0]
    assert drop.type == anomalies_pb2.AnomalyInfo.CUSTOM_VALIDATION
    assert drop.short_description == "HISTORY_NUM_EXAMPLES_DROP"
    assert drop.description.startswith(f"Span {OUTAGE}: the number of examples (num_examples)")
    assert "is 1000, expected at least" in drop.description and "strategy " in drop.description
    outlier = next(
        r for r in found[MISSING].anomaly_info["country"].reason
        if r.short_description == "HISTORY_METRIC_OUTLIER"
    )  # fmt: skip
    assert "(missing_fraction)" in outlier.description and "expected range [" in outlier.description
    # 2026-01-22 is a Thursday: three earlier Thursdays make the seasonal strategy.
    assert "strategy seasonal" in outlier.description
    rolling = next(
        r for r in found[MISSING].anomaly_info["country"].reason
        if r.short_description == "HISTORY_ROLLING_DRIFT_HIGH"
    )  # fmt: skip
    assert "rolling baseline of 21 spans (2026-01-01 to 2026-01-21)" in rolling.description


def test_the_newest_span_only_and_the_baseline_length(
    history: tuple[StatisticsStore, list[str]],
) -> None:
    store, spans = history
    newest = monitor(store)
    assert list(newest.anomalies) == [spans[-1]]
    text = str(newest.anomalies[spans[-1]])
    assert "rolling baseline of 28 spans (2026-01-02 to 2026-01-29)" in text
    # A week's baseline is too close to see 7% of drift (a third of a standard deviation).
    short = monitor(store, baseline_spans=7)
    assert short.exit_status == 0 and not short.anomalies[spans[-1]].anomaly_info


def test_a_stable_history_raises_nothing(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    store = StatisticsStore(tmp_path / "stable")
    for day in range(12):
        span = f"run-{day:03d}"  # not dates: the MAD strategy
        table = pa.table(
            {
                "x": rng.normal(5, 2, 2000),
                "c": rng.choice(np.array(["a", "b", "c"]), 2000, p=[0.5, 0.3, 0.2]),
            }
        )
        store.add(generate_statistics_from_table(table), span)
    result = monitor(store, all_spans=True)
    assert result.exit_status == 0 and result.flagged == []
    assert all(not a.anomaly_info for a in result.anomalies.values())


def test_the_command_line(history: tuple[StatisticsStore, list[str]], tmp_path: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    store, spans = history
    output = tmp_path / "anomalies.pbtxt"
    status = main(["monitor", store.path, "--output", str(output)])
    printed = capsys.readouterr().out
    assert status == 1
    assert "HISTORY_ROLLING_DRIFT_HIGH" in printed and spans[-1] in printed
    written = load_anomalies_text(str(output))
    assert "amount" in written.anomaly_info
    status = main(["monitor", store.path, "--all-spans", "--output", str(tmp_path / "a.pbtxt")])
    assert status == 1
    assert (tmp_path / f"a-{OUTAGE}.pbtxt").exists()
    assert "HISTORY_NUM_EXAMPLES_DROP" in capsys.readouterr().out
    assert main(["monitor", store.path, "--baseline-spans", "0"]) == 2
    assert "baseline_spans must be a positive integer, got 0" in capsys.readouterr().err
    assert main(["monitor", str(tmp_path / "empty")]) == 2
    assert "no spans in the statistics store" in capsys.readouterr().err
