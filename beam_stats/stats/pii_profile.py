"""What the personal-data detectors (:mod:`.pii_patterns`) look at, per value, vectorised.

`Profile` reads an Arrow array of strings or bytes as numpy views of its bytes and offsets
(no copy). For every value it finds, from its length and its first and last bytes (one gather
each, then one lookup in a 256-entry table per byte and one for the length), the kinds whose
*shape* it has: each kind declares the bytes its values can start and end with and their
shortest and longest length (`Shape`). Everything else is asked for the candidates of a kind
only: the byte at a fixed position (`byte`), how many bytes of a class a value holds (`count`:
one comparison over those values' bytes, then each value's share, from the positions of the
matches when they are few and from a running count when they are many; counted once per
value and class), whether it matches an RE2 pattern in full (`matching`,
``pyarrow.compute.match_substring_regex``). So the values no kind can take (most ids, most
text) cost a few operations on the offsets, and none on their bytes.

Whitespace around a value (fixed-width exports, hand-typed cells) is not part of it: when some
first or last byte is a space, tab or line end, the values are trimmed first.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from beam_stats.errors import InvalidInputError

Mask = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]
Bytes = npt.NDArray[np.uint8]

DIGITS = b"0123456789"
UPPER = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LETTERS = UPPER + UPPER.lower()
HEX = DIGITS + b"abcdefABCDEF"

#: (the bytes a kind's values can start with, those they can end with, their shortest and
#: longest length in bytes)
Shape = tuple[bytes, bytes, int, int]


def _as_text(values: pa.Array) -> pa.Array:
    """Values as large_binary (their bytes; nulls stay null)."""
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    return values.cast(pa.large_binary())


def _bytes_and_bounds(raw: pa.Array) -> tuple[Bytes, Ints]:
    """The data bytes of large_binary values and each value's start in them (and the end)."""
    n = len(raw)
    offsets = np.frombuffer(raw.buffers()[1], dtype=np.int64)[raw.offset : raw.offset + n + 1]
    data = raw.buffers()[2]
    if data is None or n == 0:
        return np.zeros(0, np.uint8), np.zeros(n + 1, np.int64)
    first, last = int(offsets[0]), int(offsets[-1])
    return np.frombuffer(data, dtype=np.uint8)[first:last], offsets - first


#: Whitespace around a value (fixed-width exports, hand-typed cells) is not part of it.
_SPACE = b" \t\r\n"
_PADDED = np.uint8(0x80)  # the bit of `Shapes` for a first or last byte that is one


@dataclasses.dataclass(frozen=True)
class Shapes:
    """Per first byte, last byte and length (up to 255): the bits of the kinds it allows (a
    kind per bit, at most seven); and each kind's bit."""

    first: Bytes
    last: Bytes
    length: Bytes
    bits: dict[str, np.uint8]

    @classmethod
    def of(cls, shapes: dict[str, Shape]) -> Shapes:
        if len(shapes) > 7:  # (the eighth bit marks whitespace)
            raise InvalidInputError(f"at most 7 kinds can have a shape, got {len(shapes)}")
        first, last, length = (np.zeros(256, np.uint8) for _ in range(3))
        for bit, (starts, ends, shortest, longest) in enumerate(shapes.values()):
            first[np.frombuffer(starts, np.uint8)] |= 1 << bit
            last[np.frombuffer(ends, np.uint8)] |= 1 << bit
            length[shortest : longest + 1] |= 1 << bit
        first[np.frombuffer(_SPACE, np.uint8)] |= _PADDED
        last[np.frombuffer(_SPACE, np.uint8)] |= _PADDED
        return cls(first, last, length, {k: np.uint8(1 << b) for b, k in enumerate(shapes)})


_TRIM = r"^[ \t\r\n]+|[ \t\r\n]+$"  # the bytes of _SPACE


def is_digit(b: Bytes) -> Mask:
    return np.asarray((b - np.uint8(48)) < 10)  # wraps below '0'


def is_upper(b: Bytes) -> Mask:
    return np.asarray((b - np.uint8(65)) < 26)


