"""ValidateExamples on Beam, the row writers, and ``beam-stats validate-examples``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from beam_stats.beam import ReadRecordBatches
from beam_stats.cli import examples
from beam_stats.errors import InvalidInputError
from beam_stats.pipelines import ValidateExamples, WriteExamples
from beam_stats.pipelines.examples import NAMESPACE, json_safe

SCHEMA = """
feature { name: "id" type: INT presence { min_fraction: 1 } }
feature { name: "age" type: INT presence { min_fraction: 1 } int_domain { min: 0 max: 120 } }
feature { name: "color" type: BYTES domain: "colors" }
feature { name: "score" type: FLOAT float_domain { min: 0 max: 1 } }
string_domain { name: "colors" value: "red" value: "green" }
"""
N = 300


def schema() -> schema_pb2.Schema:
    return text_format.Parse(SCHEMA, schema_pb2.Schema())


def make_rows(n: int = N) -> list[dict[str, Any]]:
    """Rows with planted problems: every 7th age is too big, every 11th color unknown, every
    13th age missing."""
    return [
        {
            "id": i,
            "age": None if i % 13 == 0 else (200 if i % 7 == 0 else i % 90),
            "color": "blue" if i % 11 == 0 else ("red", "green")[i % 2],
            "score": (i % 10) / 10,
        }
        for i in range(n)
    ]


def expected_bad(rows: list[dict[str, Any]]) -> dict[int, list[str]]:
    bad: dict[int, list[str]] = {}
    for row in rows:
        reasons = []
        if row["age"] is None:
            reasons.append("FEATURE_TYPE_NOT_PRESENT")
        elif row["age"] > 120:
            reasons.append("INT_TYPE_BIG_INT")
        if row["color"] not in ("red", "green"):
            reasons.append("ENUM_TYPE_UNEXPECTED_STRING_VALUES")
        if reasons:
            bad[row["id"]] = reasons
    return bad


def write_inputs(rows: list[dict[str, Any]], folder: Path) -> dict[str, str]:
    """The rows as two Parquet files (several row groups) and as one CSV file."""
    folder.mkdir()
    table = pa.Table.from_pylist(rows)
    half = len(rows) // 2
    pq.write_table(table.slice(0, half), folder / "part-0.parquet", row_group_size=40)
    pq.write_table(table.slice(half), folder / "part-1.parquet", row_group_size=40)
    lines = ["id,age,color,score"] + [
        ",".join("" if r[c] is None else str(r[c]) for c in ("id", "age", "color", "score"))
        for r in rows
    ]
    (folder / "data.csv").write_text("\n".join(lines) + "\n")
    return {"parquet": str(folder / "*.parquet"), "csv": str(folder / "data.csv")}


def read_parquet_rows(folder: Path, prefix: str) -> list[dict[str, Any]]:
    return [row for p in folder.glob(f"{prefix}-*.parquet") for row in pq.read_table(p).to_pylist()]


def read_json_lines(folder: Path, prefix: str) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for p in folder.glob(f"{prefix}-*.jsonl")
        for line in p.read_text().splitlines()
    ]


@pytest.mark.parametrize("file_format", ["parquet", "csv"])
def test_every_row_read_is_good_or_bad(file_format: str, tmp_path: Path) -> None:
    rows = make_rows()
    pattern = write_inputs(rows, tmp_path / "in")[file_format]
    out = tmp_path / "out"
    pipeline = beam.Pipeline(runner=FnApiRunner())
    read = pipeline | ReadRecordBatches(pattern)
    result = read.batches | ValidateExamples(schema())
    _ = result.good | "Good" >> WriteExamples(str(out), "parquet", "good")
    _ = result.bad | "Bad" >> WriteExamples(str(out), "parquet", "bad", with_reasons=True)
    _ = (
        result.summary
        | "Summary" >> beam.Map(json.dumps)
        | beam.io.WriteToText(str(out / "summary"), shard_name_template="")
    )
    run = pipeline.run()
    run.wait_until_finish()

    good, bad = read_parquet_rows(out, "good"), read_parquet_rows(out, "bad")
    assert len(good) + len(bad) == len(rows)
    assert sorted(r["id"] for r in good + bad) == list(range(N))
    assert {r["id"]: [x["anomaly"] for x in r["reasons"]] for r in bad} == expected_bad(rows)
    summary = json.loads((out / "summary").read_text())
    assert summary["rows"] == N and summary["good_rows"] + summary["bad_rows"] == N
    assert summary["bad_rows"] == len(expected_bad(rows))
    counters = {
        c.key.metric.name: c.committed
        for c in run.metrics().query(MetricsFilter().with_namespace(NAMESPACE))["counters"]
    }
    assert counters["good_rows"] == len(good) and counters["bad_rows"] == len(bad)
    assert counters["INT_TYPE_BIG_INT"] == sum(
        1 for r in rows if r["age"] is not None and r["age"] > 120
    )
    assert summary["anomalies"] == {
        name: counters[name]
        for name in (
            "ENUM_TYPE_UNEXPECTED_STRING_VALUES",
            "FEATURE_TYPE_NOT_PRESENT",
            "INT_TYPE_BIG_INT",
        )
    }


HOSTILE = [
    'quote " and \\ backslash',
    "<script>alert('x')</script> & more",
    "new\nline\r\n and \u2028 separator",
    "NUL \x00 é ☃",
]


def test_hostile_values_are_written_intact_and_safely_as_json_lines(tmp_path: Path) -> None:
    n = len(HOSTILE)
    table = pa.table(
        {
            "text": HOSTILE,
            "raw": pa.array([b"\xff\xfe", b"ok", b"a\\xffb", b"\xc3\xa9"], pa.binary()),
            "score": [float("nan"), float("inf"), -float("inf"), 0.5],
            "when": pa.array([0, 1, 2, 3], pa.timestamp("s")),
            "nested": [{"k": [b"\x80"]}, None, {"k": []}, {"k": [b"x"]}],
        }
    )
    pq.write_table(table, tmp_path / "hostile.parquet")
    strict = text_format.Parse(
        'feature { name: "text" type: BYTES string_domain { value: "none of these" } }',
        schema_pb2.Schema(),
    )
    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        read = pipeline | ReadRecordBatches(str(tmp_path / "*.parquet"))
        result = read.batches | ValidateExamples(strict)
        _ = result.bad | WriteExamples(str(tmp_path / "out"), "jsonl", "bad", with_reasons=True)

    [path] = (tmp_path / "out").glob("bad-*.jsonl")
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "" and len(lines) == n + 1  # one line per row, none broken
    for line in lines[:-1]:
        assert not set(line) & {"<", ">", "&", "\r", "\u2028"}, line
    records = sorted(
        (json.loads(line) for line in lines[:-1]), key=lambda r: HOSTILE.index(r["row"]["text"])
    )
    assert [r["row"]["text"] for r in records] == HOSTILE
    assert [r["reasons"][0]["value"] for r in records] == HOSTILE
    assert [r["row"]["raw"] for r in records] == ["\\xff\\xfe", "ok", "a\\\\xffb", "é"]
    assert [r["row"]["score"] for r in records] == ["NaN", "Infinity", "-Infinity", 0.5]
    assert records[0]["row"]["when"] == "1970-01-01T00:00:00"
    assert records[0]["row"]["nested"] == {"k": ["\\x80"]} and records[1]["row"]["nested"] is None


def test_json_safe() -> None:
    assert json_safe({"m": [("k", b"\x00")], "d": pa.scalar(1, pa.decimal128(3, 1)).as_py()}) == {
        "m": [["k", "\x00"]],
        "d": "1.0",
    }


# --- beam-stats validate-examples ----------------------------------------------------------


def run_cli(argv: list[str]) -> int:
    """Runs the command through its own add_parsers, on the FnApiRunner."""
    root = argparse.ArgumentParser()
    examples.add_parsers(root.add_subparsers(dest="command", required=True))
    args, beam_args = root.parse_known_args(["validate-examples", *argv, "--runner=FnApiRunner"])
    return int(args.run(args, beam_args))


@pytest.mark.parametrize("output_format", ["jsonl", "parquet"])
def test_cli_writes_bad_rows_and_the_counts_add_up(
    output_format: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = make_rows()
    for row in rows[:5]:
        row["extra"] = "x"  # a column the schema does not know: no row problem
    csv = tmp_path / "data.csv"
    names = ["id", "age", "color", "score", "extra"]
    body = [",".join("" if r.get(c) is None else str(r.get(c)) for c in names) for r in rows]
    csv.write_text("\n".join([",".join(names), *body, "1,2"]) + "\n")  # and a malformed line
    (tmp_path / "schema.pbtxt").write_text(SCHEMA)
    bad_dir, good_dir = tmp_path / "bad", tmp_path / "good"
    (bad_dir).mkdir()
    (bad_dir / "bad-rows-stale.jsonl").write_text("from an earlier run\n")
    (bad_dir / "notes.txt").write_text("not ours")
    argv = [str(csv), "--schema", str(tmp_path / "schema.pbtxt"), "--bad-rows", str(bad_dir)]
    argv += ["--good-rows", str(good_dir), "--output-format", output_format]

    assert run_cli(argv) == 1  # some rows are bad

    read = read_json_lines if output_format == "jsonl" else read_parquet_rows
    bad, good = read(bad_dir, "bad-rows"), read(good_dir, "good-rows")
    expected = expected_bad(rows)
    assert len(bad) == len(expected) and len(good) == N - len(expected)
    if output_format == "jsonl":
        bad_ids = {r["row"]["id"]: [x["anomaly"] for x in r["reasons"]] for r in bad}
    else:
        bad_ids = {r["id"]: [x["anomaly"] for x in r["reasons"]] for r in bad}
    assert bad_ids == expected
    assert sorted([*bad_ids, *(r["id"] for r in good)]) == list(range(N))
    summary = json.loads((bad_dir / "summary.json").read_text())
    assert (summary["rows"], summary["bad_rows"]) == (N, len(expected))
    assert [json.loads(x) for x in (bad_dir / "new-columns.jsonl").read_text().splitlines()] == [
        {
            "feature": "extra",
            "anomaly": "SCHEMA_NEW_COLUMN",
            "description": "in the data but not in the schema",
            "num_rows": 5,
        }
    ]
    errors = [json.loads(x) for x in (bad_dir / "bad-rows.errors.jsonl").read_text().splitlines()]
    assert [(e["kind"], e["line"]) for e in errors] == [("malformed_row", N + 2)]
    assert not (bad_dir / "bad-rows-stale.jsonl").exists()
    assert (bad_dir / "notes.txt").read_text() == "not ours"
    out, err = capsys.readouterr()
    assert f"validated {N} rows: {N - len(expected)} good, {len(expected)} bad" in out
    assert "INT_TYPE_BIG_INT" in out
    assert "column extra: SCHEMA_NEW_COLUMN" in err and "1 input problem" in err


def test_cli_all_good_exits_0_and_bad_arguments_raise(tmp_path: Path) -> None:
    rows = [r for r in make_rows(50) if not expected_bad([r])]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "good.parquet")
    (tmp_path / "schema.pbtxt").write_text(SCHEMA)
    argv = [str(tmp_path / "good.parquet"), "--schema", str(tmp_path / "schema.pbtxt")]
    assert run_cli([*argv, "--bad-rows", str(tmp_path / "bad")]) == 0
    assert list((tmp_path / "bad").glob("bad-rows-*.jsonl"))[0].read_text() == ""
    with pytest.raises(InvalidInputError, match="no schema file"):
        run_cli([argv[0], "--schema", str(tmp_path / "none.pbtxt"), "--bad-rows", "x"])
    with pytest.raises(FileNotFoundError, match="no file matches"):
        run_cli([str(tmp_path / "none-*.csv"), *argv[1:], "--bad-rows", "x"])
