"""The median and histograms of many numeric features written at once.

A numeric feature's report holds its median, an equal-width histogram of
``num_histogram_buckets`` counted by its quantiles sketch and a quantiles histogram of
``num_quantiles_histogram_buckets`` (:meth:`~beam_stats.stats.numeric.NumericAccumulator.result`).
Made one feature at a time, that is three queries of the sketch and two histograms' bytes,
about 0.1 ms of numpy and protobuf calls; a run of 1,000 slices does it for every numeric
feature of every slice (issue 16). :func:`prepare_numeric` does it for many features in one
pass while their sketches are exact (the slices of such runs are small): the quantile ranks of
all of them with one search over their joined cumulative counts, the equal-width edges and
bucket counts as arrays of one row per feature, and the buckets of every histogram written
with numpy, then cut into each feature's bytes (a :class:`PreparedNumeric`), which its report
parses in one call. The message parsed is the one made query by query (tested byte for byte).

Only features whose sketch is exact and whose finite values are not all equal are prepared;
the others (and a summary past the exact limit) are reported as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.sketches.wirebytes import LENGTH_DELIMITED, varint
from beam_stats.stats.histograms import (
    BUCKET_SIZE,
    bucket_bytes,
    equal_width_edges,
    quantile_ranks,
)

if TYPE_CHECKING:
    from beam_stats.stats.numeric import NumericAccumulator

_HISTOGRAM = statistics_pb2.Histogram
_FIELDS = _HISTOGRAM.DESCRIPTOR.fields_by_name
_NUM_NAN = varint(_FIELDS["num_nan"].number << 3)  # a varint field's tag
_QUANTILES_TYPE = varint(_FIELDS["type"].number << 3) + varint(_HISTOGRAM.QUANTILES)
_HISTOGRAMS_TAG = varint(
    statistics_pb2.NumericStatistics.DESCRIPTOR.fields_by_name["histograms"].number << 3
    | LENGTH_DELIMITED
)


class PreparedNumeric(NamedTuple):
    """A numeric feature's median and the wire bytes of its two histograms (the
    ``histograms`` entries of ``num_stats``), made for the sketch's exact arrays `arrays`
    (the very arrays: any change replaces them), the moments' `moments` (count, min, max,
    NaN count) and the bucket numbers `buckets` (equal-width, quantiles)."""

    arrays: tuple[np.ndarray, np.ndarray]
    moments: tuple[int, float, float, int]
    buckets: tuple[int, int]
    median: float
    histograms: bytes

    def fits(self, state: NumericAccumulator, buckets: tuple[int, int]) -> bool:
        """Whether this is still `state`'s report with `buckets`."""
        arrays = state.quantiles.exact_arrays()
        return (
            arrays is not None
            and arrays[0] is self.arrays[0]
            and arrays[1] is self.arrays[1]
            and _moments(state) == self.moments
            and buckets == self.buckets
        )


class _Joined(NamedTuple):
    """The exact arrays of many sketches, joined: the values, their cumulative counts, and
    each sketch's first value, number of values and count."""

    values: np.ndarray
    cum: np.ndarray
    starts: np.ndarray
    sizes: np.ndarray
    totals: np.ndarray

    @classmethod
    def of(cls, arrays: Sequence[tuple[np.ndarray, np.ndarray]]) -> _Joined:
        counts = np.concatenate([c for _, c in arrays])
        sizes = np.fromiter((v.size for v, _ in arrays), np.int64, len(arrays))
        starts = np.cumsum(sizes) - sizes
        totals = np.add.reduceat(counts, starts)  # each sketch's n
        return cls(np.concatenate([v for v, _ in arrays]), np.cumsum(counts), starts, sizes, totals)


def _moments(state: NumericAccumulator) -> tuple[int, float, float, int]:
    m = state.moments
    return m.count, m.min, m.max, m.num_nan


