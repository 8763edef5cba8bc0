"""Beam sources: Parquet, CSV, JSON-lines and TFRecord files to Arrow record batches.

:class:`ReadRecordBatches` expands file patterns (any Beam file system), reads the files in
parallel (Parquet by ranges of row groups, the others by file) and returns two PCollections:
``batches`` (``pyarrow.RecordBatch``) and ``errors`` (one JSON-able dict per problem, with
the file and, where known, the line). Bad input never stops the run and is never dropped
silently: each problem is an error record and a Beam counter, and a file that fails in a
way no reader foresaw is one ``unreadable_file`` record (after the rows already read).

* Matching: each file is read once, whatever patterns match it, in the format of its own
  suffix (so ``data/*`` may mix formats), compressed or not (``.gz``, ``.deflate``, ...).
  A directory, a dangling link or a file of unknown suffix matched by a pattern, and a
  pattern matching nothing, are error records.
* Parquet: an unreadable file is an error record; an empty file still contributes its
  columns (as an empty batch) and an ``empty_file`` record. Small row groups are read
  together (one footer read per range, not per row group).
* CSV: see :mod:`beam_stats.beam.csvfiles`. JSON lines: see :mod:`beam_stats.beam.jsonlines`.
* TFRecord files of ``tf.Example``: see :mod:`beam_stats.beam.tfrecord`; their error records
  also carry ``record``, the record's number in the file (from 0).
* Repeated column names become distinct features (``name (2)``), with a
  ``duplicate_column`` record.
* Under an active privacy policy (``privacy=``), no error message quotes the input: a
  line that does not parse, a value of the wrong type or an exception's text is shown as
  ``<redacted>``; file, line, kind and column names stay.
"""

from __future__ import annotations

import glob
import logging
import os
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems
from apache_beam.typehints.decorators import no_annotations

from beam_stats.beam import tfrecord
from beam_stats.beam._inputs import open_input
from beam_stats.beam._outputs import ParDoWithTaggedOutput
from beam_stats.beam.csvfiles import read_csv
from beam_stats.beam.formats import FORMATS, format_of, is_local
from beam_stats.beam.jsonlines import read_jsonl
from beam_stats.beam.problems import error_record, published, with_unique_names
from beam_stats.beam.writing import input_pattern
from beam_stats.errors import InvalidInputError
from beam_stats.stats.privacy import PrivacySpec
from beam_stats.stats.row_privacy import REDACTED

__all__ = [
    "ERRORS",
    "FORMATS",
    "ReadRecordBatches",
    "ReadResult",
    "error_record",
    "format_of",
    "read_in_process",
]

ERRORS = "errors"
_WILDCARDS = "*?["
# Parquet row groups are read together up to about this many bytes (and batch_size rows).
_RANGE_BYTES = 64 << 20
# A work unit of one row group of at least this many columns is read whole
# (``read_row_group``, columns decoded in parallel) rather than streamed (``iter_batches``):
# on 1,000 columns x 50k rows 0.5x the time and 0.6x the memory, on 100 columns 0.55x; on
# 20 columns streaming is as fast or faster (issue 16, benchmarks/RESULTS.md).
WIDE_COLUMNS = 100
# A work unit of one row group of at most this many rows is read whole, in this thread.
SMALL_GROUP_ROWS = 16_384
_PROGRESS = logging.getLogger("beam_stats.progress")


class _MatchFiles(beam.DoFn):
    """A pattern to (file key, (path, format)): the key is the real path of a local file, so
    that a file matched by overlapping patterns (or through a link) is read once."""

    def __init__(self, file_format: str | None) -> None:
        self._format = file_format

    def process(self, pattern: str) -> Iterator[Any]:
        try:
            (result,) = FileSystems.match([pattern])
            found = [m.path for m in result.metadata_list]
        except Exception as e:  # a bad pattern or file system: the others go on
            yield _error(pattern, "unreadable_file", f"cannot match the pattern: {e}")
            return
        if is_local(pattern):
            yield from self._not_files(pattern, found)
        if not found:
            yield _error(pattern, "no_match", "no file matches the pattern")
        for path in found:
            key = os.path.realpath(path) if is_local(path) else path
            try:
                yield key, (path, self._format or format_of(path))
            except InvalidInputError as e:
                yield _error(path, "unknown_format", str(e))

    @staticmethod
    def _not_files(pattern: str, found: list[str]) -> Iterator[Any]:
        """Records for what a local pattern matches that is not a readable file."""
        files = set(found)
        for path in glob.glob(pattern.removeprefix("file://")):
            if path in files or os.path.isfile(path):
                continue
            what = "a directory" if os.path.isdir(path) else "a dangling link or not a file"
            yield _error(path, "unreadable_file", f"matched by {pattern!r} but {what}")


def _error(path: str, kind: str, message: str, line: int | None = None) -> Any:
    return beam.pvalue.TaggedOutput(ERRORS, error_record(path, kind, message, line))


