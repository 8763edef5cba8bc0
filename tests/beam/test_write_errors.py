"""`WriteErrors`: the errors file every job writes, in a real DirectRunner pipeline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

from beam_stats.beam.problems import error_record
from beam_stats.beam.running import run_pipeline
from beam_stats.beam.sinks import WriteErrors
from beam_stats.pipelines.examples import to_json_line

RECORDS = [
    error_record("data/a.csv", "bad_line", "cannot parse 'x,<y>'", 3),
    error_record("data/ü.json", "bad_json", "unexpected end", None),
]


def _folder(tmp_path: Path) -> tuple[Path, bytes]:
    """An input file beside the output, and its bytes."""
    data = tmp_path / "input.csv"
    data.write_bytes(b"a,b\n1,2\n")
    return data, data.read_bytes()


def test_records_become_json_lines_and_the_path_is_returned(tmp_path: Path) -> None:
    data, before = _folder(tmp_path)
    out = tmp_path / "errors.jsonl"
    out.write_text("an earlier run's file\n")
    with beam.Pipeline() as p:
        written = p | beam.Create(RECORDS) | "WriteErrors" >> WriteErrors(str(out))
        assert_that(written, equal_to([str(out)]))
    lines = out.read_text(encoding="utf-8").splitlines()
    assert sorted(lines) == sorted(json.dumps(r) for r in RECORDS)
    assert sorted(json.loads(line)["file"] for line in lines) == ["data/a.csv", "data/ü.json"]
    # Only the errors file was written: the input is as it was, no temporary is left.
    assert data.read_bytes() == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["errors.jsonl", "input.csv"]


def test_no_record_gives_an_empty_file(tmp_path: Path) -> None:
    out = tmp_path / "errors.jsonl"
    with beam.Pipeline() as p:
        records = p | beam.Create([]).with_output_types(dict[str, Any])
        written = records | WriteErrors(str(out))
        assert_that(written, equal_to([str(out)]))
    assert out.read_text() == ""


def test_the_encoder_of_the_jobs_whose_outputs_may_become_html(tmp_path: Path) -> None:
    out = tmp_path / "errors.jsonl"
    with beam.Pipeline() as p:
        _ = p | beam.Create(RECORDS) | WriteErrors(str(out), to_json_line)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert sorted(lines) == sorted(to_json_line(r) for r in RECORDS)
    assert any("\\u003cy\\u003e" in line and "<" not in line for line in lines)
    assert any("ü" in line for line in lines)  # not \\u-escaped, unlike json.dumps
    assert sorted(json.loads(line)["message"] for line in lines) == sorted(
        r["message"] for r in RECORDS
    )


def test_a_failed_run_leaves_the_earlier_file_and_no_temporary(tmp_path: Path) -> None:
    data, before = _folder(tmp_path)
    out = tmp_path / "errors.jsonl"
    out.write_text("an earlier run's file\n")
    pipeline = beam.Pipeline()
    unencodable = {"file": "f", "kind": "k", "message": {1, 2}}  # a set is not JSON
    _ = pipeline | beam.Create([*RECORDS, unencodable]) | WriteErrors(str(out))
    with pytest.raises(TypeError, match="set is not JSON serializable"):
        run_pipeline(pipeline)
    assert out.read_text() == "an earlier run's file\n"
    assert data.read_bytes() == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["errors.jsonl", "input.csv"]
