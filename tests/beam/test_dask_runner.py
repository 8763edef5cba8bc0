"""The Parquet pipeline on a second engine: Beam's DaskRunner on a local Dask cluster.

The cluster is a scheduler and two workers, each a process of its own started with the
``dask`` command line (as on a real cluster), without a nanny so that the worker processes
are the ones started here. ``beam_stats`` reaches the workers through its installation alone:
the processes start outside the repository and get no ``PYTHONPATH``.

Beam's DaskRunner (2.77) translates a pipeline into one ``dask.bag`` graph, with limits that
shape these tests (docs/RUNNERS.md has the list and how each was found):

* it computes only the graph of the transform applied last, so both outputs of the pipeline
  here (the statistics file, the error records) end in one last transform;
* ``Reshuffle`` is the identity, so the work is spread only as far as the partitions of the
  first ``Create``: the files are named one by one and ``--dask_npartitions`` splits them;
* the short name ``--runner=DaskRunner`` is not registered: the class is named in full.
"""

from __future__ import annotations

import dataclasses
import json
import os
import uuid
from pathlib import Path
from typing import Any

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.runners.runner import PipelineState
from local_services import DASK_RUNNER, DaskCluster
from proto_compare import assert_close
from stats.test_feature import make_table
from tensorflow_metadata.proto.v0 import statistics_pb2
from test_pipeline import SPEC, check_against_numpy, exact_part

from beam_stats.beam import GenerateStatistics, ReadRecordBatches, WriteStatistics, load_statistics
from beam_stats.cli import main
from beam_stats.stats import generate_statistics_from_table


@dataclasses.dataclass(frozen=True)
class RunResult:
    statistics: statistics_pb2.DatasetFeatureStatisticsList
    errors: list[dict[str, Any]]  # the errors output of ReadRecordBatches, sorted
    readers: set[int]  # pids of the processes that read batches


def _run(pipeline: beam.Pipeline, files: list[str], folder: Path) -> RunResult:
    """ReadRecordBatches -> GenerateStatistics -> WriteStatistics, and the errors output.

    Both outputs end in one last transform, as the DaskRunner computes only that one's graph.
    """
    folder.mkdir()
    (folder / "outputs").mkdir()
    (folder / "readers").mkdir()
    output = folder / "stats.pb"

    def note_reader(batch: pa.RecordBatch) -> pa.RecordBatch:
        (folder / "readers" / str(os.getpid())).touch()
        return batch

    def save(line: str) -> None:
        (folder / "outputs" / uuid.uuid4().hex).write_text(line)

    read = pipeline | "Read" >> ReadRecordBatches(files)
    written = (
        read.batches
        | "NoteReader" >> beam.Map(note_reader)
        | "Statistics" >> GenerateStatistics(SPEC, name="parquet")
        | "Write" >> WriteStatistics(str(output))
    )
    errors = read.errors | "ErrorsAsJson" >> beam.Map(json.dumps, sort_keys=True)
    _ = (written, errors) | "Outputs" >> beam.Flatten() | "Save" >> beam.Map(save)
    result = pipeline.run()
    try:
        assert result.wait_until_finish() == PipelineState.DONE
    finally:
        client = getattr(result, "client", None)  # the DaskRunner's, left open by Beam
        if client is not None:
            client.close()
    lines = [p.read_text() for p in (folder / "outputs").iterdir()]
    assert lines.count(str(output)) == 1, lines  # WriteStatistics ran once
    return RunResult(
        load_statistics(str(output)),
        sorted((json.loads(x) for x in lines if x != str(output)), key=json.dumps),
        {int(p.name) for p in (folder / "readers").iterdir()},
    )


def _dask(cluster: DaskCluster, partitions: int) -> beam.Pipeline:
    options = [
        f"--runner={DASK_RUNNER}",
        f"--dask_client_address={cluster.address}",
        f"--dask_npartitions={partitions}",
    ]
    return beam.Pipeline(options=PipelineOptions(options))


