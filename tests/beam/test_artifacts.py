"""beam_stats.beam.artifacts: every artifact on any file system, one format rule, atomic."""

from __future__ import annotations

import ast
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import fake_filesystem
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.io.filesystems import FileSystems
from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2, statistics_pb2

import beam_stats
from beam_stats.beam.artifacts import (
    errors_path,
    is_text_path,
    load_anomalies,
    load_json,
    load_schema,
    load_statistics,
    numbered_path,
    parse_message,
    read_json_lines,
    write_anomalies,
    write_json,
    write_report,
    write_schema,
    write_statistics,
)
from beam_stats.beam.writing import write_file
from beam_stats.cli import main
from beam_stats.errors import DeserializationError, InvalidInputError

REPO = Path(__file__).resolve().parents[2]
PACKAGE = Path(beam_stats.__file__).parent


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Path]:
    """The folder behind ``fakefs://``."""
    folder = tmp_path / "store"
    folder.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(fake_filesystem.ROOT_VARIABLE, str(folder))
        yield folder


def _statistics(n: int) -> statistics_pb2.DatasetFeatureStatisticsList:
    statistics = statistics_pb2.DatasetFeatureStatisticsList()
    dataset = statistics.datasets.add(name="d", num_examples=n)
    for i in range(n):
        dataset.features.add(name=f"f{i}").num_stats.mean = i / 3
    return statistics


def test_the_suffix_rule() -> None:
    assert [is_text_path(p) for p in ("a.pbtxt", "gs://b/a.textproto", Path("a.txt"))] == [
        True,
        True,
        True,
    ]
    assert [is_text_path(p) for p in ("a.pb", "a.pbtxt.gz", "a", "s3://b/pbtxt")] == [False] * 4


def test_names_of_derived_files() -> None:
    assert errors_path("gs://b/out/s.pb") == "gs://b/out/s.pb.errors.jsonl"
    assert errors_path(Path("s.pb")) == "s.pb.errors.jsonl"
    assert numbered_path("gs://b/x/anomalies.pbtxt", 3) == "gs://b/x/anomalies-3.pbtxt"
    assert numbered_path("a.b.pb", "*") == "a.b-*.pb"
    assert numbered_path("anomalies", 0) == "anomalies-0"
    assert numbered_path("./d/.pbtxt", 1) == "./d/.pbtxt-1"


def test_every_artifact_round_trips_on_another_file_system(store: Path) -> None:
    statistics = _statistics(3)
    schema = schema_pb2.Schema()
    schema.feature.add(name="f0", type=schema_pb2.FLOAT)
    anomalies = anomalies_pb2.Anomalies(data_missing=True)
    base = fake_filesystem.url("bucket/x")
    for name, text in (("s.pb", False), ("s.pbtxt", True)):
        path = write_statistics(statistics, f"{base}/{name}")
        assert (store / "bucket/x" / name).read_bytes().startswith(b"datasets") is text
        assert load_statistics(path) == statistics
    write_schema(schema, f"{base}/schema.pbtxt")
    expected = 'feature {\n  name: "f0"\n  type: FLOAT\n}\n'
    assert (store / "bucket/x/schema.pbtxt").read_text() == expected
    assert load_schema(f"{base}/schema.pbtxt") == schema
    write_schema(schema, f"{base}/schema", text=True)  # text without the suffix: still read
    assert load_schema(f"{base}/schema") == schema
    write_anomalies(anomalies, f"{base}/a.pb")
    assert load_anomalies(f"{base}/a.pb") == anomalies
    write_json({"rows": 3}, f"{base}/summary.json")
    assert load_json(f"{base}/summary.json", "summary") == {"rows": 3}
    (store / "bucket/x/e.jsonl").write_text('{"a": 1}\n{"a": 2}\n')
    assert list(read_json_lines(f"{base}/e.jsonl")) == [{"a": 1}, {"a": 2}]
    write_report("<p>é</p>", f"{base}/r.html")
    assert (store / "bucket/x/r.html").read_text(encoding="utf-8") == "<p>é</p>"
    # Nothing but the artifacts: the temporary objects were renamed away.
    assert sorted(p.name for p in (store / "bucket/x").iterdir()) == [
        "a.pb",
        "e.jsonl",
        "r.html",
        "s.pb",
        "s.pbtxt",
        "schema",
        "schema.pbtxt",
        "summary.json",
    ]


def test_one_check_refuses_another_kind_of_file(store: Path) -> None:
    path = write_statistics(_statistics(2), fake_filesystem.url("b/stats.pb"))
    with pytest.raises(DeserializationError, match="Schema does not have: is it another kind"):
        load_schema(path)
    with pytest.raises(DeserializationError, match="fakefs://b/stats.pb is not a"):
        load_anomalies(path)
    with pytest.raises(InvalidInputError, match="no schema file at fakefs://b/missing"):
        load_schema(fake_filesystem.url("b/missing"))
    with pytest.raises(InvalidInputError, match="expected a Schema, got Anomalies"):
        write_schema(anomalies_pb2.Anomalies(), fake_filesystem.url("b/s.pbtxt"))  # type: ignore[arg-type]