class _WorkUnits(beam.DoFn):
    """(path, format) to work units (path, format, first, last): Parquet ranges of row
    groups (-1, -1 for an empty file), else the whole file (0, 0)."""

    def __init__(self, batch_size: int) -> None:
        self._batch_size = batch_size

    def process(self, item: tuple[str, str]) -> Iterator[Any]:
        path, file_format = item
        if file_format != "parquet":
            yield path, file_format, 0, 0
            return
        try:
            metadata = pq.ParquetFile(open_input(path)).metadata
        except Exception as e:  # Arrow raises several types for corrupt files
            yield _error(path, "unreadable_file", str(e))
            return
        if metadata.num_rows == 0:
            yield _error(path, "empty_file", "the file has no rows")
            yield path, file_format, -1, -1
            return
        first = rows = size = 0
        for group in range(metadata.num_row_groups):
            rows += metadata.row_group(group).num_rows
            size += metadata.row_group(group).total_byte_size
            if rows >= self._batch_size or size >= _RANGE_BYTES:
                yield path, file_format, first, group
                first, rows, size = group + 1, 0, 0
        if first < metadata.num_row_groups:
            yield path, file_format, first, metadata.num_row_groups - 1


class _ReadUnit(beam.DoFn):
    """Reads one work unit; whatever goes wrong is an error record, never a failed run."""

    def __init__(
        self, batch_size: int, block_size: int, hide_values: bool = False, with_paths: bool = False
    ) -> None:
        self._batch_size, self._block_size = batch_size, block_size
        self._hide_values, self._with_paths = hide_values, with_paths

    def process(self, unit: tuple[str, str, int, int]) -> Iterator[Any]:
        path, file_format, first, last = unit
        renamed = False
        try:
            for item in self._items(path, file_format, first, last):
                if isinstance(item, dict):
                    yield beam.pvalue.TaggedOutput(ERRORS, published(item, self._hide_values))
                    continue
                if file_format != "csv":  # CSV renames from the header, once
                    item, problems = with_unique_names(path, item)
                    if not renamed:
                        for problem in problems:
                            yield beam.pvalue.TaggedOutput(ERRORS, problem)
                    renamed = renamed or bool(problems)
                yield (path, item) if self._with_paths else item
        except Exception as e:  # noqa: BLE001 - one bad file must not end the run
            where = f"row groups {first}-{last}: " if file_format == "parquet" else ""
            # The exception's text may quote the file: left out under a privacy policy.
            text = REDACTED if self._hide_values else str(e)
            message = f"{where}{type(e).__name__}: {text}"[:1000]
            kind = "unreadable_row_group" if file_format == "parquet" else "unreadable_file"
            yield _error(path, kind, message)

    def _items(self, path: str, file_format: str, first: int, last: int) -> Iterator[Any]:
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
            parquet = pq.ParquetFile(open_input(path))
            if first < 0:  # an empty file: its columns, no rows
                yield pa.RecordBatch.from_pylist([], schema=parquet.schema_arrow)
                return
            yield from self._parquet_batches(parquet, first, last)
            _PROGRESS.info(
                "done: %s row groups %d-%d of %d",
                path,
                first + 1,
                last + 1,
                parquet.num_row_groups,
            )
            return
        _PROGRESS.info("done: %s", path)

    def _parquet_batches(self, parquet: pq.ParquetFile, first: int, last: int) -> Iterator[Any]:
        """The batches of row groups `first` to `last`, as ``iter_batches`` cuts them."""
        rows = parquet.metadata.row_group(first).num_rows
        if first == last and 0 < rows <= min(SMALL_GROUP_ROWS, self._batch_size):
            # One batch either way; streaming's set-up costs more than reading a small
            # group (2,000 files of 500 rows: 1.3-2.4 ms per file against 0.9, issue 16).
            table = parquet.read_row_group(first, use_threads=False)
            yield from table.to_batches(max_chunksize=self._batch_size)
            return
        if first == last and parquet.metadata.num_columns >= WIDE_COLUMNS:
            table = parquet.read_row_group(first)
            # One chunk per column: the same batches as streaming (batch_size rows each).
            if all(column.num_chunks == 1 for column in table.columns):
                yield from table.to_batches(max_chunksize=self._batch_size)
                return
        groups = list(range(first, last + 1))
        yield from parquet.iter_batches(batch_size=self._batch_size, row_groups=groups)


