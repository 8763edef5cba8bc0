"""Feature skew by key against an independent pandas merge of the same data."""

from __future__ import annotations

import json
import math
from pathlib import Path

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.util import assert_that

from beam_stats.cli import main
from beam_stats.drift.key_skew import feature_skew, values_equal
from beam_stats.pipelines.feature_skew import DetectFeatureSkew

pandas = pytest.importorskip("pandas")


def make_pair(n: int = 400, seed: int = 0) -> tuple[pa.Table, pa.Table]:
    rng = np.random.default_rng(seed)
    ids = np.arange(n)
    price = rng.normal(10, 2, n)
    color = rng.choice(["red", "blue"], n).astype(object)
    base = pa.table({"id": ids, "price": price, "color": pa.array(color, pa.string())})
    serving_price = price.copy()
    serving_price[::7] += 1.0  # mismatches
    serving_price[1::11] *= 1 + 1e-9  # within the tolerance
    serving_color = color.copy()
    serving_color[::13] = None  # base only
    keep = ids % 10 != 3  # some ids only in base
    test = pa.table(
        {
            "id": np.concatenate([ids[keep], [n, n + 1]]),  # two ids only in test
            "price": np.concatenate([serving_price[keep], [1.0, 2.0]]),
            "color": pa.array(list(serving_color[keep]) + ["red", "red"], pa.string()),
        }
    )
    return base, test


def expected_counts(base: pa.Table, test: pa.Table) -> dict[str, dict[str, int]]:
    """Per feature counts from a pandas inner merge on the id (computed independently)."""
    merged = base.to_pandas().merge(test.to_pandas(), on="id", suffixes=("_b", "_t"))
    out = {}
    for name in ("price", "color"):
        b, t = merged[f"{name}_b"], merged[f"{name}_t"]
        both = b.notna() & t.notna()
        same = np.isclose(b, t, rtol=1e-6, atol=1e-6) if name == "price" else b == t
        out[name] = {
            "match": int((both & same).sum()),
            "mismatch": int((both & ~same).sum()),
            "base_only": int((b.notna() & t.isna()).sum()),
            "test_only": int((b.isna() & t.notna()).sum()),
        }
    return out


def counts(result: object) -> dict[str, dict[str, int]]:
    return {
        f.feature: {
            "match": f.match_count,
            "mismatch": f.mismatch_count,
            "base_only": f.base_only,
            "test_only": f.test_only,
        }
        for f in result.features  # type: ignore[attr-defined]
    }


def test_counts_match_a_pandas_merge() -> None:
    base, test = make_pair()
    result = feature_skew(base.to_batches(100), test.to_batches(70), ["id"])
    assert counts(result) == expected_counts(base, test)
    assert result.joined == 360 and result.base_only_ids == 40 and result.test_only_ids == 2
    price = next(f for f in result.features if f.feature == "price")
    assert len(price.samples) == 10
    identifiers = [s.identifier for s in price.samples]
    assert identifiers == sorted(identifiers)


def test_duplicates_and_missing_identifiers_are_counted() -> None:
    base = pa.table({"id": [1, 1, 2, None, 3], "x": [1.0, 2.0, 3.0, 4.0, 5.0]})
    test = pa.table({"id": [1, 2, 2, 3, None, None], "x": [1.0, 3.0, 3.0, 5.0, 0.0, 0.0]})
    result = feature_skew([base.to_batches()[0]], [test.to_batches()[0]], ["id"])
    assert (result.base_duplicate_ids, result.test_duplicate_ids) == (1, 1)
    assert (result.base_null_ids, result.test_null_ids) == (1, 2)
    assert result.joined == 1  # only id 3 has one row on each side
    assert counts(result) == {"x": {"match": 1, "mismatch": 0, "base_only": 0, "test_only": 0}}


def test_values_equal() -> None:
    assert values_equal(math.nan, math.nan, 1e-6)
    assert values_equal(1.0, 1.0 + 1e-9, 1e-6) and not values_equal(1.0, 1.1, 1e-6)
    assert values_equal([1, 2.0], [1, 2.0], 0) and not values_equal([1], [1, 2], 0)
    assert not values_equal("1", 1.0, 1e-6)


def test_multi_column_identifier_and_hostile_values() -> None:
    evil = '<script>alert("x")</script>\n'
    base = pa.table({"a": [1, 1], "b": ["x", "y"], "v": [evil, b"\xff".decode("latin-1")]})
    test = pa.table({"a": [1, 1], "b": ["x", "y"], "v": ["fine", "fine"]})
    result = feature_skew(base.to_batches(), test.to_batches(), ["a", "b"])
    assert result.joined == 2
    (v,) = result.features
    assert v.mismatch_count == 2
    assert evil in [s.base_value for s in v.samples]
    assert all(json.loads(s.identifier)[0] == "1" for s in v.samples)


def test_pipeline_equals_the_in_memory_result() -> None:
    base, test = make_pair(seed=1)
    expected = feature_skew(base.to_batches(50), test.to_batches(50), ["id"])

    def check(outputs: list[object]) -> None:
        (output,) = outputs
        assert output == expected

    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        base_pc = pipeline | "Base" >> beam.Create(base.to_batches(50))
        test_pc = pipeline | "Test" >> beam.Create(test.to_batches(50))
        assert_that((base_pc, test_pc) | DetectFeatureSkew("id"), check)


def test_cli_on_parquet_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, test = make_pair(seed=2)
    pq.write_table(base, tmp_path / "train.parquet")
    pq.write_table(test, tmp_path / "serving.parquet")
    output, samples = tmp_path / "skew.pbtxt", tmp_path / "samples.jsonl"
    code = main(
        [
            "feature-skew",
            "--base", str(tmp_path / "train.parquet"),
            "--test", str(tmp_path / "serving.parquet"),
            "--id", "id",
            "--output", str(output),
            "--samples", str(samples),
        ]
    )  # fmt: skip
    assert code == 1  # mismatches found
    lines = [json.loads(line) for line in samples.read_text().splitlines()]
    assert {line["feature"] for line in lines} == {"price"}
    printed = capsys.readouterr().out
    assert "360 identifiers joined" in printed and "price" in printed
