"""A share of many slices finished by a second process (beam/sharing.py): the bytes of
finishing it here, the files removed, a killed process reported, and the in-process engine
writing the same file whether a second process helps or not."""

from __future__ import annotations

import dataclasses
import logging
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from stats.test_shares import BY_KEY, keyed, sliced
from tensorflow_metadata.proto.v0 import statistics_pb2
from test_pipeline import check_against_numpy

from beam_stats import StatisticsSpec
from beam_stats.beam.sharing import ShareProcess
from beam_stats.jobs import compute_statistics
from beam_stats.stats import CustomStatisticSpec
from beam_stats.stats.feature import STATE_NAME
from beam_stats.stats.label_spec import LabelSpec
from beam_stats.stats.shares import ShareResult, SliceShare, finish_share


def test_the_second_process_gives_the_bytes_of_finishing_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    table = keyed(30_000, keys=250)
    here = sliced(table, BY_KEY).share()
    assert here is not None
    whole, datasets = finish_share(here)
    expected = [(key, d.data, d.features, d.state) for key, d in datasets]
    share = sliced(table, BY_KEY).share()
    with ShareProcess(StatisticsSpec(), include_state=True) as helper:
        helper.usable = True  # whatever this machine's cores
        result = helper.finishing(share)
        assert result is not None
        assert helper.process is not None and helper.process.poll() is None  # working
        assert list(tmp_path.glob("beam-stats-share-*/rows-*.arrow"))
        finished = result()
        got = [(key, d.data, d.features, d.state) for key, d in finished.datasets]
    assert finished.whole == whole is not None
    assert got == expected
    assert not list(tmp_path.iterdir())  # its files removed


def test_a_killed_process_is_logged_and_its_share_finished_here(
    caplog: pytest.LogCaptureFixture,
) -> None:
    table = keyed(30_000, keys=250)
    expected = [(key, d.data) for key, d in finish_share(sliced(table, BY_KEY).share())[1]]
    with ShareProcess(StatisticsSpec(), include_state=True) as helper:
        helper.usable = True
        result = helper.finishing(sliced(table, BY_KEY).share())
        assert result is not None
        assert helper.process is not None
        helper.process.kill()
        with caplog.at_level(logging.WARNING, logger="beam_stats.beam.sharing"):
            finished = result()
        assert [(key, d.data) for key, d in finished.datasets] == expected
    assert "ended without an answer" in caplog.text


def test_no_room_for_the_files_finishes_the_share_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    monkeypatch.setattr(tempfile, "tempdir", str(not_a_folder))
    table = keyed(30_000, keys=250)
    expected = [(key, d.data) for key, d in finish_share(sliced(table, BY_KEY).share())[1]]
    with ShareProcess(StatisticsSpec(), include_state=True) as helper:
        helper.usable = True
        helper.start()
        result = helper.finishing(sliced(table, BY_KEY).share())
        assert result is not None
        assert helper.process is None  # not started: nowhere for its files
        assert [(key, d.data) for key, d in result().datasets] == expected


@dataclasses.dataclass(frozen=True)
class _Local(CustomStatisticSpec):
    pass


def test_a_spec_that_cannot_be_sent_is_finished_here() -> None:
    class Unsendable(_Local):  # defined in a function: pickle cannot find it
        def create(self):  # type: ignore[no-untyped-def]
            raise AssertionError("not called")

        def from_proto(self, data):  # type: ignore[no-untyped-def]
            raise AssertionError("not called")

    spec = StatisticsSpec(statistics=(Unsendable("local"),))
    assert not ShareProcess(spec, include_state=True).usable
    assert ShareProcess(StatisticsSpec(), include_state=True).finishing(None) is None


