"""Statistics of files as a Python function (`beam_stats.jobs.compute_statistics`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

from beam_stats import StatisticsSpec, load_statistics
from beam_stats.beam.artifacts import errors_path
from beam_stats.cli import main
from beam_stats.errors import InvalidInputError
from beam_stats.jobs import compute_statistics, with_schema


def _data(tmp_path: Path) -> str:
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 5, size=300)
    table = pa.table({"code": codes, "score": rng.normal(size=300)})
    pq.write_table(table, tmp_path / "data.parquet")
    return str(tmp_path / "data.parquet")


def test_compute_statistics_writes_what_the_command_writes(tmp_path: Path) -> None:
    data = _data(tmp_path)
    result = compute_statistics(data, str(tmp_path / "api.pb"), name="d")
    assert main(["stats", data, "--output", str(tmp_path / "cli.pb"), "--name", "d"]) == 0
    assert (tmp_path / "api.pb").read_bytes() == (tmp_path / "cli.pb").read_bytes()
    assert result.statistics == load_statistics(str(tmp_path / "api.pb"))
    assert result.errors == errors_path(result.output) == str(tmp_path / "api.pb.errors.jsonl")
    assert result.input_problems == 0 and (tmp_path / "api.pb.errors.jsonl").read_text() == ""
    scores = pq.read_table(data).column("score").to_numpy()
    score = next(f for f in result.statistics.datasets[0].features if f.path.step == ["score"])
    assert score.num_stats.mean == pytest.approx(scores.mean(), rel=1e-12)


def test_a_text_suffix_writes_text(tmp_path: Path) -> None:
    result = compute_statistics(_data(tmp_path), str(tmp_path / "s.pbtxt"))
    parsed = text_format.Parse(
        (tmp_path / "s.pbtxt").read_text(), statistics_pb2.DatasetFeatureStatisticsList()
    )
    assert parsed == result.statistics


def test_a_schema_makes_categorical_ints_strings_as_tfdv_does(tmp_path: Path) -> None:
    schema = schema_pb2.Schema()
    code = schema.feature.add(name="code", type=schema_pb2.INT)
    code.int_domain.is_categorical = True
    spec = with_schema(StatisticsSpec(), schema)
    assert spec.categorical_features == frozenset({("code",)})
    data = _data(tmp_path)
    result = compute_statistics(data, str(tmp_path / "s.pb"), schema=schema)
    kinds = {f.path.step[0]: f.WhichOneof("stats") for f in result.statistics.datasets[0].features}
    assert kinds == {"code": "string_stats", "score": "num_stats"}
    codes = pq.read_table(data).column("code").to_numpy()
    feature = next(f for f in result.statistics.datasets[0].features if f.path.step == ["code"])
    assert feature.string_stats.unique == len(np.unique(codes))


def test_compute_statistics_refuses_an_output_that_is_an_input(tmp_path: Path) -> None:
    data = _data(tmp_path)
    before = Path(data).read_bytes()
    with pytest.raises(InvalidInputError):
        compute_statistics(data, str(tmp_path / "s.pb"), errors=data)
    assert Path(data).read_bytes() == before
