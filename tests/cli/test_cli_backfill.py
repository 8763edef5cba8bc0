"""``beam-stats stats --history STORE --span-from-path REGEX`` (or ``--span KEY``): every
span of the inputs in one pipeline, into a statistics store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cli_errors import one_line_error

from beam_stats import get_feature_stats, load_statistics
from beam_stats.beam.history import StatisticsStore
from beam_stats.cli import main

ROWS = {"2026-05-01": 30, "2026-05-02": 170, "2026-05-03": 4}
REGEX = "day=(?P<span>[^/]+)"


@pytest.fixture
def days(tmp_path: Path) -> dict[str, pa.Table]:
    rng = np.random.default_rng(5)
    tables = {}
    for day, rows in ROWS.items():
        folder = tmp_path / "data" / f"day={day}"
        folder.mkdir(parents=True)
        tables[day] = pa.table(
            {
                "amount": rng.lognormal(3, 1, rows),
                "email": [f"u{i}@example.com" for i in range(rows)],
            }
        )
        pq.write_table(tables[day], folder / "part-0.parquet")
    return tables


def _stats(tmp_path: Path, *flags: str) -> list[str]:
    return ["stats", f"{tmp_path}/data/day=*/*.parquet", *flags]


def test_backfill_then_list(
    tmp_path: Path, days: dict[str, pa.Table], capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(tmp_path / "store")
    argv = _stats(tmp_path, "--span-from-path", REGEX, "--history", store)
    assert main(argv) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"added 3 spans (2026-05-01 to 2026-05-03, 204 examples) to {store}"
    ]
    entries = StatisticsStore(store).spans()
    assert [(e.span, e.num_examples, e.num_features) for e in entries] == [
        (day, rows, 2) for day, rows in ROWS.items()
    ]
    for day, table in days.items():
        amount = get_feature_stats(StatisticsStore(store).load(day).datasets[0], "amount")
        assert amount.num_stats.mean == pytest.approx(np.mean(table["amount"]), rel=1e-12)
    # Again: the spans are replaced, and said so.
    assert main(argv) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"added 3 spans (2026-05-01 to 2026-05-03, 204 examples, 3 replaced) to {store}"
    ]
    assert main(["history", "list", store]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "3 spans, 0 files damaged or missing"
    # The spans merge into the whole (a rolling baseline of all three).
    merged = StatisticsStore(store).rolling_baseline(3)
    assert merged.datasets[0].num_examples == sum(ROWS.values())


def test_the_span_of_all_files_and_the_same_numbers_as_stats(
    tmp_path: Path, days: dict[str, pa.Table], capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(tmp_path / "store")
    assert main(_stats(tmp_path, "--span", "week-18", "--history", store)) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"added 1 span (week-18, 204 examples) to {store}"
    ]
    out = tmp_path / "all.pb"
    # Both pipelines (in process, the files' order changes the last bits of sums).
    assert main(_stats(tmp_path, "--output", str(out), "--engine", "beam")) == 0
    assert StatisticsStore(store).load("week-18") == load_statistics(out)


def test_privacy_flags_reach_every_span(
    tmp_path: Path, days: dict[str, pa.Table], capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(tmp_path / "store")
    flags = ("--span-from-path", REGEX, "--history", store, "--redact", "email")
    assert main(_stats(tmp_path, *flags)) == 0
    for day in ROWS:
        statistics = StatisticsStore(store).load(day)
        email = get_feature_stats(statistics.datasets[0], "email")
        assert email.string_stats.common_stats.num_non_missing == ROWS[day]
        assert not email.string_stats.top_values
        assert b"@example.com" not in statistics.SerializeToString()
        out = tmp_path / f"{day}.pb"
        argv = ["stats", f"{tmp_path}/data/day={day}/*.parquet", "--output", str(out)]
        assert main([*argv, "--redact", "email"]) == 0
        assert statistics == load_statistics(out)


def test_refusals_are_one_line(
    tmp_path: Path, days: dict[str, pa.Table], capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(tmp_path / "store")
    history = ("--history", store)
    (tmp_path / "data" / "late").mkdir()
    pq.write_table(days["2026-05-03"], tmp_path / "data" / "late" / "part-0.parquet")
    argv = ["stats", f"{tmp_path}/data/*/*.parquet", "--span-from-path", REGEX, *history]
    line = one_line_error(capsys, argv)
    assert "does not match the path of the input file" in line and "late/part-0.parquet" in line
    assert REGEX in line
    line = one_line_error(capsys, _stats(tmp_path, "--span-from-path", "day=(?P<span>", *history))
    assert "is invalid" in line
    line = one_line_error(capsys, _stats(tmp_path, "--span-from-path", r"(\d+)-(\d+)", *history))
    assert "has no group named 'span' and 2 groups" in line
    line = one_line_error(capsys, _stats(tmp_path, "--history", store))
    assert "give the spans of the files" in line
    line = one_line_error(capsys, _stats(tmp_path, "--span-from-path", REGEX, "--output", "x.pb"))
    assert line.endswith("--span-from-path and --span need --history STORE")
    line = one_line_error(capsys, _stats(tmp_path))
    assert line.endswith("give --output FILE (or --history STORE)")
    flags = ("--slice", "email", "--no-sketch-state", "--span", "d", *history)
    line = one_line_error(capsys, _stats(tmp_path, *flags))
    assert "--slice, --no-sketch-state cannot go with --history" in line
    line = one_line_error(capsys, _stats(tmp_path, "--workers", "2", "--span", "d", *history))
    assert "workers=2 is for the in-process engine" in line and "--direct_num_workers" in line
    assert not Path(store).exists()
