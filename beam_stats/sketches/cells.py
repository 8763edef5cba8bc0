"""Exact counts of values on an aligned grid of cells, behind the equi-width histogram.

Algorithm:
    Cell ``i`` is ``[i * 2**e, (i + 1) * 2**e)``. The exponent ``e`` is the smallest for which
    the values' range ``[min, max]`` touches at most ``max_cells`` cells, and never so small
    that a cell is narrower than the float64 spacing at ``max(|min|, |max|)`` (so cell indexes
    stay below 2**54). Each occupied cell keeps its count and its least and greatest value.
    Values that widen the range make ``e`` grow: index ``i`` becomes ``i >> d`` (floor division
    by ``2**d``), counts add, lows and highs take the min and max. ``add`` is a few numpy calls
    over a sorted array; no Python loop touches the values.

Guarantee:
    The cells' ``[low, high]`` intervals are disjoint and increasing, so for any ``x`` at most
    one occupied cell has ``low < x <= high`` (it *straddles* ``x``); the number of values
    ``< x`` is exact up to how that one cell's count splits around ``x``, and both sides of the
    split hold at least one value (its low and its high). :meth:`CellCounts.split` gives the
    exact part and the straddling cell for many ``x`` at once.

Merge:
    Both states are coarsened to the exponent of the union's range, then cells with equal
    indexes add. The state depends only on the multiset of values, not on how they were split
    or in which order they merged: merge is exactly commutative and associative, and equal
    inputs give byte-identical states.

Empty input and NaN:
    An empty grid has no cells. Only finite values are accepted (the caller removes NaN and
    +-inf and counts them itself).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from beam_stats.errors import DeserializationError, InvalidInputError
from beam_stats.proto import sketches_pb2

__all__ = ["CellCounts", "MAX_CELLS"]

MAX_CELLS = 1024

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


def _index(x: float, e: int) -> int:
    """``floor(x / 2**e)``; a negative ``x`` that underflows still lands in a negative cell."""
    i = math.floor(math.ldexp(x, -e))
    return -1 if i == 0 and x < 0.0 else i


def _indexes(values: F64, e: int) -> I64:
    """``floor(values / 2**e)``; a product with a power of two is exact unless it underflows."""
    # 2**-e is a normal float for -1022 <= -e <= 1023; beyond, ldexp scales without overflow.
    scaled = values * math.ldexp(1.0, -e) if -1023 <= e <= 1022 else np.ldexp(values, -e)
    out = np.floor(scaled).astype(np.int64)
    if e > 1 and values.size and values.min() < 0.0:  # only then can a negative become -0.0
        out[(out == 0) & (values < 0.0)] = -1
    return out


def exponent_for(low: float, high: float, max_cells: int = MAX_CELLS) -> int:
    """The smallest grid exponent whose cells cover ``[low, high]`` with ``max_cells`` cells."""
    floor_e = math.frexp(max(abs(low), abs(high)))[1] - 53
    half_width = high / 2 - low / 2  # no overflow at +-1.7e308
    e = max(floor_e, math.frexp(half_width / max_cells)[1] if half_width > 0 else floor_e)
    while _index(high, e) - _index(low, e) >= max_cells:
        e += 1
    while e > floor_e and _index(high, e - 1) - _index(low, e - 1) < max_cells:
        e -= 1
    return e


class CellCounts:
    """Counts, lows and highs of the occupied cells; mutable. Empty when made."""

    def __init__(self, max_cells: int = MAX_CELLS) -> None:
        self.max_cells = max_cells
        self.exponent = 0
        self.index: I64 = np.zeros(0, dtype=np.int64)
        self.count: I64 = np.zeros(0, dtype=np.int64)
        self.low: F64 = np.zeros(0)
        self.high: F64 = np.zeros(0)

    @property
    def is_empty(self) -> bool:
        return self.index.size == 0

    @property
    def total(self) -> int:
        return int(self.count.sum())

    def add(self, values: F64, counts: npt.NDArray[np.integer] | None = None) -> None:
        """Adds strictly or weakly increasing finite ``values``, each ``counts[i]`` times.

        Raises:
            InvalidInputError: if a value is not finite or the values are not sorted.
        """
        if values.size == 0:
            return
        if not np.isfinite(values).all() or np.any(values[1:] < values[:-1]):
            raise InvalidInputError("cell counts take sorted finite values")
        c = np.ones(values.size, np.int64) if counts is None else np.asarray(counts, np.int64)
        other = CellCounts(self.max_cells)
        other.exponent = exponent_for(float(values[0]), float(values[-1]), self.max_cells)
        index = _indexes(values, other.exponent)
        starts = np.flatnonzero(np.concatenate(([True], index[1:] != index[:-1])))
        ends = np.append(starts[1:], index.size)
        other.index, other.count = index[starts], np.add.reduceat(c, starts)
        other.low, other.high = values[starts], values[ends - 1]
        self.merge(other)

    def merge(self, other: CellCounts) -> None:
        """Adds ``other``'s cells to these; ``other`` is unchanged."""
        if other.is_empty:
            return
        if self.is_empty:
            self.exponent = other.exponent
            self.index, self.count = other.index.copy(), other.count.copy()
            self.low, self.high = other.low.copy(), other.high.copy()
            return
        low = min(float(self.low[0]), float(other.low[0]))
        high = max(float(self.high[-1]), float(other.high[-1]))
        e = exponent_for(low, high, self.max_cells)
        index = np.concatenate([self._coarse(e), other._coarse(e)])
        order = np.argsort(index, kind="stable")
        index = index[order]
        count = np.concatenate([self.count, other.count])[order]
        lows = np.concatenate([self.low, other.low])[order]
        highs = np.concatenate([self.high, other.high])[order]
        starts = np.flatnonzero(np.concatenate(([True], index[1:] != index[:-1])))
        self.exponent = e
        self.index, self.count = index[starts], np.add.reduceat(count, starts)
        self.low = np.minimum.reduceat(lows, starts)
        self.high = np.maximum.reduceat(highs, starts)

    def _coarse(self, e: int) -> I64:
        return self.index >> (e - self.exponent)

    def split(self, points: F64) -> tuple[I64, I64, I64]:
        """How the values fall around each of ``points``.

        Returns:
            For each point ``x``: the exact number of values in cells wholly below ``x``
            (``high < x``), the count of the cell straddling ``x`` (``low < x <= high``; 0 if
            none) and that cell's position (-1 if none).
        """
        cum = np.concatenate(([0], np.cumsum(self.count)))
        below = np.searchsorted(self.high, points, side="left")  # cells with high < x
        straddle = np.where(
            (below < self.index.size) & (self.low[np.minimum(below, self.index.size - 1)] < points),
            below,
            -1,
        )
        count = np.where(straddle >= 0, self.count[np.maximum(straddle, 0)], 0)
        return cum[below], count, straddle

    def to_proto(self) -> sketches_pb2.CellCounts:
        return sketches_pb2.CellCounts(
            max_cells=self.max_cells,
            exponent=self.exponent,
            index=self.index.tolist(),
            count=self.count.tolist(),
            low=self.low.tolist(),
            high=self.high.tolist(),
        )

    @classmethod
    def from_proto(cls, msg: sketches_pb2.CellCounts) -> CellCounts:
        """Rebuilds cell counts, checking that every field fits the others.

        Raises:
            DeserializationError: on a bad ``max_cells``, mismatched lengths, unsorted or
                zero-count cells, a low or high outside its cell, or an exponent that is not
                the one the range gives.
        """
        if msg.max_cells != MAX_CELLS:
            raise DeserializationError(
                f"CellCounts max_cells must be {MAX_CELLS}, got {msg.max_cells}"
            )
        acc = cls(msg.max_cells)
        acc.exponent = int(msg.exponent)
        acc.index = np.array(msg.index, dtype=np.int64)
        acc.count = np.array(msg.count, dtype=np.uint64).astype(np.int64)
        acc.low, acc.high = np.array(msg.low, np.float64), np.array(msg.high, np.float64)
        n = acc.index.size
        if not acc.count.size == acc.low.size == acc.high.size == n:
            raise DeserializationError("CellCounts fields have different lengths")
        if n == 0:
            return acc
        if not (
            np.isfinite(acc.low).all()
            and np.isfinite(acc.high).all()
            and np.all(acc.count > 0)
            and np.all(acc.low <= acc.high)
            and np.all(acc.index[1:] > acc.index[:-1])
            and np.all(acc.low[1:] > acc.high[:-1])
            and acc.exponent == exponent_for(float(acc.low[0]), float(acc.high[-1]), MAX_CELLS)
            and np.array_equal(_indexes(acc.low, acc.exponent), acc.index)
            and np.array_equal(_indexes(acc.high, acc.exponent), acc.index)
        ):
            raise DeserializationError("corrupt CellCounts: cells do not fit their grid")
        return acc
