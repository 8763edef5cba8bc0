"""CSV files to Arrow record batches (see :mod:`beam_stats.beam.sources`).

Read as raw bytes, then each column is converted per batch to the type that its first
non-null batch of the file reads as (int64, float64, bool, else string), allowing one or 1%
unreadable values. Unreadable values become null, yield a ``wrong_type`` record naming the
first of them, and are counted in the field's metadata, so the statistics report them too
(``num_invalid_values``). Rows with the wrong number of fields yield ``malformed_row``
records (bytes that are not UTF-8 escaped in the message); a column holding invalid UTF-8
stays bytes. Arrow is given the file through :class:`~beam_stats.beam._utf8.EscapedStream`,
so that it can hand such a row to the invalid-row handler.

Only an empty cell is missing: ``NA``, ``N/A``, ``null`` ... are values (the country code
"NA" is one), as with pandas' ``keep_default_na=False`` and TFDV's CSV decoder; ``NaN`` in a
number column is a float NaN (``num_nan``). A header that is not UTF-8 is read with its bad
bytes escaped; repeated header names become distinct features (``name (2)``). A row longer
than a block makes the reader start again after the rows already read, with bigger blocks.

A row is a CSV record: a quoted value runs to its closing quote, line breaks included (the
reader is told so, else a block could start inside a value), and rows are numbered as
records, the header being 1. A quote never closed makes Arrow read every line after it
into the last value: that row is one ``malformed_row`` record and is left out.

A file that is not text (a NUL byte in its first 64 KiB) is one ``unreadable_file`` record.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from beam_stats.arrow import INVALID_VALUES_KEY
from beam_stats.beam._inputs import open_stream
from beam_stats.beam._utf8 import EscapedStream, quoted, unescape, unescape_text
from beam_stats.beam.problems import MAX_EXAMPLE, error_record, unique_names
from beam_stats.stats.row_privacy import REDACTED

_INTEGER = r"^[-+]?\d{1,18}$"
_NUMBER = r"^[-+]?((\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|(?i:nan|inf|infinity))$"
# A CSV column reads as numbers (or booleans) when at most one value or this share of its
# first batch's values do not; those become null and are reported, in the statistics too.
_MAX_BAD_SHARE = 0.01
_SNIFF = 1 << 16
_MAX_BLOCK = 1 << 30  # a row longer than this is not read

Item: TypeAlias = pa.RecordBatch | dict[str, Any]


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


def _parse_column(
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


def _header(path: str) -> tuple[list[str], bool, list[str]]:
    """The column names, whether they differ from the header's own (then the reader is
    given them), and a message per change."""
    with EscapedStream(open_stream(path)) as f:
        header = pcsv.open_csv(
            f,
            read_options=pcsv.ReadOptions(block_size=_SNIFF, use_threads=False),
            parse_options=pcsv.ParseOptions(invalid_row_handler=lambda row: "skip"),
            convert_options=pcsv.ConvertOptions(check_utf8=False),
        ).schema.names
    names = [unescape_text(name) for name in header]
    messages = []
    if names != header:
        messages.append(f"the header is not UTF-8; its names read as {names!r}"[:MAX_EXAMPLE])
    distinct, renames = unique_names(names)
    return distinct, bool(messages or renames), messages + renames


def read_csv(path: str, block_size: int) -> Iterator[Item]:
    """The batches of one CSV file and its error records (dicts)."""
    with open_stream(path) as f:
        start = f.read(_SNIFF)
    if b"\0" in start:
        offset = start.index(b"\0")
        yield error_record(
            path, "unreadable_file", f"not a CSV text file: a NUL byte at byte {offset}"
        )
        return
    try:
        names, given, messages = _header(path)
    except pa.ArrowInvalid as e:
        empty = "Empty CSV file" in str(e)
        without = None if empty else f"ArrowInvalid: {REDACTED}"  # Arrow may quote the row
        yield error_record(
            path, "empty_file" if empty else "unreadable_file", str(e), without_values=without
        )
        return
    for message in messages:
        kind = "duplicate_column" if "repeats the name" in message else "bad_header"
        yield error_record(path, kind, message, 1)
    types: dict[str, pa.DataType | None] = dict.fromkeys(names)
    rows = malformed = 0  # data rows read, and rows reported malformed
    # The last batch is held back until the file ends: its last row may be an unclosed quote.
    held: tuple[pa.RecordBatch, pa.RecordBatch] | None = None
    while True:
        bad_rows = _InvalidRows(path)  # filled by the reader's invalid-row handler
        try:
            with EscapedStream(open_stream(path)) as stream:
                skip = rows + malformed  # rows, not lines: a value may hold line breaks
                reader = _open_reader(stream, names, given, block_size, skip, bad_rows)
                for batch in iter(reader.read_next_batch, None):
                    malformed += len(bad_rows.records)
                    yield from bad_rows.take()
                    batch = pa.RecordBatch.from_arrays(
                        [unescape(column, stream.escaped) for column in batch.columns],
                        schema=batch.schema,
                    )
                    converted, problems = _convert(path, names, types, batch, rows)
                    yield from problems
                    if held is not None:
                        yield held[1]
                    held = (batch, converted)
                    rows += batch.num_rows
            yield from bad_rows.take()
            break
        except pa.ArrowInvalid as e:
            if "straddl" in str(e) and block_size < _MAX_BLOCK:
                block_size *= 4  # a row longer than a block: start after the rows read
                continue  # the bad rows of the unread batch are found again
            yield from bad_rows.take()
            if "Empty CSV file" not in str(e):  # Arrow's message may quote the row
                where = f"after data row {rows}"
                yield error_record(
                    path,
                    "unreadable_file",
                    f"{where}: {e}",
                    without_values=f"{where}: ArrowInvalid: {REDACTED}",
                )
            break
    if held is not None:
        raw, converted = held
        if _ends_in_open_quote(path, raw):
            rows -= 1
            yield error_record(
                path,
                "malformed_row",
                f"a quoted field is never closed, so the {_line_breaks(raw)} lines after it "
                "to the end of the file were read into it; the row is left out (close the "
                "quote to read those lines as rows)",
                rows + malformed + 2,  # the header is row 1
            )
            converted = converted.slice(0, converted.num_rows - 1)
        yield converted
    if rows == 0:
        yield error_record(path, "empty_file", "the file has no data rows")


def _line_breaks(raw: pa.RecordBatch) -> int:
    """Line breaks (CR LF, CR or LF) in the last value of the last row."""
    last = (raw.column(raw.num_columns - 1)[-1].as_py() or b"").rstrip(b"\r\n")
    return last.count(b"\n") + last.count(b"\r") - last.count(b"\r\n")


def _ends_in_open_quote(path: str, raw: pa.RecordBatch) -> bool:
    """Whether the file ends inside a quoted field. Then Arrow reads every byte from the
    opening quote to the end of the file as the last value of the last row, so the file
    ends with a comma or line break, the quote, and that value with its quotes doubled.
    A closed quote ends the file with a quote or what follows it; an unquoted value does
    not start with a quote."""
    if raw.num_rows == 0:
        return False
    last = raw.column(raw.num_columns - 1)[-1].as_py() or b""
    expected = b'"' + last.replace(b'"', b'""')
    size = len(expected) + 1
    with open_stream(path) as f:
        if f.seekable():
            f.seek(max(0, f.seek(0, io.SEEK_END) - size))
        tail = b""
        while chunk := f.read(1 << 20):
            tail = (tail + chunk)[-size:]
    return tail[1:] == expected and tail[:1] in (b",", b"\n", b"\r")


class _InvalidRows:
    """Arrow's invalid-row handler: a ``malformed_row`` record per row, with the row's
    number (the header is row 1; a quoted value with line breaks is one row)."""

    def __init__(self, path: str) -> None:
        self._path = path
        self.records: list[dict[str, Any]] = []

    def __call__(self, row: Any) -> str:
        why = f"expected {row.expected_columns} fields, got {row.actual_columns}"
        message, without = f"{why}: {quoted(row.text, MAX_EXAMPLE)}", f"{why}: {REDACTED}"
        record = error_record(
            self._path, "malformed_row", message, row.number, without_values=without
        )
        self.records.append(record)
        return "skip"

    def take(self) -> list[dict[str, Any]]:
        records, self.records = self.records, []
        return records


def _open_reader(
    stream: EscapedStream,
    names: list[str],
    given: bool,
    block_size: int,
    skip: int,
    on_invalid_row: _InvalidRows,
) -> pcsv.CSVStreamingReader:
    return pcsv.open_csv(
        stream,
        read_options=pcsv.ReadOptions(
            block_size=block_size,
            use_threads=False,
            column_names=names if given else None,
            skip_rows=1 if given else 0,
            skip_rows_after_names=skip,
        ),
        # Blank lines are rows too (a one-column file's nulls), or reported as malformed:
        # never skipped silently. A quoted value may hold line breaks: without
        # newlines_in_values, a block can end inside one and the next start mid-value.
        parse_options=pcsv.ParseOptions(
            invalid_row_handler=on_invalid_row,
            ignore_empty_lines=False,
            newlines_in_values=True,
        ),
        convert_options=pcsv.ConvertOptions(
            column_types={name: pa.binary() for name in names},
            strings_can_be_null=True,
            null_values=[""],
        ),
    )


def _convert(
    path: str,
    names: list[str],
    types: dict[str, pa.DataType | None],
    batch: pa.RecordBatch,
    row: int,
) -> tuple[pa.RecordBatch, list[dict[str, Any]]]:
    columns, fields, problems = [], [], []
    for name, raw in zip(names, batch.columns, strict=True):
        array, types[name], bad = _parse_column(raw, types[name])
        columns.append(array)
        num_bad = int(np.count_nonzero(bad))
        metadata = {INVALID_VALUES_KEY: str(num_bad).encode()} if num_bad else None
        fields.append(pa.field(name, array.type, metadata=metadata))
        if num_bad:
            first = int(np.argmax(bad))
            value = str(raw[first].as_py())[:MAX_EXAMPLE]
            head = (
                f"column {name!r}: {num_bad} values in data rows {row + 1}-"
                f"{row + batch.num_rows} are not {types[name]} (first: "
            )
            tail = f" in data row {row + first + 1}); read as missing"
            problems.append(
                error_record(
                    path,
                    "wrong_type",
                    f"{head}{value}{tail}",
                    without_values=f"{head}{REDACTED}{tail}",
                )
            )
    return pa.RecordBatch.from_arrays(columns, schema=pa.schema(fields)), problems