def read_in_process(
    patterns: Sequence[str],
    file_format: str | None = None,
    batch_size: int = 131072,
    block_size: int = 4 << 20,
    *,
    privacy: PrivacySpec | None = None,
) -> Iterator[pa.RecordBatch | dict[str, Any]]:
    """What :class:`ReadRecordBatches` reads, in this process and without a pipeline: its
    steps' DoFns called in order, file by file (files in the order of their keys, each
    read once). Yields record batches and error records (dicts) as they come.

    For local patterns that :func:`~beam_stats.beam.writing.input_pattern` has already
    made matchable; arguments as :class:`ReadRecordBatches`.
    """
    hide_values = privacy is not None and privacy.active
    match, units = _MatchFiles(file_format), _WorkUnits(batch_size)
    read = _ReadUnit(batch_size, block_size, hide_values)
    found: dict[str, tuple[str, str]] = {}
    for pattern in patterns:
        for item in match.process(pattern):
            if isinstance(item, beam.pvalue.TaggedOutput):
                yield item.value
            else:
                key, path_format = item
                found[key] = min(found.get(key, path_format), path_format)
    for key in sorted(found):
        for unit in units.process(found[key]):
            if isinstance(unit, beam.pvalue.TaggedOutput):
                yield unit.value
                continue
            for item in read.process(unit):
                yield item.value if isinstance(item, beam.pvalue.TaggedOutput) else item


class ReadResult(NamedTuple):
    """What :class:`ReadRecordBatches` returns."""

    batches: beam.pvalue.PCollection  # pyarrow.RecordBatch, or (path, RecordBatch)
    errors: beam.pvalue.PCollection  # dicts: file, line, kind, message


class ReadRecordBatches(beam.PTransform):
    """File patterns to ``pyarrow.RecordBatch`` es, plus an ``errors`` output.

    Args:
        patterns: file patterns (globs) on any Beam file system.
        file_format: ``parquet``, ``csv``, ``jsonl`` or ``tfrecord`` (of ``tf.Example``) for
            every pattern; by default each pattern's own suffix, so formats can be mixed.
        batch_size: rows per Parquet batch, records per TFRecord batch.
        block_size: bytes per CSV or JSON-lines block, and at most per TFRecord batch.
        privacy: when active, error messages leave out what they would quote of the input
            (a line, a value, an exception's text) (:func:`~beam_stats.beam.problems.published`).
        with_paths: each element of ``batches`` is ``(path, RecordBatch)``, the path of the
            file the rows come from, as the patterns matched it (a file matched by several
            paths, e.g. through a link, under the least of them).

    Returns (from ``expand``): a :class:`ReadResult` with ``.batches`` and ``.errors``.
    """

    def __init__(
        self,
        patterns: str | Sequence[str],
        file_format: str | None = None,
        batch_size: int = 131072,
        block_size: int = 4 << 20,
        *,
        privacy: PrivacySpec | None = None,
        with_paths: bool = False,
    ) -> None:
        super().__init__()
        self._hide_values = privacy is not None and privacy.active
        self._with_paths = with_paths
        given = [patterns] if isinstance(patterns, str) else list(patterns)
        self._patterns = [input_pattern(p) for p in given]  # "*.csv" matches in "./"
        if not self._patterns:
            raise InvalidInputError("no input pattern given")
        if file_format is not None and file_format not in FORMATS:
            raise InvalidInputError(f"format must be one of {FORMATS}, got {file_format!r}")
        # A file path (no wildcard) whose suffix names no format is a usage error; a glob's
        # files are told apart by their own suffixes.
        for pattern in self._patterns:
            if file_format is None and not any(c in pattern for c in _WILDCARDS):
                format_of(pattern)
        self._format = file_format
        if batch_size < 1 or block_size < 1024:
            raise InvalidInputError(
                f"batch_size must be >= 1 and block_size >= 1024, got {batch_size}, {block_size}"
            )
        self._batch_size = batch_size
        self._block_size = block_size

    def expand(self, pipeline: beam.pvalue.PBegin) -> ReadResult:
        # Not ParDo(...).with_outputs(ERRORS): the DaskRunner mixes such outputs (_outputs.py).
        # One element per pattern (on Dask, where Reshuffle does nothing, the patterns'
        # partitions are how the work spreads); a file matched twice is read once.
        keyed, match_errors = (
            pipeline
            | "Patterns" >> beam.Create(self._patterns)
            | "Match" >> ParDoWithTaggedOutput(_MatchFiles(self._format), ERRORS)
        )
        files = (
            keyed
            | "ByFile" >> beam.GroupByKey()
            | "OncePerFile" >> beam.Map(lambda key_found: min(key_found[1]))
        )
        units, unit_errors = (
            files
            | "SpreadFiles" >> beam.Reshuffle()
            | "WorkUnits" >> ParDoWithTaggedOutput(_WorkUnits(self._batch_size), ERRORS)
        )
        batches, read_errors = (
            units
            | "Spread" >> beam.Reshuffle()
            | "Read"
            >> ParDoWithTaggedOutput(
                _ReadUnit(self._batch_size, self._block_size, self._hide_values, self._with_paths),
                ERRORS,
                # Typed, so that Beam's size estimates use RecordBatchCoder (batch_coder.py).
                main_type=tuple[str, pa.RecordBatch] if self._with_paths else pa.RecordBatch,
            )
        )
        errors = (match_errors, unit_errors, read_errors) | "Errors" >> beam.Flatten()
        return ReadResult(batches, errors)


# Several PCollections out: without this, Beam logs that it ignores the annotation.
no_annotations(ReadRecordBatches.expand)
