"""``--group`` on ``beam-stats stats`` and ``run``, and ``validate`` on its schema: the
library's group tables and anomalies from the command line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from beam_stats import generate_statistics_from_table, group_tables
from beam_stats.beam import load_statistics
from beam_stats.cli import main
from beam_stats.drift import groups_of
from beam_stats.stats import StatisticsSpec


def _frame(
    seed: int, *, small: bool = False, unlike: bool = False, label: bool = True, n: int = 4_000
) -> pd.DataFrame:
    """g: four equal groups labeled 1 at 0.3; with `small`, "C" is 0.5% of the examples
    (under the default 1%); with `unlike`, "D" is labeled 1 at 0.8."""
    rng = np.random.default_rng(seed)
    shares = [0.6, 0.295, 0.005, 0.1] if small else [0.25] * 4
    g = rng.choice(list("ABCD"), size=n, p=shares)
    y = (rng.random(n) < np.where((g == "D") & unlike, 0.8, 0.3)).astype(np.int64)
    frame = pd.DataFrame({"g": g, "band": rng.choice([1, 2, 3], n), "y": y})
    return frame if label else frame.drop(columns="y")


def _write(frame: pd.DataFrame, path: Path) -> str:
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    return str(path)


def test_stats_group_writes_the_librarys_groups(tmp_path: Path) -> None:
    frame = _frame(0, small=True, unlike=True)
    data, out = _write(frame, tmp_path / "d.parquet"), str(tmp_path / "s.pb")
    assert (
        main(["stats", data, "--output", out, "--label", "y", "--group", "g"] + ["--group", "band"])
        == 0
    )
    written = load_statistics(out)
    assert groups_of(written) == (("band",), ("g",))
    spec = StatisticsSpec(label="y", groups=("g", "band"))
    table = pa.Table.from_pandas(frame, preserve_index=False)
    assert group_tables(written) == group_tables(generate_statistics_from_table(table, spec))


def _anomalies(capsys: pytest.CaptureFixture[str]) -> set[tuple[str, str]]:
    printed = capsys.readouterr().out
    found = set()
    for line in printed.splitlines():
        parts = line.split()
        if len(parts) > 1 and parts[1].startswith("GROUP_"):
            found.add((parts[0], parts[1]))
    return found


def test_run_group_finds_what_was_planted_and_nothing_else(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Balanced data raises nothing. Training labels "D" unlike the rest and serving (no
    label: it comes later) has "C" at 0.5%: the disparity on training, the low share on
    serving, the moved shares between them; never on band."""
    data = {
        "train": _frame(1),
        "serving": _frame(2, label=False),
        "unlike": _frame(3, unlike=True),
        "small": _frame(4, small=True, label=False),
    }
    path = {name: _write(frame, tmp_path / f"{name}.parquet") for name, frame in data.items()}
    flags = ["--label", "y", "--group", "g", "--group", "band"]
    ok = ["run", "--train", path["train"], "--serving", path["serving"], *flags]
    assert main([*ok, "--out", str(tmp_path / "ok")]) == 0
    assert _anomalies(capsys) == set()
    out = tmp_path / "bad"
    bad = ["run", "--train", path["unlike"], "--serving", path["small"], *flags]
    assert main([*bad, "--out", str(out)]) == 1
    assert _anomalies(capsys) == {
        ("g", "GROUP_SHARE_LOW"),
        ("g", "GROUP_LABEL_DISPARITY_HIGH"),
        ("g", "GROUP_SHARE_MOVED"),
    }
    page = (out / "report.html").read_text()
    assert 'id="groups"' in page and "GROUP_SHARE_LOW" in page
    # validate alone, with the schema run wrote: the one-dataset anomalies of each file.
    schema = str(out / "schema.pbtxt")
    validate = ["validate", "--schema", schema]
    assert main([*validate, str(out / "serving_stats.pb"), "--environment", "SERVING"]) == 1
    assert _anomalies(capsys) == {("g", "GROUP_SHARE_LOW")}
    assert main([*validate, str(out / "train_stats.pb"), "--environment", "TRAINING"]) == 1
    assert _anomalies(capsys) == {("g", "GROUP_LABEL_DISPARITY_HIGH")}
    ok_stats = str(tmp_path / "ok" / "serving_stats.pb")
    assert main([*validate, ok_stats, "--environment", "SERVING"]) == 0
