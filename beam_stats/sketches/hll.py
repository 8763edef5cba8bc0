"""HyperLogLog registers: the update, Ertl's estimator and the sparse encoding.

The register arithmetic of :mod:`beam_stats.sketches.distinct` (see its docstring for the
algorithm, the bound and the merge). With precision ``p`` there are ``m = 2**p`` uint8
registers; a hash's top ``p`` bits pick a register, which keeps the maximum of
``1 + leading zeros`` of the other ``q = 64 - p`` bits. The sparse encoding lists the non-zero
registers as little-endian uint32 ``index << 8 | value`` in increasing order (4 bytes each);
it is used while fewer than ``m / 4`` registers are set, where it is smaller than the ``m``
bytes of the dense one.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from beam_stats.errors import DeserializationError

__all__ = ["estimate", "pack_sparse", "rank_update", "unpack_sparse"]


def rank_update(
    registers: npt.NDArray[np.uint8], hashes: npt.NDArray[np.uint64], precision: int
) -> None:
    """Folds hashes into HyperLogLog registers in place."""
    if hashes.size == 0:
        return
    q = 64 - precision
    index = (hashes >> np.uint64(q)).astype(np.intp)
    rest = hashes & np.uint64((1 << q) - 1)
    # 1 + leading zeros of the q-bit `rest` is q + 1 - bit_length(rest).
    _, exponent = np.frexp(rest.astype(np.float64))
    # float64 rounding can carry a value just below 2**e up to 2**e: undo that case.
    shift = np.maximum(exponent - 1, 0).astype(np.uint64)
    bit_length = exponent - (((rest >> shift) == 0) & (rest != 0))
    rank = (q + 1 - bit_length).astype(np.uint8)
    np.maximum.at(registers, index, rank)


def estimate(registers: npt.NDArray[np.uint8], precision: int) -> float:
    """The unrounded cardinality estimate of the registers (Ertl 2017, algorithm 6)."""
    m = registers.size
    q = 64 - precision
    counts = np.bincount(registers, minlength=q + 2).astype(np.float64)
    if counts[0] == m:
        return 0.0
    z = m * _tau(1.0 - counts[q + 1] / m) / 2.0**q
    z += float(np.dot(counts[1 : q + 1], 0.5 ** np.arange(1, q + 1)))
    z += m * _sigma(counts[0] / m)
    return m * m / (2.0 * math.log(2.0)) / z


def pack_sparse(registers: npt.NDArray[np.uint8]) -> bytes | None:
    """The sparse encoding of the registers, or None when it would not be smaller (a
    quarter or more of the registers are set)."""
    index = np.flatnonzero(registers)
    if 4 * index.size >= registers.size:
        return None
    packed = (index.astype(np.uint32) << np.uint32(8)) | registers[index]
    return packed.astype("<u4", copy=False).tobytes()


def unpack_sparse(data: bytes, precision: int) -> npt.NDArray[np.uint8]:
    """The ``2**precision`` registers of ``DistinctCountState.sparse_registers``.

    Raises:
        DeserializationError: a length not a multiple of 4, an index out of range or not
            increasing, or a zero value (values above the largest are left to the caller).
    """
    if len(data) % 4:
        raise DeserializationError(
            f"DistinctCountState sparse registers take {len(data)} bytes, not a multiple of 4"
        )
    packed = np.frombuffer(data, dtype="<u4")
    index = (packed >> np.uint32(8)).astype(np.intp)
    values = (packed & np.uint32(0xFF)).astype(np.uint8)
    m = 2**precision
    if index.size > 1 and not (index[1:] > index[:-1]).all():
        raise DeserializationError("DistinctCountState sparse registers are not in order")
    if index.size and int(index[-1]) >= m:
        raise DeserializationError(
            f"DistinctCountState sparse register index {int(index[-1])} is out of range for "
            f"{m} registers"
        )
    if not values.all():
        raise DeserializationError("DistinctCountState sparse registers hold a zero value")
    registers = np.zeros(m, dtype=np.uint8)
    registers[index] = values
    return registers


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
