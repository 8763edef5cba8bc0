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
  (:func:`rank_buckets`, written for string features by
  :func:`~beam_stats.stats.string_reports.report_bytes`).
"""

from __future__ import annotations

import struct
from typing import Protocol

import numpy as np
import pyarrow as pa
from numpy.typing import ArrayLike
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.sketches.wirebytes import message_entries

Histogram = statistics_pb2.Histogram


class QuantilesSketch(Protocol):
    """What the histograms need of a quantiles sketch (plain or weighted)."""

    @property
    def is_empty(self) -> bool: ...

    def quantiles(self, ranks: np.ndarray) -> np.ndarray: ...

    def bucket_counts(self, edges: np.ndarray) -> tuple[np.ndarray, float]: ...


# A bucket as written on the wire: the ``buckets`` field's tag (3) and length, then
# ``low_value`` (1), ``high_value`` (2) and ``sample_count`` (4), each a tag and 8 bytes.
_BUCKET_WIRE = np.dtype(
    [
        ("tag", "u1"),
        ("size", "u1"),
        ("low_tag", "u1"),
        ("low", "<f8"),
        ("high_tag", "u1"),
        ("high", "<f8"),
        ("count_tag", "u1"),
        ("count", "<f8"),
    ]
)
_BUCKET_TAGS = (0x1A, _BUCKET_WIRE.itemsize - 2, 0x09, 0x11, 0x21)
_BUCKET_TEMPLATE = np.array(
    [(*_BUCKET_TAGS[:3], 0, _BUCKET_TAGS[3], 0, _BUCKET_TAGS[4], 0)], dtype=_BUCKET_WIRE
)
# One bucket of that layout packed by Python (no array for a single bucket).
_ONE_BUCKET = struct.Struct("<BBBdBdBd")


def add_buckets(
    histogram: statistics_pb2.Histogram, lows: ArrayLike, highs: ArrayLike, counts: ArrayLike
) -> None:
    """Appends one bucket per ``(low, high, count)`` to `histogram`: what a
    ``histogram.buckets.add(...)`` per bucket does, written with numpy and parsed in one call
    (zeros are written too and parse to the same message)."""
    if np.size(lows):
        histogram.MergeFromString(bucket_bytes(lows, highs, counts))


#: The bytes of one bucket written by :func:`bucket_bytes`.
BUCKET_SIZE = _BUCKET_WIRE.itemsize


def bucket_bytes(lows: ArrayLike, highs: ArrayLike, counts: ArrayLike) -> bytes:
    """The wire bytes of a histogram's ``buckets`` entries, one per ``(low, high, count)``
    (a number fills every one), each :data:`BUCKET_SIZE` bytes."""
    out = _BUCKET_TEMPLATE.repeat(np.size(lows))
    out["low"], out["high"], out["count"] = lows, highs, counts
    return out.tobytes()


_RANKS: dict[tuple[int, bool], np.ndarray] = {}


def quantile_ranks(num_buckets: int, median: bool = False) -> np.ndarray:
    """``np.linspace(0, 1, num_buckets + 1)``, then 0.5 if `median`, made once each."""
    ranks = _RANKS.get((num_buckets, median))
    if ranks is None:
        ranks = np.linspace(0.0, 1.0, num_buckets + 1)
        if median:
            ranks = np.append(ranks, 0.5)
        ranks.flags.writeable = False
        _RANKS[num_buckets, median] = ranks
    return ranks


def constant_quantiles(value: float, count: int, num_buckets: int) -> statistics_pb2.Histogram:
    """The quantiles histogram of `count` copies of `value`."""
    histogram = Histogram(type=Histogram.QUANTILES)
    if num_buckets > 0:  # every bucket the same: one bucket's bytes, repeated
        tag, size, low_tag, high_tag, count_tag = _BUCKET_TAGS
        one = _ONE_BUCKET.pack(
            tag, size, low_tag, value, high_tag, value, count_tag, count / num_buckets
        )
        histogram.MergeFromString(one * num_buckets)
    return histogram


def median_and_edges(sketch: QuantilesSketch, num_buckets: int) -> tuple[float, np.ndarray]:
    """The sketch's median and the edges of its quantiles histogram, in one query."""
    points = sketch.quantiles(quantile_ranks(num_buckets, median=True))
    return float(points[-1]), points[:-1]


def quantiles(
    sketch: QuantilesSketch, count: float, num_buckets: int, edges: np.ndarray | None = None
) -> statistics_pb2.Histogram:
    """Equal-mass buckets whose edges are the sketch's quantiles (`edges` if given: those
    of :func:`median_and_edges`)."""
    histogram = Histogram(type=Histogram.QUANTILES)
    if sketch.is_empty:
        return histogram
    if edges is None:
        edges = sketch.quantiles(quantile_ranks(num_buckets))
    add_buckets(histogram, edges[:-1], edges[1:], count / num_buckets)
    return histogram


def equal_width_edges(minimum: ArrayLike, maximum: ArrayLike, num_buckets: int) -> np.ndarray:
    """``num_buckets + 1`` edges from `minimum` to `maximum` (both exact), without overflow
    when the range is wider than the largest float (e.g. -1e308 to 1e308); for arrays of
    minimums and maximums, a row of edges for each pair (the same numbers as one by one)."""
    low = np.asarray(minimum, dtype=np.float64)[..., None]
    high = np.asarray(maximum, dtype=np.float64)[..., None]
    # A rounded-up last edge is clipped to `maximum`. One bucket over a range wider than
    # the largest float has an infinite step: its first edge (0 * inf) is `minimum`.
    with np.errstate(over="ignore", invalid="ignore"):
        step = high / num_buckets - low / num_buckets
        edges = low + step * np.arange(num_buckets + 1, dtype=np.float64)
    first = edges[..., 0]
    edges[..., 0] = np.where(np.isnan(first), low[..., 0], first)
    # Clipped keeping an edge equal to a bound (0.0 against -0.0), as np.clip with numbers
    # does (with arrays of bounds it may take the bound's sign).
    edges = np.where(edges < low, low, np.where(edges > high, high, edges))
    edges[..., -1] = high[..., 0]
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
    add_buckets(histogram, edges[:-1], edges[1:], counts)
    return histogram, error


_BUCKET_FIELDS = statistics_pb2.RankHistogram.Bucket.DESCRIPTOR.fields_by_name
_BUCKETS = statistics_pb2.RankHistogram.DESCRIPTOR.fields_by_name["buckets"].number
_LOW, _HIGH, _LABEL, _COUNT = (
    _BUCKET_FIELDS[name].number for name in ("low_rank", "high_rank", "label", "sample_count")
)


def rank_buckets(
    labels: pa.Array, counts: np.ndarray, ranks: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The wire bytes of the rank histogram buckets ``(low_rank = high_rank = rank, label,
    sample_count)``, one per entry, and where each ends (see
    :func:`~beam_stats.sketches.wirebytes.message_entries`): the buckets of many histograms
    at once, each its own ranks. Every field is written, zeros too, so the parsed message
    equals the one of a ``buckets.add`` per bucket.

    Raises:
        ValueError: `labels` are neither strings nor binaries, or have nulls.
    """
    ranks = np.asarray(ranks, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.float64)
    fields = [(_LOW, ranks), (_HIGH, ranks), (_LABEL, labels), (_COUNT, counts)]
    return message_entries(_BUCKETS, len(labels), fields)
