"""Beam sources: Parquet, CSV and JSON-lines files to Arrow record batches.

:class:`ReadRecordBatches` expands file patterns (any Beam file system), reads the files in
parallel (Parquet by row group, CSV and JSON lines by file) and returns two PCollections:
``batches`` (``pyarrow.RecordBatch``) and ``errors`` (one JSON-able dict per problem, with
the file and, where known, the line). Bad input never stops the run and is never dropped
silently: each problem is an error record and a Beam counter.

* Parquet: an unreadable file is an error record; an empty file still contributes its
  columns (as an empty batch) and an ``empty_file`` record.
* CSV: read as raw bytes, then each column is converted per batch to the type that its
  first non-null batch of the file reads as (int64, float64, bool, else string), allowing
  one or 1% unreadable values. Unreadable values become null, yield a ``wrong_type`` record
  naming the first of them, and are counted in the field's metadata, so the statistics
  report them too (``num_invalid_values``). Rows with the wrong number of fields yield
  ``malformed_row`` records; invalid UTF-8 stays as bytes.
* JSON lines: parsed by Arrow in blocks of lines; a block Arrow rejects is parsed again line
  by line, so that only the bad lines are reported (``malformed_row``) and columns with
  mixed types are read as strings (``wrong_type``). That slow path runs only on bad blocks.
* TFRecord files of ``tf.Example``: see :mod:`beam_stats.beam.tfrecord`; their error records
  also carry ``record``, the record's number in the file (from 0).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator, Sequence
from typing import IO, Any, NamedTuple

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.json as pjson
import pyarrow.parquet as pq
from apache_beam.io import fileio
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics.metric import Metrics
from apache_beam.typehints.decorators import no_annotations

from beam_stats.arrow import INVALID_VALUES_KEY
from beam_stats.beam import tfrecord
from beam_stats.beam._outputs import ParDoWithTaggedOutput
from beam_stats.errors import InvalidInputError

ERRORS = "errors"
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
_INTEGER = r"^[-+]?\d{1,18}$"
_NUMBER = r"^[-+]?((\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|(?i:nan|inf|infinity))$"
# A CSV column reads as numbers (or booleans) when at most one value or this share of its
# first batch's values do not; those become null and are reported, in the statistics too.
_MAX_BAD_SHARE = 0.01
_MAX_EXAMPLE = 200  # characters of a bad value or line quoted in an error record
_PROGRESS = logging.getLogger("beam_stats.progress")


def format_of(path: str) -> str:
    """The input format named by a file's suffix (compression suffixes ignored)."""
    name = path.lower()
    for compression in (".gz", ".bz2", ".zst", ".deflate"):
        name = name.removesuffix(compression)
    for suffix, fmt in _SUFFIXES.items():
        if name.endswith(suffix):
            return fmt
    if "tfrecord" in name.rsplit("/", 1)[-1]:  # TFX ExampleGen: data_tfrecord-00000-of-00001.gz
        return "tfrecord"
    raise InvalidInputError(
        f"cannot tell the format of {path!r} from its suffix; pass one of {FORMATS}"
    )


def error_record(path: str, kind: str, message: str, line: int | None = None) -> dict[str, Any]:
    """One problem with the input, as the ``errors`` output carries it."""
    Metrics.counter("beam_stats.input", kind).inc()
    return {"file": path, "line": line, "kind": kind, "message": message}


def _open(path: str) -> IO[bytes] | str:
    """A local path as is (Arrow maps it), anything else as a Beam file object."""
    if FileSystems.get_scheme(path) in (None, "file"):
        return path
    return FileSystems.open(path)


class _ParquetRowGroups(beam.DoFn):
    """File metadata to (path, row group) work units."""

    def process(self, metadata: Any) -> Iterator[Any]:
        path = metadata.path
        try:
            parquet = pq.ParquetFile(_open(path))
        except Exception as e:  # Arrow raises several types for corrupt files
            yield beam.pvalue.TaggedOutput(ERRORS, error_record(path, "unreadable_file", str(e)))
            return
        if parquet.metadata.num_rows == 0:
            yield beam.pvalue.TaggedOutput(
                ERRORS, error_record(path, "empty_file", "the file has no rows")
            )
            yield path, -1
            return
        for row_group in range(parquet.metadata.num_row_groups):
            yield path, row_group


