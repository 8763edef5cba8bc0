"""``label_join`` on Beam over real files (Parquet, JSON lines, CSV) against pandas, its outputs,
and ``beam-stats label-join`` end to end."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from label_reference import check_summary, make_data, reference

from beam_stats import label_join
from beam_stats.beam.artifacts import read_json_lines
from beam_stats.cli import main
from beam_stats.errors import OutputError
from beam_stats.pipelines.label_join import load_label_join

SERVED_SCHEMA = pa.schema(
    [("rid", pa.int64()), ("score", pa.float64()), ("st", pa.timestamp("s")),
     ("country", pa.string()), ("x", pa.int64())]
)  # fmt: skip


def _iso(seconds: int | None, zone: str = "Z") -> str | None:
    if seconds is None:
        return None
    when = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S") + zone


def write_served(folder: Path, served: list[dict[str, Any]]) -> None:
    """Two Parquet files; the served time as a timestamp column."""
    folder.mkdir(parents=True)
    plain = [pa.field(f.name, pa.int64() if f.name == "st" else f.type) for f in SERVED_SCHEMA]
    table = pa.Table.from_pylist(served, schema=pa.schema(plain)).cast(SERVED_SCHEMA)
    half = table.num_rows // 2
    pq.write_table(table.slice(0, half), folder / "part-0.parquet", row_group_size=50)
    pq.write_table(table.slice(half), folder / "part-1.parquet", row_group_size=50)


def write_feedback_jsonl(folder: Path, feedback: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True)
    lines = [json.dumps({**r, "ft": _iso(r["ft"])}) for r in feedback]
    lines.insert(7, '{"rid": 5, "clicked": tru')  # line 8: malformed
    path = folder / "feedback.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def write_feedback_csv(folder: Path, feedback: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True)
    lines = ["rid,clicked,ft"]
    for r in feedback:
        cells = (r["rid"], None if r["clicked"] is None else int(r["clicked"]), _iso(r["ft"], ""))
        lines.append(",".join("" if c is None else str(c) for c in cells))
    lines.insert(3, "1,0,2024-05-01T10:00:00,extra")  # line 4: a field too many
    path = folder / "feedback.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def joined_rows(files: tuple[str, ...]) -> pd.DataFrame:
    table = pa.concat_tables([pq.read_table(f) for f in files])
    index = table.schema.get_field_index("st")
    seconds = table["st"].cast(pa.timestamp("s")).cast(pa.int64())  # Parquet keeps ms
    table = table.set_column(index, "st", seconds)
    return table.to_pandas().sort_values(["rid", "st", "x"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def data() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return make_data(5, served_ids=300)


def test_job_over_parquet_and_json_lines_matches_pandas(
    tmp_path: Path, data: tuple[list[dict[str, Any]], list[dict[str, Any]]]
) -> None:
    served, feedback = data
    write_served(tmp_path / "served", served)
    path = write_feedback_jsonl(tmp_path / "feedback", feedback)
    found = label_join(
        str(tmp_path / "served/*"), str(tmp_path / "feedback/*"), "rid", "score", "clicked",
        str(tmp_path / "out"), served_time="st", feedback_time="ft", groups=["country"],
        num_shards=16,
    )  # fmt: skip
    check_summary(found.summary, reference(served, feedback))
    expected_orphans = reference(served, feedback)["orphan_ids"]
    assert found.summary == load_label_join(str(tmp_path / "out/summary.pbtxt"))
    expected = reference(served, feedback)["rows"]
    got = joined_rows(found.rows)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert [f.name for f in pq.read_schema(found.rows[0])][-2:] == [
        "clicked",
        "label_delay_seconds",
    ]
    [error] = read_json_lines(found.errors)
    assert (error["file"].endswith(str(path.name)), error["line"]) == (True, 8)
    assert found.input_problems == 1
    assert not found.clean
    assert f"orphan_ids: {expected_orphans}" in found.problems


def test_csv_feedback_binary_summary_and_a_second_run(
    tmp_path: Path, data: tuple[list[dict[str, Any]], list[dict[str, Any]]]
) -> None:
    served, feedback = data
    write_served(tmp_path / "served", served)
    write_feedback_csv(tmp_path / "feedback", feedback)
    out = tmp_path / "out"
    (out / "labeled-stale.parquet").parent.mkdir()
    (out / "labeled-stale.parquet").write_bytes(b"old")
    (out / "keep.txt").write_text("not ours")
    args = (str(tmp_path / "served/*.parquet"), str(tmp_path / "feedback/feedback.csv"))
    found = label_join(
        *args, ["rid"], "score", "clicked", str(out), served_time="st", feedback_time="ft",
        groups=("country",), summary=str(out / "summary.pb"),
    )  # fmt: skip
    ref = reference(served, feedback)
    check_summary(found.summary, ref)
    assert load_label_join(str(out / "summary.pb")) == found.summary
    assert (out / "summary.pb").read_bytes() == found.summary.SerializeToString()
    expected = ref["rows"].assign(clicked=ref["rows"]["clicked"].astype(int))
    pd.testing.assert_frame_equal(joined_rows(found.rows), expected, check_dtype=False)
    assert pq.read_schema(found.rows[0]).field("clicked").type == pa.int64()
    [error] = read_json_lines(found.errors)
    assert error["line"] == 4 and error["file"].endswith("feedback.csv")
    assert not (out / "labeled-stale.parquet").exists() and (out / "keep.txt").exists()
    again = label_join(*args, "rid", "score", "clicked", str(out), num_shards=3)
    assert sorted(str(p) for p in out.glob("labeled-*.parquet")) == sorted(again.rows)
    assert again.summary.labeled_rows == found.summary.labeled_rows
    assert not again.summary.HasField("delay")


def test_an_output_that_is_an_input_is_refused_before_reading(tmp_path: Path) -> None:
    served, feedback = make_data(6, served_ids=20)
    write_served(tmp_path / "served", served)
    write_feedback_jsonl(tmp_path / "feedback", feedback)
    with pytest.raises(OutputError, match="it is an input"):
        label_join(
            str(tmp_path / "served/*"), str(tmp_path / "feedback/*"), "rid", "score", "clicked",
            str(tmp_path / "out"), errors=str(tmp_path / "feedback/feedback.jsonl"),
        )  # fmt: skip
    assert not (tmp_path / "out").exists()


def _clean_pair(tmp_path: Path) -> list[str]:
    served = pa.table({"rid": [1, 2, 3, 4], "score": [0.1, 0.4, 0.6, 0.9], "g": list("abab")})
    feedback = pa.table({"rid": [1, 2, 3], "clicked": [0, 0, 1]})
    pq.write_table(served, tmp_path / "served.parquet")
    pq.write_table(feedback, tmp_path / "feedback.parquet")
    return [
        "label-join", "--served", str(tmp_path / "served.parquet"),
        "--feedback", str(tmp_path / "feedback.parquet"), "--id", "rid",
        "--prediction", "score", "--label", "clicked", "--group", "g",
        "--output", str(tmp_path / "out"),
    ]  # fmt: skip


def test_cli_clean_join_prints_the_tables_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_clean_pair(tmp_path)) == 0
    out = capsys.readouterr().out
    assert "coverage: 75.0% of served rows (3 of 4), 75.0% of ids (3 of 4)" in out
    assert "predicted vs actual on 3 labeled rows with a prediction: mean prediction 0.3667" in out
    lines = [line.split() for line in out.splitlines()]
    assert ["[0.6,", "0.7)", "1", "1", "100.0%", "0.6", "1", "-0.4"] in lines
    assert ["[0.9,", "1]", "1", "0", "0.0%", "-", "-", "-"] in lines
    assert "group g:" in out and ["a", "2", "2", "100.0%", "0.35", "0.5", "-0.15"] in lines
    summary = load_label_join(str(tmp_path / "out/summary.pbtxt"))
    assert summary.labeled_rows == 3 and summary.overall.compared_label_sum == 1
    rows = pq.read_table(list((tmp_path / "out").glob("labeled-*.parquet"))).to_pylist()
    assert sorted(r["rid"] for r in rows) == [1, 2, 3]


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = _clean_pair(tmp_path)
    assert main([*argv, "--min-coverage", "0.8"]) == 1
    assert "problem: coverage 0.7500 below 0.8" in capsys.readouterr().err
    assert main([*argv[:2], str(tmp_path / "none.parquet"), *argv[3:]]) == 2
    assert "no file matches" in capsys.readouterr().err
    assert main([*argv, "--served-time", "t"]) == 2
    assert "both the served and the feedback" in capsys.readouterr().err
    assert main([*argv, "--summary", str(tmp_path / "served.parquet")]) == 2
    assert "it is an input" in capsys.readouterr().err


def test_cli_reports_problems_and_exits_1(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    data: tuple[list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    served, feedback = data
    write_served(tmp_path / "served", served)
    write_feedback_jsonl(tmp_path / "feedback", feedback)
    argv = [
        "label-join", "--served", str(tmp_path / "served/*"), "--feedback",
        str(tmp_path / "feedback/*"), "--id", "rid", "--prediction", "score", "--label",
        "clicked", "--served-time", "st", "--feedback-time", "ft", "--output",
        str(tmp_path / "out"),
    ]  # fmt: skip
    assert main(argv) == 1
    captured = capsys.readouterr()
    ref = reference(served, feedback)
    assert f"({ref['labeled_rows']} of {ref['served_rows']})" in captured.out
    assert f"label delay (s) of {ref['delay_count']} rows" in captured.out
    assert f"problem: orphan_ids: {ref['orphan_ids']}" in captured.err
    assert "feedback.jsonl:8: malformed_row" in captured.err
