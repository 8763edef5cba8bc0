"""Opening input files on any Beam file system, so that a damaged one fails loudly.

Beam decompresses by suffix (``.gz``, ``.bz2``, ``.deflate``, ``.zst``, ...) but stops
silently at the end of a truncated compressed file, and its ``CompressedFile.closed`` is a
method, which Arrow takes for a closed file. :func:`open_stream` fixes both, and keeps a
seekable file seekable (Parquet on ``gs://`` and other remote file systems).
"""

from __future__ import annotations

import io
from typing import IO, Any

from beam_stats.beam.formats import COMPRESSED, is_local
from beam_stats.beam.writing import local_path

_BUFFER = 1 << 20


def open_stream(path: str) -> IO[bytes]:
    """A buffered binary stream of the (decompressed) file; reading past the end of a
    truncated compressed file raises ``EOFError``. A local uncompressed file is opened
    directly (as Beam's local file system would open it), without importing apache_beam."""
    if is_local(path) and not path.lower().endswith(COMPRESSED):
        return open(local_path(path), "rb", buffering=_BUFFER)  # noqa: SIM115 - the caller's
    from apache_beam.io.filesystems import FileSystems  # ~1.4 s: only when it is needed

    return io.BufferedReader(_Stream(FileSystems.open(path)), _BUFFER)


def open_input(path: str) -> IO[bytes] | str:
    """A local uncompressed path as is (Arrow maps it), else :func:`open_stream`."""
    if is_local(path) and not path.lower().endswith(COMPRESSED):
        return path
    return open_stream(path)


class _Stream(io.RawIOBase):
    def __init__(self, f: Any) -> None:
        super().__init__()
        self._f = f

    def readable(self) -> bool:
        return True

    # Parquet is read by seeking (footer first): a remote file (gs://, s3://, ...) is
    # seekable through Beam's reader, and must stay so through this wrapper. A compressed
    # one is not: Beam emulates its seeks by decompressing again from the start.
    def seekable(self) -> bool:
        from apache_beam.io.filesystem import CompressedFile

        if isinstance(self._f, CompressedFile):
            return False
        seekable = getattr(self._f, "seekable", None)
        return bool(seekable()) if callable(seekable) else False

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if not self.seekable():
            raise io.UnsupportedOperation("seek")
        self._f.seek(offset, whence)
        return self.tell()

    def tell(self) -> int:
        return int(self._f.tell())

    def readinto(self, buffer: Any) -> int:
        data = self._f.read(len(buffer))
        if not data and getattr(getattr(self._f, "_decompressor", None), "eof", True) is False:
            raise EOFError("the compressed file ends early (truncated?)")
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._f.close()
        super().close()