@pytest.fixture(scope="module")
def parquet_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], pa.Table]:
    """6000 rows in three Parquet files of uneven size, 700 rows per row group.

    The files are listed one by one, so that --dask_npartitions can spread them.
    """
    folder = tmp_path_factory.mktemp("parquet")
    table = make_table(seed=11, n=6000)
    files = []
    for part, (start, stop) in enumerate([(0, 2500), (2500, 4000), (4000, 6000)]):
        files.append(str(folder / f"part-{part}.parquet"))
        pq.write_table(table.slice(start, stop - start), files[-1], row_group_size=700)
    return files, table


def test_parquet_files_on_dask_equal_fn_api_runner(
    parquet_files: tuple[list[str], pa.Table], dask_cluster: DaskCluster, tmp_path: Path
) -> None:
    files, table = parquet_files
    fn_api = _run(beam.Pipeline(runner=FnApiRunner()), files, tmp_path / "fn_api")
    dask = _run(_dask(dask_cluster, len(files)), files, tmp_path / "dask")  # a file a partition

    assert_close(exact_part(dask.statistics), exact_part(fn_api.statistics))
    expected = generate_statistics_from_table(table, SPEC, name="parquet")
    assert_close(exact_part(dask.statistics), exact_part(expected))
    check_against_numpy(dask.statistics.datasets[0], table)
    assert dask.errors == fn_api.errors == []
    # The batches were read by the workers, not here. (Whether both get a share is up to the
    # scheduler: distributed 2026.8 gives each worker some files, 2024.4 one worker all three.)
    assert dask.readers and dask.readers <= dask_cluster.worker_pids, dask.readers


def test_input_problems_on_dask_equal_fn_api_runner(
    dask_cluster: DaskCluster, tmp_path: Path
) -> None:
    """Error records stay apart from the batches (tagged outputs would mix them on Dask)."""
    data = tmp_path / "data"
    data.mkdir()
    table = make_table(seed=5, n=3000)
    pq.write_table(table.slice(0, 1000), data / "a.parquet", row_group_size=400)
    pq.write_table(table.slice(1000), data / "b.parquet", row_group_size=400)
    pq.write_table(table.slice(0, 0), data / "empty.parquet")
    (data / "corrupt.parquet").write_bytes(b"PAR1 not a Parquet file")
    files = sorted(str(p) for p in data.iterdir())
    fn_api = _run(beam.Pipeline(runner=FnApiRunner()), files, tmp_path / "fn_api")
    dask = _run(_dask(dask_cluster, 2), files, tmp_path / "dask")

    assert dask.errors == fn_api.errors
    assert sorted((Path(e["file"]).name, e["kind"]) for e in dask.errors) == [
        ("corrupt.parquet", "unreadable_file"),
        ("empty.parquet", "empty_file"),
    ]
    assert_close(exact_part(dask.statistics), exact_part(fn_api.statistics))
    expected = generate_statistics_from_table(table, SPEC, name="parquet")
    assert_close(exact_part(dask.statistics), exact_part(expected))
    check_against_numpy(dask.statistics.datasets[0], table)


def test_cli_on_dask(
    parquet_files: tuple[list[str], pa.Table], dask_cluster: DaskCluster, tmp_path: Path
) -> None:
    """`beam-stats stats` writes both its outputs on Dask (one final step joins them)."""
    files, table = parquet_files
    output = tmp_path / "stats.pb"
    args = ["stats", *files, "--output", str(output), "--name", "parquet"]
    dask_flags = [f"--runner={DASK_RUNNER}", f"--dask_client_address={dask_cluster.address}"]
    assert main([*args, *dask_flags]) == 0
    statistics = load_statistics(str(output))
    expected = generate_statistics_from_table(table, SPEC, name="parquet")
    assert_close(exact_part(statistics), exact_part(expected))
    assert (tmp_path / "stats.pb.errors.jsonl").read_text() == ""
