"""Monitoring with the limits of the metric series kept in the schema
(``monitor_statistics``, ``monitor --schema``) and the flags of ``beam-stats monitor``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

from beam_stats import (
    HistoryLimits,
    MetricLimits,
    MonitorSpec,
    SeriesLimits,
    StatisticsStore,
    generate_statistics_from_table,
    monitor_statistics,
    with_history_limits,
    write_schema,
)
from beam_stats.cli import main
from beam_stats.validation import anomaly_rows

Stats = statistics_pb2.DatasetFeatureStatisticsList
FEATURES = 'feature { name: "x" type: FLOAT } feature { name: "y" type: FLOAT }'


def _history(
    shift_last: float, missing_last: float = 0.0, rows: list[int] | None = None
) -> list[tuple[str, Stats]]:
    """Ten runs of x and y ~ N(0, 1); the last moves both means by `shift_last` and drops
    `missing_last` of x."""
    rng = np.random.default_rng(8)
    history = []
    for day in range(10):
        last = day == 9
        n = rows[day] if rows else 2000
        shift = shift_last if last else 0.0
        missing = rng.random(n) < (missing_last if last else 0.0)
        x = pa.array(np.where(missing, np.nan, rng.normal(shift, 1, n)), mask=missing)
        table = pa.table({"x": x, "y": rng.normal(shift, 1, n)})
        history.append((f"run-{day:02d}", generate_statistics_from_table(table)))
    return history


def _rows(found: dict[str, object], span: str = "run-09") -> set[tuple[str, str, str]]:
    return {
        (r.feature, r.short_description, r.description.split(") is")[0].rsplit("(", 1)[-1])
        for r in anomaly_rows(found[span])  # type: ignore[arg-type]
    }


def _schema(limits: HistoryLimits | None = None) -> schema_pb2.Schema:
    schema = text_format.Parse(FEATURES, schema_pb2.Schema())
    return with_history_limits(schema, limits) if limits is not None else schema


def test_a_per_feature_limit_raises_a_change_the_defaults_let_pass() -> None:
    history = _history(shift_last=0.12)  # an eighth of a standard deviation: under 0.25
    assert _rows(monitor_statistics(history, _schema())) == set()  # type: ignore[arg-type]
    strict = HistoryLimits(
        features={("x",): {"mean": MetricLimits(strategy="absolute", threshold=0.05)}}
    )
    found = monitor_statistics(history, _schema(strict))  # type: ignore[arg-type]
    assert _rows(found) == {("x", "HISTORY_METRIC_OUTLIER", "mean")}  # y moved as much
    [reason] = found["run-09"].anomaly_info["x"].reason
    assert "strategy absolute, from 9 earlier spans" in reason.description
    # The same limits for every feature raise both.
    everywhere = HistoryLimits(metrics={"mean": MetricLimits(strategy="absolute", threshold=0.05)})
    found = monitor_statistics(history, _schema(everywhere))  # type: ignore[arg-type]
    assert {(f, m) for f, _, m in _rows(found)} == {("x", "mean"), ("y", "mean")}


def test_a_looser_per_feature_limit_silences_a_change_the_defaults_raise() -> None:
    history = _history(shift_last=0.0, missing_last=0.3)
    # The schema sets no drift thresholds: only the metric series speak.
    assert _rows(monitor_statistics(history, _schema())) == {  # type: ignore[arg-type]
        ("x", "HISTORY_METRIC_OUTLIER", "missing_fraction")
    }
    loose = HistoryLimits(features={("x",): {"missing_fraction": MetricLimits(floor=0.5)}})
    assert _rows(monitor_statistics(history, _schema(loose))) == set()  # type: ignore[arg-type]
    # A looser limit for every metric of another feature changes nothing here.
    other = HistoryLimits(features={("y",): {"*": MetricLimits(floor=0.5)}})
    assert _rows(monitor_statistics(history, _schema(other))) != set()  # type: ignore[arg-type]


def test_the_schema_takes_precedence_over_the_monitor_spec() -> None:
    history = _history(shift_last=0.0, missing_last=0.3)
    deaf = MonitorSpec(series=SeriesLimits(share_change=0.9))
    assert _rows(monitor_statistics(history, _schema(), spec=deaf)) == set()  # type: ignore[arg-type]
    schema = _schema(HistoryLimits(metrics={"missing_fraction": MetricLimits(floor=0.05)}))
    found = monitor_statistics(history, schema, spec=deaf)  # type: ignore[arg-type]
    assert _rows(found) == {("x", "HISTORY_METRIC_OUTLIER", "missing_fraction")}


# --- the command line ----------------------------------------------------------------------

# Counts that vary by about 5%: their robust standard deviation (74) times 3.5 is under the
# 30% floor (300), times 10 above it; the last run is 35% down.
COUNTS = [1000, 1100, 900, 1050, 950, 1000, 1100, 900, 1000, 650]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> StatisticsStore:
    store = StatisticsStore(tmp_path_factory.mktemp("limits") / "store")
    for span, statistics in _history(shift_last=0.0, rows=COUNTS):
        store.add(statistics, span)
    return store


def _monitor(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(["monitor", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_the_flags_set_the_limits_for_every_metric(
    store: StatisticsStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = _monitor([store.path], capsys)
    assert status == 1 and "HISTORY_NUM_EXAMPLES_DROP" in out and "strategy mad" in out
    status, out, _ = _monitor([store.path, "--z", "10"], capsys)
    assert (status, out.strip()) == (0, "no anomalies (1 span checked)")
    status, out, _ = _monitor([store.path, "--strategy", "zscore", "--z", "2"], capsys)
    assert status == 1 and "strategy zscore" in out
    # Not enough history for the rolling baseline or the series: nothing to see.
    status, out, _ = _monitor([store.path, "--min-history", "10"], capsys)
    assert (status, out.strip()) == (0, "no anomalies (1 span checked)")
    # The schema's limits win over the flags.
    schema = _schema(HistoryLimits(metrics={"num_examples": MetricLimits(z=3.5)}))
    path = write_schema(schema, tmp_path / "schema.pbtxt")
    status, out, _ = _monitor([store.path, "--z", "10", "--schema", path], capsys)
    assert status == 1 and "HISTORY_NUM_EXAMPLES_DROP" in out
    # The absolute strategy with thresholds from the schema: a drop of more than 100.
    thresholds = {"num_examples": MetricLimits(threshold=100.0), "*": MetricLimits(threshold=1.0)}
    path = write_schema(_schema(HistoryLimits(metrics=thresholds)), tmp_path / "abs.pbtxt")
    status, out, _ = _monitor([store.path, "--strategy", "absolute", "--schema", path], capsys)
    assert status == 1 and "expected at least 900 (around 1000; strategy absolute" in out


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--z", "-1"], "z must be a finite number >= 0, got -1.0"),
        (["--strategy", "median"], "strategy must be one of"),
        (["--min-history", "0"], "min_history must be an integer >= 1, got 0"),
        (["--strategy", "absolute"], "the absolute strategy of 'num_examples' (the dataset) needs"),
    ],
)
def test_bad_flags_are_refused_by_name(
    store: StatisticsStore, flags: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = _monitor([store.path, *flags], capsys)
    assert status == 2 and message in err and "Traceback" not in err
    if flags[-1] == "median":
        assert "'median'" in err


def test_a_bad_limit_in_the_schema_file_is_refused_by_name(
    store: StatisticsStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.pbtxt"
    path.write_text(
        FEATURES + " annotation { extra_metadata { [type.googleapis.com/beam_stats.HistoryLimits]"
        ' { limits { metric: "mena" z: 3 } } } }'
    )
    status, _, err = _monitor([store.path, "--schema", str(path)], capsys)
    assert status == 2 and "unknown metric 'mena'" in err
