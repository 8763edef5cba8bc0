"""Every command reads and writes any Beam file system alike (issue 12).

The commands run twice on the same data, once with every input and output on local paths,
once on ``fakefs://`` (an object store's semantics, :mod:`fake_filesystem`); both runs print
the same and write the same files, byte for byte once the folder's name is replaced.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import fake_filesystem
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from beam_stats.beam.artifacts import load_anomalies, load_schema, load_statistics
from beam_stats.cli import main

ROWS = 60


def _data(folder: Path) -> None:
    for name, shift, colours in (
        ("train", 0, ["red", "green", "blue"]),
        ("serving", 5, ["red", "green", "blue", "purple"]),  # purple: not in the schema
    ):
        table = pa.table(
            {
                "id": list(range(ROWS)),
                "x": [float(i % 17 + shift) for i in range(ROWS)],
                "colour": [colours[i % len(colours)] for i in range(ROWS)],
            }
        )
        pq.write_table(table, folder / f"{name}.parquet")
    # One malformed line: an input problem for the errors files.
    (folder / "extra.jsonl").write_text('{"id": 1, "x": 2.0, "colour": "red"}\n{"id": \n')


def _commands(base: str) -> list[list[str]]:
    b = base
    # A pipeline on both file systems (local files alone would be read in process, in
    # another order: the same numbers up to the last bits, not the same bytes).
    beam = ["--engine", "beam"]
    return [
        ["stats", f"{b}/train.parquet", f"{b}/extra.jsonl", "--output", f"{b}/train.pb", *beam],
        ["stats", f"{b}/serving.parquet", "--output", f"{b}/serving.pbtxt", "--slice", "colour"],
        ["merge", f"{b}/train.pb", f"{b}/serving.pbtxt", "--output", f"{b}/merged.pb"],
        [
            "infer-schema",
            f"{b}/train.pb",
            "--output",
            f"{b}/schema.pbtxt",
            "--environment",
            "SERVING",
            "--drift-threshold",
            "psi=0.25",
        ],
        # Several datasets (slices): one anomalies file each, numbered on the file system.
        [
            "validate",
            f"{b}/serving.pbtxt",
            "--schema",
            f"{b}/schema.pbtxt",
            "--output",
            f"{b}/anomalies.pbtxt",
        ],  # fmt: skip
        [
            "validate",
            f"{b}/merged.pb",
            "--schema",
            f"{b}/schema.pbtxt",
            "--previous",
            f"{b}/train.pb",
            "--output",
            f"{b}/drift.pb",
        ],  # fmt: skip
        [
            "run",
            "--train",
            f"{b}/train.parquet",
            "--serving",
            f"{b}/serving.parquet",
            "--out",
            f"{b}/run",
        ],  # fmt: skip
        [
            "compare",
            f"{b}/train.pb",
            f"{b}/run/serving_stats.pb",
            "--schema",
            f"{b}/schema.pbtxt",
        ],  # fmt: skip
        [
            "report",
            f"{b}/train.pb",
            f"{b}/run/serving_stats.pb",
            "--anomalies",
            f"{b}/anomalies-0.pbtxt",
            "--output",
            f"{b}/report.html",
        ],  # fmt: skip
        [
            "validate-examples",
            f"{b}/serving.parquet",
            f"{b}/extra.jsonl",
            "--schema",
            f"{b}/schema.pbtxt",
            "--bad-rows",
            f"{b}/bad",
            "--good-rows",
            f"{b}/good",
        ],  # fmt: skip
        [
            "feature-skew",
            "--base",
            f"{b}/train.parquet",
            "--test",
            f"{b}/serving.parquet",
            "--id",
            "id",
            "--output",
            f"{b}/skew.pbtxt",
            "--samples",
            f"{b}/samples.jsonl",
        ],  # fmt: skip
    ]


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.suffix != ".parquet" and p.name != "extra.jsonl"
    }


def _flow(base: str, capsys: pytest.CaptureFixture[str]) -> list[tuple[str, int, str]]:
    done = []
    for argv in _commands(base):
        status = main(argv)
        out, err = capsys.readouterr()
        assert "Traceback" not in err and "error:" not in err, (argv, err)
        done.append((argv[0], status, out.replace(base, "BASE")))
    return done


@pytest.fixture
def fakefs(tmp_path: Path) -> Iterator[Path]:
    """The folder behind ``fakefs://``, fresh for the test."""
    store = tmp_path / "store"
    store.mkdir()
    # `run` gives its progress logger a handler on the sys.stderr of the moment: one that
    # an earlier test left writes to a closed capture (a "Logging error" traceback).
    progress = logging.getLogger("beam_stats.progress")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(fake_filesystem.ROOT_VARIABLE, str(store))
        patch.setattr(progress, "handlers", [])
        yield store


