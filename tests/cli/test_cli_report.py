"""``beam-stats report``: statistics and anomalies files to an HTML page."""

from __future__ import annotations

import argparse
from pathlib import Path

import pyarrow as pa
import pytest
from report_pages import feature_rows, parse, report_data
from tensorflow_metadata.proto.v0 import anomalies_pb2

from beam_stats import (
    SlicingSpec,
    generate_statistics_from_table,
    infer_schema,
    validate_statistics,
)
from beam_stats.beam import write_statistics
from beam_stats.beam.artifacts import load_anomalies, message_to_text
from beam_stats.cli import report as report_cli
from beam_stats.errors import BeamStatsError


def run(argv: list[str]) -> int:
    """What ``beam_stats.cli.main`` does, with only this module's command."""
    root = argparse.ArgumentParser(prog="beam-stats")
    report_cli.add_parsers(root.add_subparsers(dest="command", required=True))
    args, extra = root.parse_known_args(argv)
    try:
        return int(args.run(args, extra))
    except (BeamStatsError, FileNotFoundError):
        return 2


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report_cli")
    train = generate_statistics_from_table(
        pa.table({"a": [1, 2, 3], "s": ["x", "y", "x"]}),
        name="train",
        slicing=SlicingSpec(features=("s",)),
    )
    serving = generate_statistics_from_table(pa.table({"a": [1.5, 2.0], "t": ["z", "z"]}))
    write_statistics(train, str(out / "train.pb"))
    write_statistics(serving, str(out / "serving.pbtxt"))
    anomalies = validate_statistics(serving, infer_schema(train.datasets[0]))
    (out / "anomalies.pbtxt").write_text(message_to_text(anomalies), encoding="utf-8")
    (out / "anomalies.pb").write_bytes(anomalies.SerializeToString())
    return out


@pytest.mark.parametrize("anomalies", ["anomalies.pbtxt", "anomalies.pb"])
def test_report_of_two_files_with_anomalies(
    files: Path, tmp_path: Path, anomalies: str, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "sub" / "report.html"
    argv = [str(files / "train.pb"), str(files / "serving.pbtxt"), "--output", str(output)]
    assert run(["report", *argv, "--anomalies", str(files / anomalies)]) == 0
    root = parse(output.read_text(encoding="utf-8"))
    assert set(feature_rows(root)) == {"a", "s", "t"}
    assert report_data(root)["d"] == ["train", "serving.pbtxt"]  # unnamed: the file name
    assert root.find_all("title")[0].text() == "beam-stats report: train.pb vs serving.pbtxt"
    found = {tr.find_all("code")[0].text() for tr in root.by_id("anomalies").find_all("tr")[1:]}
    assert {"UNEXPECTED_DATA_TYPE", "SCHEMA_NEW_COLUMN", "SCHEMA_MISSING_COLUMN"} <= found
    captured = capsys.readouterr()
    assert f"to {output}" in captured.out
    assert "holds 3 datasets; the report shows 'train'" in captured.err


def test_one_file_one_slice_and_title(files: Path, tmp_path: Path) -> None:
    output = tmp_path / "report.html"
    argv = [str(files / "train.pb"), "--output", str(output), "--dataset", "s=y"]
    assert run(["report", *argv, "--title", "<T>"]) == 0
    root = parse(output.read_text(encoding="utf-8"))
    assert report_data(root)["d"] == ["s=y"]
    assert root.find_all("h1")[0].text() == "<T>"
    assert not [e for e in root.iter() if e.attrs.get("id") == "anomalies"]  # none given


@pytest.mark.parametrize(
    "extra",
    [
        ["--dataset", "nope"],
        ["--other-dataset", "x"],  # without STATS2
        ["--anomalies", "missing.pbtxt"],
        ["--anomalies", "STATS"],  # a statistics file is no Anomalies
        ["--runner", "DirectRunner"],
    ],
)
def test_bad_input_exits_with_status_2(files: Path, tmp_path: Path, extra: list[str]) -> None:
    extra = [str(files / "train.pb") if e == "STATS" else e for e in extra]
    argv = [str(files / "train.pb"), "--output", str(tmp_path / "r.html"), *extra]
    assert run(["report", *argv]) == 2
    assert not (tmp_path / "r.html").exists()


def test_load_anomalies_text_without_suffix(files: Path, tmp_path: Path) -> None:
    text = tmp_path / "anomalies"
    text.write_bytes((files / "anomalies.pbtxt").read_bytes())
    loaded = load_anomalies(str(text))
    assert loaded == load_anomalies(str(files / "anomalies.pb"))
    assert isinstance(loaded, anomalies_pb2.Anomalies) and loaded.anomaly_info
