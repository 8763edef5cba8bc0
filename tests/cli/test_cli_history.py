"""``beam-stats history add`` and ``history list``: a statistics store from the command line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from cli_errors import one_line_error

from beam_stats import generate_statistics_from_table, write_statistics
from beam_stats.beam.history import MANIFEST, StatisticsStore
from beam_stats.cli import main


def _day(folder: Path, name: str, rows: int, seed: int = 0, state: bool = True) -> Path:
    rng = np.random.default_rng(seed)
    table = pa.table({"x": rng.normal(0, 1, rows), "s": rng.choice(["a", "b"], rows)})
    path = folder / f"{name}.pb"
    write_statistics(generate_statistics_from_table(table, include_state=state), path)
    return path


def test_add_then_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = str(tmp_path / "store")
    for i, (span, rows) in enumerate([("2026-01-02", 30), ("2026-01-01", 1200)]):
        assert (
            main(["history", "add", store, str(_day(tmp_path, span, rows, i)), "--span", span]) == 0
        )
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"added span 2026-01-02 (30 examples, 2 features) in {store}",
        f"added span 2026-01-01 (1200 examples, 2 features) in {store}",
    ]
    assert main(["history", "list", store]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["span", "examples", "features", "size", "added", "status"]
    entries = StatisticsStore(store).spans()
    for line, entry in zip(lines[1:3], entries, strict=True):
        size = entry.size / 1000
        assert line.split() == [
            entry.span,
            str(entry.num_examples),
            "2",
            *f"{size:.1f} kB".split(),
            entry.added,
            "ok",
        ]
    assert [line.split()[0] for line in lines[1:3]] == ["2026-01-01", "2026-01-02"]
    assert lines[3] == "2 spans, 0 files damaged or missing"


def test_add_again_replaces_and_no_replace_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(tmp_path / "store")
    first, second = _day(tmp_path, "a", 10), _day(tmp_path, "b", 20, seed=1)
    assert main(["history", "add", store, str(first), "--span", "d1"]) == 0
    assert main(["history", "add", store, str(second), "--span", "d1"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"replaced span d1 (20 examples, 2 features) in {store}"
    )
    line = one_line_error(
        capsys, ["history", "add", store, str(first), "--span", "d1", "--no-replace"]
    )
    assert "has span 'd1' already" in line
    assert [e.num_examples for e in StatisticsStore(store).spans()] == [20]
    assert len(list((tmp_path / "store").iterdir())) == 2  # the manifest and one file


def test_list_marks_damaged_and_missing_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "store"
    for day in (1, 2, 3):
        main(
            [
                "history",
                "add",
                str(folder),
                str(_day(tmp_path, f"d{day}", 10, day)),
                "--span",
                f"d{day}",
            ]
        )
    manifest = json.loads((folder / MANIFEST).read_text())
    files = {s["span"]: folder / s["file"] for s in manifest["spans"]}
    data = bytearray(files["d1"].read_bytes())
    data[-3] ^= 0x01
    files["d1"].write_bytes(bytes(data))
    files["d3"].unlink()
    capsys.readouterr()
    assert main(["history", "list", str(folder)]) == 1
    lines = capsys.readouterr().out.splitlines()
    status = {line.split()[0]: re.split(r"Z\s+", line, maxsplit=1)[1] for line in lines[1:4]}
    assert status == {
        "d1": "damaged (its SHA-256 differs from the manifest's)",
        "d2": "ok",
        "d3": "missing",
    }
    assert lines[4] == "3 spans, 2 files damaged or missing"


def test_list_of_a_store_that_does_not_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "list", str(tmp_path / "none")]) == 0
    assert capsys.readouterr().out == f"no spans in {tmp_path / 'none'}\n"
    assert not (tmp_path / "none").exists()


def test_refusals_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "store"
    day = str(_day(tmp_path, "d", 10))
    assert "the span 'a/b' contains '/'" in one_line_error(
        capsys, ["history", "add", str(folder), day, "--span", "a/b"]
    )
    finished = str(_day(tmp_path, "finished", 10, state=False))
    assert "has no sketch state" in one_line_error(
        capsys, ["history", "add", str(folder), finished, "--span", "d"]
    )
    assert "no statistics file at" in one_line_error(
        capsys, ["history", "add", str(folder), str(tmp_path / "nope.pb"), "--span", "d"]
    )
    assert not folder.exists()
    assert main(["history", "add", str(folder), day, "--span", "d"]) == 0
    own = str(folder / StatisticsStore(folder).entry("d").file)
    before = Path(own).read_bytes()
    assert "refusing to write" in one_line_error(
        capsys, ["history", "add", str(folder), own, "--span", "d"]
    )
    assert Path(own).read_bytes() == before
    (folder / MANIFEST).write_text("{")
    for argv in (
        ["history", "list", str(folder)],
        ["history", "add", str(folder), day, "--span", "e"],
    ):
        assert f"the manifest {folder / MANIFEST} is damaged" in one_line_error(capsys, argv)
    assert "unknown arguments: --runner" in one_line_error(
        capsys, ["history", "list", str(folder), "--runner", "DirectRunner"]
    )


def test_debug_is_accepted_after_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "list", str(tmp_path), "--debug"]) == 0
    assert capsys.readouterr().out.startswith("no spans in")
