"""The same input, settings and runner give byte-identical statistics files.

The data is past every sketch's exact regime (150,000 distinct floats, more distinct strings
than the frequent-items capacity), read from several Parquet files in several row groups, so
the runner splits it into bundles whose accumulators compact and merge.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.beam import load_statistics
from beam_stats.cli import main
from beam_stats.proto import sketches_pb2
from beam_stats.stats import DatasetAccumulator, StatisticsSpec
from beam_stats.stats.feature import STATE_NAME


def test_two_runs_write_identical_bytes(tmp_path: Path) -> None:
    rng = np.random.default_rng(21)
    n = 75_000
    for part in range(2):
        table = pa.table(
            {
                "price": rng.lognormal(4.0, 1.0, n),
                "count": rng.integers(0, 40, n),
                "user": pa.array([f"u{i}" for i in rng.integers(0, 10**6, n)]),
            }
        )
        pq.write_table(table, tmp_path / f"part-{part}.parquet", row_group_size=20_000)
    outputs = []
    for run in range(2):
        out = tmp_path / f"run{run}.pb"
        assert main(["stats", str(tmp_path / "*.parquet"), "--output", str(out)]) == 0
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    # And the sketches really left their exact regime.
    price = next(
        f
        for f in load_statistics(str(tmp_path / "run0.pb")).datasets[0].features
        if f.path.step == ["price"]
    )
    custom = {c.name: c.num for c in price.custom_stats}
    assert 0.0 < custom["quantiles_rank_error"] < 0.002


def test_the_order_of_merges_does_not_change_the_bytes() -> None:
    # A feature read as integers from one file and as floats from another keeps a count per
    # kind (a map in the state): its bytes must not follow the order the workers' partial
    # results were merged in.
    ints = pa.record_batch({"tenure": pa.array([1, 2, 3], pa.int64()), "s": ["a", "b", "a"]})
    floats = pa.record_batch({"tenure": pa.array([1.5, 2.5], pa.float64()), "s": ["c", "a"]})
    written = []
    for first, second in ((ints, floats), (floats, ints)):
        acc, other = DatasetAccumulator(StatisticsSpec()), DatasetAccumulator(StatisticsSpec())
        acc.add(first)
        other.add(second)
        acc.merge(other)
        result = statistics_pb2.DatasetFeatureStatisticsList(datasets=[acc.result("d")])
        written.append(result.SerializeToString())
    assert written[0] == written[1]
    state = sketches_pb2.StoredFeatureState()
    features = statistics_pb2.DatasetFeatureStatisticsList.FromString(written[0]).datasets[0]
    tenure = next(f for f in features.features if f.path.step == ["tenure"])
    next(c for c in tenure.custom_stats if c.name == STATE_NAME).any.Unpack(state)
    assert len(state.state.kind_counts) == 2  # both kinds are counted (the map has two keys)
