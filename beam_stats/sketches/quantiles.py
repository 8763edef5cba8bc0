"""Quantiles of numeric values: exact while small, then a deterministic certified summary.

Algorithm:
    While a feature has at most ``exact_limit`` distinct values the state is those values with
    their counts, so every answer is exact at any number of values. Beyond that, values are
    collected in chunks of ``exact_limit`` and each chunk goes, with its counts as weights, into
    the compacted summaries of :mod:`beam_stats.sketches.weighted_quantiles` (Manku,
    Rajagopalan, Lindsay 1998, with ``capacity`` items per level) and into the exact cell counts
    of :mod:`beam_stats.sketches.cells`, which keep equi-width histogram counts exact except
    where one cell straddles a bucket edge. Nothing is random: the same values added and merged
    in the same order give byte-identical states. ``add`` is a few numpy calls per chunk.

Error bound:
    :attr:`QuantilesAccumulator.rank_error` is the summary's certified bound on the normalized
    rank error of every ``quantiles`` and ``cdf`` answer (0 while exact): the sum of the mass
    each compaction displaced, divided by ``n``. With the defaults (capacity 2048, chunks of
    100,000) it is about 0.1 % at 1M values and 0.14 % at 5M; the measured error is a third to
    a half of it (benchmarks/accuracy.py). :meth:`QuantilesAccumulator.bucket_counts` states
    its own bound, usually far below ``2 * rank_error * n``, and never reports 0 for a bucket
    that holds a value.

Merge:
    Exact parts unite (counts of equal values add); summaries merge level by level (exactly
    commutative); cells add. ``create()`` is an exact identity and the result of a merge obeys
    the same bound as one sketch of all the values. States merge only when ``capacity`` and
    ``exact_limit`` are equal. ``merge_all`` merges many at once: every exact part sorted in
    with one sort, so that 1,000 small states cost one sort of their values, not 1,000 (an
    exact state with many pending values is settled first, as reading it would: its sorted
    run is merged, not sorted again).

Empty input and NaN:
    An empty sketch has ``n == 0``; ``quantiles`` and ``cdf`` return all-NaN arrays and
    ``min_value``/``max_value`` are NaN. ``add`` skips NaN; +-inf raise ``InvalidInputError``
    (the caller counts them apart, as the moments do).

Reading answers settles the state (pending values are sorted in, or compacted once past the
exact limit), as :meth:`QuantilesAccumulator.to_proto` does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from beam_stats.errors import DeserializationError, IncompatibleMergeError, InvalidInputError
from beam_stats.proto import sketches_pb2
from beam_stats.sketches.cells import CellCounts
from beam_stats.sketches.weighted_quantiles import (
    WeightedQuantilesAccumulator,
    WeightedQuantilesSpec,
    split_points_array,
)

__all__ = ["QuantilesAccumulator", "QuantilesSpec", "exact_part", "split_points_array"]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Ranks = Sequence[float] | npt.NDArray[np.floating]
A = TypeVar("A", bound=npt.NDArray[np.generic])


@dataclasses.dataclass(frozen=True, kw_only=True)
class QuantilesSpec:
    """Settings of the quantiles sketch.

    Attributes:
        exact_limit: the most distinct values kept exactly (and the chunk size after that),
            1,000 to 10,000,000. Memory while exact: about 16 bytes per distinct value.
        capacity: items per summary level once past the limit, 64 to 2**20; the certified
            rank error shrinks as ``1/capacity``.
    """

    exact_limit: int = 100_000
    capacity: int = 2048

    def __post_init__(self) -> None:
        for name, low, high in (("exact_limit", 1_000, 10_000_000), ("capacity", 64, 1 << 20)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidInputError(f"{name} must be an int, got {value!r}")
            if not low <= value <= high:
                raise InvalidInputError(f"{name} must be between {low} and {high}, got {value}")

    def create(self) -> QuantilesAccumulator:
        """Returns an empty accumulator (the identity of merge)."""
        return QuantilesAccumulator(self)


Part = tuple[F64, I64 | None]  # raw values (counts None), or increasing values with counts


def _is_sorted(values: F64) -> bool:
    """Whether ``values`` are non-decreasing; a sample of them first, so that unsorted
    values cost no pass over all of them."""
    sample = values[:: max(values.size // 64, 1)]
    return not (np.any(sample[1:] < sample[:-1]) or np.any(values[1:] < values[:-1]))


def _collapse(parts: Sequence[Part]) -> tuple[F64, I64]:
    """The increasing distinct values of all parts with their counts (raw values: np.sort,
    no argsort; parts already counted: their runs merged by a stable sort)."""
    counted = [(v, c) for v, c in parts if c is not None and v.size]
    raw = [v for v, c in parts if c is None and v.size]
    if raw:
        ordered = raw[0] if len(raw) == 1 else np.concatenate(raw)
        if not _is_sorted(ordered):  # values sorted for a weighted sketch too (stats.numeric)
            ordered = np.sort(ordered)
        starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
        counted.append((ordered[starts], np.diff(np.append(starts, ordered.size))))
    if not counted:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    if len(counted) == 1:
        return counted[0]
    values = np.concatenate([v for v, _ in counted])
    counts = np.concatenate([c for _, c in counted])
    # Each part is increasing: a stable sort (timsort) merges those runs, about 3x faster
    # than a sort that does not see them (10 parts of 100,000: 35 ms against 120 ms).
    order = np.argsort(values, kind="stable")
    values, counts = values[order], counts[order]
    starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
    return values[starts], np.add.reduceat(counts, starts)


def _frozen(array: A) -> A:
    array.flags.writeable = False
    return array


#: Pending values from which :meth:`QuantilesAccumulator.merge_all` counts an exact state's
#: values before taking them, keeping them as its settled state (a slice of 100,000 rows
#: merged into the whole dataset: its values sorted once, not again when it is read). Fewer
#: are sorted with the union's other raw values: one sort of 1,000 slices' 1,000 values each
#: is cheaper than merging 1,000 sorted runs. Either way the union is the same.
_SETTLE_BEFORE_MERGE = 16_384

# Shared by every empty or one-value state (arrays are replaced, never changed in place), so
# that the many tiny sketches of sparse data cost no arrays of their own.
_NO_VALUES: F64 = _frozen(np.zeros(0))
_NO_COUNTS: I64 = _frozen(np.zeros(0, dtype=np.int64))
_ONE_COUNT: I64 = _frozen(np.ones(1, dtype=np.int64))


class QuantilesAccumulator:
    """Exact values or a summary with cell counts; mutable. Make one with ``QuantilesSpec``."""

    __slots__ = (
        "_cells",
        "_counts",
        "_n",
        "_pending",
        "_pending_size",
        "_summary",
        "_values",
        "spec",
    )

    def __init__(self, spec: QuantilesSpec) -> None:
        self.spec = spec
        self._n = 0
        self._pending: list[Part] = []
        self._pending_size = 0
        self._values: F64 = _NO_VALUES
        self._counts: I64 = _NO_COUNTS
        self._summary: WeightedQuantilesAccumulator | None = None
        self._cells: CellCounts | None = None

    def add(self, values: npt.ArrayLike) -> None:
        """Adds float64 values; NaN is skipped.

        Raises:
            InvalidInputError: if a value is +-inf.
        """
        arr = np.asarray(values, dtype=np.float64).reshape(-1)
        if arr.size and not np.isfinite(arr).all():
            if np.isinf(arr).any():
                raise InvalidInputError("quantiles take finite values; count +-inf apart")
            arr = arr[~np.isnan(arr)]
        self._push(arr + 0.0, None)  # -0.0 becomes 0.0

    def add_constant(self, value: float, count: int) -> None:
        """Adds ``count`` copies of ``value`` in O(1) memory.

        Raises:
            InvalidInputError: if ``count`` is negative or ``value`` is +-inf.
        """
        if count < 0:
            raise InvalidInputError(f"count must be >= 0, got {count}")
        if count and not np.isnan(value):
            if np.isinf(value):
                raise InvalidInputError("quantiles take finite values; count +-inf apart")
            self._push(np.array([value + 0.0]), np.array([count], dtype=np.int64))

    def _push(self, values: F64, counts: I64 | None) -> None:
        if values.size == 0:
            return
        self._n += values.size if counts is None else int(counts.sum())
        if (
            self._summary is None
            and values.size == 1
            and not self._values.size + self._pending_size
        ):
            # The first value: settled as it is (what _settle would make), no pending part.
            self._values, self._counts = values, _ONE_COUNT if counts is None else counts
            return
        self._pending.append((values, counts))
        self._pending_size += values.size
        if self._pending_size >= self.spec.exact_limit:
            self._settle()

    def _settle(self) -> None:
        """Sorts pending values in; compacts them once past the exact limit."""
        if not self._pending:
            return
        values, counts = _collapse([(self._values, self._counts), *self._pending])
        self._pending, self._pending_size = [], 0
        self._values, self._counts = values, counts
        if self._summary is None and values.size <= self.spec.exact_limit:
            return
        if self._summary is None or self._cells is None:
            self._summary = WeightedQuantilesSpec(capacity=self.spec.capacity).create()
            self._cells = CellCounts()
        unit = bool(counts.max() == 1)
        self._summary.add_sorted(values, counts.astype(np.float64), unit=unit)
        self._cells.add(values, counts)
        self._values, self._counts = _NO_VALUES, _NO_COUNTS

    def merge(self, other: QuantilesAccumulator) -> None:
        """Merges ``other`` into this accumulator; ``other`` is unchanged.

        Raises:
            IncompatibleMergeError: if the two specs differ.
        """
        self.merge_all([other])

    def merge_all(self, others: Sequence[QuantilesAccumulator]) -> None:
        """Merges every accumulator of `others` (each unchanged) at once: their exact
        values sorted in with one sort, their summaries merged. While the union is exact it
        is the state :meth:`merge` one by one gives; past the exact limit the summary is
        made once from all exact values rather than grown merge by merge (within the same
        bound).

        Raises:
            IncompatibleMergeError: if a spec differs.
        """
        for other in others:
            if other.spec != self.spec:
                raise IncompatibleMergeError(
                    f"cannot merge quantiles sketches with {self.spec} and {other.spec}"
                )
        for other in others:
            parts: list[Part] = [(other._values, other._counts), *other._pending]
            if other._summary is None and other._pending_size >= _SETTLE_BEFORE_MERGE:
                # Its values counted now, and kept where they are its settled state (exact):
                # the union merges that sorted run, and reading `other` sorts nothing again.
                counted = _collapse(parts)
                parts = [counted]
                if counted[0].size <= other.spec.exact_limit:
                    other._values, other._counts = counted
                    other._pending, other._pending_size = [], 0
            if other._summary is not None and other._cells is not None:
                if self._summary is None or self._cells is None:
                    self._summary = WeightedQuantilesSpec(capacity=self.spec.capacity).create()
                    self._cells = CellCounts()
                    parts.append((self._values, self._counts))  # goes to the summary below
                    self._values, self._counts = _NO_VALUES, _NO_COUNTS
                self._summary.merge(other._summary)
                self._cells.merge(other._cells)
            for values, counts in parts:
                if values.size:
                    self._pending.append((values, counts))
                    self._pending_size += values.size
            self._n += other._n
        if self._pending_size >= self.spec.exact_limit or self._summary is not None:
            self._settle()

    @property
    def n(self) -> int:
        """Number of values added (NaN excluded)."""
        return self._n

    @property
    def is_empty(self) -> bool:
        """True when no value has been added."""
        return self._n == 0

    @property
    def is_exact(self) -> bool:
        """True while every answer is exact (at most ``exact_limit`` distinct values)."""
        self._settle()
        return self._summary is None

    @property
    def rank_error(self) -> float:
        """Certified normalized rank error of every answer; 0 while exact."""
        self._settle()
        return 0.0 if self._summary is None else self._summary.rank_error

    def exact_arrays(self) -> tuple[F64, I64] | None:
        """The distinct values, increasing, and their counts while exact (None past the
        limit): the arrays themselves, read-only by contract (a change replaces them)."""
        self._settle()
        return (self._values, self._counts) if self._summary is None else None

    def _items(self) -> tuple[F64, F64]:
        """All retained values, increasing, with their inclusive cumulative counts."""
        self._settle()
        if self._summary is None:
            return self._values, np.cumsum(self._counts).astype(np.float64)
        return self._summary.items()

    @property
    def min_value(self) -> float:
        """Exact minimum added value; NaN when empty."""
        if self.is_empty:
            return np.nan
        self._settle()
        return self._summary.min_value if self._summary else float(self._values[0])

    @property
    def max_value(self) -> float:
        """Exact maximum added value; NaN when empty."""
        if self.is_empty:
            return np.nan
        self._settle()
        return self._summary.max_value if self._summary else float(self._values[-1])

    def quantiles(self, ranks: Ranks) -> F64:
        """Values at normalized ranks (inverse of the inclusive CDF).

        ``quantiles([r])`` is the smallest retained value whose inclusive rank (the count of
        values ``<= v``) is at least ``r * n``: while exact this equals
        ``np.quantile(data, r, method="inverted_cdf")``. Ranks 0 and 1 give the exact minimum
        and maximum.

        Raises:
            InvalidInputError: if a rank is outside [0, 1] or NaN.
        """
        r = np.asarray(ranks, dtype=np.float64).reshape(-1)
        valid = (r >= 0.0) & (r <= 1.0)
        if not valid.all():
            raise InvalidInputError(f"ranks must be in [0, 1], got {r[~valid][0]}")
        if self.is_empty or r.size == 0:
            return np.full(r.size, np.nan)
        self._settle()
        if self._summary is not None:
            return self._summary.quantiles(r)
        cum = np.cumsum(self._counts)
        index = np.searchsorted(cum, r * cum[-1], side="left")
        out: F64 = self._values[np.minimum(index, self._values.size - 1)]
        out[r == 0.0], out[r == 1.0] = self._values[0], self._values[-1]
        return out

    def cdf(self, split_points: npt.ArrayLike, *, inclusive: bool = False) -> F64:
        """Fractions of values ``< split_points[i]`` (``<=`` if ``inclusive``), then 1.0.

        Within :attr:`rank_error` of the truth. Repeated points get equal entries.

        Raises:
            InvalidInputError: if a split point is NaN or the points decrease.
        """
        s = split_points_array(split_points)
        if self.is_empty:
            return np.full(s.size + 1, np.nan)
        values, cum = self._items()
        index = np.searchsorted(values, s, side="right" if inclusive else "left")
        return np.append(np.concatenate(([0.0], cum))[index] / cum[-1], 1.0)

    def bucket_counts(self, edges: npt.ArrayLike) -> tuple[F64, float]:
        """Counts of values in ``[edges[i], edges[i+1])`` (the last bucket closed).

        The first and last edge are expected to be the minimum and maximum. Exact while the
        sketch is exact; after that exact except for the split of a cell straddling an inner
        edge, which is estimated from the summary, clamped to what the cell holds and never
        leaves a side that holds a value empty.

        Returns:
            The counts and a bound on any bucket's absolute count error.
        """
        e = split_points_array(edges)
        if self.is_empty or e.size < 2:
            return np.zeros(max(e.size - 1, 0)), 0.0
        inner = e[1:-1]
        self._settle()
        if self._summary is None or self._cells is None:
            cum = np.concatenate(([0], np.cumsum(self._counts)))
            below = cum[np.searchsorted(self._values, inner, side="left")].astype(np.float64)
            edge_error = np.zeros(inner.size)
        else:
            exact, straddle, _ = self._cells.split(inner)
            estimate = self._summary.cdf(inner)[:-1] * self._n - exact
            part = np.clip(np.round(estimate), 1, np.maximum(straddle - 1, 1))
            below = (exact + np.where(straddle > 0, part, 0)).astype(np.float64)
            edge_error = np.where(
                straddle > 0, np.minimum(self._summary.error, np.maximum(straddle - 2, 0)), 0.0
            )
        below = np.maximum.accumulate(np.concatenate(([0.0], below, [float(self._n)])))
        error = np.concatenate(([0.0], edge_error, [0.0]))
        return np.diff(below), float((error[:-1] + error[1:]).max())

    def result(self, ranks: Ranks) -> F64:
        """Same as :meth:`quantiles` (the house verb for the finished summary)."""
        return self.quantiles(ranks)

    def to_proto(self) -> sketches_pb2.QuantilesState:
        """The lossless state: exact values and counts, or the summary and the cells."""
        self._settle()
        msg = sketches_pb2.QuantilesState(
            capacity=self.spec.capacity, exact_limit=self.spec.exact_limit
        )
        if self._summary is not None and self._cells is not None:
            msg.summary.CopyFrom(self._summary.to_proto())
            msg.cells.CopyFrom(self._cells.to_proto())
        elif self._values.size:
            width = _count_bytes(int(self._counts.max()))
            msg.packed_values = self._values.astype("<f8", copy=False).tobytes()
            msg.packed_counts = self._counts.astype(f"<u{width}").tobytes()
            msg.packed_count_bytes = width
        return msg

    @classmethod
    def from_proto(cls, msg: sketches_pb2.QuantilesState) -> QuantilesAccumulator:
        """Rebuilds an accumulator from :meth:`to_proto` output.

        Raises:
            DeserializationError: for a KLL state of format 1, bad settings, or parts that do
                not fit each other.
        """
        if msg.kll or msg.k:
            raise DeserializationError(
                "this QuantilesState is a randomized KLL sketch of beam-stats format 1, which "
                "cannot merge with deterministic quantiles; compute the statistics again"
            )
        try:
            acc = cls(QuantilesSpec(capacity=msg.capacity, exact_limit=msg.exact_limit))
        except InvalidInputError as e:
            raise DeserializationError(f"bad QuantilesState: {e}") from e
        values, counts = exact_part(msg)
        if (
            values.size != counts.size
            or values.size > acc.spec.exact_limit
            or not np.isfinite(values).all()
            or np.any(values[1:] <= values[:-1])
            or np.any(counts == 0)
            or np.any(counts >= 2**62)
        ):
            raise DeserializationError("corrupt QuantilesState: bad exact values or counts")
        acc._values, acc._counts = values + 0.0, counts.astype(np.int64)
        acc._n = int(acc._counts.sum())
        if msg.HasField("summary") or msg.HasField("cells"):
            if values.size:
                raise DeserializationError("corrupt QuantilesState: exact values and a summary")
            summary = WeightedQuantilesAccumulator.from_proto(msg.summary)
            cells = CellCounts.from_proto(msg.cells)
            if (
                summary.spec.capacity != acc.spec.capacity
                or summary.is_empty
                or cells.total != summary.total_weight
                or summary.min_value != cells.low[0]
                or summary.max_value != cells.high[-1]
            ):
                raise DeserializationError("corrupt QuantilesState: summary and cells disagree")
            acc._summary, acc._cells, acc._n = summary, cells, cells.total
        return acc

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QuantilesAccumulator):
            return NotImplemented
        return bool(self.to_proto() == other.to_proto())

    def __reduce__(self) -> tuple[object, tuple[bytes]]:
        return _quantiles_from_bytes, (self.to_proto().SerializeToString(),)

    def __repr__(self) -> str:
        return (
            f"QuantilesAccumulator(exact_limit={self.spec.exact_limit}, "
            f"capacity={self.spec.capacity}, n={self.n}, exact={self.is_exact})"
        )


def _quantiles_from_bytes(data: bytes) -> QuantilesAccumulator:
    return QuantilesAccumulator.from_proto(sketches_pb2.QuantilesState.FromString(data))


def _count_bytes(largest: int) -> int:
    """The fewest bytes (1, 2, 4 or 8) of an unsigned integer that holds `largest`."""
    return next(width for width in (1, 2, 4, 8) if largest < 1 << (8 * width))


def exact_part(msg: sketches_pb2.QuantilesState) -> tuple[F64, npt.NDArray[np.uint64]]:
    """The exact values (float64) and their counts (uint64) of a state, from either form:
    the packed arrays of format 3 or the repeated fields written before it.

    Raises:
        DeserializationError: both forms in one state, or packed arrays that do not decode.
    """
    packed = bool(msg.packed_values or msg.packed_counts or msg.packed_count_bytes)
    if not packed:
        return (
            np.fromiter(msg.exact_values, dtype=np.float64, count=len(msg.exact_values)),
            np.fromiter(msg.exact_counts, dtype=np.uint64, count=len(msg.exact_counts)),
        )
    width = msg.packed_count_bytes
    if (
        len(msg.exact_values)
        or len(msg.exact_counts)
        or width not in (1, 2, 4, 8)
        or len(msg.packed_values) % 8
        or len(msg.packed_counts) % width
    ):
        raise DeserializationError("corrupt QuantilesState: bad packed exact values or counts")
    values = np.frombuffer(msg.packed_values, dtype="<f8").astype(np.float64)
    counts = np.frombuffer(msg.packed_counts, dtype=f"<u{width}").astype(np.uint64)
    return values, counts
