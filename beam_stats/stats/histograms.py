"""Histogram messages from sketches.

* Quantiles histogram (``QUANTILES``): ``n`` buckets, each holding ``1/n`` of the values;
  bucket edges are the sketch's quantiles at ranks ``i/n``, so each edge is off by at most
  the KLL rank error ``eps`` in rank.
* Equi-width histogram (``STANDARD``): ``n`` buckets of equal width between the exact
  minimum and maximum; bucket ``i`` is ``[low, high)`` (the last one closed). Counts come
  from the sketch's CDF at the inner edges, so each count is off by at most ``2 * eps * N``.
  NaN values are not in any bucket and are counted in ``num_nan``.
* Rank histogram: bucket ``i`` is the ``i``-th most frequent value with its count.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
from tensorflow_metadata.proto.v0 import statistics_pb2

Histogram = statistics_pb2.Histogram


class QuantilesSketch(Protocol):
    """What the histograms need of a quantiles sketch (plain KLL or weighted)."""

    @property
    def is_empty(self) -> bool: ...

    def quantiles(self, ranks: np.ndarray) -> np.ndarray: ...

    def cdf(self, split_points: np.ndarray) -> np.ndarray: ...


def constant_quantiles(value: float, count: int, num_buckets: int) -> statistics_pb2.Histogram:
    """The quantiles histogram of `count` copies of `value`."""
    histogram = Histogram(type=Histogram.QUANTILES)
    for _ in range(num_buckets):
        histogram.buckets.add(low_value=value, high_value=value, sample_count=count / num_buckets)
    return histogram


def quantiles(sketch: QuantilesSketch, count: float, num_buckets: int) -> statistics_pb2.Histogram:
    """Equal-mass buckets whose edges are the sketch's quantiles."""
    histogram = Histogram(type=Histogram.QUANTILES)
    if sketch.is_empty:
        return histogram
    edges = sketch.quantiles(np.linspace(0.0, 1.0, num_buckets + 1))
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        histogram.buckets.add(
            low_value=float(low), high_value=float(high), sample_count=count / num_buckets
        )
    return histogram


def equi_width(
    sketch: QuantilesSketch,
    minimum: float,
    maximum: float,
    count: float,
    num_buckets: int,
    num_nan: int = 0,
) -> statistics_pb2.Histogram:
    """Equal-width buckets between `minimum` and `maximum`, counted from the sketch."""
    histogram = Histogram(type=Histogram.STANDARD, num_nan=num_nan)
    if sketch.is_empty or count <= 0:
        return histogram
    if minimum == maximum:
        histogram.buckets.add(low_value=minimum, high_value=maximum, sample_count=count)
        return histogram
    edges = np.linspace(minimum, maximum, num_buckets + 1)
    below = sketch.cdf(edges[1:-1])[:-1]  # fraction of values < each inner edge
    fractions = np.diff(np.concatenate(([0.0], below, [1.0])))
    for low, high, fraction in zip(edges[:-1], edges[1:], fractions, strict=True):
        histogram.buckets.add(
            low_value=float(low), high_value=float(high), sample_count=float(fraction * count)
        )
    return histogram


def rank(values: Sequence[tuple[str, float]], num_buckets: int) -> statistics_pb2.RankHistogram:
    """Bucket i is the i-th value of `values`, already sorted by decreasing count."""
    histogram = statistics_pb2.RankHistogram()
    for i, (label, count) in enumerate(values[:num_buckets]):
        histogram.buckets.add(low_rank=i, high_rank=i, label=label, sample_count=count)
    return histogram
