"""A Beam file system for the scheme ``fakefs://`` that behaves like an object store.

Beam's Python SDK ships no in-memory file system (Java's ``InMemoryFileSystem`` has no
Python twin; ``apache_beam.io.filesystem_test.TestingFileSystem`` cannot read or write), so
the tests register this one. Its objects are files under a root folder (the environment
variable ``BEAM_STATS_FAKEFS_ROOT``, so that a child process sees the same objects), with an
object store's semantics, not a disk's:

- no folders: ``mkdirs`` does nothing, a listing is by name prefix, and ``exists`` is true
  of objects only;
- ``create`` writes the object under its own name as the bytes come (harsher than GCS, whose
  object appears when the upload completes): a writer that dies leaves a partial object
  there, so only a write to a temporary name keeps the artifact whole;
- ``rename`` is a copy, then a delete.

Nothing here reaches beam-stats' local-file code (``is_local`` is false for the scheme),
so a command that works with all its paths on ``fakefs://`` works through ``FileSystems``
alone. Beam finds the class by subclassing, once the module is imported.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from typing import Any, BinaryIO

from apache_beam.io.filesystem import (
    BeamIOError,
    CompressedFile,
    CompressionTypes,
    FileMetadata,
    FileSystem,
)

SCHEME = "fakefs"
ROOT_VARIABLE = "BEAM_STATS_FAKEFS_ROOT"


def root() -> str:
    folder = os.environ.get(ROOT_VARIABLE)
    if not folder:
        raise BeamIOError(f"{ROOT_VARIABLE} is not set: no fakefs:// store")
    return folder


def url(key: str) -> str:
    """The ``fakefs://`` path of an object key (``bucket/a/b.pb``)."""
    return f"{SCHEME}://{key}"


def local(path: str) -> str:
    """Where the object `path` (``fakefs://KEY``) is kept, for tests to look behind."""
    prefix = f"{SCHEME}://"
    if not path.startswith(prefix):
        raise ValueError(f"not a {prefix} path: {path}")
    return os.path.join(root(), path[len(prefix) :])


class FakeObjectStore(FileSystem):  # type: ignore[misc]
    @classmethod
    def scheme(cls) -> str:
        return SCHEME

    def join(self, basepath: str, *paths: str) -> str:
        return "/".join([basepath.rstrip("/"), *(p.strip("/") for p in paths)])

    def split(self, path: str) -> tuple[str, str]:
        head, _, tail = path.rstrip("/").rpartition("/")
        return head, tail

    def mkdirs(self, path: str) -> None:
        pass  # an object store has no folders

    def has_dirs(self) -> bool:
        return False

    def _list(self, dir_or_prefix: str) -> Iterator[FileMetadata]:
        base = root()
        for folder, _, names in os.walk(base):
            for name in names:
                file = os.path.join(folder, name)
                path = url(os.path.relpath(file, base).replace(os.sep, "/"))
                if path.startswith(dir_or_prefix):
                    stat = os.stat(file)
                    yield FileMetadata(path, stat.st_size, stat.st_mtime)

    def _open(self, path: str, mode: str, compression_type: str) -> BinaryIO:
        compression = FileSystem._get_compression_type(path, compression_type)
        raw: Any = open(local(path), mode)  # noqa: SIM115  (the caller closes it)
        if compression == CompressionTypes.UNCOMPRESSED:
            return raw  # type: ignore[no-any-return]
        return CompressedFile(raw, compression_type=compression)  # type: ignore[no-any-return]

    def create(
        self,
        path: str,
        mime_type: str = "application/octet-stream",
        compression_type: str = CompressionTypes.AUTO,
    ) -> BinaryIO:
        os.makedirs(os.path.dirname(local(path)), exist_ok=True)
        return self._open(path, "wb", compression_type)

    def open(
        self,
        path: str,
        mime_type: str = "application/octet-stream",
        compression_type: str = CompressionTypes.AUTO,
    ) -> BinaryIO:
        if not os.path.isfile(local(path)):
            raise BeamIOError("Open operation failed", {path: FileNotFoundError(path)})
        return self._open(path, "rb", compression_type)

    def copy(self, source_file_names: list[str], destination_file_names: list[str]) -> None:
        errors: dict[tuple[str, str], Exception] = {}
        for source, destination in zip(source_file_names, destination_file_names, strict=True):
            try:
                os.makedirs(os.path.dirname(local(destination)), exist_ok=True)
                shutil.copyfile(local(source), local(destination))
            except OSError as e:
                errors[(source, destination)] = e
        if errors:
            raise BeamIOError("Copy operation failed", errors)

    def rename(self, source_file_names: list[str], destination_file_names: list[str]) -> None:
        self.copy(source_file_names, destination_file_names)  # as on GCS and S3
        self.delete(source_file_names)

    def exists(self, path: str) -> bool:
        return os.path.isfile(local(path))

    def size(self, path: str) -> int:
        return os.path.getsize(local(path))

    def last_updated(self, path: str) -> float:
        return os.path.getmtime(local(path))

    def checksum(self, path: str) -> str:
        with open(local(path), "rb") as f:
            return hashlib.md5(f.read()).hexdigest()

    def metadata(self, path: str) -> FileMetadata:
        return FileMetadata(path, self.size(path), self.last_updated(path))

    def delete(self, paths: list[str]) -> None:
        """Deletes each object, or every object under the prefix ``PATH/``."""
        errors: dict[str, Exception] = {}
        for path in paths:
            file = local(path.rstrip("/"))
            if os.path.isfile(file):
                os.unlink(file)
            elif os.path.isdir(file):
                shutil.rmtree(file)
            else:
                errors[path] = FileNotFoundError(path)
        if errors:
            raise BeamIOError("Delete operation failed", errors)
