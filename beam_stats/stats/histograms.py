"""Histogram messages from sketches.

* Quantiles histogram (``QUANTILES``): ``n`` buckets, each holding ``1/n`` of the values;
  bucket edges are the sketch's quantiles at ranks ``i/n``, so each edge is off by at most
  the sketch's certified rank error ``eps`` in rank (0 while it is exact).
* Equi-width histogram (``STANDARD``): ``n`` buckets of equal width between the exact
  minimum and maximum; bucket ``i`` is ``[low, high)`` (the last one closed). Counts come
  from the sketch's ``bucket_counts``: exact while the quantiles sketch is exact, then exact
  up to the split of one grid cell per inner edge (:mod:`beam_stats.sketches.cells`), and a
  bucket holding a value is never 0; the bound on any bucket's count error is returned with
  the histogram. NaN values are not in any bucket and are counted in ``num_nan``.
* Rank histogram: bucket ``i`` is the ``i``-th most frequent value with its count.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
from tensorflow_metadata.proto.v0 import statistics_pb2

Histogram = statistics_pb2.Histogram


class QuantilesSketch(Protocol):
    """What the histograms need of a quantiles sketch (plain or weighted)."""

    @property
    def is_empty(self) -> bool: ...

    def quantiles(self, ranks: np.ndarray) -> np.ndarray: ...

    def bucket_counts(self, edges: np.ndarray) -> tuple[np.ndarray, float]: ...


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


def equal_width_edges(minimum: float, maximum: float, num_buckets: int) -> np.ndarray:
    """``num_buckets + 1`` edges from `minimum` to `maximum` (both exact), without overflow
    when the range is wider than the largest float (e.g. -1e308 to 1e308)."""
    step = maximum / num_buckets - minimum / num_buckets
    with np.errstate(over="ignore"):  # a rounded-up last edge is clipped to `maximum`
        edges = minimum + step * np.arange(num_buckets + 1, dtype=np.float64)
    edges = np.clip(edges, minimum, maximum)
    edges[-1] = maximum
    return edges


def equi_width(
    sketch: QuantilesSketch,
    minimum: float,
    maximum: float,
    count: float,
    num_buckets: int,
    num_nan: int = 0,
) -> tuple[statistics_pb2.Histogram, float]:
    """Equal-width buckets between `minimum` and `maximum`, counted by the sketch.

    Returns:
        The histogram and a bound on any bucket's absolute count error.
    """
    histogram = Histogram(type=Histogram.STANDARD, num_nan=num_nan)
    if sketch.is_empty or count <= 0:
        return histogram, 0.0
    if minimum == maximum:
        histogram.buckets.add(low_value=minimum, high_value=maximum, sample_count=count)
        return histogram, 0.0
    edges = equal_width_edges(minimum, maximum, num_buckets)
    counts, error = sketch.bucket_counts(edges)
    for low, high, bucket_count in zip(edges[:-1], edges[1:], counts, strict=True):
        histogram.buckets.add(
            low_value=float(low), high_value=float(high), sample_count=float(bucket_count)
        )
    return histogram, error


def rank(
    values: Sequence[tuple[str, float]],
    num_buckets: int,
    into: statistics_pb2.RankHistogram | None = None,
) -> statistics_pb2.RankHistogram:
    """Bucket i is the i-th value of `values`, already sorted by decreasing count; written
    in `into` (an empty message, e.g. a field of the feature's statistics: a finished
    histogram copied there would be copied bucket by bucket) if given."""
    histogram = statistics_pb2.RankHistogram() if into is None else into
    histogram.SetInParent()  # present even without buckets, as a copied histogram was
    add = histogram.buckets.add
    for i, (label, count) in enumerate(values[:num_buckets]):
        add(low_rank=i, high_rank=i, label=label, sample_count=count)
    return histogram
