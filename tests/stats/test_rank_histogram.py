"""Histograms written from arrays (stats/histograms.py rank_arrays, add_buckets): the message of
one ``buckets.add`` per value, for varints of every width, zeros and a sliced array."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.sketches import QuantilesSpec
from beam_stats.stats.histograms import add_buckets, median_and_edges, quantiles, rank_arrays


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


@pytest.mark.parametrize("n", [0, 1, 10, 300])
def test_buckets_written_at_once_are_the_buckets_added_one_by_one(n: int) -> None:
    """add_buckets (equi-width and quantiles histograms): the message of one
    ``buckets.add`` per bucket, zeros, negative zeros, infinities and NaN included, after
    buckets already there."""
    rng = np.random.default_rng(n)
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -1e308, 1.0])
    lows = np.concatenate([special, rng.normal(size=n)])[:n]
    highs = np.concatenate([rng.normal(size=n), special])[:n]
    counts = np.concatenate([special[::-1], rng.random(n) * 1e6])[:n]
    want = statistics_pb2.Histogram(num_nan=3, type=statistics_pb2.Histogram.QUANTILES)
    got = statistics_pb2.Histogram()
    got.CopyFrom(want)
    for histogram in (want, got):
        histogram.buckets.add(low_value=1.0, high_value=2.0, sample_count=3.0)
    for low, high, count in zip(lows, highs, counts, strict=True):
        want.buckets.add(low_value=low, high_value=high, sample_count=count)
    add_buckets(got, lows, highs, counts)
    assert got.SerializeToString() == want.SerializeToString()
    assert len(got.buckets) == n + 1


def test_quantiles_histograms_with_the_median_are_the_two_queries() -> None:
    """median_and_edges asks the sketch once for what quantiles() and a median query give."""
    values = np.random.default_rng(1).lognormal(size=5000)
    spec = QuantilesSpec(exact_limit=1000, capacity=64)  # past the exact regime too
    for sketch in (QuantilesSpec().create(), spec.create()):
        sketch.add(values)
        median, edges = median_and_edges(sketch, 10)
        assert median == float(sketch.quantiles([0.5])[0])
        alone = quantiles(sketch, 5000, 10)
        shared = quantiles(sketch, 5000, 10, edges)
        assert shared.SerializeToString() == alone.SerializeToString()
        assert [b.low_value for b in alone.buckets] == list(edges[:-1])
