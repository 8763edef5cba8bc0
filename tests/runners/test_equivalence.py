"""One input, every runner: the same statistics, validation, skew and error files.

Runs `beam-stats` commands as a user does (a process per command, Beam flags on the command
line) on FnApiRunner, multi-processing, the Python portable runner, Dask, Prism, the default
DirectRunner with Prism available, Flink and Spark, over six Parquet files plus CSV, JSON
lines and TFRecord with bad rows (tests/runners/dataset.py):

* ``stats`` of two parts, sliced by colour and weighted by w; ``merge`` of the two;
* ``validate-examples`` of every file against a schema inferred from the Parquet files;
* ``feature-skew`` of the Parquet files against the CSV, JSON-lines and TFRecord ones;
* a probe job (probe.py) that records the bundles that read and the merges of accumulators.

Exact statistics must equal FnApiRunner's (floats to 1e-9) and numpy's on the same rows;
sketched ones must lie within their stated bound; every input problem must be reported.
Run by `make test-runners`, which first fetches the engines (.ci/runners/fetch) and names
them in runners.env; an engine that could not be fetched is skipped with the reason.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import os
import shlex
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pytest
from dataset import COLOURS, NEW_COLOUR, Dataset, write_dataset
from local_services import DASK_RUNNER
from proto_compare import assert_close
from stats.test_feature import check_rank
from tensorflow_metadata.proto.v0 import statistics_pb2
from test_pipeline import exact_part

from beam_stats.beam import load_statistics
from beam_stats.pipelines.skew import load_feature_skew
from beam_stats.stats import StatisticsSpec

pytestmark = pytest.mark.runners

HERE = Path(__file__).parent
FN_API = "apache_beam.runners.portability.fn_api_runner.FnApiRunner"
RUNNERS = [
    "fn_api",
    "multi_processing",
    "portable",
    "dask",
    "prism",
    "direct_with_prism",
    "flink",
    "spark",
]
# Runners that must show more than one bundle reading and a merge of partial results.
SPLITTING = {"multi_processing", "dask", "flink", "spark"}
COMMAND_TIMEOUT = 600  # seconds
# The CLI in a process of its own, logging which runner Beam's DirectRunner picked.
LAUNCH = (
    "import logging, sys; logging.basicConfig(level=logging.WARNING); "
    "logging.getLogger('apache_beam.runners.direct.direct_runner').setLevel(logging.INFO); "
    "logging.getLogger('PrismRunner').setLevel(logging.INFO); "
    "from beam_stats.cli import main; sys.exit(main(sys.argv[1:]))"
)
#: Seconds each runner took for its commands, printed at the end (conftest.py).
TIMES: dict[str, float] = {}


def _engines() -> dict[str, str]:
    path = os.environ.get(
        "BEAM_STATS_RUNNERS_ENV",
        str(Path.home() / ".cache" / "beam-stats" / "runners" / "runners.env"),
    )
    if not Path(path).exists():
        return {}
    engines = {}
    for line in Path(path).read_text().splitlines():
        name, _, value = line.partition("=")
        engines[name] = shlex.split(value)[0] if value else ""
    return engines


ENGINES = _engines()


def _engine(var: str, what: str) -> str:
    if var in ENGINES:
        return ENGINES[var]
    reason = ENGINES.get(f"{var}_MISSING")
    if reason:
        pytest.skip(f"{what} unavailable: {reason}")
    pytest.skip(f"{what} not fetched: run `make test-runners` (it runs .ci/runners/fetch)")


@dataclasses.dataclass
class Runner:
    name: str
    flags: list[str]
    env: dict[str, str]


@pytest.fixture(scope="module")
def prism_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home folder whose Beam cache holds Prism as DirectRunner downloads it.

    With internet access, Beam's DirectRunner downloads
    ``apache_beam-v<version>-prism-<os>-<arch>.zip`` from Beam's GitHub release into
    ``~/.apache_beam/cache/prism/bin`` and runs the pipeline on Prism. GitHub is out of reach
    here, so the zip is made from the Prism built from the same version's Go module, and put
    where the download would land; Beam's own code then finds, unpacks and runs it.
    """
    import apache_beam

    prism = _engine("BEAM_STATS_PRISM", "Prism")
    home = tmp_path_factory.mktemp("home")
    cache = home / ".apache_beam" / "cache" / "prism" / "bin"
    cache.mkdir(parents=True)
    name = f"apache_beam-v{apache_beam.__version__}-prism-linux-amd64"
    with zipfile.ZipFile(cache / f"{name}.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.write(prism, name)
    return home


def _runner(name: str, request: pytest.FixtureRequest) -> Runner:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if name == "fn_api":
        return Runner(name, [f"--runner={FN_API}"], env)
    if name == "multi_processing":
        flags = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]
        return Runner(name, ["--runner=DirectRunner", *flags], env)
    if name == "portable":
        endpoint = request.getfixturevalue("job_endpoint")
        flags = [f"--job_endpoint={endpoint}", "--environment_type=LOOPBACK"]
        return Runner(name, ["--runner=PortableRunner", *flags], env)
    if name == "dask":
        cluster = request.getfixturevalue("dask_cluster")
        flags = [f"--dask_client_address={cluster.address}", "--dask_npartitions=4"]
        return Runner(name, [f"--runner={DASK_RUNNER}", *flags], env)
    if name == "prism":
        prism = _engine("BEAM_STATS_PRISM", "Prism")
        return Runner(name, ["--runner=PrismRunner", f"--prism_location={prism}"], env)
    if name == "direct_with_prism":
        home = request.getfixturevalue("prism_home")
        return Runner(name, ["--runner=DirectRunner"], {**env, "HOME": str(home)})
    if name == "flink":
        jar = _engine("BEAM_STATS_FLINK_JOB_SERVER", "Flink job server")
        flags = [
            f"--flink_job_server_jar={jar}",
            "--flink_master=[local]",
            "--parallelism=2",
            "--environment_type=LOOPBACK",
        ]
        return Runner(name, ["--runner=FlinkRunner", *flags], env)
    assert name == "spark"
    jar = _engine("BEAM_STATS_SPARK_JOB_SERVER", "Spark job server")
    flags = [
        f"--spark_job_server_jar={jar}",
        "--spark_master_url=local[2]",
        "--environment_type=LOOPBACK",
    ]
    return Runner(name, ["--runner=SparkRunner", *flags], env)


