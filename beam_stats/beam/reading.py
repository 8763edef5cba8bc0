"""The steps of reading input files, without Beam: what
:class:`~beam_stats.beam.sources.ReadRecordBatches` runs as DoFns in a pipeline, and the
in-process engine calls in order (:func:`read_in_process`). This module imports no
apache_beam (local files are matched and opened directly).

Each step yields its outputs and, as dicts, error records
(:func:`~beam_stats.beam.problems.error_record`): (1) :func:`match_files`, a pattern to
(file key, (path, format)); (2) :func:`work_units`, a file to work units (path, format,
first, last): Parquet ranges of row groups, else the whole file; (3) :class:`UnitReader`, a
work unit to record batches. :class:`RowCounter` logs the rows read so far.

Asked to (`column_parts`, the in-process engine when no statistic needs whole rows), a wide
Parquet row group is read a few columns at a time (:mod:`beam_stats.beam.column_parts`).
"""

from __future__ import annotations

import glob
import json
import logging
import os
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from beam_stats.beam import tfrecord
from beam_stats.beam._inputs import open_input
from beam_stats.beam.column_parts import ColumnPart, part_columns, read_parts
from beam_stats.beam.csvfiles import read_csv
from beam_stats.beam.formats import format_of, is_local
from beam_stats.beam.jsonlines import read_jsonl
from beam_stats.beam.matching import match
from beam_stats.beam.problems import error_record, published, with_unique_names
from beam_stats.errors import InvalidInputError
from beam_stats.stats.privacy import PrivacySpec
from beam_stats.stats.row_privacy import REDACTED

#: A work unit: (path, format, first row group, last row group); (-1, -1) is an empty
#: Parquet file, (0, 0) a whole file of another format.
Unit = tuple[str, str, int, int]
# Parquet row groups are read together up to about this many bytes (and batch_size rows).
_RANGE_BYTES = 64 << 20
# A work unit of one row group of at least this many columns is read whole
# (``read_row_group``, columns decoded in parallel) rather than streamed (``iter_batches``):
# on 1,000 columns x 50k rows 0.5x the time and 0.6x the memory, on 100 columns 0.55x; on
# 20 columns streaming is as fast or faster (issue 16, benchmarks/RESULTS.md).
WIDE_COLUMNS = 100
# A work unit of one row group of at most this many rows is read whole, in this thread.
SMALL_GROUP_ROWS = 16_384
#: Rows per record batch read, and bytes per CSV or JSON-lines block: the defaults of
#: :class:`~beam_stats.beam.sources.ReadRecordBatches` and of the in-process engine.
BATCH_SIZE = 131072
BLOCK_SIZE = 4 << 20
#: The least time between two progress lines of one worker.
PROGRESS_SECONDS = 5.0
_PROGRESS = logging.getLogger("beam_stats.progress")


def match_files(pattern: str, file_format: str | None) -> Iterator[Any]:
    """A pattern to (file key, (path, format)), and error records: the key is the real path
    of a local file, so that a file matched by overlapping patterns (or through a link) is
    read once; the format is `file_format` or the file's suffix's."""
    try:
        found = match(pattern)
    except Exception as e:  # a bad pattern or file system: the others go on
        yield error_record(pattern, "unreadable_file", f"cannot match the pattern: {e}")
        return
    if is_local(pattern):
        yield from _not_files(pattern, found)
    if not found:
        yield error_record(pattern, "no_match", "no file matches the pattern")
    for path in found:
        key = os.path.realpath(path) if is_local(path) else path
        try:
            yield key, (path, file_format or format_of(path))
        except InvalidInputError as e:
            yield error_record(path, "unknown_format", str(e))


def _not_files(pattern: str, found: list[str]) -> Iterator[dict[str, Any]]:
    """Records for what a local pattern matches that is not a readable file."""
    files = set(found)
    for path in glob.glob(pattern.removeprefix("file://")):
        if path in files or os.path.isfile(path):
            continue
        what = "a directory" if os.path.isdir(path) else "a dangling link or not a file"
        yield error_record(path, "unreadable_file", f"matched by {pattern!r} but {what}")


def work_units(item: tuple[str, str], batch_size: int) -> Iterator[Any]:
    """(path, format) to work units (:data:`Unit`) and error records: Parquet ranges of row
    groups of about `batch_size` rows (-1, -1 for an empty file), else the whole file."""
    for unit, _ in _opened_units(item, batch_size):
        yield unit


