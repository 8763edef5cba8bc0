"""Which values of a string or binary Arrow array are not valid UTF-8
(:func:`invalid_utf8_mask`), and the values as text with the invalid ones escaped
(:func:`printable`).

Fast path: the array's buffers are viewed, without a copy, as a binary array and cast to
string. Arrow's cast runs one C++ UTF-8 scan and reuses the buffers, so an all-valid array
(the usual case) costs that scan and nothing more.

Slow path, only when the cast fails: every byte of the value range ``data[offsets[0]:
offsets[-1]]`` is classified with a few whole-array numpy comparisons (no Python loop):

* a continuation byte is ``0x80-0xBF``;
* a lead byte ``>= 0xC0`` needs 1, 2 or 3 continuation bytes (``>= 0xC0``, ``>= 0xE0``,
  ``>= 0xF0``). The always-invalid bytes ``0xC0``, ``0xC1`` and ``0xF5-0xFF`` are treated as
  leads too, so that they consume their would-be continuation bytes; C0 and C1 are flagged
  directly, F5-FF by the second-byte table below, which allows them no second byte.

A lead whose needed bytes would cross the end of its value (a value end ``e`` with
``i < e <= i + need``; checked at the value ends only, so O(values)) is flagged and dropped as
a lead. The remaining leads mark the bytes they expect, all inside their own value. The
sequences are well formed exactly when "is a continuation byte" equals "is expected by a lead"
at every byte: a mismatch is a missing, surplus or orphan continuation byte. Last, a table of
the allowed second byte (The Unicode Standard, Table 3-7) is looked up at each 3- and 4-byte
lead: ``E0``, ``ED``, ``F0`` and ``F4`` restrict it to ``A0-BF`` (not overlong), ``80-9F``
(no surrogates), ``90-BF`` (not overlong) and ``80-8F`` (nothing above U+10FFFF).

Each flagged byte lies in the value at fault, so ``np.logical_or.reduceat`` over the starts of
the non-empty values (reduceat needs increasing starts) gives the answer.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from beam_stats.errors import InvalidInputError

# (binary view type, string type to cast to, offset dtype) for each accepted type.
_VIEWS = {
    pa.string(): (pa.binary(), pa.string(), np.int32),
    pa.binary(): (pa.binary(), pa.string(), np.int32),
    pa.large_string(): (pa.large_binary(), pa.large_string(), np.int64),
    pa.large_binary(): (pa.large_binary(), pa.large_string(), np.int64),
}

# Lowest and highest second byte allowed after each 3- or 4-byte lead (Unicode Table 3-7);
# an empty range after the invalid bytes F5-FF.
_LOW = np.full(256, 0x80, dtype=np.uint8)
_HIGH = np.full(256, 0xBF, dtype=np.uint8)
_LOW[0xF5:], _HIGH[0xF5:] = 0xFF, 0x00
_LOW[0xE0], _HIGH[0xED], _LOW[0xF0], _HIGH[0xF4] = 0xA0, 0x9F, 0x90, 0x8F


def invalid_utf8_mask(values: pa.Array) -> np.ndarray:
    """Flags the values that are not valid UTF-8.

    Args:
        values: a string, large_string, binary or large_binary array without nulls; it may
            be a slice (non-zero offset).

    Returns:
        A bool array of ``len(values)``, True where the value is not valid (strict) UTF-8.

    Raises:
        InvalidInputError: ``values`` has another type or contains nulls.
    """
    if values.type not in _VIEWS:
        raise InvalidInputError(
            f"values must be string, large_string, binary or large_binary, got {values.type}"
        )
    if values.null_count:
        raise InvalidInputError(f"values must not contain nulls, got {values.null_count}")
    binary_type, string_type, _ = _VIEWS[values.type]
    # A zero-copy binary view: a string array's cast to string would skip the UTF-8 check.
    view = pa.Array.from_buffers(binary_type, len(values), values.buffers(), offset=values.offset)
    try:
        view.cast(string_type)
    except pa.ArrowInvalid:
        return _slow_invalid_mask(values)
    return np.zeros(len(values), dtype=bool)


def _slow_invalid_mask(values: pa.Array) -> np.ndarray:
    """The vectorised byte classification of the module docstring, without the fast path."""
    _, _, offset_dtype = _VIEWS[values.type]
    n = len(values)
    _, offsets_buffer, data_buffer = values.buffers()
    if n == 0:
        return np.zeros(0, dtype=bool)
    offsets = np.frombuffer(offsets_buffer, dtype=offset_dtype)
    offsets = offsets[values.offset : values.offset + n + 1]
    start, stop = int(offsets[0]), int(offsets[-1])
    ends = (offsets[1:] - start).astype(np.int64)  # exclusive value ends, relative to start
    if data_buffer is None or stop == start:
        return np.zeros(n, dtype=bool)
    data = np.frombuffer(data_buffer, dtype=np.uint8)[start:stop]  # a view, not a copy
    size = len(data)

    # needs[k - 1]: the bytes that need at least k continuation bytes.
    needs = [data >= 0xC0, data >= 0xE0, data >= 0xF0]
    overrun = []  # leads i with a value end e in i < e <= i + need
    for k, need in enumerate(needs, start=1):
        pos = ends[ends >= k] - k
        overrun.append(pos[need[pos]])
    dropped = np.concatenate(overrun)
    for need in needs:
        need[dropped] = False

    expected = np.zeros(size, dtype=bool)
    for k, need in enumerate(needs, start=1):
        expected[k:] |= need[: size - k]
    bad = expected != (data.view(np.int8) < -0x40)  # as int8, 0x80-0xBF is -128..-65
    bad[dropped] = True
    bad |= (data & 0xFE) == 0xC0
    # Second bytes of the remaining 3- and 4-byte leads; these end before their value does,
    # so leads + 1 < size. F5-FF fail here, as no second byte is allowed after them.
    leads = np.flatnonzero(needs[1])
    lead, second = data[leads], data[leads + 1]
    bad[leads[(second < _LOW[lead]) | (second > _HIGH[lead])]] = True

    # Each flag lies in the value at fault. reduceat wants increasing starts: skip empty values.
    starts = np.concatenate([[0], ends[:-1]])
    filled = ends > starts
    mask = np.zeros(n, dtype=bool)
    mask[filled] = np.logical_or.reduceat(bad, starts[filled])
    return mask


def printable(values: pa.Array) -> pa.Array:
    """Binary `values` as a string array: ``value.decode("utf-8", errors="backslashreplace")``
    of each, `values` themselves (checked, not copied) when every one is valid UTF-8 (the
    usual case: no Python object per value)."""
    if pa.types.is_string(values.type):  # valid UTF-8 already (a cast costs ~40 us)
        return values
    try:
        texts: pa.Array = values.cast(pa.string())
    except pa.ArrowInvalid:
        escaped = [v.decode("utf-8", errors="backslashreplace") for v in values.to_pylist()]
        return pa.array(escaped, type=pa.string())
    return texts
