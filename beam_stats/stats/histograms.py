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
* Rank histogram: bucket ``i`` is the ``i``-th most frequent value with its count
  (:func:`rank_arrays`).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pyarrow as pa
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.sketches.wirebytes import binary_buffers, put_varints, varint_sizes

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


_BUCKET, _LOW, _HIGH, _LABEL, _COUNT = 0x0A, 0x08, 0x10, 0x22, 0x29  # RankHistogram's tags


def rank_arrays(
    labels: pa.Array,
    counts: np.ndarray,
    num_buckets: int,
    into: statistics_pb2.RankHistogram | None = None,
) -> statistics_pb2.RankHistogram:
    """The rank histogram of the first `num_buckets` (label, count) pairs, given as a binary
    (or string) array of UTF-8 labels, already sorted by decreasing count, and a float64
    array: bucket i is ``low_rank=i, high_rank=i, label, sample_count``. Written in `into`
    (an empty message, e.g. a field of the feature's statistics) if given.

    The message's bytes are made with numpy and parsed in one call: 1,000 buckets added
    one by one took about a millisecond, and issue 16's 1,000 slices have such a histogram
    per string feature. Every field is written, zeros too, so the parsed message equals
    the one of a ``buckets.add`` per bucket.

    Raises:
        ValueError: the labels are not valid UTF-8 (a proto string must be), or neither
            strings nor binaries.
    """
    histogram = statistics_pb2.RankHistogram() if into is None else into
    histogram.SetInParent()  # present even without buckets, as a copied histogram was
    n = min(len(labels), len(counts), num_buckets)
    if n == 0:
        return histogram
    labels = labels.slice(0, n)
    offsets, data = binary_buffers(labels)  # raises ValueError on other types
    if pa.types.is_binary(labels.type) or pa.types.is_large_binary(labels.type):
        labels.cast(pa.large_string())  # raises ArrowInvalid (a ValueError) if not UTF-8
    lengths = np.diff(offsets)
    ranks = np.arange(n, dtype=np.int64)
    rank_size, length_size = varint_sizes(ranks), varint_sizes(lengths)
    bucket = 2 * (1 + rank_size) + 1 + length_size + lengths + 9
    bucket_size = varint_sizes(bucket)
    ends = np.cumsum(1 + bucket_size + bucket)
    out = np.zeros(int(ends[-1]), dtype=np.uint8)
    at = ends - (1 + bucket_size + bucket)  # each bucket's first byte
    out[at] = _BUCKET
    put_varints(out, at + 1, bucket, bucket_size)
    at = at + 1 + bucket_size
    for tag in (_LOW, _HIGH):
        out[at] = tag
        put_varints(out, at + 1, ranks, rank_size)
        at = at + 1 + rank_size
    out[at] = _LABEL
    put_varints(out, at + 1, lengths, length_size)
    at = at + 1 + length_size
    start = offsets[:-1]
    total = int(lengths.sum())
    where = np.repeat(at - (start - offsets[0]), lengths) + np.arange(total, dtype=np.int64)
    out[where] = data[offsets[0] : offsets[0] + total]
    at = at + lengths
    out[at] = _COUNT
    doubles = np.ascontiguousarray(counts[:n], dtype="<f8").view(np.uint8).reshape(n, 8)
    out[at[:, None] + np.arange(1, 9)] = doubles
    histogram.MergeFromString(out.tobytes())
    return histogram
