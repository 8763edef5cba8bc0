"""The report's labeling-loop section: a label-join summary shown as pandas computes it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from google.protobuf import text_format
from label_reference import make_data, reference
from report_pages import Element, parse

from beam_stats import generate_statistics_from_table
from beam_stats.beam.artifacts import write_statistics
from beam_stats.cli import main
from beam_stats.drift.label_join import join_labels
from beam_stats.drift.label_summary import LabelJoinSpec
from beam_stats.report import render_report
from beam_stats.report.model import fmt, percent

SPEC = LabelJoinSpec(
    identifier_features=("rid",),
    prediction_feature="score",
    label_feature="clicked",
    served_time_feature="st",
    feedback_time_feature="ft",
    group_features=("country",),
)
EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def joined() -> Any:
    served, feedback = make_data(0)
    summary, _ = join_labels(
        [pa.RecordBatch.from_pylist(served)], [pa.RecordBatch.from_pylist(feedback)], SPEC
    )
    return summary, reference(served, feedback)


def _table(section: Element, cls: str) -> list[list[str]]:
    (table,) = section.find_all("table", cls)
    body = table.find_all("tbody")[0]
    return [[td.text() for td in tr.find_all("td")] for tr in body.find_all("tr")]


def _section(summary: Any) -> Element:
    table = pa.table({"x": [1, 2, 3]})
    page = render_report(generate_statistics_from_table(table), label_join=summary)
    return parse(page).by_id("label-loop")


def test_the_figures_are_the_pandas_ones(joined: Any) -> None:
    summary, ref = joined
    section = _section(summary)
    counts = dict(_table(section, "label-loop-counts"))
    assert counts["Served rows"] == fmt(ref["served_rows"])
    labeled = f"{fmt(ref['labeled_rows'])} ({percent(ref['coverage'])})"
    assert counts["Labeled rows"] == labeled
    assert counts["Feedback identifiers never served"] == fmt(ref["orphan_ids"])
    delay = _table(section, "label-delay")[0]
    assert delay[1] == fmt(ref["delay_count"])
    assert delay[3:] == [fmt(q) for q in ref["delay_quantiles"]]
    calibration = _table(section, "calibration")
    assert len(calibration) == 1 + len(ref["calibration"])
    for row, rates in zip(calibration[1:], ref["calibration"], strict=True):
        assert row[1] == fmt(rates["served_rows"])
        assert row[2] == fmt(rates["labeled_rows"])
    groups = {row[0]: row for row in _table(section, "label-groups")}
    for key, rates in ref["groups"].items():
        name = f"country = {'(missing)' if key is None else key}"
        assert groups[name][1] == fmt(rates["served_rows"])


def test_group_values_are_escaped(joined: Any) -> None:
    summary, _ = joined
    evil = type(summary)()
    evil.CopyFrom(summary)
    evil.groups[0].value = EVIL
    evil.label_feature = EVIL
    section = _section(evil)
    assert not [e for e in section.iter() if e.tag == "script"]
    assert EVIL in section.text()


def test_no_summary_no_section() -> None:
    page = render_report(generate_statistics_from_table(pa.table({"x": [1]})))
    assert not [e for e in parse(page).iter() if e.attrs.get("id") == "label-loop"]


def test_report_command_takes_a_summary(joined: Any, tmp_path: Path) -> None:
    summary, ref = joined
    stats = tmp_path / "s.pb"
    write_statistics(generate_statistics_from_table(pa.table({"x": [1, 2]})), str(stats))
    path = tmp_path / "summary.pbtxt"
    path.write_text(text_format.MessageToString(summary))
    html = tmp_path / "r.html"
    assert main(["report", str(stats), "--label-join", str(path), "--output", str(html)]) == 0
    section = parse(html.read_text()).by_id("label-loop")
    assert dict(_table(section, "label-loop-counts"))["Served rows"] == fmt(ref["served_rows"])
    # The summary is an input: never the output.
    assert main(["report", str(stats), "--label-join", str(path), "--output", str(path)]) == 2
