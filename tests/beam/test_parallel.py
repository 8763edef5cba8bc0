"""The in-process engine on several worker processes (beam_stats.beam.parallel): what one
worker gives (up to the order of merging), the same on every run, refusals where it cannot."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cli_errors import one_line_error
from hypothesis import given
from hypothesis import strategies as st
from proto_compare import assert_close
from test_hostile_input import CASES
from test_inprocess_engine import _errors, _good_files
from test_pipeline import exact_part

from beam_stats import SlicingSpec, StatisticsSpec, load_statistics, merge_statistics
from beam_stats.beam.column_parts import part_columns
from beam_stats.beam.parallel import deal
from beam_stats.cli import main
from beam_stats.errors import BeamStatsError, InvalidInputError
from beam_stats.jobs import CheckSpec, check, compute_statistics
from beam_stats.stats.custom import CustomAccumulator, CustomStatisticSpec, MatchRateAccumulator


def test_two_workers_give_what_one_gives(tmp_path: Path) -> None:
    for case in CASES:
        folder = tmp_path / "in" / case.__name__.strip("_")
        folder.mkdir(parents=True)
        case(folder)
    _good_files(tmp_path / "in" / "good")
    pattern = str(tmp_path / "in" / "*" / "*")
    one = compute_statistics(pattern, str(tmp_path / "one.pb"))
    two = compute_statistics(pattern, str(tmp_path / "two.pb"), workers=2)
    assert_close(exact_part(two.statistics), exact_part(one.statistics))
    assert two.input_problems == one.input_problems > 0
    assert _errors(two.errors) == _errors(one.errors)
    both = merge_statistics(one.statistics, two.statistics, include_state=False)
    assert both.datasets[0].num_examples == 2 * one.statistics.datasets[0].num_examples


def test_the_same_bytes_on_every_run(tmp_path: Path) -> None:
    _good_files(tmp_path / "in")
    pattern = str(tmp_path / "in" / "*")
    runs = [compute_statistics(pattern, str(tmp_path / f"{i}.pb"), workers=3) for i in range(2)]
    assert Path(runs[0].output).read_bytes() == Path(runs[1].output).read_bytes()
    assert Path(runs[0].errors).read_bytes() == Path(runs[1].errors).read_bytes()


def test_numbers_against_numpy_with_more_workers_than_units(tmp_path: Path) -> None:
    _good_files(tmp_path / "in")
    spec = StatisticsSpec(weight_feature="w")
    result = compute_statistics(
        str(tmp_path / "in" / "*.parquet"), str(tmp_path / "s.pb"), spec=spec, workers=8
    )
    parts = [pq.read_table(tmp_path / "in" / f"{n}.parquet") for n in ("one", "two")]
    x = np.concatenate([part.column("x").to_numpy() for part in parts])
    w = np.concatenate([part.column("w").to_numpy() for part in parts])
    dataset = result.statistics.datasets[0]
    feature = next(f for f in dataset.features if f.path.step == ["x"])
    finite = ~np.isnan(x)
    assert dataset.num_examples == len(x) == 3000
    assert dataset.weighted_num_examples == pytest.approx(w.sum(), rel=1e-12)
    assert feature.num_stats.mean == pytest.approx(x[finite].mean(), rel=1e-12)
    assert feature.num_stats.min == x[finite].min() and feature.num_stats.max == x[finite].max()
    assert feature.num_stats.common_stats.num_non_missing == len(x)  # NaN is a value
    assert feature.num_stats.histograms[0].num_nan == (~finite).sum() > 0


@given(st.lists(st.integers(0, 10**9), max_size=60), st.integers(1, 7))
def test_the_deal(sizes: list[int], workers: int) -> None:
    dealt = deal(sizes, workers)
    assert len(dealt) == workers
    assert sorted(i for indexes in dealt for i in indexes) == list(range(len(sizes)))
    assert all(indexes == sorted(indexes) for indexes in dealt)
    totals = [sum(sizes[i] for i in indexes) for indexes in dealt]
    # Largest first to the smallest total: no worker ends more than one unit above another.
    assert max(totals) - min(totals) <= max(sizes, default=0)
    assert deal(sizes, workers) == dealt


def test_refusals(tmp_path: Path) -> None:
    _good_files(tmp_path / "in")
    pattern, out = str(tmp_path / "in" / "*"), str(tmp_path / "s.pb")
    with pytest.raises(InvalidInputError, match="workers must be >= 1, got 0"):
        compute_statistics(pattern, out, workers=0)
    with pytest.raises(InvalidInputError, match="--direct_num_workers"):
        compute_statistics(pattern, out, workers=2, engine="beam")
    with pytest.raises(ValueError, match="workers must be >= 1, got 0"):
        deal([1, 2], 0)
    assert not Path(out).exists()


@pytest.mark.parametrize("text", [False, True], ids=["binary", "text"])
def test_slices_with_workers_give_what_one_gives(tmp_path: Path, text: bool) -> None:
    _good_files(tmp_path / "in")
    pattern, suffix = str(tmp_path / "in" / "*"), ".pbtxt" if text else ".pb"
    slicing = SlicingSpec(features=("code", ("code", "n")))
    one = compute_statistics(pattern, str(tmp_path / f"one{suffix}"), slicing=slicing)
    two = compute_statistics(pattern, str(tmp_path / f"two{suffix}"), slicing=slicing, workers=2)
    names = [d.name for d in one.statistics.datasets]
    assert [d.name for d in two.statistics.datasets] == names
    assert len(names) > 10  # the whole dataset, 3 codes and their crosses with n
    assert_close(exact_part(two.statistics), exact_part(one.statistics))
    assert _errors(two.errors) == _errors(one.errors) != []
    few = SlicingSpec(features=(("code", "n"),), max_slices=5)
    with pytest.raises(InvalidInputError, match="slices"):
        compute_statistics(pattern, str(tmp_path / f"few{suffix}"), slicing=few, workers=2)
    assert not (tmp_path / f"few{suffix}").exists()


def test_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _good_files(tmp_path / "in")
    pattern, out = str(tmp_path / "in" / "*.parquet"), tmp_path / "s.pb"
    argv = ["stats", pattern, "--output", str(out), "--workers", "2"]
    error = one_line_error(capsys, [*argv, "--workers", "0"])
    assert "workers must be >= 1, got 0" in error
    assert not out.exists()
    assert main([*argv, "--slice", "code"]) == 0
    assert "wrote statistics of 3000 examples and 4 features" in capsys.readouterr().out
    one = compute_statistics(
        pattern, str(tmp_path / "one.pb"), slicing=SlicingSpec(features=("code",))
    )
    datasets = load_statistics(str(out)).datasets
    assert [d.name for d in datasets] == [d.name for d in one.statistics.datasets]


def test_the_main_job_with_workers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = Path(__file__).resolve().parent.parent.parent / "data" / "sample"
    train, serving = str(root / "train.parquet"), str(root / "serving.parquet")
    one = check(train, serving, str(tmp_path / "one"), spec=CheckSpec(labels=("churned",)))
    spec = CheckSpec(labels=("churned",), workers=2)
    two = check(train, serving, str(tmp_path / "two"), spec=spec)
    assert_close(exact_part(two.train), exact_part(one.train))
    assert_close(exact_part(two.serving), exact_part(one.serving))
    assert [(r.feature, r.type) for r in two.rows] == [(r.feature, r.type) for r in one.rows]
    assert two.rows  # the sample's serving data has anomalies to find
    with pytest.raises(InvalidInputError, match="workers must be >= 1, got 0"):
        CheckSpec(workers=0)
    with pytest.raises(InvalidInputError, match="--direct_num_workers"):
        check(train, serving, str(tmp_path / "beam"), spec=spec, pipeline_options=["--a=b"])
    assert not (tmp_path / "beam").exists()
    argv = ["run", "--train", train, "--serving", serving, "--out", str(tmp_path / "cli")]
    assert main([*argv, "--workers", "2", "--label", "churned"]) == 1  # anomalies found
    written = load_statistics(str(tmp_path / "cli" / "train_stats.pb"))
    assert written.datasets[0].num_examples == one.train.datasets[0].num_examples


def test_a_wide_row_group_with_workers(tmp_path: Path) -> None:
    """Workers read a wide row group in column parts too (as one process does): the same
    statistics as one process."""
    rng = np.random.default_rng(26)
    rows, columns = 40_000, 110  # one row group of about 35 MB: past PART_BYTES
    table = pa.table({f"c{j}": rng.normal(size=rows) for j in range(columns)})
    path = tmp_path / "wide.parquet"
    pq.write_table(table, path, row_group_size=rows, compression="none")
    assert part_columns(pq.ParquetFile(path), 0) is not None  # it is read in parts
    one = compute_statistics(str(path), str(tmp_path / "one.pb"))
    two = compute_statistics(str(path), str(tmp_path / "two.pb"), workers=2)
    assert_close(exact_part(two.statistics), exact_part(one.statistics))
    stats = {f.path.step[0]: f.num_stats for f in two.statistics.datasets[0].features}
    assert len(stats) == columns
    x = table.column("c7").to_numpy()
    assert stats["c7"].mean == pytest.approx(x.mean(), rel=1e-12)
    assert stats["c7"].min == x.min() and stats["c7"].max == x.max()


@dataclasses.dataclass(frozen=True)
class EndsTheProcess(CustomStatisticSpec):
    """A statistic whose add ends its process at once, as the kernel's OOM killer would."""

    def create(self) -> CustomAccumulator:
        return _Ends()

    def from_proto(self, data: bytes) -> CustomAccumulator:
        return _Ends()


class _Ends(MatchRateAccumulator):
    def __init__(self) -> None:
        super().__init__("")

    def add(self, values: pa.Array, weights: np.ndarray | None) -> None:
        os._exit(9)


def test_a_worker_that_dies_is_an_error_not_a_hang(tmp_path: Path) -> None:
    _good_files(tmp_path / "in")
    spec = StatisticsSpec(statistics=(EndsTheProcess("ends", kinds=frozenset({"STRING"})),))
    out = tmp_path / "s.pb"
    with pytest.raises(BeamStatsError, match="a worker process ended without finishing"):
        compute_statistics(str(tmp_path / "in" / "*.parquet"), str(out), spec=spec, workers=2)
    assert not out.exists()


def test_a_slicing_that_does_not_pickle_is_refused(tmp_path: Path) -> None:
    _good_files(tmp_path / "in")
    slicing = SlicingSpec(functions=(lambda batch: iter([("all", batch)]),))
    out = tmp_path / "s.pb"
    with pytest.raises(InvalidInputError, match="do not pickle.*give workers=1"):
        compute_statistics(str(tmp_path / "in" / "*.parquet"), str(out), slicing=slicing, workers=2)
    assert not out.exists()
