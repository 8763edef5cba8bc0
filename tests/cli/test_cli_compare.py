"""``beam-stats compare`` and ``validate --previous/--serving``: tables and exit status."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from anomaly_helpers import stats

from beam_stats.beam import load_schema, write_statistics
from beam_stats.cli import compare as compare_cli
from beam_stats.cli import parser as main_parser
from beam_stats.cli import schema as schema_cli
from beam_stats.drift import thresholds
from beam_stats.errors import BeamStatsError
from beam_stats.schema import get_feature

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


def run(argv: list[str]) -> int:
    """What ``beam_stats.cli.main`` does, with only the commands tested here."""
    root = argparse.ArgumentParser(prog="beam-stats")
    commands = root.add_subparsers(dest="command", required=True)
    compare_cli.add_parsers(commands)
    schema_cli.add_parsers(commands)
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
    return out


def rows(printed: str) -> list[list[str]]:
    """The table rows (header first) of compare's output, cut at the header's columns."""
    lines = printed.splitlines()[1:]
    table = lines[: lines.index("")]
    starts = [m.start() for m in re.finditer(r"\S+", table[0])]
    bounds = list(zip(starts, [*starts[1:], None], strict=True))
    return [[line[a:b].strip() for a, b in bounds] for line in table]


def test_compare_sorts_by_severity(pair: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train, serving = str(pair / "train.pb"), str(pair / "serving.pb")
    assert run(["compare", train, serving]) == 1
    out = capsys.readouterr().out
    assert out.startswith("base: 5000 examples")
    table = rows(out)
    assert table[0] == [
        "feature",
        "measure",
        "value",
        "error",
        "threshold",
        "status",
        "source",
        "note",
    ]
    breached = {r[0] for r in table[1:] if "BREACH" in r}
    order = list(dict.fromkeys(r[0] for r in table[1:]))
    assert set(order[: len(breached)]) == breached  # features with breaches first
    for feature in order:  # and within a feature, its breaches first
        status = [r[5] for r in table[1:] if r[0] == feature and r[5] in ("BREACH", "ok")]
        assert status == sorted(status), feature  # "BREACH" < "ok"
    # user_id is id-like (every value new): only its missing fraction has a default threshold
    assert breached == {"churned", "session_minutes", "promo_code", "device", "referrer"}
    assert out.rstrip().splitlines()[-1].endswith("in 5 features")
    user_id = {r[1]: r for r in table if r[0] == "user_id"}
    assert float(user_id["psi"][2]) > 1 and user_id["psi"][4:6] == ["", ""]
    assert user_id["missing_fraction"][4:6] == ["0.1", "ok"]
    ks = next(r for r in table if r[:2] == ["session_minutes", "ks"])
    assert ks[3].startswith("+-") and ks[6] == "sketch"


def test_compare_identical_and_thresholds(pair: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train = str(pair / "train.pb")
    assert run(["compare", train, train]) == 0
    assert capsys.readouterr().out.rstrip().endswith("0 breaches in 0 features")
    serving = str(pair / "serving.pb")
    argv = ["compare", train, serving, "--threshold", "ks=0.5", "--threshold", "psi=50"]
    assert run(argv) == 0  # only these two thresholds, nothing over them
    table = rows(capsys.readouterr().out)
    assert {r[4] for r in table[1:] if "ok" in r} == {"0.5", "50"}
    assert run([*argv, "--all"]) == 0
    assert any("not applicable" in line for line in capsys.readouterr().out.splitlines())


def test_compare_bad_input(pair: Path, tmp_path: Path) -> None:
    train = str(pair / "train.pb")
    assert run(["compare", train, str(tmp_path / "none.pb")]) == 2
    assert run(["compare", train, train, "--threshold", "kl=0.1"]) == 2
    assert run(["compare", train, train, "--threshold", "psi"]) == 2
    assert run(["compare", train, train, "--threshold", "psi=-1"]) == 2
    assert run(["compare", train, train, "--runner=DirectRunner"]) == 2
    assert run(["compare", train, train, "--dataset", "nope"]) == 2


def test_compare_prints_user_text_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    odd = "a\nb\x1b[2J{x}%s"
    base = write_statistics(stats(pa.table({odd: ["u", "u", "v", "v"]})), str(tmp_path / "a.pb"))
    test = write_statistics(stats(pa.table({odd: ["w", "w", "w", "w"]})), str(tmp_path / "b.pb"))
    assert run(["compare", base, test]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert all(line.startswith("a\\nb\\x1b[2J{x}%s ") for line in lines[2:-2])


def test_infer_schema_writes_thresholds_and_validate_uses_them(
    pair: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train, serving = str(pair / "train.pb"), str(pair / "serving.pb")
    schema = str(tmp_path / "schema.pbtxt")
    argv = ["infer-schema", train, "--output", schema, "--environment", "TRAINING"]
    argv += ["--environment", "SERVING", "--not-in", "SERVING=churned"]
    argv += ["--drift-threshold", "ks=0.1", "--drift-threshold", "l_infinity=0.1"]
    argv += ["--skew-threshold", "jensen_shannon=0.1", "--num-examples-drift", "0.5", "2"]
    assert run(argv) == 0
    loaded = load_schema(schema)
    assert thresholds(get_feature(loaded, "age"), "drift").ks == 0.1
    assert thresholds(get_feature(loaded, "device"), "skew").jensen_shannon == 0.1
    assert loaded.dataset_constraints.num_examples_drift_comparator.min_fraction_threshold == 0.5
    capsys.readouterr()
    base = ["validate", serving, "--schema", schema, "--environment", "SERVING"]
    assert run([*base, "--previous", train]) == 1
    printed = capsys.readouterr().out.splitlines()
    found = {tuple(line.split()[:2]) for line in printed[1:] if line}
    assert ("session_minutes", "COMPARATOR_KOLMOGOROV_SMIRNOV_HIGH") in found
    assert ("device", "COMPARATOR_L_INFTY_HIGH") in found
    assert ("(dataset)", "COMPARATOR_LOW_NUM_EXAMPLES") in found  # 2000 / 5000 < 0.5
    skew = ["validate", train, "--schema", schema, "--environment", "TRAINING"]
    assert run([*skew, "--serving", serving]) == 1
    printed = capsys.readouterr().out.splitlines()
    found = {tuple(line.split()[:2]) for line in printed[1:] if line}
    assert found >= {
        ("tenure_days", "SCHEMA_TRAINING_SERVING_SKEW"),
        ("promo_code", "SCHEMA_TRAINING_SERVING_SKEW"),
        ("session_minutes", "COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH"),
    }
    assert run([*skew, "--serving", serving, "--serving-environment", "PROD"]) == 2
    assert run(["infer-schema", train, "--output", schema, "--drift-threshold", "ks=x"]) == 2
    assert run(["infer-schema", train, "--output", schema, "--num-examples-drift", "2", "1"]) == 2


def _registered() -> bool:
    commands = main_parser()._subparsers
    assert commands is not None
    return "compare" in (commands._group_actions[0].choices or ())


@pytest.mark.skipif(not _registered(), reason="beam_stats.cli does not register compare yet")
def test_registered_in_the_main_command(pair: Path) -> None:
    from beam_stats.cli import main

    train = str(pair / "train.pb")
    assert main(["compare", train, train]) == 0


def test_sliced_statistics_compare_the_whole_dataset_or_the_named_slice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As the library (``one_dataset``) and TFDV: of several datasets, "All Examples"
    unless ``--dataset`` names another; infer-schema picks the same way."""
    from beam_stats.stats import SlicingSpec, generate_statistics_from_table

    slicing = SlicingSpec(features=("device",))
    for name in ("train", "serving"):
        table = pq.read_table(SAMPLE / f"{name}.parquet")
        sliced = generate_statistics_from_table(table, slicing=slicing)
        write_statistics(sliced, str(tmp_path / f"{name}.pb"))
    base, test = str(tmp_path / "train.pb"), str(tmp_path / "serving.pb")
    train, serving = (pq.read_table(SAMPLE / f"{n}.parquet") for n in ("train", "serving"))
    mobile = serving["device"].to_pylist().count("mobile")
    run(["compare", base, test])
    assert capsys.readouterr().out.startswith(
        f"base: {train.num_rows} examples ({base}); test: {serving.num_rows} examples"
    )
    run(["compare", base, test, "--dataset", "device=mobile"])
    assert f"; test: {mobile} examples ({test})" in capsys.readouterr().out.splitlines()[0]
    assert run(["compare", base, test, "--dataset", "device=fridge"]) == 2
    schema_path = tmp_path / "schema.pbtxt"
    assert run(["infer-schema", base, "--output", str(schema_path)]) == 0
    assert load_schema(str(schema_path)).feature
