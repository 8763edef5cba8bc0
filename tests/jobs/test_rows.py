"""Row-level jobs as Python functions: `beam_stats.jobs.validate_examples` and
`beam_stats.jobs.feature_skew`, checked against the data and against the commands."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tensorflow_metadata.proto.v0 import schema_pb2

from beam_stats.cli import main
from beam_stats.errors import InvalidInputError
from beam_stats.jobs import feature_skew, validate_examples
from beam_stats.pipelines.skew import load_feature_skew


def _schema() -> schema_pb2.Schema:
    schema = schema_pb2.Schema()
    age = schema.feature.add(name="age", type=schema_pb2.INT)
    age.int_domain.min, age.int_domain.max = 0, 120
    age.presence.min_fraction = 1.0
    schema.feature.add(name="id", type=schema_pb2.INT)
    return schema


def _rows(tmp_path: Path, seed: int) -> tuple[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    ages = rng.integers(-20, 140, size=200)
    path = tmp_path / f"rows-{seed}.parquet"
    pq.write_table(pa.table({"id": np.arange(200), "age": ages}), path)
    return str(path), ages


def test_validate_examples_counts_the_rows_out_of_the_domain(tmp_path: Path) -> None:
    data, ages = _rows(tmp_path, 1)
    expected_bad = int(((ages < 0) | (ages > 120)).sum())
    assert 0 < expected_bad < 200
    result = validate_examples(data, _schema(), str(tmp_path / "bad"))
    assert (result.rows, result.bad_rows, result.good_rows) == (
        200,
        expected_bad,
        200 - expected_bad,
    )
    assert not result.clean and result.input_problems == 0 and not result.new_columns
    written = [
        json.loads(line)
        for path in sorted((tmp_path / "bad").glob("bad-rows-*.jsonl"))
        for line in path.read_text().splitlines()
    ]
    assert sorted(r["row"]["age"] for r in written) == sorted(ages[(ages < 0) | (ages > 120)])
    expected = {
        "INT_TYPE_BIG_INT": int((ages > 120).sum()),
        "INT_TYPE_SMALL_INT": int((ages < 0).sum()),
    }
    assert dict(result.anomalies) == expected
    assert result.errors == str(tmp_path / "bad" / "bad-rows.errors.jsonl")


def test_validate_examples_is_what_the_command_runs(tmp_path: Path) -> None:
    data, _ = _rows(tmp_path, 2)
    schema_path = tmp_path / "schema.pbtxt"
    schema_path.write_text(str(_schema()))
    result = validate_examples(data, str(schema_path), str(tmp_path / "api"))
    status = main(
        [
            "validate-examples",
            data,
            "--schema",
            str(schema_path),
            "--bad-rows",
            str(tmp_path / "cli"),
        ]
    )
    assert status == (0 if result.clean else 1) == 1
    for name in ("summary.json", "new-columns.jsonl"):
        assert (tmp_path / "api" / name).read_text() == (tmp_path / "cli" / name).read_text()


def test_validate_examples_refuses_an_output_that_is_an_input(tmp_path: Path) -> None:
    data, _ = _rows(tmp_path, 3)
    with pytest.raises(InvalidInputError):
        validate_examples(data, _schema(), str(tmp_path), errors=data)
    assert pq.read_table(data).num_rows == 200


def test_feature_skew_finds_the_changed_values(tmp_path: Path) -> None:
    base, ages = _rows(tmp_path, 4)
    changed = np.zeros(200, dtype=bool)
    changed[::7] = True
    test_path = tmp_path / "serving.parquet"
    pq.write_table(
        pa.table({"id": np.arange(200), "age": np.where(changed, ages + 1, ages)}), test_path
    )
    output = str(tmp_path / "skew.pb")
    found = feature_skew(base, str(test_path), "id", output, samples=str(tmp_path / "s.jsonl"))
    age = next(f for f in found.result.features if f.feature == "age")
    assert (age.mismatch_count, age.match_count) == (int(changed.sum()), int((~changed).sum()))
    assert found.result == load_feature_skew(output) and not found.clean
    assert found.result.joined == 200 and found.input_problems == 0
    assert len((tmp_path / "s.jsonl").read_text().splitlines()) == 10  # sample_size per feature


def test_feature_skew_of_identical_data_is_clean(tmp_path: Path) -> None:
    base, _ = _rows(tmp_path, 5)
    found = feature_skew(base, base, ["id"], str(tmp_path / "skew.pbtxt"))
    assert found.clean and found.result.joined == 200
    assert (
        main(
            [
                "feature-skew",
                "--base",
                base,
                "--test",
                base,
                "--id",
                "id",
                "--output",
                str(tmp_path / "c.pb"),
            ]
        )
        == 0
    )