def _opened_units(
    item: tuple[str, str], batch_size: int
) -> Iterator[tuple[Any, pq.ParquetFile | None]]:
    """:func:`work_units`, each with the Parquet file opened to find it (None for other
    formats and error records), for a reader in the same process to read it from."""
    path, file_format = item
    if file_format != "parquet":
        yield (path, file_format, 0, 0), None
        return
    try:
        parquet = pq.ParquetFile(open_input(path))
    except Exception as e:  # Arrow raises several types for corrupt files
        yield error_record(path, "unreadable_file", str(e)), None
        return
    metadata = parquet.metadata
    if metadata.num_rows == 0:
        yield error_record(path, "empty_file", "the file has no rows"), None
        yield (path, file_format, -1, -1), parquet
        return
    first = rows = size = 0
    for group in range(metadata.num_row_groups):
        rows += metadata.row_group(group).num_rows
        size += metadata.row_group(group).total_byte_size
        if rows >= batch_size or size >= _RANGE_BYTES:
            yield (path, file_format, first, group), parquet
            first, rows, size = group + 1, 0, 0
    if first < metadata.num_row_groups:
        yield (path, file_format, first, metadata.num_row_groups - 1), parquet


class UnitReader:
    """Reads one work unit to record batches (``(path, batch)`` `with_paths`) and error
    records; whatever goes wrong is an error record, never an exception.

    Args:
        batch_size: rows per Parquet batch, records per TFRecord batch.
        block_size: bytes per CSV or JSON-lines block, and at most per TFRecord batch.
        hide_values: error messages leave out what they would quote of the input
            (:func:`~beam_stats.beam.problems.published`).
        column_parts: a Parquet row group of at least :data:`WIDE_COLUMNS` columns and of
            more than :data:`PART_BYTES` is read as :class:`ColumnPart` items: groups of
            columns of about that size (at least one column), cut into `batch_size` rows
            (top-level column names unique, not empty and without a dot). If a part cannot
            be read, the parts before it were given (and an error record says so).
    """

    def __init__(
        self,
        batch_size: int,
        block_size: int,
        hide_values: bool = False,
        with_paths: bool = False,
        column_parts: bool = False,
    ) -> None:
        self._batch_size, self._block_size = batch_size, block_size
        self._hide_values, self._with_paths = hide_values, with_paths
        self._column_parts = column_parts

    def read(self, unit: Unit, parquet: pq.ParquetFile | None = None) -> Iterator[Any]:
        """The batches and error records of `unit`; `parquet`: its file, already opened."""
        path, file_format, first, last = unit
        renamed = False
        try:
            for item in self._items(path, file_format, first, last, parquet):
                if isinstance(item, dict):
                    yield published(item, self._hide_values)
                    continue
                if isinstance(item, ColumnPart):  # names checked over the row group
                    yield (path, item) if self._with_paths else item
                    continue
                if file_format != "csv":  # CSV renames from the header, once
                    item, problems = with_unique_names(path, item)
                    if not renamed:
                        yield from problems
                    renamed = renamed or bool(problems)
                yield (path, item) if self._with_paths else item
        except Exception as e:  # noqa: BLE001 - one bad file must not end the run
            where = f"row groups {first}-{last}: " if file_format == "parquet" else ""
            # The exception's text may quote the file: left out under a privacy policy.
            text = REDACTED if self._hide_values else str(e)
            message = f"{where}{type(e).__name__}: {text}"[:1000]
            kind = "unreadable_row_group" if file_format == "parquet" else "unreadable_file"
            yield error_record(path, kind, message)

    def _items(
        self, path: str, file_format: str, first: int, last: int, parquet: pq.ParquetFile | None
    ) -> Iterator[Any]:
        if file_format == "csv":
            yield from read_csv(path, self._block_size)
        elif file_format == "jsonl":
            yield from read_jsonl(path, self._block_size)
        elif file_format == "tfrecord":
            for item in tfrecord.read_examples(path, self._batch_size, self._block_size):
                if isinstance(item, tfrecord.Problem):
                    error = error_record(path, item.kind, item.message)
                    yield {**error, "record": item.record}
                else:
                    yield item
        else:
            parquet = parquet or pq.ParquetFile(open_input(path))
            if first < 0:  # an empty file: its columns, no rows
                yield pa.RecordBatch.from_pylist([], schema=parquet.schema_arrow)
                return
            yield from self._parquet_batches(path, parquet, first, last)
            _PROGRESS.info(
                "done: %s row groups %d-%d of %d",
                path,
                first + 1,
                last + 1,
                parquet.num_row_groups,
            )
            return
        _PROGRESS.info("done: %s", path)

    def _parquet_batches(
        self, path: str, parquet: pq.ParquetFile, first: int, last: int
    ) -> Iterator[Any]:
        """The batches of row groups `first` to `last`, as ``iter_batches`` cuts them."""
        rows = parquet.metadata.row_group(first).num_rows
        wide = first == last and parquet.metadata.num_columns >= WIDE_COLUMNS
        parts = part_columns(parquet, first) if wide and self._column_parts else None
        if parts is not None:
            yield from read_parts(path, parquet, first, parts, self._batch_size)
            return
        if first == last and 0 < rows <= min(SMALL_GROUP_ROWS, self._batch_size):
            # One batch either way; streaming's set-up costs more than reading a small
            # group (2,000 files of 500 rows: 1.3-2.4 ms per file against 0.9, issue 16).
            table = parquet.read_row_group(first, use_threads=False)
            yield from table.to_batches(max_chunksize=self._batch_size)
            return
        if wide:
            table = parquet.read_row_group(first)
            # One chunk per column: the same batches as streaming (batch_size rows each).
            if all(column.num_chunks == 1 for column in table.columns):
                yield from table.to_batches(max_chunksize=self._batch_size)
                return
        groups = list(range(first, last + 1))
        yield from parquet.iter_batches(batch_size=self._batch_size, row_groups=groups)