class _ReadParquetRowGroup(beam.DoFn):
    def __init__(self, batch_size: int) -> None:
        self._batch_size = batch_size

    def process(self, unit: tuple[str, int]) -> Iterator[Any]:
        path, row_group = unit
        try:
            parquet = pq.ParquetFile(_open(path))
            if row_group < 0:  # an empty file: its columns, no rows
                yield pa.RecordBatch.from_pylist([], schema=parquet.schema_arrow)
                return
            yield from parquet.iter_batches(batch_size=self._batch_size, row_groups=[row_group])
            _PROGRESS.info(
                "done: %s row group %d of %d", path, row_group + 1, parquet.num_row_groups
            )
        except Exception as e:  # a corrupt page: report the row group, keep the others
            yield beam.pvalue.TaggedOutput(
                ERRORS, error_record(path, "unreadable_row_group", f"row group {row_group}: {e}")
            )


def _parses(text: pa.Array, target: pa.DataType) -> np.ndarray:
    """Which values of `text` read as `target` (nulls count as readable)."""
    if target == pa.bool_():
        words = pc.is_in(pc.utf8_lower(text), pa.array(["true", "false", "1", "0"]))
        ok = pc.if_else(pc.is_null(text), True, words)  # is_in says False for nulls
    else:
        ok = pc.match_substring_regex(text, _INTEGER if target == pa.int64() else _NUMBER)
    return np.asarray(pc.fill_null(ok, True), dtype=bool)


def _cast(text: pa.Array, target: pa.DataType, ok: np.ndarray) -> pa.Array | None:
    """`text` as `target` with the unreadable values null; None if Arrow disagrees."""
    clean = text if ok.all() else pc.if_else(pa.array(ok), text, None)
    try:
        return clean.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _parse_csv_column(
    raw: pa.Array, target: pa.DataType | None
) -> tuple[pa.Array, pa.DataType | None, np.ndarray]:
    """Converts one CSV column of a batch.

    Returns the array, the column's type in this file, and which values could not be read
    as that type (they are null in the array).
    """
    none = np.zeros(len(raw), dtype=bool)
    try:
        text = raw.cast(pa.string())
    except pa.ArrowInvalid:  # invalid UTF-8: keep the bytes, the statistics count them
        return raw, target, none
    present = len(text) - text.null_count
    if target is None:
        if present == 0:
            return pa.nulls(len(text)), None, none
        for candidate in (pa.int64(), pa.float64(), pa.bool_()):
            ok = _parses(text, candidate)
            bad = len(ok) - int(np.count_nonzero(ok))
            if 2 * bad < present and bad <= max(1.0, _MAX_BAD_SHARE * present):
                array = _cast(text, candidate, ok)
                if array is not None:
                    return array, candidate, ~ok
        return text, pa.string(), none
    if target == pa.string():
        return text, target, none
    ok = _parses(text, target)
    if target == pa.int64() and not ok.all():
        as_float = _parses(text, pa.float64())  # ints and floats mix without loss
        if as_float.all() and (array := _cast(text, pa.float64(), as_float)) is not None:
            return array, target, none
    array = _cast(text, target, ok)
    if array is None:
        return text, target, none
    return array, target, ~ok


class _ReadCsv(beam.DoFn):
    def __init__(self, block_size: int) -> None:
        self._block_size = block_size

    def process(self, metadata: Any) -> Iterator[Any]:
        path = metadata.path
        problems: list[dict[str, Any]] = []

        def on_invalid_row(row: Any) -> str:
            problems.append(
                error_record(
                    path,
                    "malformed_row",
                    f"expected {row.expected_columns} fields, got {row.actual_columns}: "
                    f"{row.text[:_MAX_EXAMPLE]!r}",
                    row.number,
                )
            )
            return "skip"

        try:
            names = pcsv.open_csv(
                _open(path),
                read_options=pcsv.ReadOptions(block_size=1 << 16),
                parse_options=pcsv.ParseOptions(invalid_row_handler=lambda row: "skip"),
                convert_options=pcsv.ConvertOptions(check_utf8=False),
            ).schema.names
            reader = pcsv.open_csv(
                _open(path),
                read_options=pcsv.ReadOptions(block_size=self._block_size, use_threads=False),
                # Blank lines are rows too (a one-column file's nulls), or reported as
                # malformed: never skipped silently.
                parse_options=pcsv.ParseOptions(
                    invalid_row_handler=on_invalid_row, ignore_empty_lines=False
                ),
                convert_options=pcsv.ConvertOptions(
                    column_types={name: pa.binary() for name in names},
                    strings_can_be_null=True,
                ),
            )
        except pa.ArrowInvalid as e:
            kind = "empty_file" if "Empty CSV file" in str(e) else "unreadable_file"
            yield beam.pvalue.TaggedOutput(ERRORS, error_record(path, kind, str(e)))
            return
        types: dict[str, pa.DataType | None] = dict.fromkeys(names)
        row = 0
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except pa.ArrowInvalid as e:
                problems.append(error_record(path, "unreadable_file", f"after row {row}: {e}"))
                break
            columns, fields = [], []
            for name, raw in zip(names, batch.columns, strict=True):
                array, types[name], bad = _parse_csv_column(raw, types[name])
                columns.append(array)
                num_bad = int(np.count_nonzero(bad))
                metadata = {INVALID_VALUES_KEY: str(num_bad).encode()} if num_bad else None
                fields.append(pa.field(name, array.type, metadata=metadata))
                if num_bad:
                    first = int(np.argmax(bad))
                    value = str(raw[first].as_py())[:_MAX_EXAMPLE]
                    problems.append(
                        error_record(
                            path,
                            "wrong_type",
                            f"column {name!r}: {num_bad} values in data rows {row + 1}-"
                            f"{row + batch.num_rows} are not {types[name]} (first: {value} "
                            f"in data row {row + first + 1}); read as missing",
                        )
                    )
            row += batch.num_rows
            for problem in problems:
                yield beam.pvalue.TaggedOutput(ERRORS, problem)
            problems.clear()
            yield pa.RecordBatch.from_arrays(columns, schema=pa.schema(fields))
        _PROGRESS.info("done: %s (%s rows)", path, f"{row:,}")
        if row == 0:
            problems.append(error_record(path, "empty_file", "the file has no data rows"))
        for problem in problems:
            yield beam.pvalue.TaggedOutput(ERRORS, problem)