def prepare_numeric(
    states: Sequence[NumericAccumulator], num_buckets: int, num_quantile_buckets: int
) -> None:
    """Sets the ``prepared`` report of each of `states` that can have one (see the module
    docstring), all made at once: what its report makes alone."""
    chosen, arrays = [], []
    for state in states:
        exact = state.quantiles.exact_arrays()
        m = state.moments
        if exact is not None and m.count and m.min < m.max and num_buckets > 0:
            chosen.append(state)
            arrays.append(exact)
    if not chosen or num_quantile_buckets < 1:
        return
    joined = _Joined.of(arrays)
    median, edges = _quantiles(joined, num_quantile_buckets)
    standard = _equal_width_counts(chosen, joined, num_buckets)
    low, high, bucket_counts = standard
    examples = np.array([state.moments.count for state in chosen], dtype=np.float64)
    quantile_counts = np.repeat(examples / num_quantile_buckets, num_quantile_buckets)
    standard_bytes = bucket_bytes(low.ravel(), high.ravel(), bucket_counts.ravel())
    quantile_bytes = bucket_bytes(edges[:, :-1].ravel(), edges[:, 1:].ravel(), quantile_counts)
    width = BUCKET_SIZE
    for i, state in enumerate(chosen):
        m = state.moments
        nan = _NUM_NAN + varint(m.num_nan) if m.num_nan else b""
        first = standard_bytes[i * num_buckets * width : (i + 1) * num_buckets * width]
        second = quantile_bytes[
            i * num_quantile_buckets * width : (i + 1) * num_quantile_buckets * width
        ]
        data = b"".join(
            (
                _entry(nan + first),
                _entry(b"".join((nan, second, _QUANTILES_TYPE))),
            )
        )
        state.prepared = PreparedNumeric(
            arrays[i], _moments(state), (num_buckets, num_quantile_buckets), median[i], data
        )


def _entry(histogram: bytes) -> bytes:
    return b"".join((_HISTOGRAMS_TAG, varint(len(histogram)), histogram))


def _quantiles(joined: _Joined, num_buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """Each feature's median and quantiles histogram edges: its sketch's ``quantiles`` of
    the ranks :func:`~beam_stats.stats.histograms.median_and_edges` asks. A value at rank
    ``r`` is the first whose cumulative count reaches ``r * n``; counts being integers,
    that is the first reaching ``ceil(r * n)``, found in the joined counts as the first
    reaching that plus the counts before the feature's."""
    values, cum, starts, sizes, totals = joined
    ranks = quantile_ranks(num_buckets, median=True)
    targets = np.ceil(ranks[None, :] * totals[:, None].astype(np.float64)).astype(np.int64)
    before = (cum[starts + sizes - 1] - totals)[:, None]  # the counts before each feature's
    index = np.searchsorted(cum, before + targets, side="left") - starts[:, None]
    index = np.minimum(index, (sizes - 1)[:, None])
    points = values[starts[:, None] + index]
    points[:, ranks == 0.0] = values[starts][:, None]
    points[:, ranks == 1.0] = values[starts + sizes - 1][:, None]
    return points[:, -1], points[:, :-1]


def _equal_width_counts(
    states: Sequence[NumericAccumulator], joined: _Joined, num_buckets: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each feature's equal-width buckets (lows, highs, counts; a row per feature) between
    its exact minimum and maximum, counted exactly: the sketch's ``bucket_counts``."""
    values, cum, starts, sizes, totals = joined
    minimum = np.array([state.moments.min for state in states])
    maximum = np.array([state.moments.max for state in states])
    edges = equal_width_edges(minimum, maximum, num_buckets)
    below = np.empty((len(states), num_buckets + 1))
    below[:, 0], below[:, -1] = 0.0, totals
    zero = np.concatenate(([0], cum))  # the counts before each value
    for i, (start, size) in enumerate(zip(starts.tolist(), sizes.tolist(), strict=True)):
        found = np.searchsorted(values[start : start + size], edges[i, 1:-1], side="left")
        below[i, 1:-1] = zero[start + found] - zero[start]
    below = np.maximum.accumulate(below, axis=1)
    return edges[:, :-1], edges[:, 1:], np.diff(below, axis=1)
