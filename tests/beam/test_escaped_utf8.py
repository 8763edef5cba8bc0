"""The escaping of bytes that are not UTF-8 for Arrow's CSV reader (beam_stats.beam._utf8)."""

from __future__ import annotations

import io

import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from beam_stats.beam._utf8 import EscapedStream, quoted, unescape, unescape_text

# Bytes that make the escapes' own encodings, lone surrogates and split characters likely.
_PIECES = st.sampled_from(
    [b"\xf4", b"\x8f", b"\xbe", b"\xbf", b"\x80", b"\xb4", b"\xed", b"\xb2", b"\xb3", b"a"]
    + [b",", b"\n", b"\xc3", b"\xa9", b"\xff", "é".encode(), "\U0010ff80".encode()]
    + ["\U0010ffff".encode(), "\U0010ff7f".encode()]
)


class _Trickle(io.RawIOBase):
    """A stream that returns at most `step` bytes a read, to split characters."""

    def __init__(self, data: bytes, step: int) -> None:
        super().__init__()
        self._data, self._step = data, step

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        chunk, self._data = self._data[: self._step], self._data[self._step :]
        buffer[: len(chunk)] = chunk
        return len(chunk)


@given(st.lists(_PIECES, max_size=40), st.integers(1, 5), st.integers(1, 9))
def test_escaped_stream_is_utf8_and_unescapes_to_the_bytes(
    pieces: list[bytes], step: int, read_size: int
) -> None:
    data = b"".join(pieces)
    stream = EscapedStream(_Trickle(data, step))  # type: ignore[arg-type]
    out = b"".join(iter(lambda: stream.read(read_size), b""))
    text = out.decode("utf-8")  # valid UTF-8, whatever came in
    assert unescape(pa.array([out, None], pa.binary()), stream.escaped).to_pylist() == [data, None]
    assert unescape_text(text) == data.decode("utf-8", "backslashreplace")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        assert quoted(text, 1000) == repr(data)
    else:
        assert quoted(text, 1000) == repr(data.decode())


def test_valid_utf8_passes_unchanged() -> None:
    data = "a,é,日本\n1,2,3\n".encode()
    stream = EscapedStream(io.BytesIO(data))
    assert stream.read() == data and stream.escaped == set()