def _rows_to_batch(
    path: str, rows: list[dict[str, Any]], first_line: int
) -> tuple[pa.RecordBatch, list[dict[str, Any]]]:
    """Line-by-line fallback: builds a batch, reading mixed-type columns as strings."""
    names = list(dict.fromkeys(name for row in rows for name in row))
    columns, problems = [], []
    for name in names:
        values = [row.get(name) for row in rows]
        try:
            columns.append(pa.array(values))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            as_text = [v if v is None or isinstance(v, str) else json.dumps(v) for v in values]
            columns.append(pa.array(as_text, pa.string()))
            problems.append(
                error_record(
                    path,
                    "wrong_type",
                    f"column {name!r} mixes value types in the block from line {first_line}; "
                    "read as strings",
                    first_line,
                )
            )
    return pa.RecordBatch.from_arrays(columns, names=names), problems


class _ReadJsonLines(beam.DoFn):
    def __init__(self, block_size: int) -> None:
        self._block_size = block_size

    def _blocks(self, f: IO[bytes]) -> Iterator[bytes]:
        rest = b""
        while chunk := f.read(self._block_size):
            data = rest + chunk
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                rest = data
                continue
            rest = data[cut:]
            yield data[:cut]
        if rest.strip():
            yield rest + b"\n"

    def _slow(self, path: str, block: bytes, first_line: int) -> Iterator[Any]:
        rows = []
        for offset, line in enumerate(block.split(b"\n")):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as e:  # also invalid UTF-8
                yield beam.pvalue.TaggedOutput(
                    ERRORS,
                    error_record(
                        path, "malformed_row", f"{e}: {line[:_MAX_EXAMPLE]!r}", first_line + offset
                    ),
                )
                continue
            if not isinstance(row, dict):
                yield beam.pvalue.TaggedOutput(
                    ERRORS,
                    error_record(
                        path, "malformed_row", "a line is not a JSON object", first_line + offset
                    ),
                )
                continue
            rows.append(row)
        if rows:
            batch, problems = _rows_to_batch(path, rows, first_line)
            for problem in problems:
                yield beam.pvalue.TaggedOutput(ERRORS, problem)
            yield batch

    def process(self, metadata: Any) -> Iterator[Any]:
        path = metadata.path
        line = 1
        with FileSystems.open(path) as f:
            for block in self._blocks(f):
                try:
                    table = pjson.read_json(
                        io.BytesIO(block),
                        read_options=pjson.ReadOptions(block_size=len(block) + 1),
                    )
                    yield from table.to_batches()
                except pa.ArrowInvalid:
                    yield from self._slow(path, block, line)
                line += block.count(b"\n")
        _PROGRESS.info("done: %s (%s lines)", path, f"{line - 1:,}")
        if line == 1:
            yield beam.pvalue.TaggedOutput(
                ERRORS, error_record(path, "empty_file", "the file has no lines")
            )


