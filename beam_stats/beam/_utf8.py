"""Bytes that are not UTF-8 through Arrow's CSV reader, byte for byte.

Arrow decodes a malformed CSV row as UTF-8 before it calls the invalid-row handler; a row
that is not UTF-8 cannot be handed over, so the read fails there (and Python prints
"Exception ignored"). CSV files are therefore read through :class:`EscapedStream`, which
passes valid UTF-8 through unchanged and replaces each byte that is not part of valid UTF-8
with the private-use character U+10FF00 + byte (U+10FF80 ... U+10FFFF, 4 bytes each).
Arrow then sees valid UTF-8 with the same delimiters, quotes and line breaks (all ASCII),
so rows, fields and line numbers are unchanged; :func:`unescape` and :func:`unescape_text`
give back the original bytes.

Lossless: a character of that private-use range already in the file is escaped byte by byte
too, so unescaping gives back its bytes. Costs: a UTF-8 check of every chunk (memory speed);
a file with such a byte on every line reads in about twice the time of a UTF-8 one.
"""

from __future__ import annotations

import codecs
import io
import re
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_BASE = 0x10FF00
_ESCAPE = {b: chr(_BASE + b).encode() for b in range(0x80, 0x100)}
# Decoded with "surrogateescape", byte b is U+DC00 + b; encoded again with "surrogatepass",
# that is ED B2 xx or ED B3 xx, which valid UTF-8 never holds.
_SURROGATE = {b: chr(0xDC00 + b).encode("utf-8", "surrogatepass") for b in range(0x80, 0x100)}
_IN_RANGE = re.compile(rb"\xf4\x8f[\xbe\xbf][\x80-\xbf]")
_ESCAPED_PREFIXES = (b"\xf4\x8f\xbe", b"\xf4\x8f\xbf")
_BACK = {_BASE + b: 0xDC00 + b for b in range(0x80, 0x100)}


class EscapedStream(io.RawIOBase):
    """`f` with the bytes that are not UTF-8 escaped; `escaped` holds their values."""

    def __init__(self, f: IO[bytes]) -> None:
        super().__init__()
        self._f = f
        self._pending = b""  # an incomplete character at the end of the last chunk
        self._out = bytearray()
        self._eof = False
        self.escaped: set[int] = set()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = len(buffer)
        while len(self._out) < size and not self._eof:
            chunk = self._f.read(max(size, 1 << 16))
            self._eof = not chunk
            self._out += self._escape(self._pending + chunk)
        n = min(size, len(self._out))
        buffer[:n] = self._out[:n]
        del self._out[:n]
        return n

    def _escape(self, data: bytes) -> bytes:
        try:
            _, used = codecs.utf_8_decode(data, "strict", self._eof)
        except UnicodeDecodeError:
            pass
        else:
            if not any(prefix in data[:used] for prefix in _ESCAPED_PREFIXES):
                self._pending = data[used:]
                return data[:used]
        text, used = codecs.utf_8_decode(data, "surrogateescape", self._eof)
        self._pending = data[used:]
        encoded = text.encode("utf-8", "surrogatepass")
        # First the private-use characters of the escapes' range already there (rare), byte
        # by byte; their escapes hold no ED byte, so the second step cannot change them.
        encoded = _IN_RANGE.sub(self._escape_character, encoded)
        codes = np.frombuffer(encoded, dtype=np.uint8)
        at = np.flatnonzero((codes[:-2] == 0xED) & ((codes[1:-1] & 0xFE) == 0xB2))
        found = np.unique(((codes[at + 1] & 1) << 6 | (codes[at + 2] & 0x3F)) + 0x80)
        for b in found.tolist():
            encoded = encoded.replace(_SURROGATE[b], _ESCAPE[b])
        self.escaped.update(found.tolist())
        return encoded

    def _escape_character(self, match: re.Match[bytes]) -> bytes:
        found = match.group()
        self.escaped.update(found)
        return b"".join(_ESCAPE[b] for b in found)

    def close(self) -> None:
        if not self.closed:
            self._f.close()
        super().close()


def unescape(array: pa.Array, escaped: set[int]) -> pa.Array:
    """A binary `array` read through an :class:`EscapedStream` with its original bytes."""
    if not escaped or not pc.any(pc.match_substring(array, b"\xf4\x8f")).as_py():
        return array
    # Byte 0xF4 last: every escape starts with it, so until then an F4 starts either an
    # escape, intact, or a character outside the escapes' range; a byte put back cannot
    # make a false match. (Put back earlier, an F4 followed by put-back bytes can.)
    for b in sorted(escaped, key=lambda b: b == 0xF4):
        array = pc.replace_substring(array, pattern=_ESCAPE[b], replacement=bytes([b]))
    return array


def unescape_text(text: str) -> str:
    """Text read through an :class:`EscapedStream`, its bytes that are not UTF-8 as
    ``\\xNN`` escapes."""
    return _original(text).decode("utf-8", "backslashreplace")


def quoted(text: str, limit: int) -> str:
    """Text read through an :class:`EscapedStream` quoted for a message: its first `limit`
    characters as a ``str`` literal, or, when it is not UTF-8, bytes as a ``bytes`` one."""
    raw = _original(text)
    try:
        return repr(raw.decode()[:limit])
    except UnicodeDecodeError:
        return repr(raw[:limit])


def _original(text: str) -> bytes:
    return text.translate(_BACK).encode("utf-8", "surrogateescape")
