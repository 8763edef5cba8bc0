"""The in-process engine (issue 16): the statistics and errors a pipeline writes, without one."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from cli_errors import one_line_error
from google.protobuf import text_format
from proto_compare import assert_close
from tensorflow_metadata.proto.v0 import statistics_pb2
from test_hostile_input import CASES
from test_pipeline import exact_part

from beam_stats import SlicingSpec, StatisticsSpec, merge_statistics
from beam_stats.beam.engines import runs_in_process
from beam_stats.errors import InvalidInputError
from beam_stats.jobs import compute_statistics


def _good_files(folder: Path) -> None:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(16)
    n = 3000
    table = pa.table(
        {
            "code": rng.choice(["a", "b", "c", None], size=n).tolist(),
            "x": np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n)),
            "n": rng.integers(0, 9, size=n),
            "w": rng.random(n) + 0.5,
        }
    )
    pq.write_table(table.slice(0, 2000), folder / "one.parquet", row_group_size=700)
    pq.write_table(table.slice(2000), folder / "two.parquet")
    lines = "".join(f'{{"code": "a", "n": {i}, "w": 1.0}}\n' for i in range(50))
    (folder / "three.jsonl.gz").write_bytes(gzip.compress(lines.encode()))
    (folder / "four.csv").write_text("code,n,w\nb,1,2.0\nc,2,1.0,extra\n")


def _errors(path: str) -> list[dict[str, Any]]:
    records = [json.loads(line) for line in Path(path).read_text().splitlines()]
    return sorted(records, key=lambda r: (r["file"], r["line"] or 0, r["kind"], r["message"]))


def _both(pattern: str, folder: Path, **kwargs: Any) -> tuple[Any, Any]:
    """The results of the pipeline and of the default (in-process) engine, checked equal: the
    statistics that do not depend on the order of adds alike (as between two runners,
    tests/runners), and the sketch states merging with each other."""
    suffix = ".pbtxt" if kwargs.get("text") else ".pb"
    pipeline = compute_statistics(pattern, str(folder / f"beam{suffix}"), engine="beam", **kwargs)
    local = compute_statistics(pattern, str(folder / f"local{suffix}"), **kwargs)
    assert_close(exact_part(local.statistics), exact_part(pipeline.statistics))
    if kwargs.get("include_state", True):
        both = merge_statistics(local.statistics, pipeline.statistics, include_state=False)
        for merged, one in zip(both.datasets, local.statistics.datasets, strict=True):
            assert merged.num_examples == 2 * one.num_examples
    assert _errors(local.errors) == _errors(pipeline.errors)
    return pipeline, local


def test_the_hostile_corpus_gives_what_the_pipeline_gives(tmp_path: Path) -> None:
    expected = 0
    for case in CASES:
        folder = tmp_path / "in" / case.__name__.strip("_")
        folder.mkdir(parents=True)
        expected += len(case(folder).errors)
    _good_files(tmp_path / "in" / "good")
    pipeline, local = _both(str(tmp_path / "in" / "*" / "*"), tmp_path)
    # the corpus's own problems and the good folder's one CSV row of too many fields
    assert local.input_problems == pipeline.input_problems == expected + 1


def test_numbers_against_numpy(tmp_path: Path) -> None:
    _good_files(tmp_path / "in")
    result = compute_statistics(str(tmp_path / "in" / "*.parquet"), str(tmp_path / "s.pb"))
    parts = [pq.read_table(tmp_path / "in" / f"{n}.parquet") for n in ("one", "two")]
    x = np.concatenate([part.column("x").to_numpy() for part in parts])
    feature = next(f for f in result.statistics.datasets[0].features if f.path.step == ["x"])
    finite = x[~np.isnan(x)]
    assert result.statistics.datasets[0].num_examples == 3000
    assert feature.num_stats.mean == pytest.approx(finite.mean(), rel=1e-12)
    assert feature.num_stats.min == finite.min() and feature.num_stats.max == finite.max()


@pytest.mark.parametrize(
    "options",
    [
        {"slicing": SlicingSpec(features=("code", ("code", "n")))},
        {"spec": StatisticsSpec(weight_feature="w"), "name": "weighted"},
        {"include_state": False},
        {"text": True},
    ],
    ids=["slices", "weights", "no-state", "text"],
)
def test_options_give_what_the_pipeline_gives(tmp_path: Path, options: dict[str, Any]) -> None:
    _good_files(tmp_path / "in")
    pipeline, local = _both(str(tmp_path / "in" / "*"), tmp_path, **options)
    assert [d.name for d in local.statistics.datasets] == [
        d.name for d in pipeline.statistics.datasets
    ]
    assert local.input_problems == pipeline.input_problems == 1
    if options.get("text"):
        text = Path(local.output).read_text()
        assert text_format.Parse(text, statistics_pb2.DatasetFeatureStatisticsList())


def test_too_many_slices_fail_in_process_before_writing(tmp_path: Path) -> None:
    _good_files(tmp_path / "in")
    output = tmp_path / "s.pb"
    with pytest.raises(InvalidInputError, match="max_slices=2"):
        compute_statistics(
            str(tmp_path / "in" / "*"),
            str(output),
            slicing=SlicingSpec(features=("n",), max_slices=2),
        )
    assert not output.exists()


def test_the_default_builds_no_pipeline(tmp_path: Path) -> None:
    _good_files(tmp_path / "in")
    code = (
        "import sys\n"
        "from beam_stats.jobs import compute_statistics\n"
        f"compute_statistics({str(tmp_path / 'in' / '*')!r}, {str(tmp_path / 's.pb')!r})\n"
        "print('fn_api_runner' in ' '.join(sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
    assert (tmp_path / "s.pb").stat().st_size > 0


def test_which_engine_runs() -> None:
    assert runs_in_process("auto", None, ["data/*.csv", "file:///tmp/x.csv"])
    assert runs_in_process("auto", [], ["x.csv"])
    assert not runs_in_process("auto", ["--runner=DirectRunner"], ["x.csv"])
    assert not runs_in_process("auto", PipelineOptions([]), ["x.csv"])
    assert not runs_in_process("auto", None, ["x.csv", "gs://bucket/y.csv"])
    assert not runs_in_process("beam", None, ["x.csv"])
    assert runs_in_process("in-process", None, ["x.csv"])
    with pytest.raises(InvalidInputError, match="pipeline options need a pipeline"):
        runs_in_process("in-process", ["--runner=DirectRunner"], ["x.csv"])
    with pytest.raises(InvalidInputError, match="'gs://bucket/y.csv' is not a local file"):
        runs_in_process("in-process", None, ["gs://bucket/y.csv"])
    with pytest.raises(InvalidInputError, match="'fast'"):
        runs_in_process("fast", None, ["x.csv"])


def test_the_command_refuses_an_engine_that_cannot_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _good_files(tmp_path / "in")
    data, out = str(tmp_path / "in" / "*.parquet"), str(tmp_path / "s.pb")
    flags = ["--engine", "in-process", "--runner=DirectRunner"]
    message = one_line_error(capsys, ["stats", data, "--output", out, *flags])
    assert "pipeline options need a pipeline" in message
    store = str(tmp_path / "store")
    message = one_line_error(
        capsys, ["stats", data, "--history", store, "--span", "1", "--engine", "in-process"]
    )
    assert "--engine in-process cannot go with --history" in message
    assert not Path(out).exists() and not Path(store).exists()


@pytest.mark.parametrize(
    ("slicing", "weight"),
    [(None, None), (None, "w"), (SlicingSpec(features=("half",)), None)],
    ids=["whole", "weighted", "two-slices"],
)
def test_threads_write_the_bytes_of_one_thread(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    slicing: SlicingSpec | None,
    weight: str | None,
) -> None:
    """Batches and slices large enough for the threads (>= 16,384 rows): the engine on two
    threads writes the file it writes on one."""
    rng = np.random.default_rng(31)
    n = 45_000
    table = pa.table(
        {
            "half": rng.choice(["left", "right"], size=n),
            "x": np.where(rng.random(n) < 0.05, np.nan, rng.normal(size=n)),
            "n": rng.integers(0, 50_000, size=n),
            "word": rng.choice([f"w{i}" for i in range(3000)], size=n),
            "tags": pa.array([["a", "b"][: int(k)] for k in rng.integers(0, 3, size=n)]),
            "w": rng.random(n) + 0.5,
        }
    )
    pq.write_table(table, tmp_path / "in.parquet", row_group_size=20_000)
    spec = StatisticsSpec(weight_feature=weight)
    written = {}
    for threads in (1, 2):
        monkeypatch.setattr("beam_stats.beam.inprocess.feature_threads", lambda t=threads: t)
        out = tmp_path / f"threads{threads}.pb"
        compute_statistics(str(tmp_path / "in.parquet"), str(out), spec=spec, slicing=slicing)
        written[threads] = out.read_bytes()
    assert written[2] == written[1]
    parsed = statistics_pb2.DatasetFeatureStatisticsList.FromString(written[2])
    assert parsed.datasets[0].num_examples == n
    assert len(parsed.datasets) == (3 if slicing is not None else 1)
