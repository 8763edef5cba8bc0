"""``wire.estimated_size``: the size of an accumulator's state from a sample of its features,
for Beam's element size metrics (issue 16)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from beam_stats.stats import DatasetAccumulator, StatisticsSpec, wire


def _accumulator(columns: int, rows: int = 500) -> DatasetAccumulator:
    rng = np.random.default_rng(3)
    data = {}
    for i in range(columns):
        if i % 2:
            data[f"s{i}"] = pa.array([f"v{v}" for v in rng.integers(0, 50, rows)])
        else:
            data[f"x{i}"] = pa.array(rng.normal(size=rows))
    accumulator = DatasetAccumulator(StatisticsSpec())
    accumulator.add(pa.RecordBatch.from_pydict(data))
    return accumulator


def test_exact_up_to_the_sample_size() -> None:
    for columns in (0, 1, 5, 16):
        accumulator = _accumulator(columns)
        assert wire.estimated_size(accumulator) == len(wire.to_bytes(accumulator)), columns


def test_close_for_many_features_of_alternating_kinds() -> None:
    accumulator = _accumulator(200)
    exact = len(wire.to_bytes(accumulator))
    estimate = wire.estimated_size(accumulator)
    # 16 features spread over 200: both kinds, in about equal numbers.
    assert 0.8 * exact <= estimate <= 1.2 * exact, (estimate, exact)
    assert wire.estimated_size(accumulator, sample=200) == exact
