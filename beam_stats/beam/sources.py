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
* The steps are :mod:`beam_stats.beam.reading`'s (Beam-free: the in-process engine runs
  them too); the DoFns here only send their error records to the ``errors`` output.
* Under an active privacy policy (``privacy=``), no error message quotes the input: a
  line that does not parse, a value of the wrong type or an exception's text is shown as
  ``<redacted>``; file, line, kind and column names stay.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import apache_beam as beam
import pyarrow as pa
from apache_beam.typehints.decorators import no_annotations

from beam_stats.beam._outputs import ParDoWithTaggedOutput
from beam_stats.beam.formats import FORMATS, format_of
from beam_stats.beam.problems import error_record
from beam_stats.beam.reading import (
    BATCH_SIZE,
    BLOCK_SIZE,
    Unit,
    UnitReader,
    hides_values,
    match_files,
    work_units,
)
from beam_stats.beam.writing import input_pattern
from beam_stats.errors import InvalidInputError
from beam_stats.stats.privacy import PrivacySpec

__all__ = [
    "ERRORS",
    "FORMATS",
    "ReadRecordBatches",
    "ReadResult",
    "error_record",
    "format_of",
]

ERRORS = "errors"
_WILDCARDS = "*?["


def _tagged(items: Iterator[Any]) -> Iterator[Any]:
    """`items` with their error records (dicts) as the ``errors`` output."""
    for item in items:
        yield beam.pvalue.TaggedOutput(ERRORS, item) if isinstance(item, dict) else item


class _MatchFiles(beam.DoFn):
    """:func:`~beam_stats.beam.reading.match_files`."""

    def __init__(self, file_format: str | None) -> None:
        self._format = file_format

    def process(self, pattern: str) -> Iterator[Any]:
        return _tagged(match_files(pattern, self._format))


class _WorkUnits(beam.DoFn):
    """:func:`~beam_stats.beam.reading.work_units`."""

    def __init__(self, batch_size: int) -> None:
        self._batch_size = batch_size

    def process(self, item: tuple[str, str]) -> Iterator[Any]:
        return _tagged(work_units(item, self._batch_size))


class _ReadUnit(beam.DoFn):
    """:class:`~beam_stats.beam.reading.UnitReader`."""

    def __init__(
        self, batch_size: int, block_size: int, hide_values: bool = False, with_paths: bool = False
    ) -> None:
        self._reader = UnitReader(batch_size, block_size, hide_values, with_paths)

    def process(self, unit: Unit) -> Iterator[Any]:
        return _tagged(self._reader.read(unit))


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
        batch_size: int = BATCH_SIZE,
        block_size: int = BLOCK_SIZE,
        *,
        privacy: PrivacySpec | None = None,
        with_paths: bool = False,
    ) -> None:
        super().__init__()
        self._hide_values = hides_values(privacy)
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