def _run(
    runner: Runner, folder: Path, label: str, args: list[str], ok: tuple[int, ...] = (0,)
) -> str:
    """One command in a process of its own (from outside the repository); its log."""
    log = folder / f"{label}.log"
    start = time.monotonic()
    with log.open("w") as out:
        code = subprocess.run(
            args,
            cwd=folder,
            env=runner.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=COMMAND_TIMEOUT,
            check=False,
        ).returncode
    TIMES[runner.name] = TIMES.get(runner.name, 0.0) + time.monotonic() - start
    text = log.read_text()
    assert code in ok, f"{runner.name}: {label} exited with {code}:\n{text[-4000:]}"
    if runner.name == "direct_with_prism" and "--runner=DirectRunner" in args:
        # Prism ran, from where DirectRunner's download lands, and finished the job: had it
        # failed, DirectRunner would have fallen back to another runner (logged at INFO).
        cached = str(Path(runner.env["HOME"], ".apache_beam", "cache", "prism", "bin"))
        assert "Really starting service at localhost" in text and cached in text, text[-4000:]
        assert "INFO:PrismRunner:pipeline done!" in text, text[-4000:]
        assert "alling back" not in text, text[-4000:]
    return text


def _cli(
    runner: Runner,
    folder: Path,
    label: str,
    *args: str,
    beam: bool = True,
    found: bool = False,
    ok: tuple[int, ...] | None = None,
) -> str:
    """A beam-stats command; `found`: exit status 1 (it found bad rows, skew) is expected."""
    flags = runner.flags if beam else []
    ok = ok or ((0, 1) if found else (0,))
    return _run(runner, folder, label, [sys.executable, "-c", LAUNCH, *args, *flags], ok)