def test_every_command_works_alike_on_another_file_system(
    tmp_path: Path, fakefs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local = tmp_path / "local"
    local.mkdir()
    _data(local)
    remote = fakefs / "bucket" / "flow"
    shutil.copytree(local, remote)
    base = fake_filesystem.url("bucket/flow")

    on_disk = _flow(str(local), capsys)
    on_fakefs = _flow(base, capsys)

    assert on_fakefs == on_disk
    assert [status for _, status, _ in on_disk] == [0, 0, 0, 0, 1, 1, 1, 1, 0, 1, 1]
    written = _files(local)
    assert _files(remote).keys() == written.keys()
    assert {
        "train.pb.errors.jsonl",
        "serving.pbtxt.errors.jsonl",
        "anomalies-0.pbtxt",
        "anomalies-4.pbtxt",
        "run/train_stats.pb.errors.jsonl",
        "run/report.html",
        "bad/bad-rows.errors.jsonl",
        "skew.pbtxt.errors.jsonl",
    } <= written.keys()
    for name, data in _files(remote).items():
        assert data.replace(base.encode(), b"BASE") == written[name].replace(
            str(local).encode(), b"BASE"
        ), name
    # What was written there loads from there, and is what the local run wrote.
    for name in ("train.pb", "serving.pbtxt", "merged.pb", "run/serving_stats.pb"):
        assert load_statistics(f"{base}/{name}") == load_statistics(local / name), name
    assert load_schema(f"{base}/schema.pbtxt") == load_schema(local / "schema.pbtxt")
    assert load_anomalies(f"{base}/drift-1.pb") == load_anomalies(local / "drift-1.pb")
    # The input problem is in the default errors file, named as everywhere.
    lines = (remote / "train.pb.errors.jsonl").read_text().splitlines()
    problems = [json.loads(line) for line in lines]
    assert [(p["file"], p["line"]) for p in problems] == [(f"{base}/extra.jsonl", 2)]
    assert (remote / "bad" / "bad-rows.errors.jsonl").read_bytes() == (
        remote / "train.pb.errors.jsonl"
    ).read_bytes()
    # No temporary object is left behind (the store's objects are its files).
    objects = [str(p) for p in remote.rglob("*") if p.is_file()]
    assert not [n for n in [*written, *objects] if ".tmp" in n or "beam-temp" in n]


def test_errors_flag_names_the_errors_file_of_every_data_command(
    tmp_path: Path, fakefs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    remote = fakefs / "b"
    remote.mkdir()
    _data(remote)
    (remote / "schema.pbtxt").write_text('feature { name: "id" type: INT }\n')
    b = fake_filesystem.url("b")
    data = [f"{b}/train.parquet", f"{b}/extra.jsonl"]
    for argv in (
        ["stats", *data, "--output", f"{b}/s.pb", "--errors", f"{b}/e1.jsonl"],
        [
            "validate-examples",
            *data,
            "--schema",
            f"{b}/schema.pbtxt",
            "--bad-rows",
            f"{b}/bad",
            "--errors",
            f"{b}/e2.jsonl",
        ],  # fmt: skip
        [
            "feature-skew",
            "--base",
            *data,
            "--test",
            *data,
            "--id",
            "id",
            "--output",
            f"{b}/k.pb",
            "--errors",
            f"{b}/e3.jsonl",
        ],  # fmt: skip
    ):
        assert main(argv) in (0, 1), capsys.readouterr().err
    capsys.readouterr()
    lines = [(remote / f"e{i}.jsonl").read_text().splitlines() for i in (1, 2, 3)]
    assert [len(x) for x in lines] == [1, 1, 2]  # feature-skew reads extra.jsonl twice
    assert not [p.name for p in remote.rglob("*.errors.jsonl")]
    bad = sorted(p.name for p in (remote / "bad").iterdir() if p.is_file())
    assert bad == ["bad-rows-00000-of-00001.jsonl", "new-columns.jsonl", "summary.json"]
