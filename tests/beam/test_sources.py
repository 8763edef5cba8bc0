"""Reading Parquet, CSV and JSON lines into record batches, bad input included."""

from __future__ import annotations

import json
import tempfile
import uuid
from pathlib import Path
from typing import Any

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner

from beam_stats.beam import ReadRecordBatches
from beam_stats.beam.sources import format_of
from beam_stats.errors import InvalidInputError


def _save_batch(batch: pa.RecordBatch, folder: str) -> None:
    pq.write_table(pa.Table.from_batches([batch]), f"{folder}/{uuid.uuid4().hex}.parquet")


def _save_error(error: dict[str, Any], folder: str) -> None:
    Path(folder, f"{uuid.uuid4().hex}.json").write_text(json.dumps(error))


def read(patterns: list[str], file_format: str | None = None) -> tuple[list[dict], list[dict]]:
    """Runs ReadRecordBatches on the FnApiRunner; returns all rows and all error records.

    Rows are dicts: batches of one column may differ in type, which some tests check.
    """
    out = Path(tempfile.mkdtemp())
    (out / "batches").mkdir()
    (out / "errors").mkdir()
    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        result = pipeline | ReadRecordBatches(patterns, file_format)
        _ = result.batches | "Batches" >> beam.Map(_save_batch, str(out / "batches"))
        _ = result.errors | "Errors" >> beam.Map(_save_error, str(out / "errors"))
    tables = [pq.read_table(p) for p in (out / "batches").iterdir()]
    rows = [row for table in tables for row in table.to_pylist()]
    errors = [json.loads(p.read_text()) for p in (out / "errors").iterdir()]
    return rows, errors


def test_parquet_many_files_and_row_groups(tmp_path: Path) -> None:
    for part in range(3):
        table = pa.table({"x": list(range(part * 100, part * 100 + 100)), "s": ["a"] * 100})
        pq.write_table(table, tmp_path / f"part-{part}.parquet", row_group_size=30)
    rows, errors = read([str(tmp_path / "*.parquet")])
    assert errors == []
    assert sorted([r["x"] for r in rows]) == list(range(300))


def test_parquet_corrupt_and_empty_files_are_reported(tmp_path: Path) -> None:
    pq.write_table(pa.table({"x": [1, 2, 3]}), tmp_path / "good.parquet")
    (tmp_path / "corrupt.parquet").write_bytes(b"PAR1 this is not parquet")
    pq.write_table(pa.table({"x": pa.array([], pa.int64())}), tmp_path / "empty.parquet")
    rows, errors = read([str(tmp_path / "*.parquet")])
    assert sorted([r["x"] for r in rows]) == [1, 2, 3]
    kinds = {(Path(e["file"]).name, e["kind"]) for e in errors}
    assert kinds == {("corrupt.parquet", "unreadable_file"), ("empty.parquet", "empty_file")}


def test_csv_bad_rows_wrong_types_and_invalid_utf8(tmp_path: Path) -> None:
    lines = ["id,amount,name"] + [f"{i},{i * 1.5},n{i}" for i in range(50)]
    lines[10] = "9,1,2,3"  # too many fields
    lines[20] = "19,not-a-number,n19"  # wrong type for a float column
    path = tmp_path / "data.csv"
    path.write_bytes("\n".join(lines).encode() + b"\n51,2.0,\xff\xfe\n")
    rows, errors = read([str(path)])
    assert len(rows) == 50  # 51 data lines, 1 malformed
    malformed = [e for e in errors if e["kind"] == "malformed_row"]
    assert len(malformed) == 1 and malformed[0]["line"] == 11
    wrong = [e for e in errors if e["kind"] == "wrong_type"]
    assert len(wrong) == 1 and "not-a-number" in wrong[0]["message"]
    assert sorted(r["amount"] for r in rows if r["amount"] is None) == [None]
    assert "'amount'" in wrong[0]["message"]
    assert sorted(map(int, [r["id"] for r in rows])) == sorted({*range(50), 51} - {9})


def test_csv_wrong_type_after_the_first_block_is_reported(tmp_path: Path) -> None:
    # Blocks are 4 MiB: make the bad value appear far after the first block.
    n = 400_000
    body = "\n".join(f"{i},{i}" for i in range(n))
    path = tmp_path / "big.csv"
    path.write_text(f"a,b\n{body}\n{n},oops\n")
    rows, errors = read([str(path)])
    assert len(rows) == n + 1
    assert sorted(r["b"] for r in rows if r["b"] is not None) == list(range(n))
    assert [r["a"] for r in rows if r["b"] is None] == [n]  # the bad value reads as missing
    assert [e["kind"] for e in errors] == ["wrong_type"]
    assert "oops" in errors[0]["message"] and f"data row {n + 1}" in errors[0]["message"]


