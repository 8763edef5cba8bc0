"""Fuzzing the readers (issue 11): random Arrow tables (as Parquet), CSV and JSON lines,
invalid ones included, through ``beam-stats stats`` (one Beam pipeline per example, many
files each) and through the readers directly with small blocks.

The property: nothing crashes or writes to stderr, and every row written is either an
example of the statistics or a ``malformed_row`` record naming its file and line (a file
that is not text at all is one ``unreadable_file`` record for all its rows). A CSV row is
a CSV record: lines swallowed by a quote closed lines later are part of one row, and a
quote never closed makes its row and the lines after it one malformed row (see
:func:`_csv_rows`, which counts them with Python's csv module).
Regressions the fuzzer found are cases of tests/beam/test_hostile_input.py.
"""

from __future__ import annotations

import csv
import io
import json
import math
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beam_stats.beam.artifacts import load_statistics
from beam_stats.beam.csvfiles import read_csv
from beam_stats.beam.jsonlines import read_jsonl
from beam_stats.cli import main
from beam_stats.stats import DatasetAccumulator, StatisticsSpec


@dataclass
class Written:
    """One generated file: its bytes and what a reader must make of them."""

    name: str
    data: bytes
    rows: int  # rows (records) written
    bad_lines: list[int] = field(default_factory=list)  # lines that must be malformed_row
    unreadable: bool = False  # the whole file is one unreadable_file record


# ----------------------------------------------------------------------------- Parquet
_SCALARS: list[tuple[pa.DataType, st.SearchStrategy[Any]]] = [
    (pa.int64(), st.integers(-(2**63), 2**63 - 1)),
    (pa.uint64(), st.integers(0, 2**64 - 1)),
    (pa.int8(), st.integers(-128, 127)),
    (pa.float64(), st.floats(allow_nan=True, allow_infinity=True)),
    (pa.float32(), st.floats(width=32, allow_nan=True, allow_infinity=True)),
    (pa.bool_(), st.booleans()),
    (pa.string(), st.text(max_size=8)),
    (pa.large_string(), st.text(max_size=8)),
    (pa.binary(), st.binary(max_size=8)),  # invalid UTF-8 included
    (pa.timestamp("us", tz="UTC"), st.integers(-(2**50), 2**50)),
    (pa.date32(), st.integers(-(10**6), 10**6)),
    (pa.null(), st.none()),
]


@st.composite
def _arrow_type(draw: st.DrawFn, depth: int = 0) -> tuple[pa.DataType, st.SearchStrategy[Any]]:
    choice = draw(st.integers(0, 9 if depth < 3 else 5))
    if choice <= 5:
        return draw(st.sampled_from(_SCALARS))
    if choice <= 7:  # a list (of lists ...)
        inner, values = draw(_arrow_type(depth + 1))
        list_type = pa.large_list(inner) if draw(st.booleans()) else pa.list_(inner)
        return list_type, st.lists(st.none() | values, max_size=3)
    names = draw(
        st.lists(st.sampled_from(["x", "y", "é", ""]), min_size=1, max_size=3, unique=True)
    )
    children = [draw(_arrow_type(depth + 1)) for _ in names]
    struct = pa.struct([pa.field(n, t) for n, (t, _) in zip(names, children, strict=True)])
    return struct, st.fixed_dictionaries(
        {n: st.none() | v for n, (_, v) in zip(names, children, strict=True)}
    )


@st.composite
def parquet_files(draw: st.DrawFn) -> Written:
    num_rows = draw(st.integers(0, 12))
    names = draw(st.lists(st.sampled_from(["a", "b", "c", "a.b", "é", ""]), min_size=1, max_size=4))
    arrays = []
    for _ in names:
        arrow_type, values = draw(_arrow_type())
        data = draw(st.lists(st.none() | values, min_size=num_rows, max_size=num_rows))
        array = pa.array(data, arrow_type)
        if pa.types.is_string(arrow_type) and draw(st.booleans()):
            array = array.dictionary_encode()
        arrays.append(array)
    table = pa.Table.from_arrays(arrays, names=names)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, row_group_size=draw(st.integers(1, 8)))
    return Written("p.parquet", sink.getvalue().to_pybytes(), num_rows)


# --------------------------------------------------------------------------------- CSV
_CELLS = st.one_of(
    st.sampled_from(["", "NA", "null", "NaN", "inf", "-inf", "1", "-2", "2.5", "1e400", "true"]),
    st.sampled_from(["99999999999999999999", " ", "x y", "é", "日本", '"q,""x"""']),
    st.integers(-(2**70), 2**70).map(str),
    st.floats().map(repr),
    st.text(st.characters(codec="utf-8", exclude_characters=',"\r\n\0'), max_size=6),
)


