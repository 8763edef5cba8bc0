"""``beam-stats report --history STORE``: the page, its options, and what it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_errors import one_line_error
from history_store import OUTAGE, SPANS, make_store
from report_pages import parse

from beam_stats import infer_schema, set_drift_thresholds, write_schema
from beam_stats.beam.history import StatisticsStore
from beam_stats.cli import main


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> StatisticsStore:
    made, _ = make_store(tmp_path_factory.mktemp("cli-history") / "store")
    return made


def _rows(page: str) -> set[tuple[str, str, str]]:
    """(span, feature, anomaly) of each row of the anomalies table."""
    rows = parse(page).by_id("anomalies").find_all("tr")[1:]
    return {tuple(td.text() for td in row.find_all("td")[:3]) for row in rows}  # type: ignore[misc]


def test_report_history_writes_the_page(
    store: StatisticsStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "history.html"
    assert main(["report", "--history", store.path, "--output", str(out)]) == 0
    size = out.stat().st_size
    assert capsys.readouterr().out == f"wrote the history report ({size:,} bytes) to {out}\n"
    page = out.read_text(encoding="utf-8")
    root = parse(page)
    assert root.find_all("title")[0].text() == "beam-stats history: store"
    assert (OUTAGE, "(dataset)", "HISTORY_NUM_EXAMPLES_DROP") in _rows(page)
    examples = [s for s in root.find_all("svg", "hchart") if s.attrs["data-feature"] == ""]
    assert [p.attrs["data-span"] for p in examples[0].find_all("circle", "pt")] == SPANS


def test_baseline_spans_and_schema_reach_the_checks(
    store: StatisticsStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.html"
    # A window of 3 spans is shorter than the series need (7): no drop is found.
    argv = ["report", "--history", store.path, "--output", str(out), "--title", "T"]
    assert main([*argv, "--baseline-spans", "3"]) == 0
    rows = _rows(out.read_text(encoding="utf-8"))
    assert not any(a == "HISTORY_NUM_EXAMPLES_DROP" for _, _, a in rows)
    # A schema with a tiny drift threshold on amount: amount drifts against each previous span.
    schema = set_drift_thresholds(infer_schema(store.load(SPANS[0])), "amount", ks=1e-6)
    write_schema(schema, tmp_path / "schema.pbtxt")
    assert main([*argv, "--schema", str(tmp_path / "schema.pbtxt")]) == 0
    rows = _rows(out.read_text(encoding="utf-8"))
    assert {
        s for s, f, a in rows if f == "amount" and a == "COMPARATOR_KOLMOGOROV_SMIRNOV_HIGH"
    } == set(SPANS[1:])
    capsys.readouterr()


def test_stats_and_history_together_or_neither_are_refused(
    store: StatisticsStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "r.html")
    stats = store.file_path(SPANS[0])
    line = one_line_error(capsys, ["report", stats, "--history", store.path, "--output", out])
    assert "not both" in line and store.path in line
    line = one_line_error(capsys, ["report", "--output", out])
    assert "give a statistics file (STATS), or --history STORE" in line
    line = one_line_error(capsys, ["report", stats, "--schema", "s.pbtxt", "--output", out])
    assert "--schema applies only with --history" in line
    line = one_line_error(
        capsys, ["report", "--history", store.path, "--anomalies", "a", "--output", out]
    )
    assert "--anomalies does not apply to --history" in line
    line = one_line_error(
        capsys, ["report", "--history", store.path, "--redact", "x", "--output", out]
    )
    assert "privacy options do not apply to --history" in line
    assert not Path(out).exists()


def test_an_output_that_is_an_input_is_refused(
    store: StatisticsStore, capsys: pytest.CaptureFixture[str]
) -> None:
    for output in (store.manifest_path, store.file_path(SPANS[2])):
        before = Path(output).read_bytes()
        line = one_line_error(capsys, ["report", "--history", store.path, "--output", output])
        assert f"refusing to write {output}: it is an input" in line
        assert Path(output).read_bytes() == before


def test_an_empty_store_and_a_damaged_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "r.html")
    empty = str(tmp_path / "empty")
    line = one_line_error(capsys, ["report", "--history", empty, "--output", out])
    assert line == f"beam-stats: error: no spans in the statistics store {empty}: nothing to report"
    damaged, _ = make_store(tmp_path / "damaged", SPANS[:4])
    path = Path(damaged.file_path(SPANS[2]))
    path.write_bytes(b"\x00" + path.read_bytes()[1:])
    line = one_line_error(capsys, ["report", "--history", damaged.path, "--output", out])
    assert f"span {SPANS[2]!r}" in line and str(path) in line
    assert not Path(out).exists()
