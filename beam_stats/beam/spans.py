"""Span keys and the manifest of a statistics store (:mod:`beam_stats.beam.history`).

No file is read or written here: the manifest's JSON text to and from :class:`SpanEntry`
values, the rules of a span key and the name of a span's file.

The manifest (``manifest.json``, UTF-8)::

    {"format": "beam-stats statistics store", "version": 1,
     "spans": [{"span": "2026-11-23", "file": "2026-11-23.3f9a1c2b0d4e.pb",
                "num_examples": 6000, "num_features": 20, "size": 48213,
                "sha256": "9c1e...", "added": "2026-11-24T06:00:00Z"}, ...]}

Spans are listed sorted, each once. A reader refuses a manifest of another version, an
entry with a missing, extra or ill-typed field, and a span listed twice.

:class:`SpanFromPath` reads a file's span from its path with a regular expression (a
backfill of many spans in one job, :func:`beam_stats.jobs.backfill_history`).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
import uuid
from collections.abc import Iterable
from typing import Any

from beam_stats.errors import DeserializationError, InvalidInputError

#: What the manifest's ``format`` field says, and the version this code reads and writes.
FORMAT = "beam-stats statistics store"
VERSION = 1
MAX_SPAN_LENGTH = 256
_UNSAFE = re.compile(r"[^A-Za-z0-9._=-]")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def check_span(span: object) -> str:
    """`span` if it is a valid span key: non-empty text of printable characters, without
    ``/`` or surrounding spaces, at most 256 characters. Spans sort as text (code point
    order): write dates year first (``2026-11-23``) and numbers zero-padded.

    Raises:
        InvalidInputError: it is not; the message names the value.
    """
    if not isinstance(span, str):
        raise InvalidInputError(f"a span is text, got {type(span).__name__} {span!r}")
    problem = (
        "is empty"
        if not span
        else "contains '/'"
        if "/" in span
        else "contains characters that are not printable"
        if not span.isprintable()
        else "starts or ends with spaces"
        if span != span.strip()
        else f"is longer than {MAX_SPAN_LENGTH} characters"
        if len(span) > MAX_SPAN_LENGTH
        else None
    )
    if problem:
        raise InvalidInputError(f"the span {span!r} {problem}; a span is a sortable text key")
    return span


@dataclasses.dataclass(frozen=True)
class SpanFromPath:
    """Which span a file belongs to, read from its path by a regular expression.

    The span is the text of the group named ``span`` of the first match
    (:func:`re.search`) of `pattern` in the file's path, or, when the expression has no
    such group and exactly one group, the text of that group: ``day=(?P<span>[^/]+)`` and
    ``day=([^/]+)`` both read ``2026-11-23`` from ``data/day=2026-11-23/part-0.parquet``.
    The text must be a valid span key (:func:`check_span`: no ``/``, so stop the group at
    one, as ``[^/]+`` does).

    Args:
        pattern: the regular expression (Python's :mod:`re` syntax).

    Raises:
        InvalidInputError: `pattern` is not a regular expression, or it has neither a group
            named ``span`` nor exactly one group.
    """

    pattern: str

    def __post_init__(self) -> None:
        if not isinstance(self.pattern, str) or not self.pattern:
            raise InvalidInputError(
                f"the span's regular expression must be non-empty text, got {self.pattern!r}"
            )
        try:
            compiled = re.compile(self.pattern)
        except re.error as e:
            raise InvalidInputError(
                f"the span's regular expression {self.pattern!r} is invalid: {e}"
            ) from e
        if "span" not in compiled.groupindex and compiled.groups != 1:
            raise InvalidInputError(
                f"the span's regular expression {self.pattern!r} has no group named 'span' "
                f"and {compiled.groups} groups: name the span's group, as in "
                "'day=(?P<span>[^/]+)'"
            )

    @property
    def _group(self) -> str | int:
        return "span" if "span" in re.compile(self.pattern).groupindex else 1

    def span_of(self, path: str) -> str:
        """The span of the file at `path`.

        Raises:
            InvalidInputError: the expression does not match the path, its group takes no
                part in the match, or what it reads is no valid span key; the message names
                the file and the expression.
        """
        found = re.search(self.pattern, path)  # compiled once: re caches the pattern
        span = found.group(self._group) if found else None
        if span is None:
            what = "does not match" if found is None else "matches without its span group in"
            raise InvalidInputError(
                f"the span's regular expression {self.pattern!r} {what} the path of the "
                f"input file {path!r}: every file must belong to a span"
            )
        try:
            return check_span(span)
        except InvalidInputError as e:
            raise InvalidInputError(
                f"the span's regular expression {self.pattern!r} reads no valid span from "
                f"the input file {path!r}: {e}"
            ) from e


@dataclasses.dataclass(frozen=True)
class SpanEntry:
    """One span of a statistics store, as its manifest records it.

    Attributes:
        span: the span key.
        file: the statistics file's name, relative to the store
            (``StatisticsStore.file_path`` gives its path).
        num_examples: examples of the first dataset (the whole data of sliced statistics).
        num_features: features of the first dataset (sparse and weighted features not
            counted, as ``beam-stats stats`` prints them).
        size: the file's size in bytes.
        sha256: the SHA-256 of the file's bytes, in hex.
        added: when the span was added, ISO 8601 in UTC (``2026-11-24T06:00:00Z``).
    """

    span: str
    file: str
    num_examples: int
    num_features: int
    size: int
    sha256: str
    added: str


_FIELDS = tuple(f.name for f in dataclasses.fields(SpanEntry))


#: The name :func:`file_name` gives a span's file (what a store may delete as its own).
_FILE_NAME = re.compile(r"[A-Za-z0-9._=-]{1,80}\.[0-9a-f]{12}\.pb")


def is_span_file_name(name: str) -> bool:
    """Whether `name` has the form of :func:`file_name`'s names (a store's own file)."""
    return _FILE_NAME.fullmatch(name) is not None


def file_name(span: str) -> str:
    """A new, unique file name for `span`'s statistics: the span readable (characters
    outside ``A-Z a-z 0-9 . _ = -`` as ``_``, at most 80), a random suffix, ``.pb``."""
    return f"{_UNSAFE.sub('_', span)[:80]}.{uuid.uuid4().hex[:12]}.pb"


def now() -> str:
    """The time, in UTC, as the manifest records it (``2026-11-24T06:00:00Z``)."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def manifest_to_json(entries: Iterable[SpanEntry]) -> bytes:
    """The manifest listing `entries` (sorted by span), as UTF-8 JSON."""
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "spans": [dataclasses.asdict(e) for e in sorted(entries, key=lambda e: e.span)],
    }
    return (json.dumps(manifest, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def manifest_from_json(data: bytes, path: str) -> list[SpanEntry]:
    """The entries of the manifest `data`, read from `path`, sorted by span.

    Raises:
        DeserializationError: `data` is not such a manifest, or one of another version; the
            message names `path`.
    """
    try:
        manifest = json.loads(data)
    except ValueError as e:
        raise DeserializationError(f"the manifest {path} is damaged (not JSON: {e})") from e
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise DeserializationError(f"{path} is not the manifest of a statistics store")
    if manifest.get("version") != VERSION:
        raise DeserializationError(
            f"the manifest {path} has version {manifest.get('version')!r}; this beam-stats "
            f"reads version {VERSION}"
        )
    if not isinstance(manifest.get("spans"), list):
        raise DeserializationError(f"the manifest {path} is damaged (no list of spans)")
    entries = [
        _entry_from_json(value, f"entry {i} of the manifest {path}")
        for i, value in enumerate(manifest["spans"])
    ]
    keys = [e.span for e in entries]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise DeserializationError(f"the manifest {path} lists spans more than once: {twice}")
    return sorted(entries, key=lambda e: e.span)


def _entry_from_json(value: Any, where: str) -> SpanEntry:
    if not isinstance(value, dict) or sorted(value) != sorted(_FIELDS):
        raise DeserializationError(
            f"{where} is damaged: not a span entry (fields {', '.join(_FIELDS)})"
        )
    texts = ("span", "file", "sha256", "added")
    counts = ("num_examples", "num_features", "size")
    if not all(isinstance(value[k], str) for k in texts) or not all(
        type(value[k]) is int and value[k] >= 0 for k in counts
    ):
        raise DeserializationError(f"{where} is damaged: a field of the wrong type in {value!r}")
    try:
        check_span(value["span"])
    except InvalidInputError as e:
        raise DeserializationError(f"{where} is damaged: {e}") from e
    if not value["file"] or "/" in value["file"] or not _SHA256.fullmatch(value["sha256"]):
        raise DeserializationError(f"{where} is damaged: a bad file name or checksum in {value!r}")
    return SpanEntry(**value)
