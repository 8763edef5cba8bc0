"""Protobuf wire bytes of many values at once, made with numpy.

Setting a repeated field from a Python list makes one Python object per value (1,000
values of a frequent-items state, 1,000 buckets of a rank histogram), which costs more than
the rest of a small state's serialization: issue 16's 1,000 slices write one such list per
string feature. Here the field's bytes are built with a few numpy calls over the values'
Arrow buffers and given to ``Message.MergeFromString``, which protobuf parses in C. A
message so parsed equals the one made field by field (parsing keeps every value as
written; serializing it again writes protobuf's own encoding).

Wire format (protobuf's encoding guide): a length-delimited field is its tag
``number << 3 | 2`` as a varint, the payload's length as a varint, then the payload; a
varint is 7 bits a byte, low bits first, the high bit set on every byte but the last.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

#: Protobuf's wire type of length-delimited fields (strings, bytes, messages).
LENGTH_DELIMITED = 2


def varint_sizes(values: np.ndarray) -> np.ndarray:
    """Bytes of the varint encoding of each non-negative int64 of `values`."""
    sizes = np.ones(values.size, dtype=np.int64)
    largest = int(values.max(initial=0))
    for bits in range(7, 63, 7):
        if largest < 1 << bits:
            break
        sizes += values >= (1 << bits)
    return sizes


def put_varints(out: np.ndarray, at: np.ndarray, values: np.ndarray, sizes: np.ndarray) -> None:
    """Writes the varint of each of `values` (of `sizes` bytes, :func:`varint_sizes`) at
    positions `at` of the uint8 array `out`."""
    if not values.size or int(sizes.max()) == 1:  # all below 128: the values are the bytes
        out[at] = values
        return
    for k in range(int(sizes.max())):
        more = sizes > k
        byte = (values[more] >> (7 * k)) & 0x7F
        byte |= np.where(sizes[more] > k + 1, 0x80, 0)
        out[at[more] + k] = byte


def binary_buffers(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The int64 offsets (``len(values) + 1``, not rebased) and the data bytes of a string
    or binary array (large or not), without copying the data.

    Raises:
        ValueError: `values` is of another type, or has nulls.
    """
    arrow_type = values.type
    large = pa.types.is_large_binary(arrow_type) or pa.types.is_large_string(arrow_type)
    if not (large or pa.types.is_binary(arrow_type) or pa.types.is_string(arrow_type)):
        raise ValueError(f"expected strings or binaries, got {arrow_type}")
    if values.null_count:
        raise ValueError(f"expected no nulls, got {values.null_count}")
    _, offsets_buffer, data_buffer = values.buffers()
    n = len(values)
    if offsets_buffer is None:  # an empty array may have no buffers
        return np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.uint8)
    raw = np.frombuffer(offsets_buffer, dtype=np.int64 if large else np.int32)
    offsets = raw[values.offset : values.offset + n + 1].astype(np.int64)
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer else np.zeros(0, np.uint8)
    return offsets, data


def repeated_bytes(number: int, values: pa.Array) -> bytes:
    """The wire bytes of the repeated ``bytes`` (or ``string``) field `number` holding
    `values` in order: one ``tag, length, value`` per value.

    Raises:
        ValueError: as :func:`binary_buffers`.
    """
    out, _ = repeated_bytes_entries(number, values)
    return out.tobytes()