def opened_units(
    patterns: Sequence[str], file_format: str | None, batch_size: int
) -> Iterator[Any]:
    """The work units of the files `patterns` match, each with its Parquet file opened to
    find it (None for other formats), and error records (dicts) as they come: the files
    in the order of their keys, each once."""
    found: dict[str, tuple[str, str]] = {}
    for pattern in patterns:
        for item in match_files(pattern, file_format):
            if isinstance(item, dict):
                yield item
            else:
                key, path_format = item
                found[key] = min(found.get(key, path_format), path_format)
    for key in sorted(found):
        for unit, parquet in _opened_units(found[key], batch_size):
            yield unit if isinstance(unit, dict) else (unit, parquet)


def read_in_process(
    patterns: Sequence[str],
    file_format: str | None = None,
    batch_size: int = BATCH_SIZE,
    block_size: int = BLOCK_SIZE,
    *,
    privacy: PrivacySpec | None = None,
    column_parts: bool = False,
) -> Iterator[pa.RecordBatch | ColumnPart | dict[str, Any]]:
    """What :class:`~beam_stats.beam.sources.ReadRecordBatches` reads, in this process and
    without a pipeline: its steps called in order, file by file (:func:`opened_units`).
    Yields record batches (and column parts) and error records (dicts) as they come.

    For local patterns that :func:`~beam_stats.beam.writing.input_pattern` has already
    made matchable; arguments as ``ReadRecordBatches``, and `column_parts` as
    :class:`UnitReader`'s.
    """
    read = UnitReader(batch_size, block_size, hides_values(privacy), column_parts=column_parts)
    for item in opened_units(patterns, file_format, batch_size):
        if isinstance(item, dict):
            yield item
        else:
            yield from read.read(*item)


def hides_values(privacy: PrivacySpec | None) -> bool:
    """Whether error messages leave out the input's values under `privacy`."""
    return privacy is not None and privacy.active


def record_line(record: dict[str, Any]) -> bytes:
    """An error record as a line of the errors file (JSON lines)."""
    return json.dumps(record).encode("utf-8") + b"\n"


class RowCounter:
    """Counts the rows of record batches; logs the count (logger ``beam_stats.progress``)
    every `every_seconds` and when :meth:`done`."""

    def __init__(self, label: str, every_seconds: float = PROGRESS_SECONDS) -> None:
        self._label, self._every = label, every_seconds
        self.rows = 0
        self._last = time.monotonic()

    def count(self, batch: pa.RecordBatch | ColumnPart) -> None:
        if isinstance(batch, ColumnPart):  # the rows of a batch read in parts, once
            if batch.columns:
                return
            batch = batch.batch
        self.rows += batch.num_rows
        now = time.monotonic()
        if now - self._last >= self._every:
            self._last = now
            _PROGRESS.info("%s: %s rows read", self._label, f"{self.rows:,}")

    def done(self, rows: int | None = None) -> None:
        """Logs the rows counted (or `rows`, counted elsewhere) as done."""
        self.rows = self.rows if rows is None else rows
        if self.rows:
            _PROGRESS.info("%s: %s rows read, done", self._label, f"{self.rows:,}")
