"""JSON-lines files to Arrow record batches (see :mod:`beam_stats.beam.sources`).

Parsed by Arrow in blocks of lines. Each block is checked first, vectorised, that every
non-blank line starts with ``{``: Arrow's reader crashes the process (a segmentation fault)
on a ``null`` line at the start of a block and reads one elsewhere as an example with every
feature missing. A block with such a line, or one Arrow rejects, is parsed again line by line,
so that only the bad lines are reported (``malformed_row``, with the line number) and columns
with mixed types are read as strings (``wrong_type``). That slow path runs only on bad blocks.

Blocks are cut by bytes, then in parts of lines bounded by cells: Arrow builds a dense
table, one column per key seen, so sparse data (3 of 100,000 keys per line) read in 4 MiB
blocks would take rows x keys memory (23.7 GB for a 7 MB file). The first part has
sqrt(max_cells / keys per line) lines, at most max_cells cells even if every key is new;
each later part is sized from the cells of the one before (as if cells grew with the
square of the lines, which is right for sparse data and safe for dense data; at most twice
the lines). So memory follows the values present, and dense data still reads in whole blocks.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
from collections.abc import Generator, Iterator
from typing import IO, Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.json as pjson

from beam_stats.beam._inputs import open_stream
from beam_stats.beam.problems import MAX_EXAMPLE, error_record

Item: TypeAlias = pa.RecordBatch | dict[str, Any]
_BLANK = np.frombuffer(b" \t\r", np.uint8)


def _blocks(f: IO[bytes], block_size: int) -> Iterator[bytes]:
    """Blocks of whole lines, each ending with a newline."""
    rest = b""
    while chunk := f.read(block_size):
        data = rest + chunk
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            rest = data
            continue
        rest = data[cut:]
        yield data[:cut]
    if rest.strip():
        yield rest + b"\n"


def _object_lines(block: bytes) -> int | None:
    """The number of non-blank lines of `block` if each starts (after blanks) with ``{``."""
    data = np.frombuffer(block, np.uint8)
    ends = np.flatnonzero(data == ord("\n"))
    starts = np.concatenate(([0], ends[:-1] + 1))
    text = np.flatnonzero(~np.isin(data, _BLANK) & (data != ord("\n")))
    if not len(text):
        return 0
    # The first non-blank byte at or after each line start; it must be on that line.
    first = np.searchsorted(text, starts)
    at = text[np.minimum(first, len(text) - 1)]
    on_line = (first < len(text)) & (at <= ends)
    if not (data[at[on_line]] == ord("{")).all():
        return None
    return int(np.count_nonzero(on_line))


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
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, RecursionError):
            as_text = [v if v is None or isinstance(v, str) else json.dumps(v) for v in values]
            columns.append(pa.array(as_text, pa.string()))
            problems.append(
                error_record(
                    path,
                    "wrong_type",
                    f"column {name!r} mixes value types (or holds a number beyond 64 bits) "
                    f"in the block from line {first_line}; read as strings",
                    first_line,
                )
            )
    if not names:  # only {} lines: rows without columns
        return _no_columns(len(rows)), problems
    return pa.RecordBatch.from_arrays(columns, names=names), problems


def _no_columns(num_rows: int) -> pa.RecordBatch:
    return pa.RecordBatch.from_struct_array(pa.array([{}] * num_rows, pa.struct([])))


def _slow(path: str, block: bytes, first_line: int) -> Iterator[Item]:
    rows = []
    for offset, line in enumerate(block.split(b"\n")):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (ValueError, RecursionError) as e:  # also invalid UTF-8, nesting too deep
            message = f"{type(e).__name__}: {str(e)[:MAX_EXAMPLE]}: {line[:MAX_EXAMPLE]!r}"
            yield error_record(path, "malformed_row", message, first_line + offset)
            continue
        if not isinstance(row, dict):
            yield error_record(
                path,
                "malformed_row",
                f"a line is not a JSON object: {line[:MAX_EXAMPLE]!r}",
                first_line + offset,
            )
            continue
        rows.append(row)
    if rows:
        try:
            batch, problems = _rows_to_batch(path, rows, first_line)
        except RecursionError:  # nested too deep for Arrow: each line on its own
            if len(rows) == 1:
                yield error_record(path, "malformed_row", "nested too deep", first_line)
                return
            for number, part in _split_lines(block, first_line):
                yield from _slow(path, part, number)
            return
        yield from problems
        yield batch


def _split_lines(block: bytes, first_line: int) -> Iterator[tuple[int, bytes]]:
    for offset, line in enumerate(block.split(b"\n")):
        if line.strip():
            yield first_line + offset, line + b"\n"


def read_jsonl(path: str, block_size: int, max_cells: int = 1 << 23) -> Iterator[Item]:
    """The batches of one JSON-lines file and its error records (dicts).

    Args:
        path: the file, on any Beam file system (compressed by suffix).
        block_size: bytes read at a time.
        max_cells: at most about this many rows x columns per batch.
    """
    line = 1
    rows = 0  # lines per part, adapted to the data's width; 0 until the first block
    with open_stream(path) as f:
        for block in _blocks(f, block_size):
            newlines = np.flatnonzero(np.frombuffer(block, np.uint8) == ord("\n"))
            if rows == 0:  # worst case: every key of every line distinct
                keys = max(1.0, block.count(b'":') / len(newlines))
                rows = max(16, math.isqrt(int(max_cells / keys)))
            start = 0
            while start < len(newlines):
                stop = min(start + rows, len(newlines))
                begin = 0 if start == 0 else int(newlines[start - 1]) + 1
                part = block[begin : int(newlines[stop - 1]) + 1]
                cells = yield from _read_part(path, part, line + start)
                if cells:  # sparse: cells grow as lines squared; dense: as lines
                    lines = stop - start
                    rows = max(1, min(2 * lines, int(lines * math.sqrt(max_cells / cells))))
                start = stop
            line += len(newlines)
    if line == 1:
        yield error_record(path, "empty_file", "the file has no lines")


def _read_part(path: str, part: bytes, line: int) -> Generator[Item, None, int]:
    """Yields the batches and problems of some lines; returns the cells read."""
    lines = _object_lines(part)
    table = None
    if lines is not None:
        with contextlib.suppress(pa.ArrowInvalid):  # a bad line: read line by line below
            table = pjson.read_json(
                io.BytesIO(part), read_options=pjson.ReadOptions(block_size=len(part) + 1)
            )
    if table is None or table.num_rows != lines:  # Arrow reads `{} {}` as two rows
        yield from _slow(path, part, line)
        return 0
    if table.num_columns == 0 and table.num_rows:
        # Said, since a batch without columns loses its rows when Beam pickles it.
        yield error_record(
            path, "no_features", f"{table.num_rows} lines from line {line} on are {{}}", line
        )
        yield _no_columns(table.num_rows)
        return 0
    yield from table.to_batches()
    return int(table.num_rows * table.num_columns)
