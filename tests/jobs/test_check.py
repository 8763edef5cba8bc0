"""The main job as a Python API (`beam_stats.jobs.check`), and the one threshold policy
that `run`, `compare` and `infer-schema` share."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import anomalies_pb2

from beam_stats import get_feature, load_schema, load_statistics
from beam_stats.cli import main
from beam_stats.drift import compare_statistics, thresholds
from beam_stats.drift.defaults import DEFAULT_THRESHOLDS, is_id_like
from beam_stats.errors import InvalidInputError
from beam_stats.jobs import OUTPUTS, CheckSpec, check, inferred_schema
from beam_stats.stats import generate_statistics_from_table
from beam_stats.validation import anomaly_rows

ROOT = Path(__file__).resolve().parent.parent.parent
TRAIN = str(ROOT / "data/sample/train.parquet")
SERVING = str(ROOT / "data/sample/serving.parquet")


def test_check_writes_what_the_command_writes(tmp_path: Path) -> None:
    lines: list[str] = []
    result = check(TRAIN, [SERVING], str(tmp_path / "api"), spec=CheckSpec(labels=("churned",)),
                   progress=lines.append)  # fmt: skip
    assert main(["run", "--train", TRAIN, "--serving", SERVING, "--out", str(tmp_path / "cli"),
                 "--label", "churned"]) == 1  # fmt: skip
    for name in OUTPUTS.values():
        api, cli = (tmp_path / "api" / name).read_bytes(), (tmp_path / "cli" / name).read_bytes()
        assert api == cli, name
    assert set(result.paths) == set(OUTPUTS)
    assert result.train.datasets[0].num_examples == 5000
    assert result.serving.datasets[0].num_examples == 2000
    assert result.schema == load_schema(result.paths["schema"])
    written = text_format.Parse(
        Path(result.paths["anomalies"]).read_text(), anomalies_pb2.Anomalies()
    )
    assert result.anomalies == written
    assert result.rows == tuple(anomaly_rows(written)) and not result.clean
    assert result.input_problems == {"train": 0, "serving": 0}
    assert [line[:5] for line in lines] == ["[1/4]", "[2/4]", "[3/4]", "[4/4]"]


def _write_csv(path: Path, rows: list[str]) -> str:
    path.write_text("\n".join(["x,city", *rows]) + "\n")
    return str(path)


def test_check_counts_input_problems_and_takes_a_schema_object(tmp_path: Path) -> None:
    good = [f"{i % 7},{'ab'[i % 2]}" for i in range(40)]
    train = _write_csv(tmp_path / "train.csv", good)
    serving = _write_csv(tmp_path / "serving.csv", [*good[:20], "1,a,extra", *good[20:]])
    first = check(
        train, serving, str(tmp_path / "first"), pipeline_options=["--direct_num_workers=1"]
    )
    assert first.input_problems["train"] == 0
    errors = Path(first.paths["serving_errors"]).read_text().splitlines()
    assert first.input_problems["serving"] == len(errors) >= 1
    served = first.serving.datasets[0].num_examples
    assert served + len(errors) == 41  # every row counted or listed
    # A schema given as an object is used as it is (here: a skew threshold of 0 on x).
    schema = first.schema
    feature = get_feature(schema, "x")
    feature.skew_comparator.jensen_shannon_divergence.threshold = 0.0
    second = check(train, serving, str(tmp_path / "second"), schema=schema)
    assert load_schema(second.paths["schema"]) == schema


def test_check_refuses_an_output_that_is_an_input(tmp_path: Path) -> None:
    train = _write_csv(tmp_path / "report.html", ["1,a", "2,b"])
    with pytest.raises(InvalidInputError):
        check(train, train, str(tmp_path))
    assert (tmp_path / "report.html").read_text().startswith("x,city")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"labels": "churned"}, "labels must be a sequence"), ({"input_format": "xls"}, "xls")],
)
def test_check_spec_checks_its_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        CheckSpec(**kwargs)  # type: ignore[arg-type]


def _pair(tmp_path: Path) -> tuple[str, str]:
    n = 400
    base = pa.table({"user_id": [f"u{i}" for i in range(n)], "device": ["a", "b"] * (n // 2)})
    test = pa.table({"user_id": [f"v{i}" for i in range(n)], "device": ["a"] * n})
    paths = []
    for name, table in (("base", base), ("test", test)):
        path = tmp_path / f"{name}.pb"
        path.write_bytes(generate_statistics_from_table(table).SerializeToString())
        paths.append(str(path))
    return paths[0], paths[1]


def test_run_compare_and_infer_schema_share_one_threshold_policy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, test = _pair(tmp_path)
    statistics = load_statistics(base).datasets[0]
    by_name = {f.path.step[0]: f for f in statistics.features}
    assert is_id_like(by_name["user_id"]) and not is_id_like(by_name["device"])
    # run: the schema it infers
    inferred = inferred_schema(statistics)
    assert thresholds(get_feature(inferred, "device"), "skew") == DEFAULT_THRESHOLDS
    id_skew = thresholds(get_feature(inferred, "user_id"), "skew")
    assert dict(id_skew.items()) == {"missing_fraction": DEFAULT_THRESHOLDS.missing_fraction}
    # infer-schema --drift-threshold: the same rule
    schema = str(tmp_path / "schema.pbtxt")
    argv = ["infer-schema", base, "--output", schema, "--drift-threshold", "psi=0.2"]
    assert main(argv) == 0
    written = load_schema(schema)
    assert thresholds(get_feature(written, "device"), "drift").psi == 0.2
    assert thresholds(get_feature(written, "user_id"), "drift").empty
    # compare without thresholds: the defaults, the same rule; user_id's PSI is huge but
    # has no threshold, device breaches.
    comparison = compare_statistics(
        load_statistics(base), load_statistics(test), defaults=DEFAULT_THRESHOLDS
    )
    measured = {(f.path, m.measure): m for f in comparison.features for m in f.measured}
    psi = measured[("user_id",), "psi"]
    assert psi.distance is not None and psi.distance.value > 1 and psi.threshold is None
    assert measured[("device",), "psi"].breached
    assert main(["compare", base, test]) == 1
    assert capsys.readouterr().out.rstrip().endswith("breaches in 1 feature")