def repeated_bytes_entries(number: int, values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """:func:`repeated_bytes` as a uint8 array, and where each value's entry ends (as
    :func:`message_entries`): the fields of many messages written at once, then cut.

    Raises:
        ValueError: as :func:`binary_buffers`.
    """
    offsets, data = binary_buffers(values)
    lengths = np.diff(offsets)
    if not lengths.size:
        return np.zeros(0, dtype=np.uint8), np.zeros(0, dtype=np.int64)
    tag = varint(number << 3 | LENGTH_DELIMITED)
    length_sizes = varint_sizes(lengths)
    sizes = len(tag) + length_sizes + lengths
    ends = np.cumsum(sizes)
    out = np.empty(int(ends[-1]), dtype=np.uint8)
    _put_bytes(out, _put_tag(out, ends - sizes, tag), offsets, data, length_sizes)
    return out, ends


def varint(value: int) -> bytes:
    """The varint encoding of the non-negative `value` (one value, in Python; many at once:
    :func:`put_varints`)."""
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


#: Protobuf's wire types of varints and of 8-byte scalars (``double``, ``fixed64``).
VARINT, FIXED64 = 0, 1


def message_entries(
    number: int, n: int, fields: list[tuple[int, np.ndarray | pa.Array]]
) -> tuple[np.ndarray, np.ndarray]:
    """The wire bytes of `n` entries of the repeated message field `number`, and where each
    entry ends: ``(bytes as uint8, ends)``, so that entries ``i:j`` are
    ``bytes[ends[i-1]:ends[j-1]]`` (from 0 when ``i == 0``).

    `fields` gives each entry's fields in order as ``(field number, values)``: an int64
    array (varints, one per entry), a float64 array (doubles), or a string or binary Arrow
    array without nulls (length-delimited). Every value is written, zeros and empty ones
    too; a message parsed from them equals one made field by field.
    """
    parts: list[tuple[bytes, str, tuple[np.ndarray, ...]]] = []
    payload = np.zeros(n, dtype=np.int64)
    for field, values in fields:
        if isinstance(values, pa.Array):
            offsets, data = binary_buffers(values)
            lengths = np.diff(offsets)
            sizes = varint_sizes(lengths)
            parts.append((varint(field << 3 | LENGTH_DELIMITED), "bytes", (offsets, data, sizes)))
            payload += sizes + lengths
        elif values.dtype == np.float64:
            parts.append((varint(field << 3 | FIXED64), "double", (values,)))
            payload += 8
        elif values.dtype == np.int64:
            sizes = varint_sizes(values)
            parts.append((varint(field << 3 | VARINT), "varint", (values, sizes)))
            payload += sizes
        else:
            raise TypeError(f"field {field}: expected int64, float64 or Arrow binary values")
        payload += len(parts[-1][0])
    tag = varint(number << 3 | LENGTH_DELIMITED)
    payload_size = varint_sizes(payload)
    entry = len(tag) + payload_size + payload
    ends = np.cumsum(entry)
    out = np.empty(int(ends[-1]) if n else 0, dtype=np.uint8)
    at = _put_tag(out, ends - entry, tag)
    put_varints(out, at, payload, payload_size)
    at = at + payload_size
    for field_tag, kind, column in parts:
        at = _put_tag(out, at, field_tag)
        if kind == "double":  # little-endian, as protobuf writes them
            doubles = np.ascontiguousarray(column[0], dtype="<f8").view(np.uint8)
            out[at[:, None] + np.arange(8)] = doubles.reshape(n, 8)
            at = at + 8
        elif kind == "varint":
            put_varints(out, at, column[0], column[1])
            at = at + column[1]
        else:
            at = _put_bytes(out, at, *column)
    return out, ends


def _put_bytes(
    out: np.ndarray, at: np.ndarray, offsets: np.ndarray, data: np.ndarray, sizes: np.ndarray
) -> np.ndarray:
    """Writes each value of a binary array (`offsets`, `data`: :func:`binary_buffers`) at
    positions `at` of `out` as its length (a varint of `sizes` bytes) then its bytes; the
    positions just after them."""
    lengths = np.diff(offsets)
    put_varints(out, at, lengths, sizes)
    at = at + sizes
    ends = at + lengths
    total = int(lengths.sum())
    if total:
        # The values' bytes are in `out` in the order they are in `data`: `out` is marked
        # where they go (runs of the bytes before each value, then of its own bytes) and
        # they are copied at once. Positions per byte (a repeat, an arange, a scattered
        # write) cost twice as much: most of the bytes of 1,000 slices' rank histograms.
        runs = np.empty(2 * at.size + 1, dtype=np.int64)
        runs[0:-1:2] = at - np.concatenate(([0], ends[:-1]))
        runs[1::2] = lengths
        runs[-1] = out.size - ends[-1]
        marks = np.zeros(runs.size, dtype=bool)
        marks[1::2] = True
        out[np.repeat(marks, runs)] = data[offsets[0] : offsets[0] + total]
    return ends


def _put_tag(out: np.ndarray, at: np.ndarray, tag: bytes) -> np.ndarray:
    """Writes `tag` at each position `at` of `out`; the positions just after it."""
    for k, byte in enumerate(tag):
        out[at + k] = byte
    return at + len(tag)
