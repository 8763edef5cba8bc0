"""The rank histogram written from arrays (stats/histograms.py rank_arrays): the message of
one ``buckets.add`` per value, for varints of every width, zeros and a sliced array."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.stats.histograms import rank_arrays


def expected(labels: list[str], counts: list[float], num_buckets: int) -> bytes:
    histogram = statistics_pb2.RankHistogram()
    for i, (label, count) in enumerate(zip(labels, counts, strict=True)):
        if i < num_buckets:
            histogram.buckets.add(low_rank=i, high_rank=i, label=label, sample_count=count)
    return histogram.SerializeToString()


LABELS = ["", "a", "é", "x" * 127, "y" * 128, "z" * 20_000, "\x00", "日本"] + [
    f"v{i}" for i in range(300)
]
COUNTS = [0.0, -0.0, 1.5, 3.0, 1e300, 5e-324, 2.0**53, 7.0] + list(
    np.random.default_rng(0).random(300) * 1000
)


@pytest.mark.parametrize("num_buckets", [0, 1, 7, 129, 1000])
@pytest.mark.parametrize(
    "arrow_type", [pa.binary(), pa.string(), pa.large_binary(), pa.large_string()]
)
def test_the_message_of_one_add_per_bucket(num_buckets: int, arrow_type: pa.DataType) -> None:
    labels = pa.array([s.encode() for s in LABELS], type=pa.binary()).cast(arrow_type)
    got = rank_arrays(labels, np.array(COUNTS), num_buckets)
    assert got.SerializeToString() == expected(LABELS, COUNTS, num_buckets)
    assert len(got.buckets) == min(num_buckets, len(LABELS))


def test_a_slice_of_an_array_and_more_counts_than_labels() -> None:
    labels = pa.array(LABELS).slice(3, 200)
    counts = np.array(COUNTS[3:] + [9.0])
    got = rank_arrays(labels, counts, 1000)
    assert got.SerializeToString() == expected(LABELS[3:203], COUNTS[3:203], 1000)


def test_written_in_place_and_present_without_buckets() -> None:
    stats = statistics_pb2.StringStatistics()
    rank_arrays(pa.array([], type=pa.binary()), np.zeros(0), 10, stats.rank_histogram)
    assert stats.HasField("rank_histogram") and not stats.rank_histogram.buckets
    rank_arrays(pa.array(["b", "a"]), np.array([2.0, 1.0]), 10, stats.rank_histogram)
    assert [b.label for b in stats.rank_histogram.buckets] == ["b", "a"]


def test_labels_must_be_utf8() -> None:
    with pytest.raises(ValueError):
        rank_arrays(pa.array([b"\xff"], type=pa.binary()), np.ones(1), 10)


def test_labels_are_strings_or_binaries() -> None:
    with pytest.raises(ValueError, match="strings or binaries"):
        rank_arrays(pa.array([1, 2]), np.ones(2), 10)
