"""``beam-stats infer-schema`` and ``beam-stats validate``: exit status 0, 1 and 2."""

from __future__ import annotations

import argparse
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from anomaly_helpers import stats
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import anomalies_pb2, statistics_pb2

from beam_stats.beam import load_schema, write_statistics
from beam_stats.cli import parser as main_parser
from beam_stats.cli import schema as schema_cli
from beam_stats.errors import BeamStatsError
from beam_stats.schema import get_feature, severity_overrides

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


def run(argv: list[str]) -> int:
    """What ``beam_stats.cli.main`` does, with only this module's commands."""
    root = argparse.ArgumentParser(prog="beam-stats")
    schema_cli.add_parsers(root.add_subparsers(dest="command", required=True))
    args, extra = root.parse_known_args(argv)
    try:
        return int(args.run(args, extra))
    except (BeamStatsError, FileNotFoundError):
        return 2


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pair")
    for name in ("train", "serving"):
        table = pq.read_table(SAMPLE / f"{name}.parquet")
        write_statistics(stats(table, name=name), str(out / f"{name}.pb"))
    assert (
        run(
            [
                "infer-schema",
                str(out / "train.pb"),
                "--output",
                str(out / "schema.pbtxt"),
                "--infer-ranges",
                "--disallow-nan",
                "--environment",
                "TRAINING",
                "--environment",
                "SERVING",
                "--not-in",
                "SERVING=churned",
                "--severity",
                "SCHEMA_NEW_COLUMN=WARNING",
            ]
        )
        == 0
    )
    return out


def test_infer_schema_writes_the_options(pair: Path) -> None:
    schema = load_schema(pair / "schema.pbtxt")
    assert list(schema.default_environment) == ["TRAINING", "SERVING"]
    assert list(get_feature(schema, "churned").not_in_environment) == ["SERVING"]
    assert get_feature(schema, "num_purchases").int_domain.max == 13
    assert get_feature(schema, "income").float_domain.disallow_nan
    assert severity_overrides(schema) == {anomalies_pb2.AnomalyInfo.SCHEMA_NEW_COLUMN: 1}


def test_validate_exit_status(pair: Path, capsys: pytest.CaptureFixture[str]) -> None:
    schema = str(pair / "schema.pbtxt")
    train, serving = str(pair / "train.pb"), str(pair / "serving.pb")
    assert run(["validate", train, "--schema", schema, "--environment", "TRAINING"]) == 0
    assert "no anomalies" in capsys.readouterr().out
    output = pair / "out" / "anomalies.pbtxt"
    argv = ["validate", serving, "--schema", schema, "--environment", "SERVING"]
    assert run([*argv, "--output", str(output)]) == 1
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].split() == ["feature", "anomaly", "severity", "description"]
    assert printed[1].split()[:3] == ["country", "ENUM_TYPE_UNEXPECTED_STRING_VALUES", "ERROR"]
    new_column = ["promo_code", "SCHEMA_NEW_COLUMN", "WARNING"]
    assert any(line.split()[:3] == new_column for line in printed)
    assert printed[-1] == "8 anomalies in 7 features: 7 errors, 1 warning"
    anomalies = text_format.Parse(output.read_text(), anomalies_pb2.Anomalies())
    assert len(anomalies.anomaly_info) == 7


def test_fail_on_error_ignores_warnings(pair: Path) -> None:
    schema = str(pair / "schema.pbtxt")
    serving = str(pair / "serving.pb")
    warnings = [
        f"--severity={t}=WARNING"
        for t in (
            "ENUM_TYPE_UNEXPECTED_STRING_VALUES",
            "UNEXPECTED_DATA_TYPE",
            "FEATURE_TYPE_LOW_FRACTION_PRESENT",
            "INVALID_FEATURE_SHAPE",
            "FLOAT_TYPE_HAS_NAN",
            "INT_TYPE_BIG_INT",
            "INT_TYPE_NOT_INT_STRING",
        )
    ]
    base = ["validate", serving, "--schema", schema, "--environment", "SERVING", *warnings]
    assert run(base) == 1
    assert run([*base, "--fail-on", "error"]) == 0
    assert run([*base[:-1], "--fail-on", "error"]) == 1  # one ERROR left


