"""Hostile input (issue 11): a corpus of damaged files, each generated here.

Every case checks that each row is either read or named by an error record (file, and line
or record where known), and that the other files' rows are all read. Add a case by adding a
function to CASES: it writes its files into a folder and returns what must come out.
"""

from __future__ import annotations

import gzip
import json
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_sources import read

from beam_stats.beam import tfrecord
from beam_stats.beam.csvfiles import read_csv
from beam_stats.beam.jsonlines import read_jsonl


class Expected(NamedTuple):
    rows: int  # rows read from the bad file
    errors: list[tuple[str, int | None]]  # (kind, line) of its records, sorted


def _null_first(d: Path) -> Expected:  # a segfault in Arrow's JSON reader
    (d / "bad.jsonl").write_text('null\n{"a": 1}\n')
    return Expected(1, [("malformed_row", 1)])


def _not_objects_mid_block(d: Path) -> Expected:  # null read as an all-missing example
    (d / "bad.jsonl").write_text('{"a": 1}\nnull\n{"a": 2}\n[1]\n3\n"s"\ntrue\n')
    return Expected(2, [("malformed_row", n) for n in (2, 4, 5, 6, 7)])


def _two_objects_on_a_line(d: Path) -> Expected:  # Arrow reads them as two rows
    (d / "bad.jsonl").write_text('{"a": null}\n{} {}\n{"a": 1} {"a": 2}\n')
    return Expected(1, [("malformed_row", 2), ("malformed_row", 3)])


def _json_deep(d: Path) -> Expected:
    deep = "[" * 100_000 + "]" * 100_000
    (d / "bad.jsonl").write_text(f'{{"x": 1}}\n{{"x": {deep}}}\n{{"x": 2}}\n')
    return Expected(2, [("malformed_row", 2)])


def _json_huge_integer(d: Path) -> Expected:
    # Arrow reads an integer beyond 64 bits as a float (lines 3-4); a list starting with
    # null (which Arrow reads wrong) sends lines 1-2 to Python, where the integer fits no
    # Arrow type but a string.
    (d / "bad.jsonl").write_text(
        '{"x": -123456789012345678901234567890}\n{"y": [null, 1]}\n'
        '{"x": 1}\n{"x": 123456789012345678901234567890}\n{\n'
    )
    return Expected(4, [("malformed_row", 5), ("wrong_type", 1)])


# Found by tests/beam/test_fuzz_inputs.py:
def _json_lone_surrogate(d: Path) -> Expected:  # UnicodeEncodeError: the file was lost
    (d / "bad.jsonl").write_text('{"a": "\\ud800"}\n{"a": "x"}\n{"\\udc00": 1}\n')
    return Expected(1, [("malformed_row", 1), ("malformed_row", 3)])


def _json_duplicate_key(d: Path) -> Expected:  # Python kept the last value without a word
    (d / "bad.jsonl").write_text('{"a": 1, "a": "x"}\n{"a": 2}\n')
    return Expected(1, [("malformed_row", 1)])


def _json_deep_first_line(d: Path) -> Expected:  # Arrow's reader: a segmentation fault
    deep = "[" * 20_000 + "]" * 20_000
    (d / "bad.jsonl").write_text(f'{{"x": {deep}}}\n{{"x": [1]}}\n')
    return Expected(1, [("malformed_row", 1)])


def _json_structs_3000_deep(d: Path) -> Expected:  # Arrow's filter: a segmentation fault
    deep = '{"b": ' * 3000 + "1" + "}" * 3000
    (d / "bad.jsonl").write_text(f'{{"x": {deep}}}\n{{"x": {{"b": 2}}}}\n')
    return Expected(1, [("malformed_row", 1)])


def _json_list_starting_with_null(d: Path) -> Expected:  # Arrow built an invalid array
    (d / "bad.jsonl").write_text('{"x": [null, 1]}\n{"x": [null, 2]}\n{"x": [3]}\n')
    return Expected(3, [])


