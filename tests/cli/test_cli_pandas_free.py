"""The ``beam-stats`` program starts pyarrow without pandas (beam_stats.pandas_free): no pandas
import in a small run, and the same outputs as with pandas, nanosecond times included."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from beam_stats.cli import main


def _program(*args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """``python -m beam_stats.cli ARGS``: the program as users start it, a process of its own."""
    command = [sys.executable, "-m", "beam_stats.cli", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, check=check)


def _times_file(path: Path) -> Path:
    """Nanosecond timestamps (most not whole microseconds, one zoned) and durations, a
    string to slice by, a string whose domain the schema takes from the first half."""
    rng = np.random.default_rng(5)
    n = 60
    ns = 1_700_000_000_000_000_000 + rng.integers(0, 10**12, n)
    table = pa.table(
        {
            "at": pa.array(ns, pa.timestamp("ns")),
            "at_utc": pa.array(ns, pa.timestamp("ns", "UTC")),
            "took": pa.array(rng.integers(0, 10**10, n), pa.duration("ns")),
            "at_list": pa.array([[int(v), int(v) + 1] for v in ns], pa.list_(pa.timestamp("ns"))),
            "group": pa.array(rng.choice(["a", "b", "c"], n)),
            "code": pa.array(["a", "b", "c"] * (n // 6) + ["new"] * (n - n // 2)),
        }
    )
    pq.write_table(table, path)
    return path


def test_a_small_run_imports_no_pandas(tmp_path: Path) -> None:
    data = _times_file(tmp_path / "t.parquet")
    command = [sys.executable, "-X", "importtime", "-m", "beam_stats.cli"]
    done = subprocess.run(
        [*command, "stats", str(data), "--output", str(tmp_path / "s.pb")],
        capture_output=True,
        text=True,
        check=True,
    )
    imported = [line.split("|")[-1].strip() for line in done.stderr.splitlines()]
    assert "pyarrow.lib" in imported  # the import log is there ...
    # ... and pandas is not in it: pyarrow's one look fails at once (the log shows that try
    # of the top module alone), where importing it loads its hundreds of modules.
    assert not [name for name in imported if name.startswith("pandas.")]


def test_slices_by_nanosecond_times_are_the_same_without_pandas(tmp_path: Path) -> None:
    data = _times_file(tmp_path / "t.parquet")
    for feature in ("at", "at_utc", "took", "at_list"):
        alone, inside = tmp_path / f"{feature}-program.pb", tmp_path / f"{feature}-in.pb"
        _program("stats", data, "--slice", feature, "--output", alone)
        # In this process pyarrow has pandas (pytest's modules import it): the reference.
        assert main(["stats", str(data), "--slice", feature, "--output", str(inside)]) == 0
        assert alone.read_bytes() == inside.read_bytes(), feature
    # A slice key shows the nanoseconds, as pandas prints them (most are not whole micros).
    import pandas as pd

    at = pq.read_table(data).column("at").cast(pa.int64()).to_numpy()
    keys = (tmp_path / "at-program.pb").read_bytes()
    shown = [str(pd.Timestamp(int(v), unit="ns")).encode() in keys for v in at]
    assert all(shown) and any(v % 1000 for v in at)


def test_bad_rows_with_nanosecond_times_are_the_same_without_pandas(tmp_path: Path) -> None:
    data = _times_file(tmp_path / "t.parquet")
    first_half = tmp_path / "half.parquet"
    pq.write_table(pq.read_table(data).slice(0, 30), first_half)
    stats, schema = tmp_path / "half.pb", tmp_path / "schema.pbtxt"
    assert main(["stats", str(first_half), "--output", str(stats)]) == 0
    assert main(["infer-schema", str(stats), "--output", str(schema)]) == 0
    outputs = {}
    for how in ("program", "in"):
        bad = tmp_path / f"bad-{how}"
        args = ["validate-examples", str(data), "--schema", str(schema), "--bad-rows", str(bad)]
        status = _program(*args, check=False).returncode if how == "program" else main(args)
        assert status == 1  # the second half's code is outside the first half's domain
        outputs[how] = {p.name: p.read_bytes() for p in sorted(bad.iterdir())}
    assert outputs["program"] == outputs["in"]
    rows = b"".join(outputs["in"].values())
    assert rows.count(b'"code"') >= 29


@pytest.mark.parametrize("hidden", [True, False])
def test_python_values_are_the_objects_pyarrow_gives_with_pandas(hidden: bool) -> None:
    """In a fresh process, hidden or not, every type's values equal pandas' own objects."""
    script = f"""
import sys
import pyarrow as pa
from beam_stats.pandas_free import pyarrow_without_pandas, python_values
if {hidden}:
    assert pyarrow_without_pandas() is True
    pa.array([1.5]).to_numpy(); pa.scalar(2)
    assert "pandas" not in sys.modules
ns = [1_000_000_001, None, 2_000_000_000_123]
kinds = [
    pa.array(ns, pa.timestamp("ns")),
    pa.array(ns, pa.timestamp("ns", "UTC")),
    pa.array(ns, pa.duration("ns")),
    pa.array([ns, None], pa.list_(pa.timestamp("ns"))),
    pa.array(ns, pa.timestamp("ns")).dictionary_encode(),
]
got = [python_values(k) for k in kinds]
got.append(python_values(pa.record_batch({{"t": kinds[0]}})))
import pandas as pd
ts = [pd.Timestamp(ns[0], unit="ns"), None, pd.Timestamp(ns[2], unit="ns")]
utc = [None if t is None else t.tz_localize("UTC") for t in ts]
took = [pd.Timedelta(ns[0], unit="ns"), None, pd.Timedelta(ns[2], unit="ns")]
want = [ts, utc, took, [ts, None], ts, [{{"t": t}} for t in ts]]
assert got == want, (got, want)
assert [str(v) for v in got[0]] == ["1970-01-01 00:00:01.000000001", "None",
                                    "1970-01-01 00:33:20.000000123"]
assert python_values(pa.array([1, None])) == [1, None]
"""
    subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True)
