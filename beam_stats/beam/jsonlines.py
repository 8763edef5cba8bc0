"""JSON-lines files to Arrow record batches (see :mod:`beam_stats.beam.sources`).

Parsed by Arrow in blocks of lines. Each block is checked first, vectorised, that every
non-blank line starts with ``{`` and ends with ``}``: Arrow's reader crashes the process (a
segmentation fault) on a ``null`` line at the start of a block, reads one elsewhere as an
example with every feature missing, and reads a truncated line and the next as one object.
With that check a block Arrow reads into as many rows as it has lines maps each line to
its row. Lines that are not UTF-8 (which Arrow reads without a word) or nest deeper
than ``MAX_DEPTH`` (Arrow's reader crashes at 10,000 levels) fail the check too, and a
table Arrow builds invalid (a list starting with null) is not used.

A block with a bad line, or one Arrow rejects, is read around its bad lines: the lines that
fail the check, and each line Arrow names in its error, are parsed on their own in Python
(reported as ``malformed_row`` with the line number when they are not one JSON object with
distinct keys and valid Unicode; their mixed-type columns are read as strings,
``wrong_type``), and the runs of lines between them are read by Arrow again. A run that
Arrow reads as more rows than lines (``{} {}``) is halved until the line is found. After
``_MAX_RETRIES`` failed reads of one block the rest of it is parsed in Python. So one bad
line costs about one more parse of its block, not a Python parse of the block.

Blocks are cut by bytes, then in parts of lines bounded by cells: Arrow builds a dense
table, one column per key seen, so sparse data (3 of 100,000 keys per line) read in 4 MiB
blocks would take rows x keys memory (23.7 GB for a 7 MB file). The first part has
sqrt(max_cells / keys per line) lines, at most max_cells cells even if every key is new;
each later part is sized from the cells of the one before (as if cells grew with the
square of the lines, which is right for sparse data and safe for dense data; at most twice
the lines). So memory follows the values present, and dense data still reads in whole blocks.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Generator, Iterator
from typing import IO, Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.json as pjson

from beam_stats.arrow import MAX_DEPTH
from beam_stats.beam._inputs import open_stream
from beam_stats.beam.problems import MAX_EXAMPLE, error_record
from beam_stats.stats.row_privacy import REDACTED
from beam_stats.stats.utf8 import invalid_utf8_mask

Item: TypeAlias = pa.RecordBatch | dict[str, Any]
_TEXT = np.ones(256, bool)  # bytes other than blanks and newlines
_TEXT[[ord(c) for c in " \t\r\n"]] = False
_ROW = re.compile(r" in row (\d+)$")
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
# Failed Arrow reads of one block before the rest of it is parsed in Python: each costs up
# to one more parse of the block.
_MAX_RETRIES = 16
_BLANK_LINE, _OBJECT, _OTHER = 0, 1, 2


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


class _Lines:
    """The lines of a part (which ends with a newline), classified vectorised: blank, an
    object (first non-blank byte ``{``, last ``}``, nested at most MAX_DEPTH deep), or
    other."""

    def __init__(self, part: bytes) -> None:
        data = np.frombuffer(part, np.uint8)
        self.part = part
        self.ends = np.flatnonzero(data == ord("\n"))
        self.starts = np.concatenate(([0], self.ends[:-1] + 1)).astype(np.int64)
        # Most lines start with "{" and end with "}" (or "}\r"): only other lines are looked
        # at for blanks around them.
        last = self.ends - 1 - (data[np.maximum(self.ends - 1, 0)] == ord("\r"))
        braced = (data[self.starts] == ord("{")) & (data[np.maximum(last, 0)] == ord("}"))
        braced &= last > self.starts
        self.kinds = np.where(braced, _OBJECT, _OTHER).astype(np.int8)
        if not braced.all():
            self._look_closer(data, ~braced)
        self.kinds[(self.kinds == _OBJECT) & (self._depths(data) > MAX_DEPTH)] = _OTHER
        # Arrow reads strings and keys that are not UTF-8 without a word; JSON is UTF-8.
        lines = pa.Array.from_buffers(
            pa.large_binary(),
            len(self.ends),
            [None, pa.py_buffer(np.append(self.starts, len(part))), pa.py_buffer(part)],
        )
        self.kinds[invalid_utf8_mask(lines)] = _OTHER

    def _look_closer(self, data: np.ndarray, lines: np.ndarray) -> None:
        """Classifies the given lines by their first and last non-blank bytes."""
        text = np.flatnonzero(_TEXT[data])
        starts, ends = self.starts[lines], self.ends[lines]
        first = np.searchsorted(text, starts)
        last = np.searchsorted(text, ends) - 1
        filled = first <= last
        head = data[text[np.minimum(first, len(text) - 1)]] if len(text) else first
        tail = data[text[np.maximum(last, 0)]] if len(text) else last
        braced = (head == ord("{")) & (tail == ord("}"))
        self.kinds[lines] = np.where(filled, np.where(braced, _OBJECT, _OTHER), _BLANK_LINE)

    def _depths(self, data: np.ndarray) -> np.ndarray:
        """An upper bound of each line's nesting depth (brackets in strings count too)."""
        folded = data | 0x20  # "[" and "]" as "{" and "}"
        brackets = np.flatnonzero((folded == ord("{")) | (folded == ord("}")))
        opens = folded[brackets] == ord("{")
        depth = np.cumsum(np.where(opens, 1, -1), dtype=np.int32)  # after each bracket
        first = np.searchsorted(brackets, self.starts)  # each line's first bracket
        has = first < np.searchsorted(brackets, self.ends)
        out = np.zeros(len(self.starts), np.int32)
        if has.any():
            before = np.where(first > 0, depth[np.maximum(first - 1, 0)], 0)
            out[has] = np.maximum.reduceat(depth, first[has]) - before[has]
        return out

    def text(self, first: int, stop: int) -> bytes:
        """Lines first..stop-1 (0-based in the part), with their newlines."""
        return self.part[int(self.starts[first]) : int(self.ends[stop - 1]) + 1]


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
            if line == 1:  # a byte order mark is no part of the first line
                block = block.removeprefix(b"\xef\xbb\xbf")
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