def test_jsonl_malformed_lines_and_mixed_types(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text(
        '{"a": 1, "b": "x"}\n{"a": 2, "b": "y"}\n{not json}\n{"a": "three", "b": "z"}\n[1, 2]\n'
    )
    rows, errors = read([str(path)])
    assert len(rows) == 3
    assert sorted((e["kind"], e["line"]) for e in errors) == [
        ("malformed_row", 3),
        ("malformed_row", 5),
    ]
    # Line 4 is read apart from lines 1-2 (line 3 is between them), so "a" is a number in
    # one batch and a string in another: the statistics count both (type_conflict).
    assert sorted(map(str, [r["a"] for r in rows])) == ["1", "2", "three"]


def test_jsonl_a_type_change_within_a_block_is_reported_where_it_happens(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text('{"a": 1}\n{"a": 2}\n{"a": "three"}\n{"a": "four"}\n{"a": 5}\nnull\n')
    rows, errors = read([str(path)])
    assert sorted(map(str, [r["a"] for r in rows])) == ["1", "2", "5", "four", "three"]
    assert sorted((e["kind"], e["line"]) for e in errors) == [
        ("malformed_row", 6),
        ("wrong_type", 3),
        ("wrong_type", 5),
    ]


def test_empty_text_files_are_reported(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "empty.jsonl").write_text("")
    _, csv_errors = read([str(tmp_path / "empty.csv")])
    _, json_errors = read([str(tmp_path / "empty.jsonl")])
    assert [e["kind"] for e in csv_errors] == ["empty_file"]
    assert [e["kind"] for e in json_errors] == ["empty_file"]


def test_format_from_suffix() -> None:
    assert format_of("gs://bucket/x.parquet") == "parquet"
    assert format_of("data/part-1.csv.gz") == "csv"
    assert format_of("a.ndjson") == "jsonl"
    assert format_of("gs://b/Split-train/data_tfrecord-00000-of-00001.gz") == "tfrecord"
    with pytest.raises(InvalidInputError, match="suffix"):
        format_of("data.bin")


def test_mixed_formats_are_each_read_by_their_suffix(tmp_path: Path) -> None:
    pq.write_table(pa.table({"x": [1, 2, 3]}), tmp_path / "a.parquet")
    (tmp_path / "b.csv").write_text("x\n4\n5\n1,2\n6\n")  # line 4 has too many fields
    (tmp_path / "c.jsonl").write_text('{"x": 7}\n{"x": \n{"x": 8}\n')  # line 2 is broken
    patterns = [str(tmp_path / n) for n in ("a.parquet", "b.csv", "c.jsonl")]
    rows, errors = read(patterns)
    assert sorted(r["x"] for r in rows) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert sorted((Path(e["file"]).name, e["kind"], e["line"]) for e in errors) == [
        ("b.csv", "malformed_row", 4),
        ("c.jsonl", "malformed_row", 2),
    ]
    # A format given explicitly applies to every pattern, whatever its suffix.
    (tmp_path / "d.data").write_text("x\n9\n")
    rows, errors = read([patterns[1], str(tmp_path / "d.data")], "csv")
    assert sorted(r["x"] for r in rows) == [4, 5, 6, 9]
    assert [(Path(e["file"]).name, e["line"]) for e in errors] == [("b.csv", 4)]
    with pytest.raises(InvalidInputError, match="suffix"):
        ReadRecordBatches([patterns[0], str(tmp_path / "d.bin")])


def test_csv_bool_column_with_many_empty_cells_stays_bool(tmp_path: Path) -> None:
    lines = ["flag"] + ["true" if i % 3 else "" for i in range(60)]
    path = tmp_path / "flags.csv"
    path.write_text("\n".join(lines) + "\n")
    rows, errors = read([str(path)])
    assert errors == []
    flags = [r["flag"] for r in rows]
    assert flags.count(None) == 20 and flags.count(True) == 40


def test_a_relative_glob_matches_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.csv").write_text("x\n1\n2\n")
    (tmp_path / "b.csv").write_text("x\n3\n")
    monkeypatch.chdir(tmp_path)
    rows, errors = read(["*.csv"])
    assert sorted(r["x"] for r in rows) == [1, 2, 3] and errors == []
