"""``--label`` on ``beam-stats stats`` and ``run``: label-aware statistics from the command line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from beam_stats.beam import load_statistics
from beam_stats.cli import main
from beam_stats.stats import StatisticsSpec, generate_statistics_from_table
from beam_stats.stats.labels import LabelSpec

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


def _data(tmp_path: Path) -> tuple[str, pa.Table]:
    rng = np.random.default_rng(11)
    income = rng.normal(50.0, 10.0, size=500)
    table = pa.table({"plan": rng.choice(["a", "b"], 500), "income": income, "spend": income * 2})
    pq.write_table(table, tmp_path / "data.parquet")
    return str(tmp_path / "data.parquet"), table


def test_stats_label_writes_the_librarys_cross_statistics(tmp_path: Path) -> None:
    data, table = _data(tmp_path)
    out = str(tmp_path / "s.pb")
    assert main(["stats", data, "--output", out, "--label", "income", "--label-bins", "40,60"]) == 0
    written = load_statistics(out).datasets[0]
    spec = StatisticsSpec(label=LabelSpec(feature="income", bins=(40.0, 60.0)))
    expected = generate_statistics_from_table(table, spec).datasets[0]
    assert written.cross_features == expected.cross_features
    kinds = {(c.path_x.step[0], c.WhichOneof("cross_stats")) for c in written.cross_features}
    assert kinds == {
        ("plan", "categorical_cross_stats"),
        ("spend", "categorical_cross_stats"),
        ("spend", "num_cross_stats"),
    }
    spend = next(
        c for c in written.cross_features if c.WhichOneof("cross_stats") == "num_cross_stats"
    )
    assert spend.num_cross_stats.correlation == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--label-bins", "1,2"], "need --label"),
        (["--label", "income", "--label-bins", "1,x"], "numbers separated by commas"),
        (["--label", "income", "--label-bins", "2,1"], "increasing"),
        (["--label", "income", "--label-max-classes", "1"], "max_classes"),
    ],
)
def test_bad_label_flags_exit_2(
    flags: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, _ = _data(tmp_path)
    assert main(["stats", data, "--output", str(tmp_path / "s.pb"), *flags]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "s.pb").exists()


def test_run_label_computes_label_aware_training_statistics(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["run", "--train", str(SAMPLE / "train.parquet"), "--serving"]
    args += [str(SAMPLE / "serving.parquet"), "--label", "churned", "--out", str(out)]
    assert main(args) in (0, 1)
    train = load_statistics(str(out / "train_stats.pb")).datasets[0]
    assert {c.path_y.step[0] for c in train.cross_features} == {"churned"}
    informed = [
        f for f in train.features if any(c.name == "mutual_information" for c in f.custom_stats)
    ]
    assert len(informed) >= 10
    serving = load_statistics(str(out / "serving_stats.pb")).datasets[0]
    assert not serving.cross_features  # serving has no label (yet)
