"""Structural validation of DataSketches' KLL doubles serialization before it reaches C++.

Algorithm:
    ``kll_doubles_sketch.deserialize`` reads the level table without bounds checks and trusts
    it afterwards, so a damaged byte can make it read past the buffer or crash a later query.
    This module parses the layout (datasketches-cpp ``kll_sketch_impl.hpp``, serial versions
    1 and 2) and checks every invariant the C++ code relies on:

    * 8-byte preamble: preamble ints (2 short / 5 full), serial version (1 full, 2 single
      item), family 15, ``m == 8``, ``k`` as expected; empty form is exactly 8 bytes.
    * full form: ``8 <= min_k <= k``, ``1 <= num_levels <= 61``, level offsets
      non-decreasing and within the capacity ``compute_total_capacity(k, m, num_levels)``,
      the byte length implied by them, ``n`` equal to the level-weighted item count
      ``sum((levels[h+1] - levels[h]) * 2**h)``, no NaN, ``min <= item <= max``, and each
      level above 0 (and level 0 when flagged) sorted.

Error bound:
    Not applicable: validation is exact; every sketch datasketches serializes passes it (tests
    check sketches of many sizes, merged ones included).

Merge:
    Not applicable.

Empty input and NaN:
    The 8-byte empty form is accepted; a NaN item or min/max is rejected.
"""

from __future__ import annotations

import struct

import numpy as np

__all__ = ["validate"]

_FAMILY = 15
_M = 8
_MAX_LEVELS = 61
_FLAG_EMPTY = 1
_FLAG_LEVEL_ZERO_SORTED = 2
_FLAG_SINGLE_ITEM = 4
_FULL_HEADER = 20


def _int_cap_aux_aux(k: int, depth: int) -> int:
    rounded_twice: int = ((2 * k) << depth) // 3**depth
    return (rounded_twice + 1) >> 1


def _int_cap_aux(k: int, depth: int) -> int:
    if depth <= 30:
        return _int_cap_aux_aux(k, depth)
    half = depth // 2
    return _int_cap_aux_aux(_int_cap_aux_aux(k, half), depth - half)


def total_capacity(k: int, num_levels: int) -> int:
    """``kll_helper::compute_total_capacity(k, 8, num_levels)``."""
    return sum(max(_M, _int_cap_aux(k, num_levels - h - 1)) for h in range(num_levels))


def validate(data: bytes, k: int) -> None:
    """Checks that ``data`` is a well-formed KLL doubles sketch with parameter ``k``.

    Raises:
        ValueError: naming the first violated invariant.
    """
    if len(data) < 8:
        raise ValueError(f"KLL sketch needs at least 8 bytes, got {len(data)}")
    preamble_ints, serial_version, family, flags, sketch_k, m = struct.unpack_from("<BBBBHB", data)
    if family != _FAMILY:
        raise ValueError(f"not a KLL sketch: family {family}")
    if m != _M:
        raise ValueError(f"KLL m must be {_M}, got {m}")
    if sketch_k != k:
        raise ValueError(f"KLL sketch has k={sketch_k}, the state says k={k}")
    if flags & _FLAG_EMPTY:
        if preamble_ints != 2 or serial_version != 1 or len(data) != 8:
            raise ValueError("malformed empty KLL sketch")
        return
    if flags & _FLAG_SINGLE_ITEM:
        if preamble_ints != 2 or serial_version != 2 or len(data) != 16:
            raise ValueError("malformed single-item KLL sketch")
        if np.isnan(struct.unpack_from("<d", data, 8)[0]):
            raise ValueError("KLL sketch item is NaN")
        return
    if preamble_ints != 5 or serial_version != 1 or len(data) < _FULL_HEADER:
        raise ValueError("malformed KLL sketch preamble")
    n, min_k, num_levels = struct.unpack_from("<QHB", data, 8)
    if not 8 <= min_k <= k:
        raise ValueError(f"KLL min_k {min_k} outside [8, {k}]")
    if not 1 <= num_levels <= _MAX_LEVELS:
        raise ValueError(f"KLL level count {num_levels} outside [1, {_MAX_LEVELS}]")
    levels_end = _FULL_HEADER + 4 * num_levels
    if len(data) < levels_end + 16:
        raise ValueError("KLL sketch truncated in its level table")
    capacity = total_capacity(k, num_levels)
    levels = np.append(
        np.frombuffer(data, dtype="<u4", count=num_levels, offset=_FULL_HEADER).astype(np.int64),
        capacity,
    )
    if np.any(np.diff(levels) < 0):
        raise ValueError(f"KLL level offsets {levels.tolist()} are not within capacity order")
    num_items = capacity - int(levels[0])
    expected = levels_end + 16 + 8 * num_items
    if len(data) != expected:
        raise ValueError(f"KLL sketch has {len(data)} bytes, its levels imply {expected}")
    sizes = np.diff(levels)
    weighted = sum(int(size) << h for h, size in enumerate(sizes.tolist()))
    if n == 0 or n != weighted:
        raise ValueError(f"KLL n={n} disagrees with the level weights {weighted}")
    lo, hi = struct.unpack_from("<dd", data, levels_end)
    items = np.frombuffer(data, dtype="<f8", count=num_items, offset=levels_end + 16)
    if np.isnan(lo) or np.isnan(hi) or np.isnan(items).any():
        raise ValueError("KLL sketch holds NaN")
    if lo > hi or (items.size and (items.min() < lo or items.max() > hi)):
        raise ValueError("KLL items lie outside the sketch's [min, max]")
    # Items must be sorted inside every level except possibly an unsorted level 0.
    rel = levels - levels[0]
    unsorted_ok = np.zeros(items.size + 1, dtype=bool)
    unsorted_ok[rel[1:-1]] = True  # a level boundary may step down
    if not flags & _FLAG_LEVEL_ZERO_SORTED:
        unsorted_ok[: rel[1]] = True
    if items.size > 1 and np.any((np.diff(items) < 0) & ~unsorted_ok[1 : items.size]):
        raise ValueError("KLL level items are not sorted")