def test_bad_input_exits_2(pair: Path, tmp_path: Path) -> None:
    schema, serving = str(pair / "schema.pbtxt"), str(pair / "serving.pb")
    corrupt = tmp_path / "corrupt.pbtxt"
    corrupt.write_text("feature {")
    assert run(["validate", str(tmp_path / "none.pb"), "--schema", schema]) == 2
    assert run(["validate", serving, "--schema", str(corrupt)]) == 2
    assert run(["validate", serving, "--schema", str(tmp_path / "none.pbtxt")]) == 2
    assert run(["validate", serving, "--schema", schema, "--environment", "PROD"]) == 2
    assert run(["validate", serving, "--schema", schema, "--severity", "NOPE=WARNING"]) == 2
    assert run(["validate", serving, "--schema", schema, "--severity", "INT_TYPE_BIG_INT"]) == 2
    assert run(["validate", serving, "--schema", schema, "--runner=DirectRunner"]) == 2
    out = str(tmp_path / "s.pbtxt")
    assert run(["infer-schema", str(corrupt), "--output", out]) == 2
    assert run(["infer-schema", serving, "--output", out, "--not-in", "SERVING"]) == 2
    assert run(["infer-schema", serving, "--output", out, "--range-margin", "-1"]) == 2
    assert run(["infer-schema", serving, "--output", out, "--not-in", "S=nope"]) == 2
    assert not Path(out).exists()


def test_sliced_statistics(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sliced = statistics_pb2.DatasetFeatureStatisticsList(
        datasets=[
            stats({"x": ["a", "b"]}, name="all").datasets[0],
            stats({"x": ["c"]}, name="x=c").datasets[0],
        ]
    )
    path = write_statistics(sliced, str(tmp_path / "sliced.pb"))
    schema = str(tmp_path / "schema.pbtxt")
    assert run(["infer-schema", path, "--output", schema]) == 2
    assert run(["infer-schema", path, "--output", schema, "--dataset", "all"]) == 0
    capsys.readouterr()
    output = tmp_path / "anomalies.pb"
    assert run(["validate", path, "--schema", schema, "--output", str(output)]) == 1
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].split() == ["dataset", "feature", "anomaly", "severity", "description"]
    assert printed[1].split()[:3] == ["x=c", "x", "ENUM_TYPE_UNEXPECTED_STRING_VALUES"]
    first = anomalies_pb2.Anomalies.FromString((tmp_path / "anomalies-0.pb").read_bytes())
    second = anomalies_pb2.Anomalies.FromString((tmp_path / "anomalies-1.pb").read_bytes())
    assert not first.anomaly_info and list(second.anomaly_info) == ["x"]


def test_the_table_keeps_one_row_per_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = tmp_path / "schema.pbtxt"
    schema.write_text('feature { name: "x" type: BYTES string_domain { value: "ok" } }')
    path = write_statistics(stats({"x": ["line\nbreak\x1b[2J"]}), str(tmp_path / "s.pb"))
    assert run(["validate", path, "--schema", str(schema)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert '"line\\nbreak\\x1b[2J"' in lines[1] and len(lines) == 4


def _registered() -> bool:
    commands = main_parser()._subparsers
    assert commands is not None
    return "validate" in (commands._group_actions[0].choices or ())


@pytest.mark.skipif(
    not _registered(), reason="beam_stats.cli does not register the schema commands yet"
)
def test_registered_in_the_main_command(pair: Path) -> None:
    from beam_stats.cli import main

    schema, serving = str(pair / "schema.pbtxt"), str(pair / "serving.pb")
    assert main(["validate", serving, "--schema", schema, "--environment", "SERVING"]) == 1
    assert main(["validate", serving, "--schema", schema, "--environment", "PROD"]) == 2
