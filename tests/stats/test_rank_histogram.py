"""Histograms written as bytes (stats/histograms.py add_buckets and constant_quantiles, and
the rank histogram of stats/string_reports.py report_bytes): the message of one
``buckets.add`` per value, for varints of every width, zeros and a sliced array."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.sketches import QuantilesSpec
from beam_stats.stats.histograms import (
    add_buckets,
    constant_quantiles,
    median_and_edges,
    quantiles,
)
from beam_stats.stats.string_reports import report_bytes


def expected(labels: list[str], counts: list[float], num_buckets: int) -> bytes:
    histogram = statistics_pb2.RankHistogram()
    for i, (label, count) in enumerate(zip(labels, counts, strict=True)):
        if i < num_buckets:
            histogram.buckets.add(low_rank=i, high_rank=i, label=label, sample_count=count)
    return histogram.SerializeToString()


def rank_histogram(
    labels: pa.Array, counts: np.ndarray, num_buckets: int
) -> statistics_pb2.RankHistogram:
    """The rank histogram report_bytes writes for one feature (no top values)."""
    stats = statistics_pb2.StringStatistics()
    (data,) = report_bytes(labels, counts, [len(labels)], 0, num_buckets)
    stats.MergeFromString(data)
    assert not stats.top_values and stats.HasField("rank_histogram")
    return stats.rank_histogram


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
    got = rank_histogram(labels, np.array(COUNTS), num_buckets)
    assert got.SerializeToString() == expected(LABELS, COUNTS, num_buckets)
    assert len(got.buckets) == min(num_buckets, len(LABELS))


def test_a_slice_of_an_array() -> None:
    labels = pa.array(LABELS).slice(3, 200)
    counts = np.array(COUNTS[3:203])
    got = rank_histogram(labels, counts, 1000)
    assert got.SerializeToString() == expected(LABELS[3:203], COUNTS[3:203], 1000)


def test_present_without_buckets() -> None:
    rank_histogram(pa.array([], type=pa.binary()), np.zeros(0), 10)  # checks it is present
    got = rank_histogram(pa.array(["b", "a"]), np.array([2.0, 1.0]), 10)
    assert [b.label for b in got.buckets] == ["b", "a"]


def test_labels_must_be_utf8() -> None:
    with pytest.raises(ValueError):
        rank_histogram(pa.array([b"\xff"], type=pa.binary()), np.ones(1), 10)
    with pytest.raises(ValueError):
        rank_histogram(pa.array([b"\xff"], type=pa.large_binary()), np.ones(1), 10)


def test_labels_are_strings_or_binaries() -> None:
    with pytest.raises(ValueError, match="strings or binaries"):
        rank_histogram(pa.array([1, 2]), np.ones(2), 10)


def test_the_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="add up to"):
        report_bytes(pa.array(["a", "b"]), np.ones(3), [2], 1, 1)
    with pytest.raises(ValueError, match="add up to"):
        report_bytes(pa.array(["a", "b"]), np.ones(2), [1], 1, 1)
    with pytest.raises(ValueError, match=">= 0"):
        report_bytes(pa.array(["a", "b"]), np.ones(2), [2], 1, -1)


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


@pytest.mark.parametrize("num_buckets", [0, 1, 10, 300])
@pytest.mark.parametrize(
    ("value", "count"), [(1.0, 1000), (0.0, 3), (-0.0, 7), (2.5, 0), (1e308, 1)]
)
def test_a_constant_quantiles_histogram_is_the_one_added_bucket_by_bucket(
    value: float, count: int, num_buckets: int
) -> None:
    """The bytes of one bucket repeated (struct, not numpy) parse to the message of one
    ``buckets.add`` per bucket."""
    want = statistics_pb2.Histogram(type=statistics_pb2.Histogram.QUANTILES)
    for _ in range(num_buckets):
        want.buckets.add(low_value=value, high_value=value, sample_count=count / num_buckets)
    got = constant_quantiles(value, count, num_buckets)
    assert got.SerializeToString() == want.SerializeToString()
    if num_buckets:
        assert np.signbit(got.buckets[-1].low_value) == np.signbit(value)