def _arrow(data: bytes) -> pa.Table:
    return pjson.read_json(
        io.BytesIO(data), read_options=pjson.ReadOptions(block_size=len(data) + 1)
    )


def _sound(table: pa.Table) -> bool:
    """Whether Arrow's JSON reader built valid arrays: it writes a list whose first values
    are null with too few values (``[null, 1]`` has one; Arrow's kernels then crash the
    process), so such lines are parsed in Python."""
    try:
        table.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _table_items(path: str, table: pa.Table, line: int) -> Iterator[Item]:
    if table.num_columns == 0 and table.num_rows:
        # Said, since a batch without columns loses its rows when Beam pickles it.
        yield error_record(
            path, "no_features", f"{table.num_rows} lines from line {line} on are {{}}", line
        )
        yield pa.RecordBatch.from_struct_array(pa.array([{}] * table.num_rows, pa.struct([])))
        return
    yield from table.to_batches()


def _read_part(path: str, part: bytes, line: int) -> Generator[Item, None, int]:
    """Yields the batches and problems of some lines; returns the cells read."""
    lines = _Lines(part)
    objects = int(np.count_nonzero(lines.kinds == _OBJECT))
    # No line of another kind, and none that holds `{} {}` (two rows).
    if objects == np.count_nonzero(lines.kinds):
        try:
            table = _arrow(part)
        except pa.ArrowInvalid:
            table = None
        if table is not None and table.num_rows == objects and _sound(table):
            yield from _table_items(path, table, line)
            return int(table.num_rows * table.num_columns)
    yield from _around_bad_lines(path, lines, line)
    return 0