def _json_not_utf8(d: Path) -> Expected:  # Arrow read it without a word
    (d / "bad.jsonl").write_bytes(b'{"x": "\xff"}\n{"\xc3": 1}\n{"x": "y"}\n')
    return Expected(1, [("malformed_row", 1), ("malformed_row", 2)])


def _json_empty_objects_and_a_bad_line(d: Path) -> Expected:  # {} rows were not said
    (d / "bad.jsonl").write_text("{}\n{}\nnull\n")
    return Expected(0, [("malformed_row", 3), ("no_features", 1)])


def _json_byte_order_mark(d: Path) -> Expected:
    (d / "bad.jsonl").write_bytes(b'\xef\xbb\xbf{"x": 1}\n{"x": 2}\n')
    return Expected(2, [])


def _csv_latin1_header(d: Path) -> Expected:
    (d / "bad.csv").write_bytes("café,x\n1,2\n3,4\n".encode("latin-1"))
    return Expected(2, [("bad_header", 1)])


def _csv_deflate(d: Path) -> Expected:
    (d / "bad.csv.deflate").write_bytes(zlib.compress(b"x\n7\n8\n"))
    return Expected(2, [])


def _csv_truncated_gzip(d: Path) -> Expected:
    data = gzip.compress(b"x\n" + b"".join(b"%d\n" % i for i in range(100_000)))
    (d / "bad.csv.gz").write_bytes(data[: len(data) // 2])
    return Expected(0, [("unreadable_file", None)])


def _csv_binary(d: Path) -> Expected:  # no "Exception ignored" from Arrow's row handler
    (d / "bad.csv").write_bytes(bytes(range(256)) * 20)
    return Expected(0, [("unreadable_file", None)])


def _csv_huge_cell(d: Path) -> Expected:  # a 10 MB cell straddles blocks
    (d / "bad.csv").write_text("a,b\n1,x\n2," + "y" * (10 << 20) + "\n3,z\n4,w\n5,v,extra\n6,u\n")
    return Expected(5, [("malformed_row", 6)])


def _csv_duplicate_names(d: Path) -> Expected:
    (d / "bad.csv").write_text("a,a,b\n1,2,3\n4,5,6\n")
    return Expected(2, [("duplicate_column", 1)])


def _tfrecord_huge_length(d: Path) -> Expected:
    header = struct.pack("<Q", 1 << 40)
    crc = struct.pack("<I", tfrecord.masked_crc32c(header))
    (d / "bad.tfrecord").write_bytes(header + crc + b"abc")
    return Expected(0, [("corrupt_file", None)])


def _directory(d: Path) -> Expected:
    (d / "bad.csv").mkdir()
    return Expected(0, [("unreadable_file", None)])


def _dangling_link(d: Path) -> Expected:
    os.symlink(d / "nowhere", d / "bad.csv")
    return Expected(0, [("unreadable_file", None)])


def _parquet_duplicate_names(d: Path) -> Expected:
    table = pa.Table.from_arrays([pa.array([1, 2]), pa.array([3, 4])], names=["a", "a"])
    pq.write_table(table, d / "bad.parquet")
    return Expected(2, [("duplicate_column", None)])


def _json_empty_objects(d: Path) -> Expected:  # rows without columns, lost when pickled
    (d / "bad.jsonl").write_text("{}\n{}\n")
    return Expected(0, [("no_features", 1)])


def _csv_quote_never_closed(d: Path) -> Expected:  # the lines after it were one value
    (d / "bad.csv").write_text('a,b\n1,x\n2,"open\n3,y\n4,z\n')
    return Expected(1, [("malformed_row", 3)])


# Found by tests/beam/test_fuzz_inputs.py (unbalanced quotes):
def _csv_quote_never_closed_at_the_end(d: Path) -> Expected:  # read as a row of "" before
    (d / "bad.csv").write_text('a,b\n1,x\n2,"')
    return Expected(1, [("malformed_row", 3)])


def _csv_quoted_line_breaks_last_row(d: Path) -> Expected:  # taken for an open quote
    (d / "bad.csv").write_text('a,b\n1,x\n"two\nlines",2\n')
    return Expected(2, [])


def _csv_quote_closed_then_text_at_the_end(d: Path) -> Expected:  # lenient: value "x"
    (d / "bad.csv").write_text('a,b\n1,x\n2,""x')
    return Expected(2, [])


def _csv_open_quote_closed_rows_later(d: Path) -> Expected:
    # CSV: the value runs to the next quote, line breaks included: one row of 2 fields
    # (line 3-5), then one of 3 fields (line 6-7), the header being row 1.
    (d / "bad.csv").write_text('a,b\n1,x\n2,"open\n3,y\n4,"z\n5,"w\n6",7\n8,9\n')
    return Expected(3, [("malformed_row", 4)])


def _csv_quoted_line_breaks(d: Path) -> Expected:  # closed quotes: values with line breaks
    (d / "bad.csv").write_text('a,b\n1,"two\nlines"\n2,"x"\n3,"last\r\nvalue"\n')
    return Expected(3, [])


CASES: list[Callable[[Path], Expected]] = [
    _csv_quote_never_closed,
    _csv_quote_never_closed_at_the_end,
    _csv_quoted_line_breaks_last_row,
    _csv_quote_closed_then_text_at_the_end,
    _csv_open_quote_closed_rows_later,
    _csv_quoted_line_breaks,
    _json_empty_objects,
    _null_first,
    _not_objects_mid_block,
    _two_objects_on_a_line,
    _json_deep,
    _json_huge_integer,
    _json_lone_surrogate,
    _json_duplicate_key,
    _json_deep_first_line,
    _json_structs_3000_deep,
    _json_list_starting_with_null,
    _json_not_utf8,
    _json_empty_objects_and_a_bad_line,
    _json_byte_order_mark,
    _csv_latin1_header,
    _csv_deflate,
    _csv_truncated_gzip,
    _csv_binary,
    _csv_huge_cell,
    _csv_duplicate_names,
    _tfrecord_huge_length,
    _directory,
    _dangling_link,
    _parquet_duplicate_names,
]


@pytest.mark.parametrize("case", CASES, ids=[c.__name__.strip("_") for c in CASES])
def test_a_bad_file_is_reported_and_the_others_are_read(
    case: Callable[[Path], Expected], tmp_path: Path
) -> None:
    expected = case(tmp_path)
    (tmp_path / "good.csv").write_text("good\n1\n2\n3\n")
    (tmp_path / "good.jsonl").write_text('{"good": 4}\n{"good": 5}\n')
    rows, errors = read([str(tmp_path / "*")])
    assert len(rows) == 5 + expected.rows
    assert sorted(r["good"] for r in rows if r.get("good") is not None) == [1, 2, 3, 4, 5]
    assert all(Path(e["file"]).name.startswith("bad") for e in errors), errors
    assert sorted((e["kind"], e["line"]) for e in errors) == expected.errors, errors


def test_csv_only_empty_cells_are_missing_and_nan_is_a_float(tmp_path: Path) -> None:
    countries = ["NA", "DE", "N/A", "null", "", "NaN", "None", "nan"]
    floats = ["NaN", "1.5", "nan", "2", "", "-inf", "3", "4"]
    lines = ["country,f"] + [f"{c},{f}" for c, f in zip(countries, floats, strict=True)]
    (tmp_path / "a.csv").write_text("\n".join(lines) + "\n")
    rows, errors = read([str(tmp_path / "a.csv")])
    assert errors == []
    assert [r["country"] for r in rows] == [c or None for c in countries]
    values = [r["f"] for r in rows]
    assert values[4] is None and sum(v != v for v in values if v is not None) == 2


def test_overlapping_patterns_read_a_file_once(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x\n1\n2\n")
    rows, errors = read([str(tmp_path / "*.csv"), str(tmp_path / "a*.csv")])
    assert sorted(r["x"] for r in rows) == [1, 2] and errors == []


def test_a_glob_mixes_formats_each_read_by_its_suffix(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x\n1\n")
    (tmp_path / "b.jsonl").write_text('{"x": 2}\n')
    (tmp_path / "c.txt").write_text("x\n3\n")
    rows, errors = read([str(tmp_path / "*")])
    assert sorted(r["x"] for r in rows) == [1, 2]
    assert [(Path(e["file"]).name, e["kind"]) for e in errors] == [("c.txt", "unknown_format")]


def test_a_file_that_vanishes_before_it_is_read_is_an_error_record(tmp_path: Path) -> None:
    from beam_stats.beam.sources import _ReadUnit

    out = list(_ReadUnit(100, 1 << 20).process((str(tmp_path / "gone.jsonl"), "jsonl", 0, 0)))
    assert [o.value["kind"] for o in out] == ["unreadable_file"]


def test_sparse_json_lines_are_read_in_batches_bounded_by_cells(tmp_path: Path) -> None:
    path = tmp_path / "sparse.jsonl"
    lines = [json.dumps({f"k{(i * 7 + j) % 5000}": j for j in range(3)}) for i in range(5000)]
    path.write_text("\n".join(lines) + "\n")
    batches = list(read_jsonl(str(path), 1 << 22, max_cells=100_000))
    assert sum(b.num_rows for b in batches) == 5000
    assert max(b.num_rows * b.num_columns for b in batches) <= 100_000
    assert sum(pa.Table.from_batches([b]).to_pandas().notna().sum().sum() for b in batches) == 15000


def test_csv_malformed_row_not_utf8(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    # Arrow decodes a malformed row as UTF-8 before it calls the invalid-row handler: the
    # reader escapes the bytes that are not UTF-8 so that it can.
    (tmp_path / "bad.csv").write_bytes(b"a,b\n1,2\n\xff,3,4\n5,\xe96\n\xfe\n7,8\n")
    rows, errors = read([str(tmp_path / "bad.csv")])
    errors.sort(key=lambda e: e["line"])  # one file per record: read in no fixed order
    assert [(e["kind"], e["line"]) for e in errors] == [("malformed_row", 3), ("malformed_row", 5)]
    assert [e["message"] for e in errors] == [
        "expected 2 fields, got 3: b'\\xff,3,4'",
        "expected 2 fields, got 1: b'\\xfe'",
    ]
    assert rows == [{"a": 1, "b": b"2"}, {"a": 5, "b": b"\xe96"}, {"a": 7, "b": b"8"}]
    assert "Exception ignored" not in capfd.readouterr().err


def test_csv_quoted_line_breaks_then_a_row_longer_than_a_block(tmp_path: Path) -> None:
    # The reader starts again after a row longer than a block: it skipped lines, not rows,
    # so rows were read twice and lines inside values read as malformed rows.
    rows = [f'{i},"two\nlines{"p" * 1500}"' for i in range(3000)]
    huge = "3000," + "y" * (2 << 20)
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(["a,b", *rows, huge, "4,z", "5,v,extra", "6,u\n"]))
    items = list(read_csv(str(path), 1 << 20))
    batches = [i for i in items if isinstance(i, pa.RecordBatch)]
    assert [(e["kind"], e["line"]) for e in items if isinstance(e, dict)] == [
        ("malformed_row", 3004)
    ]
    a = pa.concat_arrays([b.column("a") for b in batches]).to_pylist()
    assert a == [*range(3001), 4, 6]


def test_csv_quoted_value_across_blocks(tmp_path: Path) -> None:
    # Arrow's reader splits blocks at line breaks unless told values may hold them: the
    # next block started inside the value.
    value = ("x" * 100 + "\n") * 30
    path = tmp_path / "bad.csv"
    path.write_text(f'a,b\n1,"{value}"\n2,y\n3,"{value}",extra\n4,z\n')
    items = list(read_csv(str(path), 1024))
    batches = [i for i in items if isinstance(i, pa.RecordBatch)]
    assert [(e["kind"], e["line"]) for e in items if isinstance(e, dict)] == [("malformed_row", 4)]
    b = pa.concat_arrays([batch.column("b") for batch in batches]).to_pylist()
    assert b == [value, "y", "z"]
