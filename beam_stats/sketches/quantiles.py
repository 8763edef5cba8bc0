"""Quantiles of numeric values: the KLL sketch of Apache DataSketches.

Algorithm:
    KLL (Karnin, Lang, Liberty, "Optimal quantile approximation in streams", FOCS 2016), as
    implemented by ``datasketches.kll_doubles_sketch``: a hierarchy of compactors that each keep
    about ``k`` sorted items and, when full, keep a random half of them at twice the weight.
    ``add`` hands whole numpy arrays to the C++ sketch; no Python loop touches the values.

Error bound:
    The normalized rank error ``QuantilesSpec.rank_error`` (``2.296 / k**0.9723``, 1.33 % for
    k = 200) bounds ``|estimated rank - true rank|`` of any one query with 99 % confidence
    (DataSketches' empirical fit; the ``cdf`` rank error is the same single-sided figure). While
    ``n`` is small enough that nothing was compacted (``n <= k``) answers are exact. Compaction is
    randomized, so two sketches of the same data can differ within the bound.

Merge:
    ``a.merge(b)`` combines the compactors level by level and compacts again (KLL merge); the
    result has the same error bound as a sketch of ``a + b``. States merge only when ``k`` is
    equal. Merging into an empty accumulator copies the other state exactly, so ``create()`` is
    an exact identity on both sides.

Empty input and NaN:
    An empty sketch has ``n == 0``; ``quantiles`` and ``cdf`` return all-NaN arrays and
    ``min_value``/``max_value`` are NaN. The caller removes NaN before ``add``; the sketch itself
    skips NaN (it is not counted in ``n``) and keeps +-inf as ordinary values.

Corrupt states:
    The C++ deserializer does not bound-check every field (a damaged level table can crash the
    process), so ``from_proto`` validates the whole KLL layout in numpy first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import datasketches
import numpy as np
import numpy.typing as npt

from beam_stats.errors import DeserializationError, IncompatibleMergeError, InvalidInputError
from beam_stats.proto import sketches_pb2
from beam_stats.sketches import _kll_format

__all__ = ["QuantilesAccumulator", "QuantilesSpec"]

MIN_K = 8
MAX_K = 65535
_CONSTANT_CHUNK = 1 << 20

F64 = npt.NDArray[np.float64]


def split_points_array(split_points: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Split points of a CDF query as a float64 array, checked to be non-decreasing, not NaN.

    Raises:
        InvalidInputError: a split point is NaN or the points decrease.
    """
    s = np.asarray(split_points, dtype=np.float64).reshape(-1)
    if np.isnan(s).any() or (s.size > 1 and not np.all(np.diff(s) >= 0)):
        raise InvalidInputError(f"split points must be non-decreasing and not NaN, got {s}")
    return s


@dataclasses.dataclass(frozen=True, kw_only=True)
class QuantilesSpec:
    """Settings of the KLL quantiles sketch.

    Attributes:
        k: accuracy/size parameter, 8 to 65535. The rank error shrinks about as ``1/k``; the
            sketch keeps about ``3k`` values once it compacts.
    """

    k: int = 200

    def __post_init__(self) -> None:
        k = self.k
        if isinstance(k, bool) or not isinstance(k, int):
            raise InvalidInputError(f"k must be an int, got {k!r}")
        if not MIN_K <= k <= MAX_K:
            raise InvalidInputError(f"k must be between {MIN_K} and {MAX_K}, got {k}")

    def create(self) -> QuantilesAccumulator:
        """Returns an empty accumulator (the identity of merge)."""
        return QuantilesAccumulator(self)

    @property
    def rank_error(self) -> float:
        """Single-sided normalized rank error with 99 % confidence."""
        return float(datasketches.kll_doubles_sketch.get_normalized_rank_error(self.k, False))