class _ReadTFRecord(beam.DoFn):
    def __init__(self, batch_size: int, block_size: int) -> None:
        self._batch_size, self._block_size = batch_size, block_size

    def process(self, metadata: Any) -> Iterator[Any]:
        path = metadata.path
        for item in tfrecord.read_examples(path, self._batch_size, self._block_size):
            if isinstance(item, tfrecord.Problem):
                error = error_record(path, item.kind, item.message)
                yield beam.pvalue.TaggedOutput(ERRORS, {**error, "record": item.record})
            else:
                yield item


class ReadResult(NamedTuple):
    """What :class:`ReadRecordBatches` returns."""

    batches: beam.pvalue.PCollection  # pyarrow.RecordBatch
    errors: beam.pvalue.PCollection  # dicts: file, line, kind, message


class ReadRecordBatches(beam.PTransform):
    """File patterns to ``pyarrow.RecordBatch`` es, plus an ``errors`` output.

    Args:
        patterns: file patterns (globs) on any Beam file system.
        file_format: ``parquet``, ``csv``, ``jsonl`` or ``tfrecord`` (of ``tf.Example``) for
            every pattern; by default each pattern's own suffix, so formats can be mixed.
        batch_size: rows per Parquet batch, records per TFRecord batch.
        block_size: bytes per CSV or JSON-lines block, and at most per TFRecord batch.

    Returns (from ``expand``): a :class:`ReadResult` with ``.batches`` and ``.errors``.
    """

    def __init__(
        self,
        patterns: str | Sequence[str],
        file_format: str | None = None,
        batch_size: int = 131072,
        block_size: int = 4 << 20,
    ) -> None:
        super().__init__()
        self._patterns = [patterns] if isinstance(patterns, str) else list(patterns)
        if not self._patterns:
            raise InvalidInputError("no input pattern given")
        if file_format is not None and file_format not in FORMATS:
            raise InvalidInputError(f"format must be one of {FORMATS}, got {file_format!r}")
        # One group of patterns per format, in the order first seen; format_of raises on a
        # pattern whose suffix names none.
        self._groups: dict[str, list[str]] = {}
        for pattern in self._patterns:
            self._groups.setdefault(file_format or format_of(pattern), []).append(pattern)
        if batch_size < 1 or block_size < 1024:
            raise InvalidInputError(
                f"batch_size must be >= 1 and block_size >= 1024, got {batch_size}, {block_size}"
            )
        self._batch_size = batch_size
        self._block_size = block_size

    def expand(self, pipeline: beam.pvalue.PBegin) -> ReadResult:
        if len(self._groups) == 1:
            ((file_format, patterns),) = self._groups.items()
            return self._read(pipeline, patterns, file_format, "")
        parts = [
            self._read(pipeline, patterns, file_format, f"{file_format}: ")
            for file_format, patterns in self._groups.items()
        ]
        return ReadResult(
            [p.batches for p in parts] | "Batches" >> beam.Flatten(),
            [p.errors for p in parts] | "Errors" >> beam.Flatten(),
        )

    def _read(
        self, pipeline: beam.pvalue.PBegin, patterns: list[str], file_format: str, prefix: str
    ) -> ReadResult:
        files = (
            pipeline
            | f"{prefix}Patterns" >> beam.Create(patterns)
            | f"{prefix}Match" >> fileio.MatchAll()
        )
        # Not ParDo(...).with_outputs(ERRORS): the DaskRunner mixes such outputs (_outputs.py).
        if file_format == "parquet":
            units, unit_errors = files | f"{prefix}RowGroups" >> ParDoWithTaggedOutput(
                _ParquetRowGroups(), ERRORS
            )
            batches, read_errors = (
                units
                | f"{prefix}Spread" >> beam.Reshuffle()
                | f"{prefix}Read"
                >> ParDoWithTaggedOutput(_ReadParquetRowGroup(self._batch_size), ERRORS)
            )
            errors = (unit_errors, read_errors) | f"{prefix}Errors" >> beam.Flatten()
            return ReadResult(batches, errors)
        if file_format == "tfrecord":
            reader: beam.DoFn = _ReadTFRecord(self._batch_size, self._block_size)
        else:
            reader = (_ReadCsv if file_format == "csv" else _ReadJsonLines)(self._block_size)
        batches, errors = (
            files
            | f"{prefix}Spread" >> beam.Reshuffle()
            | f"{prefix}Read" >> ParDoWithTaggedOutput(reader, ERRORS)
        )
        return ReadResult(batches, errors)


# Several PCollections out: without this, Beam logs that it ignores the annotation.
no_annotations(ReadRecordBatches.expand)