def test_a_failed_write_keeps_the_old_object_and_leaves_no_temporary(store: Path) -> None:
    path = write_statistics(_statistics(2), fake_filesystem.url("b/s.pb"))

    def chunks() -> Iterator[bytes]:
        yield b"partial"
        raise ValueError("the producer failed")

    with pytest.raises(ValueError, match="producer"):
        write_file(path, chunks())
    assert load_statistics(path) == _statistics(2)
    assert sorted(p.name for p in (store / "b").iterdir()) == ["s.pb"]


def test_the_fake_store_shows_a_partial_object_while_it_is_written(store: Path) -> None:
    """Why writes go to a temporary name: written in place, a half-written artifact has the
    artifact's name (the fake shows the bytes as they come) and loads as garbage."""
    path = fake_filesystem.url("b/s.pb")
    data = _statistics(50).SerializeToString()
    with FileSystems.create(path) as f:
        f.write(data[: len(data) // 2])
        f.flush()
        with pytest.raises(DeserializationError, match="s.pb"):
            load_statistics(path)


_KILLED_BY_THE_LIMIT = (
    "import resource, signal, sys\n"
    "import fake_filesystem\n"
    "from beam_stats.cli import main\n"
    "limit = int(sys.argv[1])\n"
    # CPython ignores SIGXFSZ; by default it kills the process in the middle of the write.
    "signal.signal(signal.SIGXFSZ, signal.SIG_DFL)\n"
    "resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))\n"
    "sys.exit(main(sys.argv[2:]))\n"
)


def test_a_run_killed_mid_write_never_leaves_a_partial_artifact(store: Path) -> None:
    (store / "b").mkdir()
    data = store / "b" / "small.parquet"
    pq.write_table(pa.table({"a": [1, 2, 3]}), data)
    big = store / "b" / "big.parquet"
    pq.write_table(pa.table({f"c{i}": list(range(50)) for i in range(40)}), big)
    out = fake_filesystem.url("b/s.pb")
    assert main(["stats", fake_filesystem.url("b/small.parquet"), "--output", out]) == 0
    good = load_statistics(out)
    size = (store / "b" / "s.pb").stat().st_size
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])}
    argv = ["stats", fake_filesystem.url("b/big.parquet"), "--output", out]
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_BY_THE_LIMIT, str(size + 10), *argv],
        env=env,
        capture_output=True,
    )
    assert killed.returncode == -signal.SIGXFSZ, killed.stderr
    # The kill left a partial temporary object beside the artifact ...
    (partial,) = [p for p in (store / "b").iterdir() if p.name.startswith(".s.pb.")]
    assert partial.name.endswith(".tmp") and partial.stat().st_size == size + 10
    # ... which is never the artifact: it keeps the old content, and globs skip the rest.
    assert load_statistics(out) == good
    matched = FileSystems.match([fake_filesystem.url("b/*.pb")])[0].metadata_list
    assert [m.path for m in matched] == [out]


def _calls(path: Path) -> list[str]:
    """Each file access in a module: ``open(...)``, ``x.open(...)``, ``Path.read_*`` and
    ``write_*``, ``FileSystems.create``."""
    found = []
    names = {"open", "read_text", "read_bytes", "write_text", "write_bytes"}
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            function = node.func
            if isinstance(function, ast.Name) and function.id == "open":
                found.append(f"{path.name}:{node.lineno} open")
            if isinstance(function, ast.Attribute) and (
                function.attr in names
                or (ast.unparse(function.value) == "FileSystems" and function.attr == "create")
            ):
                found.append(f"{path.name}:{node.lineno} {function.attr}")
    return found


def test_artifacts_are_read_and_written_in_one_module() -> None:
    for folder in ("cli", "schema", "validation", "drift", "report", "stats", "jobs"):
        for path in sorted((PACKAGE / folder).glob("*.py")):
            assert _calls(path) == [], path
    assert _calls(PACKAGE / "tfdv.py") == []
    assert not (PACKAGE / "schema" / "io.py").exists()


def test_a_binary_message_over_protobufs_limit_is_refused_naming_it() -> None:
    # The limit is 2 GiB; a smaller one stands for it (the check is the same comparison).
    statistics = statistics_pb2.DatasetFeatureStatisticsList()
    statistics.datasets.add(name="x" * 300)
    data = statistics.SerializeToString()
    empty = statistics_pb2.DatasetFeatureStatisticsList
    with pytest.raises(DeserializationError) as refused:
        parse_message(data, empty(), "big.pb", limit=len(data) - 1)
    assert str(refused.value).startswith(
        f"big.pb is {len(data):,} bytes, over protobuf's limit of {len(data) - 1:,} bytes"
    )
    assert parse_message(data, empty(), "big.pb", limit=len(data)) == statistics
    # Text is not one binary message: no such limit.
    text = parse_message(str(statistics).encode(), empty(), "big.pbtxt", limit=10)
    assert text == statistics
