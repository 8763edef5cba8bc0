"""Issue 11: other tools' statistics, hidden characters and ambiguous paths in the report."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pyarrow as pa
import pytest
from report_pages import feature_rows, parse
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats import generate_statistics_from_table
from beam_stats.cli import main
from beam_stats.report import render_report

HIDDEN = ("nul\x00name", "evil\u202egnp_exe", "iso\u2066late\u2069", "rlo\u202e")


def _foreign() -> statistics_pb2.DatasetFeatureStatisticsList:
    """Statistics another tool may write: +-1.7e308 bucket edges, NaN and inf counts."""
    statistics = statistics_pb2.DatasetFeatureStatisticsList()
    dataset = statistics.datasets.add(name="other", num_examples=10)
    x = dataset.features.add(type=statistics_pb2.FeatureNameStatistics.FLOAT)
    x.path.step.append("x")
    x.num_stats.common_stats.num_non_missing = 10
    x.num_stats.min, x.num_stats.max, x.num_stats.mean = -1.7e308, 1.7e308, float("nan")
    histogram = x.num_stats.histograms.add(type=statistics_pb2.Histogram.STANDARD)
    histogram.buckets.add(low_value=-1.7e308, high_value=0, sample_count=5)
    histogram.buckets.add(low_value=0, high_value=1.7e308, sample_count=5)
    histogram.buckets.add(low_value=1, high_value=2, sample_count=float("inf"))
    s = dataset.features.add(type=statistics_pb2.FeatureNameStatistics.STRING)
    s.path.step.append("s")
    s.string_stats.common_stats.num_non_missing = 10
    s.string_stats.common_stats.tot_num_values = 10
    s.string_stats.top_values.add(value="a", frequency=float("nan"))
    s.string_stats.top_values.add(value="b", frequency=3)
    s.string_stats.rank_histogram.buckets.add(label="c", sample_count=float("nan"))
    return statistics


def test_other_tools_huge_and_nan_statistics_render(tmp_path: Path) -> None:
    foreign = _foreign()
    ours = generate_statistics_from_table(pa.table({"x": [1.0, 2.0], "s": ["a", "b"]}))
    for page in (render_report(foreign), render_report(ours, foreign)):
        root = parse(page)
        data = json.loads(root.find_all("script")[0].text())
        x = next(f for f in data["f"] if f["n"] == "x")
        assert all(math.isfinite(e) for e in x["c"]["e"])
        assert [v for v in x["c"]["s"][-1] if v is not None]  # the finite buckets are drawn
        s = next(f for f in data["f"] if f["n"] == "s")
        labels, shares = s["c"]["l"], s["c"]["s"][-1]  # the last dataset is the foreign one
        assert shares[labels.index("b")] == 0.3
        assert "a" not in labels or shares[labels.index("a")] is None  # a NaN count: left out
    path = tmp_path / "other.pb"
    path.write_bytes(foreign.SerializeToString())
    assert main(["report", str(path), "--output", str(tmp_path / "r.html")]) == 0


def test_nul_and_bidi_overrides_never_reach_the_page_raw() -> None:
    table = pa.table({name: pa.array([name, name, "x"]) for name in HIDDEN})
    page = render_report(generate_statistics_from_table(table, name="d\u202eataset"))
    for character in ("\x00", "\u202e", "\u2066", "\u2069"):
        assert character not in page
    rows = feature_rows(parse(page))
    assert set(rows) == {
        "nul\\x00name",
        "evil\\u202egnp_exe",
        "iso\\u2066late\\u2069",
        "rlo\\u202e",
    }


def test_terminal_tables_and_errors_escape_hidden_characters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stats = tmp_path / "s.pb"
    table = pa.table({HIDDEN[1]: ["a", "b"]})
    stats.write_bytes(generate_statistics_from_table(table).SerializeToString())
    schema = tmp_path / "schema.pbtxt"
    schema.write_text('feature { name: "other" type: BYTES }\n')
    assert main(["validate", str(stats), "--schema", str(schema)]) == 1
    out = capsys.readouterr().out
    assert "\u202e" not in out and "evil\\u202egnp_exe" in out
    assert main(["validate", str(stats), "--schema", str(tmp_path / "no\u202eschema")]) == 2
    err = capsys.readouterr().err
    assert "\u202e" not in err and "no\\u202eschema" in err


def test_a_column_named_a_dot_b_and_a_struct_field_a_b_are_two_rows() -> None:
    table = pa.table(
        {
            "a.b": pa.array([1.0, 2.0, 3.0]),
            "a": pa.array([{"b": "x"}, {"b": "y"}, {"b": "x"}]),
        }
    )
    statistics = generate_statistics_from_table(table)
    paths = sorted(tuple(f.path.step) for f in statistics.datasets[0].features)
    assert ("a.b",) in paths and ("a", "b") in paths
    root = parse(render_report(statistics))
    rows = feature_rows(root)
    assert "a.b" in rows and "`a.b`" in rows
    data = json.loads(root.find_all("script")[0].text())
    names = [f["n"] for f in data["f"]]
    assert len(names) == len(set(names)) == len(statistics.datasets[0].features)
