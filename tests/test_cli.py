"""The ``beam-stats`` command line, and loading the statistics files it writes."""

from __future__ import annotations

import collections
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.options.pipeline_options import DirectOptions
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

from beam_stats.beam import load_statistics, write_statistics
from beam_stats.cli import main
from beam_stats.errors import DeserializationError, InvalidInputError
from beam_stats.stats import generate_statistics_from_table

N = 400
WORDS = ["red", "green", "blue"]


def make_rows(seed: int = 0, n: int = N) -> list[dict[str, Any]]:
    """Rows with a float (10% missing), an int and a low-cardinality string (5% missing)."""
    rng = np.random.default_rng(seed)
    xs = rng.normal(5.0, 3.0, n)
    ks = rng.integers(-20, 20, n)
    words = rng.choice(WORDS, n, p=[0.5, 0.3, 0.2])
    return [
        {
            "x": None if rng.random() < 0.1 else float(xs[i]),
            "k": int(ks[i]),
            "s": None if rng.random() < 0.05 else str(words[i]),
        }
        for i in range(n)
    ]


def expected_numbers(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """What numpy says about `rows`, in the shape `_numbers` reads from a statistics file."""
    xs = np.array([r["x"] for r in rows if r["x"] is not None])
    ks = np.array([r["k"] for r in rows])
    words = collections.Counter(r["s"] for r in rows if r["s"] is not None)
    return {
        "num_examples": len(rows),
        "x_non_missing": int(xs.size),
        "x_missing": len(rows) - int(xs.size),
        "x_mean": float(xs.mean()),
        "x_std": float(xs.std()),
        "x_min": float(xs.min()),
        "x_max": float(xs.max()),
        "k_mean": float(ks.mean()),
        "k_zeros": int(np.count_nonzero(ks == 0)),
        "s_unique": len(words),
        "s_top": [[w, c] for w, c in sorted(words.items(), key=lambda kv: (-kv[1], kv[0]))],
    }


# Reads a statistics file with plain tensorflow-metadata (no beam_stats, no Beam), in a
# separate interpreter, and prints the numbers `expected_numbers` computes.
_LOADER = """
import json, sys
from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

statistics = statistics_pb2.DatasetFeatureStatisticsList()
with open(sys.argv[1], "rb") as f:
    statistics.ParseFromString(f.read())
dataset = statistics.datasets[0]
features = {".".join(f.path.step): f for f in dataset.features}
x, k, s = features["x"].num_stats, features["k"].num_stats, features["s"].string_stats
print(json.dumps({
    "num_examples": dataset.num_examples,
    "x_non_missing": x.common_stats.num_non_missing,
    "x_missing": x.common_stats.num_missing,
    "x_mean": x.mean, "x_std": x.std_dev, "x_min": x.min, "x_max": x.max,
    "k_mean": k.mean, "k_zeros": k.num_zeros,
    "s_unique": s.unique,
    "s_top": [[t.value, t.frequency] for t in s.top_values],
    "imported": sorted({m.split(".")[0] for m in sys.modules} & {"beam_stats", "apache_beam"}),
}))
"""


def _numbers(statistics: statistics_pb2.DatasetFeatureStatisticsList) -> dict[str, Any]:
    """The same numbers as _LOADER, read in this process."""
    dataset = statistics.datasets[0]
    features = {".".join(f.path.step): f for f in dataset.features}
    x, k, s = features["x"].num_stats, features["k"].num_stats, features["s"].string_stats
    return {
        "num_examples": dataset.num_examples,
        "x_non_missing": x.common_stats.num_non_missing,
        "x_missing": x.common_stats.num_missing,
        "x_mean": x.mean,
        "x_std": x.std_dev,
        "x_min": x.min,
        "x_max": x.max,
        "k_mean": k.mean,
        "k_zeros": k.num_zeros,
        "s_unique": s.unique,
        "s_top": [[t.value, t.frequency] for t in s.top_values],
    }


def assert_numbers(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    assert set(actual) == set(expected)
    for key, value in expected.items():
        if isinstance(value, float):
            assert actual[key] == pytest.approx(value, rel=1e-9), key
        else:
            assert actual[key] == value, key


def write_parquet(rows: list[dict[str, Any]], folder: Path) -> str:
    table = pa.Table.from_pylist(rows)
    half = len(rows) // 2
    pq.write_table(table.slice(0, half), folder / "part-0.parquet", row_group_size=100)
    pq.write_table(table.slice(half), folder / "part-1.parquet", row_group_size=100)
    return str(folder / "part-*.parquet")


def write_csv(rows: list[dict[str, Any]], folder: Path, malformed_at: int = 0) -> str:
    """A CSV file; with `malformed_at`, one extra row with too few fields before that row."""

    def cell(v: Any) -> str:
        return "" if v is None else repr(v) if isinstance(v, float) else str(v)

    lines = ["x,k,s"] + [",".join(cell(r[c]) for c in ("x", "k", "s")) for r in rows]
    if malformed_at:
        lines.insert(malformed_at, "1.5,2")
    path = folder / "data.csv"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def write_jsonl(rows: list[dict[str, Any]], folder: Path) -> str:
    path = folder / "data.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def _errors(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# --- beam-stats stats ----------------------------------------------------------------------


@pytest.mark.parametrize("file_format", ["parquet", "csv", "jsonl"])
def test_stats_in_process(
    file_format: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = make_rows(seed=1)
    writers = {"parquet": write_parquet, "csv": write_csv, "jsonl": write_jsonl}
    pattern = writers[file_format](rows, tmp_path)
    output = tmp_path / "out" / "stats.pb"
    assert main(["stats", pattern, "--output", str(output)]) == 0
    captured = capsys.readouterr()
    assert f"wrote statistics of {N} examples and 3 features to {output}" in captured.out
    assert_numbers(_numbers(load_statistics(str(output))), expected_numbers(rows))
    assert Path(f"{output}.errors.jsonl").read_text() == ""  # the default errors file
    assert "input problems" not in captured.err


def test_stats_with_slices_and_a_weight(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = make_rows(seed=4)
    for i, row in enumerate(rows):
        row["w"] = float(i % 5)  # 0 to 4: every fifth example weighs nothing
    pattern = write_parquet(rows, tmp_path)
    output = tmp_path / "stats.pb"
    assert main(["stats", pattern, "--output", str(output), "--slice", "s", "--weight", "w"]) == 0
    statistics = load_statistics(str(output))
    names = [d.name for d in statistics.datasets]
    words = {r["s"] for r in rows}
    assert None in words  # make_rows leaves 5% of s missing: a slice of its own
    expected = sorted(f"s={'<missing>' if w is None else w}" for w in words)
    assert names[0] == "All Examples" and sorted(names[1:]) == expected
    assert f"and {len(words)} slices" in capsys.readouterr().out
    for dataset in statistics.datasets[1:]:
        word = dataset.name.removeprefix("s=")
        part = [r for r in rows if r["s"] == (None if word == "<missing>" else word)]
        assert dataset.num_examples == len(part)
        assert dataset.weighted_num_examples == pytest.approx(sum(r["w"] for r in part))
    whole = {".".join(f.path.step): f for f in statistics.datasets[0].features}
    xs = np.array([r["x"] for r in rows if r["x"] is not None])
    ws = np.array([r["w"] for r in rows if r["x"] is not None])
    weighted = whole["x"].num_stats.weighted_numeric_stats
    assert weighted.mean == pytest.approx(np.average(xs, weights=ws), rel=1e-9)


def _ids_parquet(folder: Path) -> str:
    """A near-unique string `id` (what must not be sliced by) beside a float."""
    path = folder / "ids.parquet"
    pq.write_table(pa.table({"id": [f"user-{i:05d}" for i in range(N)], "x": np.ones(N)}), path)
    return str(path)


def test_slicing_by_an_id_exits_with_status_2_and_the_message_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    output = tmp_path / "stats.pb"
    args = ["stats", _ids_parquet(tmp_path), "--output", str(output)]
    assert main([*args, "--slice", "id", "--max-slices", "50"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"beam-stats: error: slicing by 'id' made {N} slices in one batch")
    assert "more than max_slices=50" in err and "--max-slices" in err
    assert "Traceback" not in err
    # Beam logs the failed transform with its traceback; the command silences that log.
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []
    assert logging.getLogger("apache_beam.runners.common").filters == []  # removed after
    assert not output.exists()


def test_max_slices_is_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["stats", _ids_parquet(tmp_path), "--output", str(tmp_path / "stats.pb")]
    assert main([*args, "--max-slices", "5"]) == 2
    assert capsys.readouterr().err == "beam-stats: error: --max-slices needs --slice\n"
    assert main([*args, "--slice", "id", "--max-slices", "0"]) == 2
    assert "max_slices must be a positive int, got 0" in capsys.readouterr().err


def test_too_many_slices_in_worker_processes_exits_with_status_2(tmp_path: Path) -> None:
    """Worker processes send their error back as text: the command still prints its message."""
    command = [sys.executable, "-m", "beam_stats.cli", "stats", _ids_parquet(tmp_path),
               "--output", str(tmp_path / "stats.pb"), "--slice", "id", "--max-slices", "50",
               "--direct_num_workers=2", "--direct_running_mode=multi_processing"]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 2, run.stderr[-3000:]
    [line] = run.stderr.splitlines()  # no worker traceback (beam_stats/cli/_stderr.py)
    assert line.startswith(f"beam-stats: error: slicing by 'id' made {N} slices"), line
    assert "max_slices=50" in line


def test_csv_with_a_malformed_row_in_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = make_rows(seed=2)
    csv = write_csv(rows, tmp_path, malformed_at=7)
    output = tmp_path / "stats.pb"
    assert main(["stats", csv, "--output", str(output)]) == 0
    assert_numbers(_numbers(load_statistics(str(output))), expected_numbers(rows))
    errors = _errors(Path(f"{output}.errors.jsonl"))
    assert errors == [
        {
            "file": csv,
            "line": 8,
            "kind": "malformed_row",
            "message": "expected 3 fields, got 2: '1.5,2'",
        }
    ]
    err = capsys.readouterr().err
    assert "1 input problem" in err and f"{csv}:8: malformed_row" in err


def test_text_output_name_and_beam_options_pass_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = make_rows(seed=3)
    jsonl = write_jsonl(rows, tmp_path)
    output = tmp_path / "stats.pbtxt"
    options: list[DirectOptions] = []
    pipeline = beam.Pipeline

    def spy(*args: Any, **kwargs: Any) -> beam.Pipeline:
        options.append(kwargs["options"].view_as(DirectOptions))
        return pipeline(*args, **kwargs)

    monkeypatch.setattr(beam, "Pipeline", spy)
    code = main(
        [
            "stats",
            jsonl,
            "--output",
            str(output),
            "--text",
            "--name",
            "eval",
            "--direct_num_workers=1",
            "--direct_running_mode=in_memory",
        ]
    )
    assert code == 0
    assert [(o.direct_num_workers, o.direct_running_mode) for o in options] == [(1, "in_memory")]
    # Plain text format, readable without beam_stats.
    statistics = statistics_pb2.DatasetFeatureStatisticsList()
    text_format.Parse(output.read_text(), statistics)
    assert statistics.datasets[0].name == "eval"
    assert_numbers(_numbers(statistics), expected_numbers(rows))


def test_missing_input_exits_with_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "nothing-*.parquet")
    output = tmp_path / "stats.pb"
    assert main(["stats", missing, "--output", str(output)]) == 2
    assert capsys.readouterr().err == f"beam-stats: error: no file matches {missing!r}\n"
    assert not output.exists()


def test_subprocess_run_and_loading_with_plain_tensorflow_metadata(tmp_path: Path) -> None:
    rows = make_rows(seed=4)
    csv = write_csv(rows, tmp_path, malformed_at=100)
    output, errors = tmp_path / "stats.pb", tmp_path / "problems.jsonl"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "beam_stats.cli",
            "stats",
            csv,
            "--output",
            str(output),
            "--errors",
            str(errors),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert f"wrote statistics of {N} examples and 3 features" in run.stdout
    assert "1 input problem" in run.stderr and f"{csv}:101: malformed_row" in run.stderr
    assert [(e["kind"], e["line"]) for e in _errors(errors)] == [("malformed_row", 101)]
    assert not Path(f"{output}.errors.jsonl").exists()
    # cwd is tmp_path, so the repository is not on sys.path: only installed packages load.
    loaded = subprocess.run(
        [sys.executable, "-c", _LOADER, str(output)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert loaded.returncode == 0, loaded.stderr
    numbers = json.loads(loaded.stdout)
    assert numbers.pop("imported") == []
    assert_numbers(numbers, expected_numbers(rows))


# --- load_statistics -----------------------------------------------------------------------


@pytest.fixture()
def statistics() -> statistics_pb2.DatasetFeatureStatisticsList:
    return text_format.Parse(
        """
        datasets {
          name: "d" num_examples: 3
          features { path { step: "x" } type: FLOAT num_stats { mean: 1.5 max: 2.0 } }
        }
        """,
        statistics_pb2.DatasetFeatureStatisticsList(),
    )


@pytest.mark.parametrize("name", ["stats.pb", "stats.pbtxt", "stats.textproto", "stats.txt"])
def test_load_statistics_round_trip(
    name: str, statistics: statistics_pb2.DatasetFeatureStatisticsList, tmp_path: Path
) -> None:
    path = write_statistics(statistics, str(tmp_path / "sub" / name))
    is_text = not name.endswith(".pb")
    assert (tmp_path / "sub" / name).read_bytes() == (
        text_format.MessageToString(statistics).encode()
        if is_text
        else statistics.SerializeToString()
    )
    assert load_statistics(path) == statistics


def test_load_statistics_reads_text_without_a_text_suffix(
    statistics: statistics_pb2.DatasetFeatureStatisticsList, tmp_path: Path
) -> None:
    path = tmp_path / "stats.bin"
    path.write_text(text_format.MessageToString(statistics))
    assert load_statistics(str(path)) == statistics


@pytest.mark.parametrize("name", ["stats.pb", "stats.pbtxt"])
def test_load_statistics_empty_file(name: str, tmp_path: Path) -> None:
    (tmp_path / name).write_bytes(b"")
    with pytest.raises(DeserializationError, match="empty"):
        load_statistics(str(tmp_path / name))


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("stats.pb", np.random.default_rng(0).bytes(200)),
        ("stats.pb", b'{"datasets": []}'),
        ("stats.pbtxt", b"datasets { no_such_field: 1 }"),
        ("stats.pbtxt", b"\xff\xfe"),
    ],
)
def test_load_statistics_garbage(name: str, data: bytes, tmp_path: Path) -> None:
    (tmp_path / name).write_bytes(data)
    with pytest.raises(DeserializationError, match="not a DatasetFeatureStatisticsList"):
        load_statistics(str(tmp_path / name))


def test_load_statistics_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no statistics file") as info:
        load_statistics(str(tmp_path / "missing.pb"))
    assert info.type is InvalidInputError  # not the DeserializationError subclass


@pytest.mark.parametrize("data", [b"\x08\x01", None])
def test_load_statistics_rejects_other_messages(data: bytes | None, tmp_path: Path) -> None:
    schema = schema_pb2.Schema()
    schema.feature.add(name="age", type=schema_pb2.INT)
    (tmp_path / "other.pb").write_bytes(data if data is not None else schema.SerializeToString())
    with pytest.raises(DeserializationError, match="does not have"):
        load_statistics(str(tmp_path / "other.pb"))


def test_unknown_runner_exits_with_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "data.parquet"
    pq.write_table(pa.table({"x": [1, 2]}), path)
    args = ["stats", str(path), "--output", str(tmp_path / "s.pb"), "--runner=NoSuchRunner"]
    assert main(args) == 2
    assert "bad pipeline option" in capsys.readouterr().err


@pytest.mark.parametrize(
    "command",
    [
        ["merge", "a.pb", "--output", "b.pb"],
        ["compare", "a.pb", "b.pb"],
        ["report", "a.pb", "--output", "r.html"],
        ["infer-schema", "a.pb", "--output", "s.pbtxt"],
        ["validate", "a.pb", "--schema", "s.pbtxt"],
    ],
)
def test_commands_without_a_pipeline_refuse_flags_they_do_not_know(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only commands that run a pipeline pass unknown flags on to Beam; elsewhere a typo
    (``--txt`` for ``--text``) is an error, not silently ignored."""
    stats_file = tmp_path / "a.pb"
    write_statistics(generate_statistics_from_table(pa.table({"x": [1, 2]})), str(stats_file))
    absolute = [str(tmp_path / c) if c.endswith((".pb", ".html", ".pbtxt")) else c for c in command]
    assert main([*absolute, "--txt"]) == 2
    assert "unknown arguments: --txt" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pb"]  # nothing written


def test_an_unexpected_failure_exits_3_with_one_line_not_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug must not look like "anomalies found" (status 1) nor print a traceback."""
    import beam_stats.cli.merge

    stats_file = tmp_path / "a.pb"
    assert (
        main(["stats", write_jsonl(make_rows(seed=9), tmp_path), "--output", str(stats_file)]) == 0
    )
    capsys.readouterr()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(beam_stats.cli.merge, "merge_statistics", broken)
    args = ["merge", str(stats_file), str(stats_file), "--output", str(tmp_path / "m.pb")]
    assert main(args) == 3
    err = capsys.readouterr().err
    assert "internal error: ZeroDivisionError: division by zero" in err
    assert "Traceback" not in err and "run again with --debug" in err
    with pytest.raises(ZeroDivisionError):  # --debug: the traceback, before or after the command
        main(["--debug", *args])
    with pytest.raises(ZeroDivisionError):
        main([*args, "--debug"])
    monkeypatch.setenv("BEAM_STATS_TRACEBACK", "1")  # still works
    with pytest.raises(ZeroDivisionError):
        main(args)
