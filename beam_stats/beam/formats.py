"""Input formats and file names, told apart without Beam (the command-line parser and the
statistics-only commands need them before, or without, any pipeline)."""

from __future__ import annotations

import re

from beam_stats.errors import InvalidInputError

FORMATS = ("parquet", "csv", "jsonl", "tfrecord")
_SUFFIXES = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".ndjson": "jsonl",
    ".tfrecord": "tfrecord",
    ".tfrecords": "tfrecord",
}
#: Suffixes a format is read through (the compression is undone first).
FORMAT_COMPRESSIONS = (".gz", ".bz2", ".zst", ".deflate")
#: Suffixes Beam's file systems decompress when they open a file.
COMPRESSED = (".gz", ".bz2", ".zst", ".zstd", ".deflate", ".lzma", ".xz", ".snappy")
# As Beam's FileSystems.get_scheme: "gs://...", "s3://...", "file://...".
_SCHEME = re.compile(r"(?P<scheme>[a-zA-Z][-a-zA-Z0-9+.]*)://")


def format_of(path: str) -> str:
    """The input format named by a file's suffix (compression suffixes ignored)."""
    name = path.lower()
    for compression in FORMAT_COMPRESSIONS:
        name = name.removesuffix(compression)
    for suffix, fmt in _SUFFIXES.items():
        if name.endswith(suffix):
            return fmt
    if "tfrecord" in name.rsplit("/", 1)[-1]:  # TFX ExampleGen: data_tfrecord-00000-of-00001.gz
        return "tfrecord"
    raise InvalidInputError(
        f"cannot tell the format of {path!r} from its suffix; pass one of {FORMATS}"
    )


def scheme(path: str) -> str | None:
    """The file system scheme of `path` (``gs``, ``file``, ...), None for a plain path; as
    Beam's ``FileSystems.get_scheme``."""
    found = _SCHEME.match(path)
    return found.group("scheme") if found else None


def is_local(path: str) -> bool:
    """Whether `path` is on the local file system (no scheme, or ``file://``)."""
    return scheme(path) in (None, "file")