@st.composite
def csv_files(draw: st.DrawFn, huge: int = 100) -> Written:
    width = draw(st.integers(1, 4))
    names = draw(
        st.lists(st.sampled_from(["a", "b", "a", "é", "x y"]), min_size=width, max_size=width)
    )
    newline = draw(st.sampled_from([b"\n", b"\r\n"]))
    lines = [",".join(names).encode()]
    for _ in range(draw(st.integers(0, 25))):
        kind = draw(
            st.sampled_from(["ok", "ok", "ok", "short", "long", "blank", "huge", "open_quote"])
        )
        cells = [draw(_CELLS).encode() for _ in range(width)]
        if kind == "short":
            cells = cells[: draw(st.integers(0, width - 1))] if width > 1 else cells + [b"1"]
        elif kind == "long":
            cells += [b"x"] * draw(st.integers(1, 3))
        elif kind == "blank":
            cells = []
        elif kind == "huge":
            cells[0] = b"h" * huge
        elif kind == "open_quote":  # closed by a later quote, if any, else open to the end
            at = draw(st.integers(0, width - 1))
            cells[at] = b'"' + cells[at]
        if cells and draw(st.integers(0, 4)) == 0:  # not UTF-8, in a good or malformed row
            cells[draw(st.integers(0, len(cells) - 1))] = draw(
                st.sampled_from([b"\xff", b"a\xc3", b"\xed\xa0\x80", b"\xf4\x8f\xbf\xbf\xfe"])
            )
        lines.append(b",".join(cells))
    data = newline.join(lines) + (newline if draw(st.booleans()) or not lines[-1] else b"")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    nul = len(data) < 60_000 and draw(st.booleans()) and draw(st.booleans())
    if nul:  # a NUL byte: not a text file
        at = draw(st.integers(0, len(data)))
        data = data[:at] + b"\0" + data[at:]
        return Written("c.csv", data, len(lines) - 1, unreadable=True)
    return Written("c.csv", data, *_csv_rows(data, width))


def _csv_rows(data: bytes, width: int) -> tuple[int, list[int]]:
    """The data rows of a CSV file and the numbers of its malformed ones (the header is row
    1), as Python's csv module reads them, not Arrow.

    A row is a CSV record: a quoted value runs to its closing quote, line breaks included,
    so a quote left open mid-file makes the lines up to the next quote part of one row. A
    quote never closed makes its row, with the lines it swallowed, one malformed row.
    A blank line is a row of nulls.
    """
    text = data.removeprefix(b"\xef\xbb\xbf").decode("latin-1")  # structure is ASCII
    records = list(csv.reader(io.StringIO(text, newline="")))[1:]
    # A sentinel after the end is a row of its own unless a quote is still open.
    open_at_end = list(csv.reader(io.StringIO(text + "\n\x01", newline="")))[-1] != ["\x01"]
    bad = [row for row, fields in enumerate(records, 2) if fields and len(fields) != width]
    if open_at_end and records and len(records) + 1 not in bad:
        bad.append(len(records) + 1)
    return len(records), bad


# -------------------------------------------------------------------------- JSON lines
_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("xyz"), inner),
    max_leaves=8,
)


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


_INVALID_LINES = [
    b"null",
    b"[1]",
    b"3",
    b'"s"',
    b"true",
    b"{",
    b'{"a": 1',
    b'{"a": {}',
    b"{} {}",
    b'{"a": 1}}',
    b'{"a": 1, "a": 2}',  # a duplicate key
    b'{"a": "\\ud800"}',  # a lone surrogate
    b'{"a": "\xff"}',  # not UTF-8
    b'{"\xc3": 1}',
    b'{"a": "\x00"}',
    b"\x00",
    b'{"a": ' + b"[" * 70 + b"]" * 70 + b"}",  # nested too deep
    b'{"a": ' + b"[" * 20_000 + b"]" * 20_000 + b"}",  # deep enough to crash Arrow
]


