"""DetectFeatureSkew on Beam over real files, its writers, and ``beam-stats feature-skew``."""

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
from apache_beam.testing.util import assert_that
from skew_reference import counts_of, make_pair, reference, table

from beam_stats.beam import ReadRecordBatches
from beam_stats.cli import skew as skew_cli
from beam_stats.drift.feature_skew import FeatureSkewSpec, feature_skew
from beam_stats.errors import InvalidInputError
from beam_stats.pipelines.examples import to_json_line
from beam_stats.pipelines.skew import (
    NAMESPACE,
    DetectFeatureSkew,
    WriteFeatureSkew,
    WriteSkewSamples,
    load_feature_skew,
    sample_records,
)
from beam_stats.proto import skew_pb2

FEATURES = ["price", "qty", "color", "tags", "emb"]


def write_pair(folder: Path, seed: int = 0) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """make_pair's rows as Parquet: base in two files, test in one, small row groups."""
    base, test = make_pair(seed=seed)
    (folder / "train").mkdir(parents=True)
    (folder / "serving").mkdir()
    half = len(base) // 2
    pq.write_table(table(base[:half]), folder / "train/part-0.parquet", row_group_size=64)
    pq.write_table(table(base[half:]), folder / "train/part-1.parquet", row_group_size=64)
    pq.write_table(table(test), folder / "serving/part-0.parquet", row_group_size=100)
    return base, test


def test_pipeline_over_parquet_files_matches_pandas_and_the_in_memory_result(
    tmp_path: Path,
) -> None:
    base, test = write_pair(tmp_path)
    out = tmp_path / "out"
    pipeline = beam.Pipeline(runner=FnApiRunner())
    read_base = pipeline | "ReadBase" >> ReadRecordBatches(str(tmp_path / "train/*.parquet"))
    read_test = pipeline | "ReadTest" >> ReadRecordBatches(str(tmp_path / "serving/*.parquet"))
    result = (read_base.batches, read_test.batches) | DetectFeatureSkew("id", sample_size=4)
    _ = result | WriteFeatureSkew(str(out / "skew.pb"))
    _ = result | WriteSkewSamples(str(out / "samples.jsonl"))
    run = pipeline.run()
    run.wait_until_finish()

    got = load_feature_skew(str(out / "skew.pb"))
    assert counts_of(got) == reference(base, test, ["id"], FEATURES)
    spec = FeatureSkewSpec(identifier_features=("id",), sample_size=4)
    assert got == feature_skew(table(base).to_batches(), table(test).to_batches(), spec)
    assert all(len(f.samples) == min(4, f.mismatch_count) for f in got.features)
    lines = (out / "samples.jsonl").read_text().splitlines()
    assert lines == [to_json_line(record) for record in sample_records(got)]
    counters = {
        c.key.metric.name: c.committed
        for c in run.metrics().query(MetricsFilter().with_namespace(NAMESPACE))["counters"]
    }
    assert counters == {"base_rows": len(base), "test_rows": len(test), "base_null_ids": 3,
                        "test_null_ids": 2}  # fmt: skip


HOSTILE = [
    'quote " and \\ backslash',
    "<script>alert('x')</script> & more",
    "new\nline\r\n and \u2028 separator",
    "NUL \x00 é ☃",
]


def test_hostile_identifiers_and_values_are_written_safely(tmp_path: Path) -> None:
    raw = [b"\xff\xfe", b"ok", b"a\\xffb", b"\xc3\xa9"]
    base = pa.table({"id": HOSTILE, "text": HOSTILE[::-1], "raw": pa.array(raw, pa.binary())})
    test = pa.table(
        {"id": HOSTILE, "text": ["same"] * 4, "raw": pa.array([b"\x80"] * 4, pa.binary())}
    )
    pq.write_table(base, tmp_path / "base.parquet")
    pq.write_table(test, tmp_path / "test.parquet")
    samples = tmp_path / "samples.jsonl"
    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        b = pipeline | "B" >> ReadRecordBatches(str(tmp_path / "base.parquet"))
        t = pipeline | "T" >> ReadRecordBatches(str(tmp_path / "test.parquet"))
        _ = (b.batches, t.batches) | DetectFeatureSkew(["id"]) | WriteSkewSamples(str(samples))

    lines = samples.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "" and len(lines) == 8 + 1  # one line per sample, none broken
    for line in lines[:-1]:
        assert not set(line) & {"<", ">", "&", "\r", "\n", "\u2028"}, line
    records = [json.loads(line) for line in lines[:-1]]
    text = {r["identifier"]["id"]: r["base"] for r in records if r["feature"] == "text"}
    assert text == dict(zip(HOSTILE, HOSTILE[::-1], strict=True))
    raws = {r["identifier"]["id"]: (r["base"], r["test"]) for r in records if r["feature"] == "raw"}
    assert sorted(raws.values()) == sorted(
        (value, "\\x80") for value in ["\\xff\\xfe", "ok", "a\\\\xffb", "é"]
    )