def count_bytes(raw: pa.Array, cls: bytes) -> Ints:
    """How many bytes of class `cls` (`DIGITS`, `LETTERS` or one byte) each of `raw`
    (large_binary) holds."""
    data, bounds = _bytes_and_bounds(raw)
    if len(cls) == 1:  # one byte (few, mostly): each value's share of their positions
        return np.diff(np.searchsorted(np.flatnonzero(data == cls[0]), bounds)).astype(np.int64)
    # (below '0' and 'a' the subtraction wraps round; letters are compared in lower case)
    low = data if cls == DIGITS else data | np.uint8(32)
    hit = (low - np.uint8(48)) < 10 if cls == DIGITS else (low - np.uint8(97)) < 26
    if np.count_nonzero(hit) <= len(raw):  # few (the digits of text)
        return np.diff(np.searchsorted(np.flatnonzero(hit), bounds)).astype(np.int64)
    # many (the digits of ids): a running count, in 32 bits when it fits (twice as fast)
    wide = np.int32 if len(data) < 2**31 else np.int64
    running = np.zeros(len(data) + 1, wide)
    np.cumsum(hit.view(np.uint8), out=running[1:], dtype=wide)
    return np.diff(running[bounds]).astype(np.int64)


class Profile:
    """What the detectors look at. For every value, from its length and its first and last
    bytes (one gather each, then a table lookup), the kinds whose shape it has
    (`candidates`); for the candidates of a kind only, bytes at fixed positions (`byte`) and
    how many bytes of a class they hold (`count`, once per value and class)."""

    def __init__(self, values: pa.Array, shapes: Shapes) -> None:
        self._tables = shapes
        raw = _as_text(values)
        if self._shapes(raw):
            raw = pc.replace_substring_regex(raw, _TRIM, b"")
            self._shapes(raw)
        if raw.null_count:
            self._kinds[~raw.is_valid().to_numpy(zero_copy_only=False)] = 0
        self.values = raw
        self.size = len(raw)
        #: The kinds any value has the shape of (one bit each).
        self._present = int(np.bitwise_or.reduce(self._kinds)) if self.size else 0
        self._counts: dict[bytes, tuple[Mask | None, Ints]] = {}

    def _shapes(self, raw: pa.Array) -> bool:
        """Finds the kinds each value has the shape of; whether some values are padded."""
        self._data, bounds = _bytes_and_bounds(raw)
        self._start, self._end = bounds[:-1], bounds[1:]
        self.length = self._end - self._start
        self._kinds = np.zeros(len(raw), np.uint8)
        if len(self._data) == 0:
            return False
        # (an empty value gets its neighbour's bytes: its length leaves it no kind)
        tables = self._tables
        first = tables.first[self._data.take(self._start, mode="clip")]
        last = tables.last[self._data.take(self._end - 1, mode="clip")]
        self._kinds = first & last & tables.length.take(self.length, mode="clip") & ~_PADDED
        return bool(np.bitwise_or.reduce((first | last) & _PADDED))

    def candidates(self, kind: str) -> Ints:
        """The values with the length, first and last byte a value of `kind` can have."""
        bit = self._tables.bits[kind]
        if not self._present & bit:
            return np.zeros(0, np.int64)
        return np.flatnonzero(self._kinds & bit)

    def byte(self, position: int, index: Ints) -> Bytes:
        """The byte at `position` (from the end when negative) of values `index`, which are
        longer than that."""
        at = self._start[index] + position if position >= 0 else self._end[index] + position
        return self._data[at]

    def count(self, cls: bytes, index: Ints) -> Ints:
        """How many bytes of class `cls` (see `count_bytes`) values `index` hold."""
        n = self.size
        if index.size == 0:
            return np.zeros(0, np.int64)
        if cls not in self._counts and index.size * 2 > n:  # most values: over all the bytes
            self._counts[cls] = (None, count_bytes(self.values, cls))
        known, counts = self._counts.get(cls, (np.zeros(n, bool), np.zeros(n, np.int64)))
        if known is not None:  # (None: every value counted)
            missing = index[~known[index]]
            if missing.size * 2 > n:  # most values: over all the bytes, no copy
                counts, known = count_bytes(self.values, cls), None
            elif missing.size:
                counts[missing] = count_bytes(self.values.take(pa.array(missing)), cls)
                known[missing] = True
            self._counts[cls] = (known, counts)
        return counts[index]

    def take(self, index: Ints) -> pa.Array:
        return self.values.take(pa.array(index, pa.int64()))

    def matching(self, index: Ints, pattern: str) -> Ints:
        """The values of `index` that match `pattern` (RE2) in full."""
        if index.size == 0:
            return index
        hit = pc.match_substring_regex(self.take(index), pattern)
        matched: Mask = np.asarray(pc.fill_null(hit, False), dtype=bool)
        return index[matched]
