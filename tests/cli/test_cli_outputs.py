"""Issue 11: outputs never destroy an input, are written atomically, and every failure of
the environment or the input is one line with exit status 2 (no traceback)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cli_errors import CLI_CODE, limited_python

from beam_stats.beam import load_statistics
from beam_stats.beam.sinks import WriteTextFile
from beam_stats.beam.writing import write_file
from beam_stats.cli import main
from beam_stats.errors import OutputError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"a": [1, 2, 3], "b": ["x", "y", "z"]}), path)
    return path


@pytest.fixture
def stats_file(tmp_path: Path, data: Path) -> Path:
    out = tmp_path / "s.pb"
    assert main(["stats", str(data), "--output", str(out)]) == 0
    return out


def _refused(capsys: pytest.CaptureFixture[str], argv: list[str], *words: str) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("beam-stats:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def test_stats_refuses_an_output_that_is_its_input(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = data.read_bytes()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "link.parquet").symlink_to(data)
    for output in ("d.parquet", "./d.parquet", str(data), "link.parquet", "sub/../d.parquet"):
        _refused(capsys, ["stats", "d.parquet", "--output", output], "refusing to write")
    _refused(capsys, ["stats", "*.parquet", "--output", "d.parquet"], "(*.parquet)")
    _refused(capsys, ["stats", "d.parquet", "--output", "o.pb", "--errors", "d.parquet"])
    _refused(capsys, ["stats", "link.parquet", "--output", "o.pb", "--errors", str(data)])
    _refused(capsys, ["stats", "d.parquet", "--output", "o.pb", "--errors", "./o.pb"], "another")
    assert data.read_bytes() == before
    assert not (tmp_path / "o.pb").exists()


def test_every_command_refuses_to_overwrite_an_input(
    stats_file: Path, data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = stats_file.read_bytes()
    s = str(stats_file)
    schema = tmp_path / "schema.pbtxt"
    assert main(["infer-schema", s, "--output", str(schema)]) == 0
    capsys.readouterr()
    for argv in (
        ["report", s, "--output", s],
        ["merge", s, s, "--output", s],
        ["infer-schema", s, "--output", s],
        ["validate", s, "--schema", str(schema), "--output", str(schema)],
        ["validate", s, "--schema", str(schema), "--output", s],
        [
            "feature-skew",
            "--base",
            str(data),
            "--test",
            str(data),
            "--id",
            "a",
            "--output",
            s,
            "--samples",
            str(data),
        ],
        ["validate-examples", str(data), "--schema", str(schema), "--bad-rows", str(tmp_path)],
    ):
        if argv[0] == "validate-examples":  # the input is named like one of its outputs
            (tmp_path / "summary.json").write_text("{}")
            argv[1] = str(tmp_path / "summary.json")
        _refused(capsys, argv, "refusing to write")
    assert stats_file.read_bytes() == before
    assert (tmp_path / "summary.json").read_text() == "{}"


def test_run_refuses_an_input_inside_its_output_folder(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train = tmp_path / "train_stats.pb"
    train.write_bytes(data.read_bytes())
    argv = ["run", "--train", str(train), "--serving", str(data), "--out", str(tmp_path)]
    _refused(capsys, argv, "train_stats.pb")
    assert train.read_bytes() == data.read_bytes()


def test_a_relative_glob_in_the_current_folder_matches(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["stats", "*.parquet", "--output", "out/s.pb"]) == 0
    assert load_statistics("out/s.pb").datasets[0].num_examples == 3
    assert main(["stats", "d*.parquet", "--output", "s2.pb"]) == 0
    assert "3 examples" in capsys.readouterr().out


def test_outputs_that_cannot_be_written_are_one_line(
    data: Path, stats_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s = str(stats_file)
    (tmp_path / "file.txt").write_text("a file")
    (tmp_path / "folder").mkdir()
    # As root a chmod'ed folder stays writable: a path under a regular file fails for anyone.
    blocked = str(tmp_path / "file.txt" / "out.pb")
    for argv in (
        ["stats", str(data), "--output", blocked],
        ["stats", str(data), "--output", str(tmp_path / "folder")],
        ["merge", s, "--output", blocked],
        ["report", s, "--output", str(tmp_path / "folder")],
        ["infer-schema", s, "--output", str(tmp_path / "file.txt" / "a" / "schema.pbtxt")],
        ["run", "--train", str(data), "--serving", str(data), "--out", blocked],
    ):
        _refused(capsys, argv, "cannot write")
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        _refused(capsys, ["merge", s, "--output", str(locked / "m.pb")], "cannot write")


def test_directories_given_as_statistics_or_schema_are_one_line(
    stats_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    for argv in (
        ["merge", str(folder), "--output", str(tmp_path / "m.pb")],
        ["report", str(folder), "--output", str(tmp_path / "r.html")],
        ["infer-schema", str(folder), "--output", str(tmp_path / "x.pbtxt")],
        ["validate", str(stats_file), "--schema", str(folder)],
        ["compare", str(stats_file), str(folder)],
    ):
        _refused(capsys, argv, "is a directory")


def test_a_schema_nested_5000_deep_is_one_line(
    stats_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = tmp_path / "deep.pbtxt"
    deep.write_text("feature { name: 'a' type: STRUCT struct_domain { " * 5000 + "}}" * 5000)
    _refused(capsys, ["validate", str(stats_file), "--schema", str(deep)], "nested too deeply")


def _tf_example_tfrecord(path: Path) -> None:
    import struct

    from beam_stats.beam.tfrecord import masked_crc32c
    from beam_stats.proto import example_pb2

    out = b""
    for i in range(3):
        example = example_pb2.Example()
        example.features.feature["a"].int64_list.value.append(i)
        example.features.feature["s"].bytes_list.value.append(b"hello")
        data = example.SerializeToString()
        header = struct.pack("<Q", len(data))
        out += header + struct.pack("<I", masked_crc32c(header))
        out += data + struct.pack("<I", masked_crc32c(data))
    path.write_bytes(out)


def test_data_given_as_statistics_is_refused_by_every_command(
    stats_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    examples = tmp_path / "data.tfrecord"
    _tf_example_tfrecord(examples)
    empty_list = tmp_path / "empty.pb"
    empty_list.write_bytes(b"\x12\x00")  # not a DatasetFeatureStatisticsList field: refused
    no_dataset = tmp_path / "none.pbtxt"
    no_dataset.write_text("# no dataset\n")
    s, out = str(stats_file), str(tmp_path / "o")
    for argv in (
        ["merge", str(examples), "--output", out],
        ["merge", s, str(examples), "--output", out],
        ["report", str(examples), "--output", out],
        ["infer-schema", str(examples), "--output", out],
        ["compare", s, str(examples)],
    ):
        assert "tf.Example" in _refused(capsys, argv, str(examples))
    _refused(capsys, ["merge", str(empty_list), "--output", out], str(empty_list))
    _refused(capsys, ["merge", str(no_dataset), "--output", out], "no dataset")
    assert not Path(out).exists()


def test_write_file_keeps_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    path = tmp_path / "out.pb"
    write_file(str(path), b"good")

    def chunks():  # the producer of the data fails half way
        yield b"partial"
        raise ValueError("the producer failed")

    with pytest.raises(ValueError, match="producer"):
        write_file(str(path), chunks())
    assert path.read_bytes() == b"good"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.pb"]
    with pytest.raises(OutputError, match="is a directory"):
        write_file(str(tmp_path), b"x")


# CPython ignores SIGXFSZ (a write past the limit fails with EFBIG, as on a full disk);
# restored to its default, the signal kills the process in the middle of the write.
_KILLED_BY_THE_LIMIT = (
    "import signal, sys\n"
    "signal.signal(signal.SIGXFSZ, signal.SIG_DFL)\n"
    "from beam_stats.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def test_a_run_that_dies_or_fails_mid_write_leaves_the_good_file(
    data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "s.pb"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    argv = ["stats", str(data), "--output", str(out)]
    assert main(argv) == 0
    good = out.read_bytes()
    big = tmp_path / "big.parquet"
    pq.write_table(pa.table({f"c{i}": list(range(50)) for i in range(40)}), big)
    argv[1] = str(big)
    limit = len(good) + 10
    killed = subprocess.run(
        [*limited_python(limit, _KILLED_BY_THE_LIMIT), *argv],
        env=env,
        capture_output=True,
    )
    assert killed.returncode == -signal.SIGXFSZ
    assert out.read_bytes() == good
    failed = subprocess.run(
        [*limited_python(limit, CLI_CODE), *argv],
        env=env,
        capture_output=True,
        text=True,
    )
    assert failed.returncode == 2, failed.stderr
    assert "cannot write" in failed.stderr and "File too large" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert out.read_bytes() == good


def test_a_full_output_folder_is_one_line(data: Path) -> None:
    tiny = os.environ.get("BEAM_STATS_TINY_TMPFS")  # a nearly full file system, if given
    if not tiny:
        pytest.skip("no tiny tmpfs (set BEAM_STATS_TINY_TMPFS); EFBIG covers it above")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = Path(tiny) / "s.pb"
    done = subprocess.run(
        [sys.executable, "-m", "beam_stats.cli", "stats", str(data), "--output", str(out)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_the_errors_file_is_replaced_atomically(tmp_path: Path) -> None:
    import apache_beam as beam

    path = tmp_path / "errors.jsonl"
    path.write_text("old\n")
    with beam.Pipeline() as p:
        _ = p | beam.Create(["a", "b"]) | WriteTextFile(str(path))
    assert path.read_text().splitlines() == ["a", "b"]
    assert sorted(x.name for x in tmp_path.iterdir()) == ["errors.jsonl"]
    # Two sinks to one path in one pipeline: each renames a complete file; one wins.
    with beam.Pipeline() as p:
        _ = p | "A" >> beam.Create(["a"]) | "WA" >> WriteTextFile(str(path))
        _ = p | "B" >> beam.Create(["b"]) | "WB" >> WriteTextFile(str(path))
    assert path.read_text() in ("a\n", "b\n")


def test_a_refusal_inside_the_feature_skew_pipeline_logs_no_traceback(
    data: Path, tmp_path: Path
) -> None:
    """The result cannot be written (a file size limit: EFBIG) once the pipeline runs: one
    line, status 2, and none of Beam's logs of the error with its traceback (with worker
    processes: tests/cli/test_cli_worker_stderr.py)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    argv = ["feature-skew", "--base", str(data), "--test", str(data), "--id", "a"]
    argv += ["--output", str(tmp_path / "skew.pb")]
    done = subprocess.run(
        [*limited_python(20, CLI_CODE), *argv],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr  # (a CI run once saw a second line: which one?)
    assert lines[0].startswith("beam-stats: error: cannot write"), lines[0]


def test_row_files_of_a_failed_validate_examples_run_are_kept(tmp_path: Path) -> None:
    data = tmp_path / "v.parquet"
    pq.write_table(pa.table({"a": [1, 2, 3, None], "b": ["x", "y", "z", "w"]}), data)
    schema = tmp_path / "schema.pbtxt"
    schema.write_text(
        'feature { name: "a" type: INT presence { min_fraction: 1 } }\n'
        'feature { name: "b" type: BYTES }\n'
    )
    bad = tmp_path / "bad"
    argv = ["validate-examples", str(data), "--schema", str(schema), "--bad-rows", str(bad)]
    assert main(argv) == 1
    before = {p.name: p.read_bytes() for p in bad.iterdir()}
    assert any(name.startswith("bad-rows-") for name in before)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    failed = subprocess.run(
        [*limited_python(100, CLI_CODE), *argv, "--output-format", "parquet"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert failed.returncode == 2, failed.stderr
    assert "File too large" in failed.stderr and "Traceback" not in failed.stderr
    after = {p.name: p.read_bytes() for p in bad.iterdir()}
    assert after == before  # no partial file, no file lost, no temporary file left


def test_two_runs_to_one_output_leave_complete_files(data: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = tmp_path / "s.pb"
    argv = [sys.executable, "-m", "beam_stats.cli", "stats", str(data), "--output", str(out)]
    runs = [subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL) for _ in range(2)]
    assert [run.wait(timeout=300) for run in runs] == [0, 0]
    assert load_statistics(str(out)).datasets[0].num_examples == 3
    assert (tmp_path / "s.pb.errors.jsonl").read_text() == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.parquet", "s.pb", "s.pb.errors.jsonl"]