@dataclasses.dataclass
class Outputs:
    folder: Path
    part_a: statistics_pb2.DatasetFeatureStatisticsList
    part_b: statistics_pb2.DatasetFeatureStatisticsList
    merged: statistics_pb2.DatasetFeatureStatisticsList
    errors: list[tuple[str, str, int | None]]
    validation: dict | None  # None: the runner could not write (Dask, said in the log)
    validation_errors: list[tuple[str, str, int | None]] | None
    validate_log: str
    bad_rows: int
    good_rows: int
    skew: object
    bundles: int
    merges: list[list[int]]


def _json_or_none(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None


def _error_keys(path: Path) -> list[tuple[str, str, int | None]]:
    keys = []
    for line in path.read_text().splitlines():
        error = json.loads(line)
        where = error["line"] if error["line"] is not None else error.get("record")
        keys.append((Path(error["file"]).name, error["kind"], where))
    return sorted(keys, key=str)


def _lines(folder: Path, prefix: str) -> int:
    return sum(
        len(p.read_text().splitlines()) for p in folder.iterdir() if p.name.startswith(f"{prefix}-")
    )


def _flow(runner: Runner, data: Dataset, folder: Path, schema: Path) -> Outputs:
    folder.mkdir(parents=True)
    stats = ["stats", "--slice", "colour", "--weight", "w", "--name", "data"]
    _cli(runner, folder, "stats_a", *stats, *data.part_a, "--output", str(folder / "a.pb"))
    _cli(runner, folder, "stats_b", *stats, *data.part_b, "--output", str(folder / "b.pb"))
    merged = folder / "merged.pb"
    _cli(runner, folder, "merge", "merge", str(folder / "a.pb"), str(folder / "b.pb"),
         "--output", str(merged), beam=False)  # fmt: skip
    everything = [*data.part_a, *data.part_b]
    validate = ["validate-examples", *everything, "--schema", str(schema)]
    validate += ["--bad-rows", str(folder / "bad"), "--good-rows", str(folder / "good")]
    # Beam's DaskRunner does not finalise sharded writes when the work is spread over
    # several tasks: the command must then say so (status 2) and publish nothing.
    lost = (1, 2) if runner.name == "dask" else None
    validate_log = _cli(runner, folder, "validate", *validate, found=True, ok=lost)
    skew = ["feature-skew", "--base", *data.parquet, "--test", *data.serving, "--id", "id"]
    _cli(runner, folder, "skew", *skew, "--output", str(folder / "skew.pb"), found=True)
    probe = folder / "probe"
    _run(runner, folder, "probe", [sys.executable, str(HERE / "probe.py"), str(probe),
         *data.parquet, *data.serving, "--", *runner.flags])  # fmt: skip
    errors = _error_keys(folder / "a.pb.errors.jsonl") + _error_keys(folder / "b.pb.errors.jsonl")
    return Outputs(
        folder=folder,
        part_a=load_statistics(str(folder / "a.pb")),
        part_b=load_statistics(str(folder / "b.pb")),
        merged=load_statistics(str(merged)),
        errors=sorted(errors, key=str),
        validation=_json_or_none(folder / "bad" / "summary.json"),
        validation_errors=(
            _error_keys(folder / "bad" / "bad-rows.errors.jsonl")
            if (folder / "bad" / "bad-rows.errors.jsonl").exists()
            else None
        ),
        validate_log=validate_log,
        bad_rows=_lines(folder / "bad", "bad-rows"),
        good_rows=_lines(folder / "good", "good-rows"),
        skew=load_feature_skew(str(folder / "skew.pb")),
        bundles=len(list((probe / "bundles").iterdir())),
        merges=[
            [int(n) for n in p.name.split("-")[1].split(",")] for p in (probe / "merges").iterdir()
        ],
    )


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    return write_dataset(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def schema(data: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Inferred from the Parquet files alone, so the new colour elsewhere is an anomaly."""
    folder = tmp_path_factory.mktemp("schema")
    runner = Runner("fn_api", [f"--runner={FN_API}"], dict(os.environ))
    _cli(runner, folder, "stats", "stats", *data.parquet, "--output", str(folder / "train.pb"))
    _cli(runner, folder, "infer", "infer-schema", str(folder / "train.pb"), "--output",
         str(folder / "schema.pbtxt"), beam=False)  # fmt: skip
    return folder / "schema.pbtxt"


@pytest.fixture(scope="module")
def baseline(data: Dataset, schema: Path, tmp_path_factory: pytest.TempPathFactory) -> Outputs:
    runner = Runner("fn_api", [f"--runner={FN_API}"], dict(os.environ))
    return _flow(runner, data, tmp_path_factory.mktemp("baseline") / "fn_api", schema)


@pytest.fixture(scope="module", params=RUNNERS)
def outputs(
    request: pytest.FixtureRequest, data: Dataset, schema: Path, baseline: Outputs,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[str, Outputs]:  # fmt: skip
    if request.param == "fn_api":
        return "fn_api", baseline
    runner = _runner(request.param, request)
    return runner.name, _flow(runner, data, tmp_path_factory.mktemp(runner.name) / "out", schema)


def _by_name(
    statistics: statistics_pb2.DatasetFeatureStatisticsList,
) -> dict[str, statistics_pb2.DatasetFeatureStatistics]:
    return {d.name: d for d in statistics.datasets}


def test_exact_statistics_equal_fn_api_runner(
    outputs: tuple[str, Outputs], baseline: Outputs
) -> None:
    _, out = outputs
    for mine, theirs in [(out.part_a, baseline.part_a), (out.part_b, baseline.part_b),
                         (out.merged, baseline.merged)]:  # fmt: skip
        assert sorted(_by_name(mine)) == sorted(_by_name(theirs))
        assert_close(exact_part(mine), exact_part(theirs))


def test_merged_statistics_equal_numpy_on_the_rows_read(
    outputs: tuple[str, Outputs], data: Dataset
) -> None:
    _, out = outputs
    table = data.table([*data.part_a, *data.part_b])
    datasets = _by_name(out.merged)
    colour = table["colour"].to_numpy(zero_copy_only=False)
    w = table["w"].to_numpy()
    x = table["x"].to_numpy(zero_copy_only=False)
    user = table["user"].to_numpy(zero_copy_only=False)
    for name, rows in [("data", np.ones(len(colour), bool))] + [
        (f"colour={c}", colour == c) for c in [*COLOURS, NEW_COLOUR]
    ]:
        dataset = datasets[name]
        assert dataset.num_examples == rows.sum(), name
        assert dataset.weighted_num_examples == pytest.approx(w[rows].sum(), rel=1e-12), name
        features = {f.path.step[0]: f for f in dataset.features}
        xs = np.sort(x[rows & ~np.isnan(x)])
        stats = features["x"].num_stats
        assert stats.common_stats.num_non_missing == xs.size, name
        assert (stats.min, stats.max) == (xs.min(), xs.max()), name
        assert stats.mean == pytest.approx(xs.mean(), rel=1e-9), name
        assert stats.std_dev == pytest.approx(xs.std(), rel=1e-9), name
        # Below the exact limit the median is exact on every runner (stated error 0).
        eps = next(c.num for c in features["x"].custom_stats if c.name == "quantiles_rank_error")
        assert eps == 0.0, name
        check_rank(xs, stats.median, 0.5, eps)
        distinct = len(np.unique(user[rows]))  # serving rows repeat users of the Parquet ones
        assert features["user"].string_stats.unique == pytest.approx(
            distinct, rel=4 * StatisticsSpec().distinct.relative_standard_error
        ), name
    counts = collections.Counter(colour.tolist())
    top = {
        t.value: t.frequency
        for t in _by_name(out.merged)["data"].features[0].string_stats.top_values
    }
    assert top == dict(counts)


def test_every_input_problem_is_reported(outputs: tuple[str, Outputs], data: Dataset) -> None:
    name, out = outputs
    expected = sorted(data.expected_errors, key=str)
    assert out.errors == expected
    if out.validation_errors is None:  # the run said it could not write (Dask only)
        assert name == "dask" and _could_not_write(out), out.validate_log[-3000:]
        return
    assert out.validation_errors == expected


def _could_not_write(out: Outputs) -> bool:
    """Whether validate-examples said it could not write its row files, without a traceback."""
    said = "the runner could not finish writing an output" in out.validate_log or (
        "the runner finished but wrote no" in out.validate_log
    )
    return said and "Traceback" not in out.validate_log


def test_validation_splits_every_row_read(
    outputs: tuple[str, Outputs], data: Dataset, baseline: Outputs
) -> None:
    name, out = outputs
    table = data.table([*data.part_a, *data.part_b])
    new_colour = int(pc.sum(pc.equal(table["colour"], NEW_COLOUR)).as_py())
    if (name == "dask" and out.validation is None) or _could_not_write(out):
        # Dask did not finalise the row files: an error in one line, no silent loss; what
        # was written (the summary) is complete.
        assert name == "dask" and _could_not_write(out), out.validate_log[-3000:]
        assert out.validation in (None, baseline.validation)
        return
    assert out.validation["rows"] == table.num_rows == out.good_rows + out.bad_rows
    assert out.bad_rows == new_colour > 0
    assert out.validation == baseline.validation


def test_feature_skew_equals_fn_api_runner_and_numpy(
    outputs: tuple[str, Outputs], data: Dataset, baseline: Outputs
) -> None:
    _, out = outputs
    assert out.skew == baseline.skew
    base = data.table(data.parquet)
    test = data.table(data.serving)
    joined = base.join(test, "id", join_type="inner", right_suffix="_test")
    assert out.skew.joined == joined.num_rows == test.num_rows
    x, x_test = (joined[c].to_numpy(zero_copy_only=False) for c in ("x", "x_test"))
    both = ~np.isnan(x) & ~np.isnan(x_test)
    features = {f.feature: f for f in out.skew.features}
    assert features["x"].mismatch_count == int(np.count_nonzero(x[both] != x_test[both]))
    assert features["x"].match_count == int(np.count_nonzero(x[both] == x_test[both]))


def test_the_work_was_split(outputs: tuple[str, Outputs]) -> None:
    name, out = outputs
    assert out.bundles >= 1
    if name in SPLITTING:
        assert out.bundles > 1, f"{name}: one bundle read everything"
        assert any(len(sizes) > 1 for sizes in out.merges), f"{name}: no partial merge"


@pytest.fixture(scope="module")
def main_job_on_fn_api(data: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    runner = Runner("fn_api", [f"--runner={FN_API}"], dict(os.environ))
    out = tmp_path_factory.mktemp("run") / "fn_api"
    _main_job(runner, data, out)
    return out


def _main_job(runner: Runner, data: Dataset, out: Path) -> str:
    out.parent.mkdir(parents=True, exist_ok=True)
    args = ["run", "--train", *data.parquet, "--serving", *data.serving, "--out", str(out)]
    return _cli(runner, out.parent, f"run_{runner.name}", *args, found=True)


@pytest.mark.parametrize("name", ["flink", "spark"])
def test_main_job_end_to_end(
    name: str,
    request: pytest.FixtureRequest,
    data: Dataset,
    main_job_on_fn_api: Path,
    tmp_path: Path,
) -> None:
    """`beam-stats run` on the engine: the same statistics, schema and findings."""
    runner = _runner(name, request)
    out = tmp_path / name
    log = _main_job(runner, data, out)
    for stats in ("train_stats.pb", "serving_stats.pb"):
        mine, theirs = (load_statistics(str(d / stats)) for d in (out, main_job_on_fn_api))
        assert_close(exact_part(mine), exact_part(theirs))
    assert (out / "schema.pbtxt").read_text() == (main_job_on_fn_api / "schema.pbtxt").read_text()
    # The new colour in serving is found by both (skew distances use sketches: not compared).
    assert "violet" in (out / "anomalies.pbtxt").read_text()
    assert "violet" in (main_job_on_fn_api / "anomalies.pbtxt").read_text()
    html = (out / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") or html.lower().startswith("<!doctype html>")
    for name_ in ("serve.csv", "serve.jsonl", "serve.tfrecord"):
        assert name_ in (out / "serving_stats.pb.errors.jsonl").read_text(), name_
    assert "report: " in log and "anomal" in log  # the closing summary was printed
