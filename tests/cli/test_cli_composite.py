"""`stats --schema`, `merge`, `validate` and `run --schema` with sparse and weighted features,
end to end on real Parquet and JSON-lines files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import anomalies_pb2

from beam_stats import load_statistics
from beam_stats.cli import main

SCHEMA = """
feature { name: "n" type: INT }
sparse_feature { name: "sp" index_feature { name: "i" } value_feature { name: "v" } }
weighted_feature { name: "w" feature { step: "v" } weight_feature { step: "wt" } }
"""


def make_rows(seed: int, n: int, broken: int) -> list[dict[str, Any]]:
    """Clean rows (index, weight and value lists of one length), then `broken` rows whose
    index list is one longer and as many whose value (and weight) list is: equal totals."""
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(n):
        size = 2 if k < 2 * broken else int(rng.integers(0, 4))  # broken rows reach 3 too
        index = rng.integers(0, 100, size).tolist()
        rows.append({"n": k, "i": index, "v": [float(x) for x in index], "wt": [1.0] * size})
    for k in range(broken):
        rows[2 * k]["i"] = [*rows[2 * k]["i"], 7]
        rows[2 * k + 1]["v"] = [*rows[2 * k + 1]["v"], 1.0]
        rows[2 * k + 1]["wt"] = [*rows[2 * k + 1]["wt"], 1.0]
    return rows


def custom(path: Path, name: str) -> dict[str, Any]:
    dataset = load_statistics(str(path)).datasets[0]
    (entry,) = [f for f in dataset.features if list(f.path.step) == [name]]
    out = {}
    for c in entry.custom_stats:
        if c.HasField("rank_histogram"):
            out[c.name] = {b.label: b.sample_count for b in c.rank_histogram.buckets}
        elif c.HasField("num"):
            out[c.name] = c.num
    return out


def diffs(rows: list[dict[str, Any]], other: str) -> np.ndarray:
    return np.array([len(r[other]) - len(r["v"]) for r in rows])


@pytest.mark.parametrize("file_format", ["parquet", "jsonl"])
def test_stats_with_a_schema_then_merge_and_validate(
    file_format: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "schema.pbtxt").write_text(SCHEMA)
    schema = str(tmp_path / "schema.pbtxt")
    rows = make_rows(seed=3, n=300, broken=4)
    parts = [rows[:150], rows[150:]]
    outputs = []
    for index, part in enumerate(parts):
        data = tmp_path / f"part{index}.{file_format}"
        if file_format == "parquet":
            pq.write_table(pa.Table.from_pylist(part), data)
        else:
            data.write_text("".join(json.dumps(r) + "\n" for r in part))
        output = tmp_path / f"stats{index}.pb"
        assert main(["stats", str(data), "--output", str(output), "--schema", schema]) == 0
        outputs.append(output)
    whole = tmp_path / "whole.pb"
    both = str(tmp_path / f"part*.{file_format}")
    assert main(["stats", both, "--output", str(whole), "--schema", schema]) == 0
    merged = tmp_path / "merged.pb"
    assert main(["merge", *map(str, outputs), "--output", str(merged)]) == 0
    assert "300 examples and 4 features (2 sparse/weighted)" in capsys.readouterr().out

    index_diff, weight_diff = diffs(rows, "i"), diffs(rows, "wt")
    expected_sparse = {
        "missing_value": 0,
        "missing_index": {"i": 0},
        "max_length_diff": {"i": int(index_diff.max())},
        "min_length_diff": {"i": int(index_diff.min())},
    }
    expected_weighted = {
        "missing_weight": 0,
        "missing_value": 0,
        "min_weight_length_diff": int(weight_diff.min()),
        "max_weight_length_diff": int(weight_diff.max()),
    }
    assert index_diff.sum() == 0 and index_diff.min() < 0 < index_diff.max()
    for path in (whole, merged):
        assert custom(path, "sp") == expected_sparse
        assert custom(path, "w") == expected_weighted

    capsys.readouterr()
    assert main(["validate", str(merged), "--schema", schema]) == 1
    printed = capsys.readouterr().out
    assert "SPARSE_FEATURE_LENGTH_MISMATCH" in printed
    assert "SCHEMA_NEW_COLUMN" not in printed
    # Without --schema the statistics hold counts only, which cannot see equal totals.
    plain = tmp_path / "plain.pb"
    assert main(["stats", both, "--output", str(plain)]) == 0
    assert main(["validate", str(plain), "--schema", schema]) == 0


def test_run_with_a_schema_counts_its_composites_in_both_datasets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "schema.pbtxt").write_text(SCHEMA)
    train, serving = tmp_path / "train.parquet", tmp_path / "serving.parquet"
    pq.write_table(pa.Table.from_pylist(make_rows(seed=4, n=200, broken=0)), train)
    serving_rows = make_rows(seed=5, n=200, broken=3)
    pq.write_table(pa.Table.from_pylist(serving_rows), serving)
    out = tmp_path / "out"
    args = ["run", "--train", str(train), "--serving", str(serving), "--out", str(out)]
    assert main([*args, "--schema", str(tmp_path / "schema.pbtxt")]) == 1
    assert custom(out / "train_stats.pb", "sp")["max_length_diff"] == {"i": 0}
    assert custom(out / "serving_stats.pb", "sp")["max_length_diff"] == {
        "i": int(diffs(serving_rows, "i").max())
    }
    anomalies = text_format.Parse((out / "anomalies.pbtxt").read_text(), anomalies_pb2.Anomalies())
    assert set(anomalies.anomaly_info) == {"sp"}
    assert 'data-name="sp"' in (out / "report.html").read_text()
