"""Temporal columns in one unit, int64 microseconds (issue 11): the same feature stored as
``timestamp[s]`` in one file and ``timestamp[ns]`` (or ``date32``) in another gives the
statistics of one file in one unit; values beyond int64 microseconds are invalid, never
wrapped."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats import generate_statistics_from_table
from beam_stats.arrow import flatten_batch, temporal_micros
from beam_stats.beam import load_statistics
from beam_stats.cli import main

FeatureType = statistics_pb2.FeatureNameStatistics.Type
INT64_MAX = np.iinfo(np.int64).max

# Instants in microseconds since 1970 UTC, whole seconds (so every unit holds them exactly),
# before and after 1970, and the 9999-12-31 sentinel (beyond nanoseconds' range).
SECONDS = np.array([-86_400 * 365, 0, 1, 1_700_000_000, 1_700_000_123, 253_402_214_400])


def _dates(seconds: np.ndarray) -> pa.Array:
    return pa.array((seconds // 86_400).astype(np.int32), pa.int32()).view(pa.date32())


def _column(seconds: np.ndarray, unit: str, tz: str | None = None) -> pa.Array:
    per_second = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[unit]
    return pa.array(seconds * per_second, pa.timestamp(unit, tz))


@pytest.mark.parametrize(
    ("array", "expected"),
    [
        (pa.array([-1, 0, 7], pa.timestamp("s")), [-1_000_000, 0, 7_000_000]),
        (pa.array([-1, 7], pa.timestamp("ms", "Europe/Paris")), [-1_000, 7_000]),
        (pa.array([5, None], pa.timestamp("us", "UTC")), [5, None]),
        # nanoseconds round down, also before 1970
        (pa.array([-1, 999, 1_000, 1_999, None], pa.timestamp("ns")), [-1, 0, 1, 1, None]),
        (pa.array([-1, 2], pa.date32()), [-86_400_000_000, 2 * 86_400_000_000]),
        (pa.array([86_400_000], pa.date64()), [86_400_000_000]),
        (pa.array([1, None], pa.time32("s")), [1_000_000, None]),
        (pa.array([1], pa.time32("ms")), [1_000]),
        (pa.array([1_500], pa.time64("ns")), [1]),
        (pa.array([-3], pa.duration("s")), [-3_000_000]),
        (pa.array([3, 3], pa.timestamp("s")).dictionary_encode(), [3_000_000, 3_000_000]),
    ],
)
def test_each_temporal_type_in_microseconds(array: pa.Array, expected: list[int | None]) -> None:
    micros, overflow = temporal_micros(array)
    assert micros.type == pa.int64()
    assert micros.to_pylist() == expected and overflow == 0


def test_a_zoned_timestamp_counts_by_its_utc_instant() -> None:
    # 2024-01-01T01:00+01:00 and 2024-01-01T00:00Z are one instant; Arrow stores it in UTC.
    paris = pa.array([pa.scalar(1_704_067_200, pa.timestamp("s", "UTC")).as_py()])
    zoned = paris.cast(pa.timestamp("s", "Europe/Paris"))
    assert temporal_micros(zoned)[0].to_pylist() == [1_704_067_200_000_000]


def test_values_beyond_int64_microseconds_are_invalid_not_wrapped() -> None:
    limit = INT64_MAX // 1_000_000  # the largest second count that fits
    seconds = pa.array([limit, limit + 1, -limit - 1, None, 3], pa.timestamp("s"))
    micros, overflow = temporal_micros(seconds)
    assert micros.to_pylist() == [limit * 1_000_000, None, None, None, 3_000_000]
    assert overflow == 2
    days = pa.array([2**31 - 1, 1], pa.date32())  # 5.9 million years
    assert temporal_micros(days)[0].to_pylist() == [None, 86_400_000_000]

    (when,) = flatten_batch(pa.record_batch({"when": seconds}))
    assert when.num_invalid == 2 and when.values.to_pylist() == micros.drop_null().to_pylist()
    assert when.present.tolist() == [True, False, False, False, True]

    (feature,) = generate_statistics_from_table(pa.table({"when": seconds})).datasets[0].features
    custom = {c.name: c.num for c in feature.custom_stats}
    assert custom["num_invalid_values"] == 2
    assert feature.num_stats.max == float(limit * 1_000_000)  # not a wrapped negative
    assert feature.num_stats.min == 3e6
    assert feature.num_stats.common_stats.num_missing == 3


def test_a_list_of_timestamps_keeps_its_presence_when_a_value_overflows() -> None:
    limit = INT64_MAX // 1_000
    lists = pa.array([[limit + 1, 5], [], None], pa.list_(pa.timestamp("ms")))
    (feature,) = flatten_batch(pa.record_batch({"t": lists}))
    assert feature.num_invalid == 1
    assert feature.present.tolist() == [True, True, False]
    assert feature.num_values.tolist() == [1, 0, 0]
    assert feature.values.to_pylist() == [5_000]


def _statistics(folder: Path) -> statistics_pb2.DatasetFeatureStatisticsList:
    """Statistics of the Parquet files in `folder`, by ``beam-stats stats``."""
    output = folder / "stats.pb"
    argv = ["stats", str(folder / "*.parquet"), "--output", str(output), "--no-sketch-state"]
    assert main([*argv, "--runner=FnApiRunner"]) == 0
    return load_statistics(str(output))


def test_files_in_different_units_give_the_statistics_of_one_unit(tmp_path: Path) -> None:
    first, second = SECONDS[:3], SECONDS[3:]
    for name, unit in (("mixed", None), ("one", "us")):
        folder = tmp_path / name
        folder.mkdir()
        if unit is None:
            # timestamp[s] in one file, timestamp[ns] zoned in UTC in the other, and the
            # date of each instant as date32 (whole days) beside it
            a = {"t": _column(first, "s"), "d": _dates(first)}
            b = {"t": _column(second[:2], "ns", "UTC"), "d": _dates(second[:2])}
            pq.write_table(pa.table(a), folder / "a.parquet")
            pq.write_table(pa.table(b), folder / "b.parquet")
            # the 9999-12-31 sentinel does not fit timestamp[ns]: a third file in ms
            c = {"t": _column(second[2:], "ms"), "d": _dates(second[2:])}
            pq.write_table(pa.table(c), folder / "c.parquet")
        else:
            t = _column(SECONDS, unit)
            d = pa.array(SECONDS // 86_400 * 86_400_000_000, pa.timestamp("us"))
            pq.write_table(pa.table({"t": t, "d": d}), folder / "a.parquet")
    mixed = _statistics(tmp_path / "mixed")
    one = _statistics(tmp_path / "one")
    assert mixed == one

    features = {f.path.step[0]: f for f in mixed.datasets[0].features}
    for name, micros in (("t", SECONDS * 1_000_000), ("d", SECONDS // 86_400 * 86_400_000_000)):
        stats = features[name].num_stats
        assert features[name].type == FeatureType.INT
        assert (stats.min, stats.max) == (micros.min(), micros.max())
        assert stats.mean == pytest.approx(np.mean(micros.astype(np.float64)), rel=1e-12)
        assert stats.median == np.quantile(micros, 0.5, method="inverted_cdf")
        assert stats.common_stats.tot_num_values == len(SECONDS)
