"""Distinct-value count: HyperLogLog registers read with Ertl's improved estimator.

Algorithm:
    HyperLogLog (Flajolet, Fusy, Gandouet, Meunier, "HyperLogLog: the analysis of a near-optimal
    cardinality estimation algorithm", AofA 2007) over the 64-bit hashes of
    :func:`beam_stats.sketches.hashing.hash_array`. With precision ``p`` there are ``m = 2**p``
    uint8 registers; a hash's top ``p`` bits pick a register and the register keeps the maximum
    of ``1 + leading zeros`` of the remaining ``q = 64 - p`` bits (at most ``q + 1``). Updates
    are vectorised with ``np.maximum.at``. The count is read with the improved estimator of
    Ertl ("New cardinality estimation algorithms for HyperLogLog sketches", arXiv:1702.01284,
    2017, algorithm 6), which uses the register histogram and the sigma/tau series instead of
    bias tables and linear counting, and is accurate from 0 to far beyond 10**9.

Error bound:
    Relative standard error ``1.04 / sqrt(m)`` at every cardinality (0.81 % at p = 14, 1.63 %
    at p = 12); an estimate is within 3 RSE of the truth with about 99.7 % probability.

Merge:
    ``registers = maximum(registers_a, registers_b)`` elementwise, which equals the registers
    of the union of both inputs exactly; merge is commutative, associative and idempotent.

Empty input and NaN:
    An empty sketch has all registers 0 and its result is exactly 0. Nulls are dropped by
    :meth:`DistinctCountAccumulator.add`; NaN is a value (all NaNs count as one).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from beam_stats.errors import DeserializationError, IncompatibleMergeError, InvalidInputError
from beam_stats.proto import sketches_pb2
from beam_stats.sketches.hashing import hash_array

__all__ = ["DistinctCountAccumulator", "DistinctCountSpec"]

MIN_PRECISION = 4
MAX_PRECISION = 18


@dataclasses.dataclass(frozen=True, kw_only=True)
class DistinctCountSpec:
    """Settings of the HyperLogLog distinct-count sketch.

    Attributes:
        precision: log2 of the number of registers, 4 to 18. Memory is ``2**precision`` bytes.
    """

    precision: int = 14

    def __post_init__(self) -> None:
        p = self.precision
        if isinstance(p, bool) or not isinstance(p, int):
            raise InvalidInputError(f"precision must be an int, got {p!r}")
        if not MIN_PRECISION <= p <= MAX_PRECISION:
            raise InvalidInputError(
                f"precision must be between {MIN_PRECISION} and {MAX_PRECISION}, got {p}"
            )

    def create(self) -> DistinctCountAccumulator:
        """Returns an empty accumulator (the identity of merge)."""
        return DistinctCountAccumulator(self)

    @property
    def relative_standard_error(self) -> float:
        """The relative standard error of :meth:`DistinctCountAccumulator.result`."""
        return 1.04 / math.sqrt(2**self.precision)


class DistinctCountAccumulator:
    """HyperLogLog registers; mutable. Make one with :meth:`DistinctCountSpec.create`."""

    def __init__(self, spec: DistinctCountSpec) -> None:
        self.spec = spec
        self._registers: npt.NDArray[np.uint8] = np.zeros(2**spec.precision, dtype=np.uint8)

    @property
    def registers(self) -> npt.NDArray[np.uint8]:
        """A read-only view of the ``2**precision`` registers."""
        view = self._registers.view()
        view.flags.writeable = False
        return view

    def add_hashes(self, hashes: npt.NDArray[np.uint64]) -> None:
        """Adds 64-bit hashes (see :func:`~beam_stats.sketches.hashing.hash_array`).

        Args:
            hashes: uint64 array; any other integer dtype is reinterpreted as uint64.

        Raises:
            InvalidInputError: if ``hashes`` is not an integer array.
        """
        hashes = np.asarray(hashes)
        if hashes.dtype.kind not in "iu":
            raise InvalidInputError(f"hashes must be an integer array, got dtype {hashes.dtype}")
        if hashes.size == 0:
            return
        h = hashes.reshape(-1).astype(np.uint64, copy=False)
        p = self.spec.precision
        q = 64 - p
        index = (h >> np.uint64(q)).astype(np.intp)
        rest = h & np.uint64((1 << q) - 1)
        # 1 + leading zeros of the q-bit `rest` is q + 1 - bit_length(rest).
        _, exponent = np.frexp(rest.astype(np.float64))
        # float64 rounding can carry a value just below 2**e up to 2**e: undo that case.
        shift = np.maximum(exponent - 1, 0).astype(np.uint64)
        bit_length = exponent - (((rest >> shift) == 0) & (rest != 0))
        rank = (q + 1 - bit_length).astype(np.uint8)
        np.maximum.at(self._registers, index, rank)

    def add(self, values: pa.Array) -> None:
        """Adds the non-null values of an Arrow array (nulls are ignored).

        Args:
            values: an array of a type :func:`~beam_stats.sketches.hashing.hash_array` accepts.

        Raises:
            InvalidInputError: for an unsupported Arrow type.
        """
        self.add_hashes(hash_array(values.drop_null()))

    def merge(self, other: DistinctCountAccumulator) -> None:
        """Merges ``other`` into this accumulator (elementwise max); ``other`` is unchanged.

        Raises:
            IncompatibleMergeError: if the precisions differ.
        """
        if other.spec.precision != self.spec.precision:
            raise IncompatibleMergeError(
                "cannot merge distinct-count sketches of precision "
                f"{self.spec.precision} and {other.spec.precision}"
            )
        np.maximum(self._registers, other._registers, out=self._registers)

    @property
    def is_empty(self) -> bool:
        """True when nothing has been added."""
        return not self._registers.any()

    def estimate(self) -> float:
        """The unrounded cardinality estimate (Ertl 2017, algorithm 6)."""
        m = self._registers.size
        q = 64 - self.spec.precision
        counts = np.bincount(self._registers, minlength=q + 2).astype(np.float64)
        if counts[0] == m:
            return 0.0
        z = m * _tau(1.0 - counts[q + 1] / m) / 2.0**q
        z += float(np.dot(counts[1 : q + 1], 0.5 ** np.arange(1, q + 1)))
        z += m * _sigma(counts[0] / m)
        return m * m / (2.0 * math.log(2.0)) / z

    def result(self) -> int:
        """The estimated number of distinct values, rounded; 0 for an empty sketch."""
        return round(self.estimate())

    def to_proto(self) -> sketches_pb2.DistinctCountState:
        """The lossless state as a :class:`DistinctCountState` message."""
        return sketches_pb2.DistinctCountState(
            precision=self.spec.precision, registers=self._registers.tobytes()
        )

    @classmethod
    def from_proto(cls, msg: sketches_pb2.DistinctCountState) -> DistinctCountAccumulator:
        """Rebuilds an accumulator from :meth:`to_proto` output.

        Raises:
            DeserializationError: for a bad precision, register length or register value.
        """
        try:
            spec = DistinctCountSpec(precision=msg.precision)
        except InvalidInputError as e:
            raise DeserializationError(f"bad DistinctCountState: {e}") from e
        registers = np.frombuffer(msg.registers, dtype=np.uint8)
        if registers.size != 2**spec.precision:
            raise DeserializationError(
                f"DistinctCountState of precision {spec.precision} needs "
                f"{2**spec.precision} registers, got {registers.size}"
            )
        limit = 65 - spec.precision
        if registers.size and int(registers.max()) > limit:
            raise DeserializationError(
                f"DistinctCountState register value {int(registers.max())} exceeds {limit}"
            )
        acc = cls(spec)
        acc._registers[:] = registers
        return acc

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DistinctCountAccumulator):
            return NotImplemented
        return self.spec == other.spec and np.array_equal(self._registers, other._registers)

    def __reduce__(self) -> tuple[object, tuple[bytes]]:
        return _distinct_from_bytes, (self.to_proto().SerializeToString(),)

    def __repr__(self) -> str:
        return f"DistinctCountAccumulator(precision={self.spec.precision}, ~{self.result()})"


def _distinct_from_bytes(data: bytes) -> DistinctCountAccumulator:
    return DistinctCountAccumulator.from_proto(sketches_pb2.DistinctCountState.FromString(data))


def _sigma(x: float) -> float:
    """Ertl's sigma(x) = x + sum_k x**(2**k) * 2**(k-1); converges in at most ~60 steps."""
    if x == 1.0:
        return math.inf
    y = 1.0
    z = x
    while True:
        x *= x
        z_old = z
        z += x * y
        y += y
        if z == z_old:
            return z


def _tau(x: float) -> float:
    """Ertl's tau(x); converges in at most ~60 steps."""
    if x in (0.0, 1.0):
        return 0.0
    y = 1.0
    z = 1.0 - x
    while True:
        x = math.sqrt(x)
        z_old = z
        y *= 0.5
        z -= (1.0 - x) ** 2 * y
        if z == z_old:
            return z / 3.0