def test_empty_inputs_give_an_empty_result_and_bad_inputs_are_refused() -> None:
    def check(outputs: list[skew_pb2.FeatureSkewResult]) -> None:
        (output,) = outputs
        assert output.joined == 0 and output.base_rows == 0 and not output.features
        assert list(output.identifier_features) == ["a", "b"]

    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        nothing = pipeline | "Nothing" >> beam.Create([], reshuffle=False)
        empty = pipeline | "Empty" >> beam.Create(
            [pa.record_batch({"a": pa.array([], pa.int64())})]
        )
        result = {"base": nothing, "test": empty} | DetectFeatureSkew(["a", "b"])
        assert_that(result, check)
    with pytest.raises(InvalidInputError, match="pair"), beam.Pipeline(runner=FnApiRunner()) as p:
        _ = (p | beam.Create([1]),) | DetectFeatureSkew("id")
    with pytest.raises(InvalidInputError, match="-1"):
        DetectFeatureSkew("id", float_tolerance=-1)


# --- beam-stats feature-skew ---------------------------------------------------------------


def run_cli(argv: list[str]) -> int:
    """Runs the command through its own add_parsers, on the FnApiRunner."""
    root = argparse.ArgumentParser()
    skew_cli.add_parsers(root.add_subparsers(dest="command", required=True))
    args, beam_args = root.parse_known_args(["feature-skew", *argv, "--runner=FnApiRunner"])
    return int(args.run(args, beam_args))


def test_cli_writes_the_result_and_samples_and_prints_a_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, test = write_pair(tmp_path, seed=5)
    (tmp_path / "train/broken.parquet").write_bytes(b"not parquet")
    output, samples = tmp_path / "out/skew.pbtxt", tmp_path / "out/samples.jsonl"
    argv = [
        "--base",
        str(tmp_path / "train/*.parquet"),
        "--test",
        str(tmp_path / "serving/*.parquet"),
    ]
    argv += ["--id", "id", "--output", str(output), "--samples", str(samples)]
    argv += ["--float-tolerance", "1e-3", "--absolute-tolerance", "0", "--sample-size", "2"]
    argv += ["--num-shards", "16"]

    assert run_cli(argv) == 1  # values differ

    assert output.read_text().startswith("joined: ")  # text proto, by the suffix
    result = load_feature_skew(str(output))
    assert counts_of(result) == reference(base, test, ["id"], FEATURES, 1e-3, 0.0)
    records = [json.loads(line) for line in samples.read_text().splitlines()]
    assert records == list(sample_records(result))
    assert len(records) == sum(min(2, f.mismatch_count) for f in result.features)
    out, err = capsys.readouterr()
    table_lines = out.splitlines()[: 1 + len(FEATURES)]
    assert table_lines[0].split() == [
        "feature", "compared", "matches", "mismatches", "mismatch", "%", "base", "only", "test",
        "only",
    ]  # fmt: skip
    printed = {line.split()[0]: line.split()[1:] for line in table_lines[1:]}
    for f in result.features:
        compared = f.match_count + f.mismatch_count
        assert printed[f.feature][:3] == [str(compared), str(f.match_count), str(f.mismatch_count)]
    worst = max(result.features, key=lambda f: f.mismatch_count)
    assert table_lines[1].split()[0] == worst.feature
    assert f"{result.joined} identifiers joined and compared" in out
    assert "rows without an identifier: 3 of" in out
    assert "1 input problem" in err and "broken.parquet" in err


def test_cli_on_equal_data_exits_0_and_refuses_bad_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = pa.table({"day": [1, 1, 2], "user": ["a", "b", "a"], "x": [0.5, 1.5, 2.5]})
    pq.write_table(data, tmp_path / "a.parquet")
    data.to_pandas().to_json(tmp_path / "b.jsonl", orient="records", lines=True)
    output = tmp_path / "skew.pb"
    argv = ["--base", str(tmp_path / "a.parquet"), "--test", str(tmp_path / "b.jsonl")]
    argv += ["--id", "day", "--id", "user", "--output", str(output)]
    assert run_cli(argv) == 0
    result = load_feature_skew(str(output))
    assert result.joined == 3 and result.features[0].match_count == 3
    assert list(result.identifier_features) == ["day", "user"]
    assert "3 identifiers joined" in capsys.readouterr().out
    with pytest.raises(FileNotFoundError, match="no file matches"):
        run_cli([*argv[:2], "--test", str(tmp_path / "none-*.parquet"), *argv[4:]])
    with pytest.raises(InvalidInputError, match="sample_size"):
        run_cli([*argv, "--sample-size", "-2"])


def test_the_summary_warns_when_no_row_has_the_identifier(
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = pa.table({"user": [1, 2], "x": [1, 2]})
    spec = FeatureSkewSpec(identifier_features=("user_id",))
    skew_cli.print_result(feature_skew(base.to_batches(), base.to_batches(), spec))
    out, err = capsys.readouterr()
    assert "rows without an identifier: 2 of 2 in base, 2 of 2 in test" in out
    assert "warning: no base row has the identifier (user_id)" in err
    assert "warning: no test row" in err