def _around_bad_lines(path: str, lines: _Lines, line: int) -> Iterator[Item]:
    """Reads a part with bad lines: Arrow reads the runs of good lines between them."""
    kinds = lines.kinds
    by_python = [int(i) for i in np.flatnonzero(kinds == _OTHER)]
    bounds = np.flatnonzero(np.diff(np.concatenate(([True], kinds == _OTHER, [True]))))
    runs = [(int(a), int(b)) for a, b in zip(bounds[::2], bounds[1::2], strict=True)]
    retries = 0
    while runs:
        first, stop = runs.pop()
        objects = np.flatnonzero(kinds[first:stop] == _OBJECT) + first
        if not len(objects):
            continue
        if retries >= _MAX_RETRIES:
            by_python.extend(int(i) for i in objects)
            continue
        try:
            table = _arrow(lines.text(first, stop))
        except pa.ArrowInvalid as e:
            retries += 1
            found = _ROW.search(str(e))
            row = int(found.group(1)) if found else len(objects)
            if row >= len(objects):  # no row named: halve the run
                runs.extend(_halves(objects, first, stop, by_python))
                continue
            # A `{} {}` line before it can shift the row: then the line named reads well in
            # Python, and the bad one fails again in its run.
            bad = int(objects[row])
            if "changed from" in str(e) and bad > first:  # a column's type changes here
                yield error_record(
                    path,
                    "wrong_type",
                    f"{_ROW.sub('', str(e)).removeprefix('JSON parse error: ')}: the lines "
                    "from here on are read apart, and the statistics count the values of "
                    "each type (type_conflict)",
                    line + bad,
                )
                runs.extend([(first, bad), (bad, stop)])
                continue
            by_python.append(bad)
            runs.extend([(first, bad), (bad + 1, stop)])
            continue
        if not _sound(table):
            by_python.extend(int(i) for i in objects)
            continue
        if table.num_rows != len(objects):  # a line holds several objects: halve the run
            retries += 1
            runs.extend(_halves(objects, first, stop, by_python))
            continue
        yield from _table_items(path, table, line + first)
    yield from _python_lines(path, lines, sorted(by_python), line)


def _halves(
    objects: np.ndarray, first: int, stop: int, by_python: list[int]
) -> list[tuple[int, int]]:
    if len(objects) == 1:
        by_python.append(int(objects[0]))
        return []
    middle = int(objects[len(objects) // 2])
    return [(first, middle), (middle, stop)]


class _DuplicateKey(ValueError):
    pass


def _distinct_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    row = dict(pairs)
    if len(row) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(f"the key {key!r} appears twice in an object")
            seen.add(key)
    return row


def _parse_line(text: bytes) -> tuple[dict[str, Any] | None, str]:
    """The line as a dict, or None and why it is not one JSON object (the line not quoted:
    the parser's messages name a position, not the text)."""
    try:
        row = json.loads(text, object_pairs_hook=_distinct_keys)
        if _SURROGATE.search(text):  # "\ud800": JSON, but not Unicode, so not Arrow
            json.dumps(row, ensure_ascii=False).encode("utf-8")
    except (ValueError, RecursionError) as e:  # also invalid UTF-8, nesting too deep
        return None, f"{type(e).__name__}: {str(e)[:MAX_EXAMPLE]}"
    if not isinstance(row, dict):
        return None, "a line is not a JSON object"
    if _depth(row) > MAX_DEPTH:
        return None, f"nested deeper than {MAX_DEPTH} levels"
    return row, ""


def _depth(value: Any) -> int:
    """The nesting depth of parsed JSON (1 for an object of scalars)."""
    depth, level = 0, [value]
    while level:
        depth += 1
        level = [
            child
            for item in level
            for child in (item.values() if isinstance(item, dict) else item)
            if isinstance(child, dict | list)
        ]
    return depth


def _python_lines(path: str, lines: _Lines, indices: list[int], line: int) -> Iterator[Item]:
    """Parses the given lines one by one; the objects become one batch."""
    rows, numbers = [], []
    for index in indices:
        text = lines.text(index, index + 1).rstrip(b"\r\n")
        row, why = _parse_line(text)
        if row is None:
            message, without = f"{why}: {text[:MAX_EXAMPLE]!r}", f"{why}: {REDACTED}"
            yield error_record(path, "malformed_row", message, line + index, without_values=without)
        else:
            rows.append(row)
            numbers.append(line + index)
    if not rows:
        return
    try:
        yield from _rows_to_batch(path, rows, numbers[0])
    except RecursionError:  # nested too deep for Arrow: each line on its own
        for row, number in zip(rows, numbers, strict=True):
            try:
                yield from _rows_to_batch(path, [row], number)
            except RecursionError:
                yield error_record(path, "malformed_row", "nested too deep", number)


def _rows_to_batch(path: str, rows: list[dict[str, Any]], first_line: int) -> Iterator[Item]:
    """A batch of rows parsed in Python, reading mixed-type columns as strings."""
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
                    f"in the lines parsed one by one from line {first_line}; read as strings",
                    first_line,
                )
            )
    yield from problems
    if names:
        yield pa.RecordBatch.from_arrays(columns, names=names)
    else:  # only {} lines: rows without columns
        yield from _table_items(path, pa.Table.from_pylist(rows), first_line)
