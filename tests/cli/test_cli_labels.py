"""``--label`` on ``beam-stats stats`` and ``run``: label-aware statistics from the command line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
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
        (["--label-quantile-bins", "4"], "need --label"),
        (["--label", "income", "--label-quantile-bins", "1"], "quantile_bins must be"),
        (["--label", "income", "--label-quantile-bins", "-2"], "got -2"),
        (["--label", "income", "--label-quantile-bins", "4", "--label-bins", "1"], "not both"),
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


def test_stats_label_quantile_bins_uses_the_labels_quantiles(tmp_path: Path) -> None:
    data, table = _data(tmp_path)
    out = str(tmp_path / "s.pb")
    assert (
        main(["stats", data, "--output", out, "--label", "income"] + ["--label-quantile-bins", "4"])
        == 0
    )
    written = load_statistics(out).datasets[0]
    income = table.column("income").to_numpy()
    edges = tuple(np.quantile(income, [0.25, 0.5, 0.75], method="inverted_cdf"))
    spec = StatisticsSpec(label=LabelSpec(feature="income", bins=edges))
    assert (
        written.cross_features
        == generate_statistics_from_table(table, spec).datasets[0].cross_features
    )
    plan = next(c for c in written.cross_features if c.path_x.step == ["plan"])
    counts = [s.y_count for s in plan.categorical_cross_stats.lift.lift_series]
    by_cut = pd.cut(income, [-np.inf, *edges, np.inf], right=False).value_counts()
    assert sorted(counts) == sorted(by_cut.tolist()) == [124, 125, 125, 126]  # edges go up
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "data.parquet",
        "s.pb",
        "s.pb.errors.jsonl",
    ]


def test_run_label_quantile_bins_uses_trainings_edges_for_both(tmp_path: Path) -> None:
    from beam_stats.stats import accumulator_from_statistics

    rng = np.random.default_rng(5)
    for name, shift in (("train", 0.0), ("serving", 2.0)):
        y = rng.normal(shift, 1.0, size=400)
        pq.write_table(
            pa.table({"x": rng.choice(["a", "b"], 400), "y": y}), tmp_path / f"{name}.parquet"
        )
    out = tmp_path / "out"
    args = ["run", "--train", str(tmp_path / "train.parquet"), "--serving"]
    args += [str(tmp_path / "serving.parquet"), "--label", "y", "--label-quantile-bins", "3"]
    assert main([*args, "--out", str(out)]) in (0, 1)
    train_y = pq.read_table(tmp_path / "train.parquet").column("y").to_numpy()
    expected = tuple(np.quantile(train_y, [1 / 3, 2 / 3], method="inverted_cdf"))
    for name in ("train", "serving"):
        stats = load_statistics(str(out / f"{name}_stats.pb")).datasets[0]
        label = accumulator_from_statistics(stats).spec.label
        assert label is not None and label.bins == expected


def test_run_label_quantile_bins_needs_a_label(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["run", "--train", str(SAMPLE / "train.parquet"), "--serving"]
    args += [
        str(SAMPLE / "serving.parquet"),
        "--label-quantile-bins",
        "3",
        "--out",
        str(tmp_path / "o"),
    ]
    assert main(args) == 2
    assert "--label-quantile-bins needs --label" in capsys.readouterr().err
