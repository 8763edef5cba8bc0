"""Stable, vectorised 64-bit hashing of Arrow arrays for the distinct-count sketch.

Algorithm:
    Numbers: the splitmix64 finalizer (Steele, Lea, Flood, "Fast splittable pseudorandom number
    generators", OOPSLA 2014) of the value's 64-bit pattern. Integers are taken as int64 (uint64
    keeps its bit pattern, so values below 2**63 agree with int64); floats are widened to float64
    first, ``-0.0`` is folded into ``0.0`` and every NaN into one canonical NaN, so values that
    compare equal hash equal.

    Strings and binary: simple tabulation hashing (Zobrist 1970; Patrascu and Thorup, "The power
    of simple tabulation hashing", JACM 2012) with addition instead of xor. Each byte ``b`` at
    position ``j`` of its string contributes ``T(j, b) = splitmix64(SEED + 256 * j + b)``; the
    contributions of a string are summed modulo 2**64 (a cumulative sum over the whole data
    buffer, differenced at the offsets, so empty strings and sliced arrays need no special case),
    and the sum is finished with ``splitmix64(sum + splitmix64(LENGTH_SEED + len))``. ``T`` is
    cached for the first 64 positions; longer strings compute it on the fly. Work is vectorised
    over the raw data buffer in chunks of about 256 KiB, so memory stays bounded. A chunk of
    many strings sums the table's terms position by position instead (one step per position
    over the strings that long; the same sums, 3x faster, issue 16).

    Dictionary arrays hash their dictionary once and take the hashes by index.

Error bound:
    Two distinct strings of equal length collide when a sum of differences of pseudo-random
    64-bit table entries is zero, with probability about 2**-64; the final mixing spreads every
    input bit over every output bit, so the top bits (the HyperLogLog register index) and the
    rest (its rank) behave like independent uniform bits. The tests check zero collisions and
    HyperLogLog error equal to theory on a million near-unique strings and on sequential ints.

Merge:
    Stateless. The hash is part of the persisted format: DistinctCountState registers from
    different workers or runs merge only because every worker hashes identically, so SEED,
    LENGTH_SEED and the mixing must never change.

Empty input and NaN:
    An empty array gives an empty uint64 array. NaN hashes like any other value (all NaNs alike).
    Nulls have no hash: the caller drops them first, and an array with nulls raises
    InvalidInputError.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from beam_stats.errors import InvalidInputError

__all__ = ["hash_array", "splitmix64"]

U64 = npt.NDArray[np.uint64]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
_MUL2 = np.uint64(0x94D049BB133111EB)
_SEED = np.uint64(0x5BD1E9955BD1E995)
_LENGTH_SEED = np.uint64(0xC2B2AE3D27D4EB4F)
_TABLE_POSITIONS = 64
_CHUNK_BYTES = 1 << 18  # 256 KiB: the temporaries stay in cache


def splitmix64(x: U64) -> U64:
    """The splitmix64 finalizer applied elementwise (wrapping uint64 arithmetic).

    Args:
        x: uint64 array.

    Returns:
        A new uint64 array of the same shape.
    """
    z = x + _GOLDEN
    z ^= z >> np.uint64(30)
    z *= _MUL1
    z ^= z >> np.uint64(27)
    z *= _MUL2
    z ^= z >> np.uint64(31)
    return z


def _byte_table() -> U64:
    keys = np.arange(_TABLE_POSITIONS * 256, dtype=np.uint64)
    return splitmix64(keys + _SEED)


_TABLE = _byte_table()
_TABLE_ROWS = _TABLE.reshape(_TABLE_POSITIONS, 256)  # row j: T(j, b) for every byte b
# A chunk of at least this many bytes per position step (the longest string, up to
# _TABLE_POSITIONS) is hashed position by position (_hash_by_position), else byte by byte
# (_hash_binary_chunk), where the steps' fixed costs would weigh more: 1,000 strings of
# 5-91 bytes 0.5 ms byte by byte against 0.75; 2,000 of them 1.9 ms against 1.0.
_BYTES_PER_STEP = 1024


def _hash_binary_chunk(data: npt.NDArray[np.uint8], offsets: npt.NDArray[np.int64]) -> U64:
    """Hashes the strings ``data[offsets[i]:offsets[i + 1]]``; ``offsets[0]`` need not be 0."""
    first = int(offsets[0])
    rel = offsets - first
    lengths = np.diff(rel)
    total = int(rel[-1])
    if total == 0:
        sums = np.zeros(len(lengths), dtype=np.uint64)
    else:
        chunk = data[first : first + total]
        if int(lengths.max()) <= _TABLE_POSITIONS:
            # Small keys: int32 arithmetic halves the memory traffic of the hot path.
            rel32 = rel.astype(np.int32)
            keys32 = np.arange(total, dtype=np.int32)
            keys32 -= np.repeat(rel32[:-1], lengths)  # position of each byte inside its string
            keys32 <<= 8
            keys32 |= chunk
            contrib = _TABLE[keys32]
        else:
            keys = (np.arange(total, dtype=np.int64) - np.repeat(rel[:-1], lengths)).astype(
                np.uint64
            )
            keys <<= np.uint64(8)
            keys |= chunk.astype(np.uint64)
            contrib = splitmix64(keys + _SEED)
        cumulative = np.empty(total + 1, dtype=np.uint64)
        cumulative[0] = 0
        np.cumsum(contrib, out=cumulative[1:])
        sums = cumulative[rel[1:]] - cumulative[rel[:-1]]
    return splitmix64(sums + splitmix64(lengths.astype(np.uint64) + _LENGTH_SEED))


def _hash_by_position(data: npt.NDArray[np.uint8], offsets: npt.NDArray[np.int64]) -> U64:
    """:func:`_hash_binary_chunk`'s hashes, the table part summed position by position: for
    each position ``j`` below :data:`_TABLE_POSITIONS`, one vectorised step over the strings
    longer than ``j`` (ordered longest first, they are a prefix), then the bytes past it byte
    by byte. A sum modulo 2**64 does not depend on the order of its terms, so the hashes are
    the same; the work is a few passes over the bytes with no per-byte position array (3x
    faster on 50,000 strings of 14 bytes)."""
    starts = offsets[:-1]
    lengths = np.diff(offsets)
    n = lengths.size
    head = np.minimum(lengths, _TABLE_POSITIONS).astype(np.uint8)
    order = np.argsort(head, kind="stable")[::-1]  # longest first
    # longer[j]: how many strings are longer than j.
    longer = n - np.cumsum(np.bincount(head, minlength=_TABLE_POSITIONS + 1))
    where = starts[order]  # each string's next byte, in that order
    ordered_sums = np.zeros(n, dtype=np.uint64)
    found = np.empty(n, dtype=np.uint8)
    terms = np.empty(n, dtype=np.uint64)
    for j in range(int(head.max())):  # at most _TABLE_POSITIONS steps, not one per value
        count = int(longer[j])
        at, byte, term, total = where[:count], found[:count], terms[:count], ordered_sums[:count]
        np.take(data, at, out=byte)
        np.take(_TABLE_ROWS[j], byte, out=term)
        np.add(total, term, out=total)
        np.add(at, 1, out=at)
    sums = np.empty(n, dtype=np.uint64)
    sums[order] = ordered_sums
    long = lengths > _TABLE_POSITIONS
    if long.any():  # past the table: T computed byte by byte, as _hash_binary_chunk does
        tail = lengths[long] - _TABLE_POSITIONS
        ends = np.cumsum(tail)
        firsts = ends - tail
        inside = np.arange(int(ends[-1]), dtype=np.int64) - np.repeat(firsts, tail)
        past = data[np.repeat(starts[long] + _TABLE_POSITIONS, tail) + inside]
        keys = (inside + _TABLE_POSITIONS).astype(np.uint64)
        keys <<= np.uint64(8)
        keys |= past.astype(np.uint64)
        sums[long] += np.add.reduceat(splitmix64(keys + _SEED), firsts)
    return splitmix64(sums + splitmix64(lengths.astype(np.uint64) + _LENGTH_SEED))


def _hash_binary(arr: pa.Array) -> U64:
    small = pa.types.is_string(arr.type) or pa.types.is_binary(arr.type)
    offset_type = np.dtype(np.int32) if small else np.dtype(np.int64)
    _, offsets_buf, data_buf = arr.buffers()
    n = len(arr)
    raw_offsets = np.frombuffer(offsets_buf, dtype=offset_type, count=arr.offset + n + 1)
    offsets: npt.NDArray[np.int64] = raw_offsets[arr.offset :].astype(np.int64)
    data = (
        np.frombuffer(data_buf, dtype=np.uint8)
        if data_buf is not None
        else np.zeros(0, dtype=np.uint8)
    )
    if int(offsets[-1] - offsets[0]) <= _CHUNK_BYTES:
        return _hash_chunk(data, offsets)
    out = np.empty(n, dtype=np.uint64)
    start = 0
    # One iteration per 256 KiB of data (or per longer string), not per value.
    while start < n:
        stop = int(np.searchsorted(offsets, offsets[start] + _CHUNK_BYTES, side="right")) - 1
        stop = min(max(stop, start + 1), n)
        out[start:stop] = _hash_chunk(data, offsets[start : stop + 1])
        start = stop
    return out


def _hash_chunk(data: npt.NDArray[np.uint8], offsets: npt.NDArray[np.int64]) -> U64:
    total = int(offsets[-1] - offsets[0])
    steps = min(int(np.diff(offsets).max()), _TABLE_POSITIONS) if total else 0
    if steps and total >= _BYTES_PER_STEP * steps:
        return _hash_by_position(data, offsets)
    return _hash_binary_chunk(data, offsets)


def _hash_numeric(arr: pa.Array) -> U64:
    t = arr.type
    values = arr.to_numpy(zero_copy_only=False)
    if pa.types.is_floating(t):
        floats = values.astype(np.float64)
        floats = floats + 0.0  # IEEE: -0.0 + 0.0 == +0.0, so both zeros share one pattern.
        floats[np.isnan(floats)] = np.nan
        bits = floats.view(np.uint64)
    elif pa.types.is_uint64(t):
        bits = values.astype(np.uint64, copy=True)
    else:
        bits = values.astype(np.int64).view(np.uint64)
    result: U64 = splitmix64(bits)
    return result


def hash_array(values: pa.Array) -> U64:
    """Hashes every element of an Arrow array to a uint64.

    Equal values of one type hash equal in every process and version (the hash is persisted
    through HyperLogLog registers). Strings hash their UTF-8 bytes, so a string and the binary
    value with the same bytes hash equal.

    Args:
        values: a null-free string, large_string, binary, large_binary (or their view types),
            integer, floating point, boolean or dictionary array. The caller drops nulls, e.g.
            with ``values.drop_null()``.

    Returns:
        A uint64 numpy array with one hash per element.

    Raises:
        InvalidInputError: if the array has nulls or an unsupported type.
    """
    if isinstance(values, pa.ChunkedArray):
        chunks = [hash_array(chunk) for chunk in values.chunks]
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.uint64)
    if values.null_count:
        raise InvalidInputError(
            f"hash_array needs a null-free array; drop the {values.null_count} nulls first"
        )
    t = values.type
    if pa.types.is_null(t):  # an all-null column after drop_null()
        return np.zeros(0, dtype=np.uint64)
    if pa.types.is_dictionary(t):
        return _hash_dictionary(values)
    if pa.types.is_string_view(t) or pa.types.is_binary_view(t):
        values = values.cast(pa.large_binary())
        t = values.type
    if len(values) == 0:
        return np.zeros(0, dtype=np.uint64)
    if (
        pa.types.is_string(t)
        or pa.types.is_binary(t)
        or pa.types.is_large_string(t)
        or pa.types.is_large_binary(t)
    ):
        return _hash_binary(values)
    if pa.types.is_boolean(t):
        return _hash_numeric(values.cast(pa.int8()))
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        return _hash_numeric(values)
    raise InvalidInputError(f"cannot hash values of Arrow type {t}")


def _hash_dictionary(values: pa.DictionaryArray) -> U64:
    dictionary = values.dictionary
    indices = values.indices.to_numpy(zero_copy_only=False).astype(np.intp)
    if len(indices) == 0:
        return np.zeros(0, dtype=np.uint64)
    if dictionary.null_count:
        if not dictionary.is_valid().to_numpy(zero_copy_only=False)[indices].all():
            raise InvalidInputError("hash_array needs a null-free array; the dictionary has nulls")
        # Unreferenced null entries get a placeholder hash that no index selects.
        dictionary = dictionary.fill_null(dictionary.drop_null()[0])
    result: U64 = hash_array(dictionary)[indices]
    return result