@st.composite
def json_files(draw: st.DrawFn) -> Written:
    newline = draw(st.sampled_from([b"\n", b"\r\n"]))
    lines: list[bytes] = []
    bad_lines, rows = [], 0
    for _ in range(draw(st.integers(0, 30))):
        kind = draw(st.sampled_from(["ok", "ok", "ok", "bad", "truncated", "blank", "deep"]))
        if kind == "blank":
            lines.append(draw(st.sampled_from([b"", b"  ", b"\t"])))
            continue
        rows += 1
        if kind == "ok":
            row = draw(st.dictionaries(st.sampled_from(["a", "b", "", "é", "a.b"]), _JSON_VALUES))
            line = json.dumps(row, ensure_ascii=draw(st.booleans())).encode()
            lines.append(line)
            continue
        if kind == "deep":
            levels = draw(st.integers(60, 68))
            line = b'{"d": ' + b"[" * (levels - 1) + b"]" * (levels - 1) + b"}"
            ok = levels <= 64
        elif kind == "truncated":
            full = json.dumps({"a": draw(_JSON_VALUES), "b": "x"}).encode()
            line = full[: draw(st.integers(1, len(full) - 1))]
            ok = False
        else:
            line = draw(st.sampled_from(_INVALID_LINES))
            ok = False
        if not ok:
            bad_lines.append(len(lines) + 1)
        lines.append(line)
    data = newline.join(lines) + (newline if draw(st.booleans()) else b"")
    if lines and draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    return Written("j.jsonl", data, rows, bad_lines)


# ------------------------------------------------------------------------------ checks
def _write(folder: Path, files: list[Written]) -> list[tuple[Path, Written]]:
    out = []
    for written in files:
        path = folder / f"{uuid.uuid4().hex[:8]}-{written.name}"
        path.write_bytes(written.data)
        out.append((path, written))
    return out


def _check_errors(errors: list[dict[str, Any]], files: list[tuple[Path, Written]]) -> int:
    """Checks the error records against what was written; returns the rows they name."""
    by_file: dict[str, list[dict[str, Any]]] = {}
    for error in errors:
        by_file.setdefault(error["file"], []).append(error)
    named = 0
    for path, written in files:
        mine = by_file.pop(str(path), [])
        if written.unreadable:
            assert [e["kind"] for e in mine] == ["unreadable_file"], mine
            named += written.rows
            continue
        assert all(e["kind"] != "unreadable_file" for e in mine), mine
        malformed = sorted(e["line"] for e in mine if e["kind"] == "malformed_row")
        assert malformed == written.bad_lines, mine
        named += len(malformed)
    assert not by_file, by_file  # no record for a file not written
    return named


_CLI_FILES = st.tuples(parquet_files(), csv_files(), json_files())


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(files=_CLI_FILES)
def test_stats_command_reads_or_reports_every_row(
    tmp_path_factory: pytest.TempPathFactory,
    capfd: pytest.CaptureFixture[str],
    files: tuple[Written, ...],
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    written = _write(folder, list(files))
    out = tmp_path_factory.mktemp("out") / "stats.pb"
    capfd.readouterr()
    assert main(["stats", str(folder / "*"), "--output", str(out)]) == 0
    captured = capfd.readouterr()
    assert "Exception ignored" not in captured.err and "Traceback" not in captured.err
    errors = [json.loads(line) for line in Path(f"{out}.errors.jsonl").read_text().splitlines()]
    named = _check_errors(errors, written)
    (dataset,) = load_statistics(str(out)).datasets
    assert dataset.num_examples + named == sum(w.rows for _, w in written), errors


def _read_in_process(path: Path, block_size: int) -> tuple[int, list[dict[str, Any]]]:
    """The readers' items through the statistics accumulator (what the pipeline combines)."""
    reader = read_csv if path.suffix == ".csv" else read_jsonl
    accumulator = DatasetAccumulator(StatisticsSpec())
    errors = []
    for item in reader(str(path), block_size):
        if isinstance(item, dict):
            errors.append(item)
        else:
            accumulator.add(item)
    dataset = accumulator.result("fuzz", True)
    assert not math.isnan(dataset.num_examples)
    return dataset.num_examples, errors


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    files=st.lists(csv_files(huge=3000) | json_files(), min_size=1, max_size=4),
    block_size=st.sampled_from([1024, 4096, 1 << 20]),
)
def test_readers_with_small_blocks_read_or_report_every_row(
    tmp_path_factory: pytest.TempPathFactory,
    capfd: pytest.CaptureFixture[str],
    files: list[Written],
    block_size: int,
) -> None:
    written = _write(tmp_path_factory.mktemp("fuzz"), files)
    capfd.readouterr()
    for path, what in written:
        examples, errors = _read_in_process(path, block_size)
        named = _check_errors(errors, [(path, what)])
        assert examples + named == what.rows, errors
    assert capfd.readouterr().err == ""
