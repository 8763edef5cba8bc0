"""The first pass of ``LabelSpec.quantile_bins`` on files (beam_stats/jobs/label_bins.py):
a Beam pipeline of its own before the statistics, in ``compute_statistics`` and in ``check``
(training's edges for both datasets), on the default runner and real Parquet files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.jobs import CheckSpec, check, compute_statistics
from beam_stats.stats import (
    StatisticsSpec,
    accumulator_from_statistics,
    generate_statistics_from_table,
)
from beam_stats.stats.labels import LabelSpec

Q4 = StatisticsSpec(label=LabelSpec(feature="y", quantile_bins=4))


def _frame(seed: int, shift: float = 0.0, n: int = 3000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.choice(["a", "b", "c"], size=n)
    y = rng.normal(size=n) + (x == "a") * 1.5 + shift
    y[rng.random(n) < 0.02] = np.nan
    y[rng.random(n) < 0.01] = np.inf
    return pd.DataFrame({"x": x, "z": rng.gamma(2.0, size=n), "y": y})


def _write(frame: pd.DataFrame, path: Path, parts: int = 1) -> list[str]:
    paths = []
    bounds = np.linspace(0, len(frame), parts + 1).astype(int)
    for i, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        part = frame.iloc[start:stop]
        paths.append(str(path.with_name(f"{path.stem}-{i}.parquet")))
        pq.write_table(pa.Table.from_pandas(part, preserve_index=False), paths[-1])
    return paths


def _edges(stats: statistics_pb2.DatasetFeatureStatisticsList) -> tuple[float, ...]:
    label = accumulator_from_statistics(stats.datasets[0]).spec.label
    assert label is not None and label.quantile_bins == 0
    return label.bins


def _inverted_cdf(frame: pd.DataFrame, q: int) -> tuple[float, ...]:
    finite = frame.y[np.isfinite(frame.y)].to_numpy()
    return tuple(np.unique(np.quantile(finite, np.arange(1, q) / q, method="inverted_cdf")))


def test_compute_statistics_finds_numpys_edges_and_matches_memory(tmp_path: Path) -> None:
    # Below the per-class sketches' exact limit (1,000): every statistic is exact, so Beam's
    # merge order cannot move the numeric feature's buckets.
    frame = _frame(0, n=900)
    inputs = _write(frame, tmp_path / "data.parquet", parts=3)
    result = compute_statistics(inputs, str(tmp_path / "out" / "s.pb"), spec=Q4)
    edges = _edges(result.statistics)
    assert edges == _inverted_cdf(frame, 4)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    memory = generate_statistics_from_table(table, Q4)
    assert _edges(memory) == edges
    written = result.statistics.datasets[0]
    assert written.cross_features == memory.datasets[0].cross_features
    for feature in ("x", "z"):
        beam_mi, memory_mi = (
            next(
                c.num
                for f in s.datasets[0].features
                if f.path.step == [feature]
                for c in f.custom_stats
                if c.name == "mutual_information"
            )
            for s in (result.statistics, memory)
        )
        assert beam_mi == pytest.approx(memory_mi, rel=1e-12)
    # The temporary edges file was read and deleted: only the outputs remain.
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["s.pb", "s.pb.errors.jsonl"]


def test_compute_statistics_of_a_constant_label_has_one_class(tmp_path: Path) -> None:
    frame = pd.DataFrame({"x": ["a", "b"] * 50, "y": [2.0] * 100})
    inputs = _write(frame, tmp_path / "data.parquet")
    result = compute_statistics(inputs, str(tmp_path / "s.pb"), spec=Q4)
    assert _edges(result.statistics) == (2.0,)
    (cross,) = result.statistics.datasets[0].cross_features
    (series,) = cross.categorical_cross_stats.lift.lift_series
    assert (series.y_bucket.low_value, series.y_count) == (2.0, 100)


def test_check_uses_the_training_edges_for_serving(tmp_path: Path) -> None:
    train, serving = _frame(1), _frame(2, shift=3.0)
    train_paths = _write(train, tmp_path / "train.parquet")
    serving_paths = _write(serving, tmp_path / "serving.parquet")
    spec = CheckSpec(
        labels=("y",), statistics=StatisticsSpec(label=LabelSpec(feature="y", quantile_bins=3))
    )
    result = check(train_paths, serving_paths, str(tmp_path / "out"), spec=spec)
    expected = _inverted_cdf(train, 3)
    assert expected != _inverted_cdf(serving, 3)
    assert _edges(result.train) == _edges(result.serving) == expected
    # Serving's classes are training's buckets: pd.cut of serving's labels with them.
    finite = serving[np.isfinite(serving.y)]
    counts = pd.cut(finite.y, [-np.inf, *expected, np.inf], right=False, labels=False)
    cross = next(c for c in result.serving.datasets[0].cross_features if c.path_x.step == ["x"])
    by_low = {
        s.y_bucket.low_value: s.y_count for s in cross.categorical_cross_stats.lift.lift_series
    }
    assert by_low == {([-np.inf, *expected])[i]: int(n) for i, n in counts.value_counts().items()}
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if p.name.startswith(".")) == []