@pytest.mark.parametrize(
    ("spec", "include_state"),
    [
        (StatisticsSpec(), True),
        (StatisticsSpec(weight_feature="float"), True),
        (StatisticsSpec(label=LabelSpec(feature="low")), True),
        (StatisticsSpec(), False),
    ],
    ids=["default", "weighted", "label", "no-state"],
)
def test_the_engine_writes_one_file_whether_a_process_helps_or_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spec: StatisticsSpec, include_state: bool
) -> None:
    """250 slices of 30,000 rows (a share of 125 of them): the file of the engine with its
    helper process (2 cores) and without (1 core) is the same, its whole dataset numpy's;
    weighted, with a label (added range by range), and without the sketch state too."""
    table = keyed(30_000, keys=250)
    pq.write_table(table, tmp_path / "in.parquet", row_group_size=8_000)
    finishing = ShareProcess.finishing
    helped = []

    def noted(self: ShareProcess, share: SliceShare | None) -> Callable[[], ShareResult] | None:
        helped.append((share is not None, self.usable))
        return finishing(self, share)

    monkeypatch.setattr(ShareProcess, "finishing", noted)
    written = {}
    for cores in (1, 2):
        monkeypatch.setattr("beam_stats.beam.sharing.feature_threads", lambda c=cores: c)
        out = tmp_path / f"cores-{cores}.pb"
        compute_statistics(
            str(tmp_path / "in.parquet"),
            str(out),
            spec=spec,
            slicing=BY_KEY,
            include_state=include_state,
        )
        written[cores] = out.read_bytes()
    assert helped == [(True, False), (True, True)]
    assert written[1] == written[2]
    statistics = statistics_pb2.DatasetFeatureStatisticsList.FromString(written[2])
    assert len(statistics.datasets) == 251
    if spec == StatisticsSpec() and include_state:
        check_against_numpy(statistics.datasets[0], table.drop_columns(["key", "tags"]))
    assert statistics.datasets[0].num_examples == 30_000
    states = [c.name for f in statistics.datasets[1].features for c in f.custom_stats]
    assert (STATE_NAME in states) is include_state
    if spec.weight_feature:
        assert statistics.datasets[0].weighted_num_examples > 0
    if spec.label:  # the whole dataset's cross statistics and a slice's information
        assert statistics.datasets[0].cross_features
        names = {c.name for f in statistics.datasets[1].features for c in f.custom_stats}
        assert "mutual_information" in names
    counts = {d.name: d.num_examples for d in statistics.datasets[1:]}
    keys, sizes = np.unique(table["key"].to_numpy(zero_copy_only=False), return_counts=True)
    assert counts == {f"key={k}": int(n) for k, n in zip(keys, sizes, strict=True)}


_SCRIPT = """
import numpy as np, pyarrow as pa, pyarrow.parquet as pq
import beam_stats.beam.sharing
from dataclasses import dataclass
from beam_stats import StatisticsSpec, SlicingSpec
from beam_stats.jobs import compute_statistics
from beam_stats.stats import MatchRate

beam_stats.beam.sharing.feature_threads = lambda: 2  # a second process, whatever the cores
start = beam_stats.beam.sharing.ShareProcess.start


def noted(self):
    start(self)
    with open({started!r}, "a") as started:
        started.write(f"{{self.process is not None}}\\n")


beam_stats.beam.sharing.ShareProcess.start = noted
with open({runs!r}, "a") as runs:
    runs.write("ran\\n")  # no main guard: a process that ran this module again would show


@dataclass(frozen=True)
class Mine(MatchRate):  # in __main__: another process cannot unpickle it
    pass


rng = np.random.default_rng(5)
keys = np.char.add("k", rng.integers(0, 1000, 20_000).astype(str))  # 1,000 x 3 columns
table = pa.table({{"key": keys, "x": rng.normal(size=20_000), "s": keys}})
pq.write_table(table, {data!r})
statistics = {statistics}
compute_statistics({data!r}, {out!r}, spec=StatisticsSpec(statistics=statistics),
                   slicing=SlicingSpec(features=("key",)))
"""


@pytest.mark.parametrize("mine", [False, True], ids=["built-in", "defined-in-main"])
def test_a_script_without_a_main_guard_runs_once(tmp_path: Path, mine: bool) -> None:
    """A user's script that computes sliced statistics at module level: the second process
    does not run it again (spawn would import the script as its main module); with a custom
    statistic defined in the script, which it could not unpickle, none is started."""
    script = tmp_path / "script.py"
    runs, out, started = tmp_path / "runs.txt", tmp_path / "out.pb", tmp_path / "started.txt"
    statistics = '(Mine("m", pattern="^k1"),)' if mine else '(MatchRate("m", pattern="^k1"),)'
    script.write_text(
        _SCRIPT.format(
            runs=str(runs),
            started=str(started),
            data=str(tmp_path / "in.parquet"),
            out=str(out),
            statistics=statistics,
        )
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    assert runs.read_text() == "ran\n"
    # A second process was started (and did its share) unless the statistic is the script's.
    assert set(started.read_text().split()) == ({"False"} if mine else {"True"})
    assert "ended without an answer" not in done.stderr, done.stderr
    statistics_list = statistics_pb2.DatasetFeatureStatisticsList.FromString(out.read_bytes())
    assert len(statistics_list.datasets) == 1001
    assert statistics_list.datasets[0].num_examples == 20_000