class QuantilesAccumulator:
    """A KLL sketch of float64 values; mutable. Make one with :meth:`QuantilesSpec.create`."""

    def __init__(self, spec: QuantilesSpec) -> None:
        self.spec = spec
        self._sketch = datasketches.kll_doubles_sketch(spec.k)

    def add(self, values: npt.ArrayLike) -> None:
        """Adds float64 values. The caller has removed NaN (the sketch would skip it anyway).

        Args:
            values: numbers, normally a float64 numpy array; copied only if it is not a
                writable float64 array (the C++ binding needs one).
        """
        arr = np.asarray(values, dtype=np.float64).reshape(-1)
        if arr.size == 0:
            return
        if not arr.flags.writeable:
            arr = arr.copy()
        self._sketch.update(arr)

    def add_constant(self, value: float, count: int) -> None:
        """Adds ``count`` copies of ``value`` in chunks of at most 2**20, so memory stays bounded.

        Raises:
            InvalidInputError: if ``count`` is negative.
        """
        if count < 0:
            raise InvalidInputError(f"count must be >= 0, got {count}")
        if count == 0 or np.isnan(value):
            return
        chunk = np.full(min(count, _CONSTANT_CHUNK), value, dtype=np.float64)
        full, rest = divmod(count, chunk.size)
        for _ in range(full):  # one C++ call per 2**20 copies
            self._sketch.update(chunk)
        if rest:
            self._sketch.update(chunk[:rest])

    def merge(self, other: QuantilesAccumulator) -> None:
        """Merges ``other`` into this accumulator; ``other`` is unchanged.

        Raises:
            IncompatibleMergeError: if the two sketches have different ``k``.
        """
        if other.spec.k != self.spec.k:
            raise IncompatibleMergeError(
                f"cannot merge quantiles sketches with k={self.spec.k} and k={other.spec.k}"
            )
        if other._sketch.is_empty():
            return
        if self._sketch.is_empty():
            # An exact copy: datasketches' merge into an empty sketch reorders level 0.
            self._sketch = datasketches.kll_doubles_sketch.deserialize(other._sketch.serialize())
            return
        self._sketch.merge(other._sketch)

    @property
    def n(self) -> int:
        """Number of values added (NaN excluded)."""
        return int(self._sketch.n)

    @property
    def is_empty(self) -> bool:
        """True when no value has been added."""
        return bool(self._sketch.is_empty())

    @property
    def min_value(self) -> float:
        """Exact minimum added value; NaN when empty."""
        return np.nan if self.is_empty else float(self._sketch.get_min_value())

    @property
    def max_value(self) -> float:
        """Exact maximum added value; NaN when empty."""
        return np.nan if self.is_empty else float(self._sketch.get_max_value())

    def quantiles(self, ranks: Sequence[float] | npt.NDArray[np.floating]) -> F64:
        """Values at normalized ranks (inverse of the inclusive CDF).

        ``quantiles([r])`` is the smallest retained value ``v`` whose inclusive rank (the weight
        of values ``<= v``) is at least ``r * n``: while the sketch is exact this equals
        ``np.quantile(data, r, method="inverted_cdf")``. Ranks 0 and 1 always give the exact
        minimum and maximum, even after compaction.

        Args:
            ranks: normalized ranks in [0, 1].

        Returns:
            A float64 array like ``ranks``; all NaN when the sketch is empty.

        Raises:
            InvalidInputError: if a rank is outside [0, 1] or NaN.
        """
        r = np.asarray(ranks, dtype=np.float64).reshape(-1)
        if r.size and not np.all((r >= 0.0) & (r <= 1.0)):
            bad = r[~((r >= 0.0) & (r <= 1.0))][0]
            raise InvalidInputError(f"ranks must be in [0, 1], got {bad}")
        if self.is_empty or r.size == 0:
            return np.full(r.size, np.nan)
        out = np.asarray(self._sketch.get_quantiles(r.tolist(), True), dtype=np.float64)
        # Compaction may drop the extreme items; the sketch tracks them exactly.
        out[r == 0.0] = self._sketch.get_min_value()
        out[r == 1.0] = self._sketch.get_max_value()
        return out

    def cdf(self, split_points: npt.ArrayLike, *, inclusive: bool = False) -> F64:
        """Approximate cumulative distribution at the split points.

        Entry ``i < m`` is the fraction of values ``< split_points[i]`` (``<=`` with
        ``inclusive=True``); the last of the ``m + 1`` entries is 1.0. Same layout as
        datasketches' ``get_cdf``, which needs strictly increasing points; repeated points are
        accepted here and get equal entries.

        Args:
            split_points: non-decreasing, non-NaN values.
            inclusive: count values equal to a split point below it.

        Returns:
            ``len(split_points) + 1`` fractions; all NaN when the sketch is empty.

        Raises:
            InvalidInputError: if a split point is NaN or the points decrease.
        """
        s = split_points_array(split_points)
        if self.is_empty:
            return np.full(s.size + 1, np.nan)
        unique, position = np.unique(s, return_inverse=True)
        fractions = np.asarray(self._sketch.get_cdf(unique.tolist(), inclusive), dtype=np.float64)
        return np.append(fractions[position], 1.0)

    def result(self, ranks: Sequence[float] | npt.NDArray[np.floating]) -> F64:
        """Same as :meth:`quantiles` (the house verb for the finished summary)."""
        return self.quantiles(ranks)

    def to_proto(self) -> sketches_pb2.QuantilesState:
        """The lossless state: ``k`` and the DataSketches serialization."""
        return sketches_pb2.QuantilesState(k=self.spec.k, kll=self._sketch.serialize())

    @classmethod
    def from_proto(cls, msg: sketches_pb2.QuantilesState) -> QuantilesAccumulator:
        """Rebuilds an accumulator from :meth:`to_proto` output.

        Raises:
            DeserializationError: if ``k`` is invalid or the sketch bytes are corrupt or were
                made with another ``k``.
        """
        try:
            spec = QuantilesSpec(k=msg.k)
        except InvalidInputError as e:
            raise DeserializationError(f"bad QuantilesState: {e}") from e
        data = bytes(msg.kll)
        try:
            _kll_format.validate(data, spec.k)
            sketch = datasketches.kll_doubles_sketch.deserialize(data)
        except (ValueError, IndexError, RuntimeError) as e:
            raise DeserializationError(f"corrupt KLL sketch in QuantilesState: {e}") from e
        acc = cls(spec)
        acc._sketch = sketch
        return acc

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QuantilesAccumulator):
            return NotImplemented
        return self.spec == other.spec and self._sketch.serialize() == other._sketch.serialize()

    def __reduce__(self) -> tuple[object, tuple[bytes]]:
        return _quantiles_from_bytes, (self.to_proto().SerializeToString(),)

    def __repr__(self) -> str:
        return f"QuantilesAccumulator(k={self.spec.k}, n={self.n})"


def _quantiles_from_bytes(data: bytes) -> QuantilesAccumulator:
    return QuantilesAccumulator.from_proto(sketches_pb2.QuantilesState.FromString(data))
