"""TFDV's names (`beam_stats.tfdv`): each does what TFDV's does, checked on real files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2

import beam_stats
from beam_stats import tfdv
from beam_stats.errors import InvalidInputError, SchemaError


def _frame(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {"age": rng.integers(18, 90, size=n), "city": rng.choice(["a", "b", "c"], size=n)}
    )


def test_stats_options_map_to_a_statistics_spec() -> None:
    spec = tfdv.StatsOptions(num_top_values=5, num_histogram_buckets=7, weight_feature="w")
    assert (spec.num_top_values, spec.num_histogram_buckets) == (5, 7)
    assert spec.weight_feature == ("w",)
    with pytest.raises(InvalidInputError, match="sample_rate"):
        tfdv.StatsOptions(sample_rate=0.1)
    schema = schema_pb2.Schema()
    code = schema.feature.add(name="code", type=schema_pb2.INT)
    code.int_domain.is_categorical = True
    assert tfdv.StatsOptions(schema=schema).categorical_features == frozenset({("code",)})


def test_dataframe_statistics_and_feature_and_slice_access() -> None:
    frame = _frame()
    stats = tfdv.generate_statistics_from_dataframe(frame, tfdv.StatsOptions(num_top_values=2))
    dataset = stats.datasets[0]
    assert dataset.num_examples == len(frame)
    age = tfdv.get_feature_stats(dataset, "age")
    assert age.num_stats.mean == pytest.approx(frame["age"].mean(), rel=1e-12)
    city = tfdv.get_feature_stats(dataset, ("city",))
    assert len(city.string_stats.top_values) == 2
    assert city.string_stats.unique == frame["city"].nunique()
    with pytest.raises(InvalidInputError, match="no statistics of feature nope"):
        tfdv.get_feature_stats(dataset, "nope")
    assert tfdv.get_slice_stats(stats, dataset.name).datasets[0] == dataset
    with pytest.raises(InvalidInputError, match="no slice named"):
        tfdv.get_slice_stats(stats, "country_x")


def test_files_on_beam_and_text_round_trips(tmp_path: Path) -> None:
    frame = _frame()
    frame.to_csv(tmp_path / "data.csv", index=False)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "d.parquet")
    from_csv = tfdv.generate_statistics_from_csv(str(tmp_path / "data.csv"))
    assert from_csv.datasets[0].num_examples == len(frame)
    age = tfdv.get_feature_stats(from_csv.datasets[0], "age")
    assert age.num_stats.max == frame["age"].max()
    with pytest.raises(InvalidInputError, match="delimiter"):
        tfdv.generate_statistics_from_csv(str(tmp_path / "data.csv"), delimiter=";")
    out = str(tmp_path / "stats.pbtxt")
    tfdv.write_stats_text(from_csv, out)
    assert Path(out).read_text().lstrip().startswith("datasets {")
    assert tfdv.load_stats_text(out) == from_csv
    schema = tfdv.infer_schema(from_csv, infer_feature_shape=False, max_string_domain_size=2)
    assert not schema.string_domain  # 3 cities > 2
    tfdv.write_schema_text(schema, str(tmp_path / "schema.pbtxt"))
    assert tfdv.load_schema_text(str(tmp_path / "schema.pbtxt")) == schema
    anomalies = tfdv.validate_statistics(from_csv, schema)
    assert isinstance(anomalies, anomalies_pb2.Anomalies)
    tfdv.write_anomalies_text(anomalies, str(tmp_path / "anomalies.pbtxt"))
    assert tfdv.load_anomalies_text(str(tmp_path / "anomalies.pbtxt")) == anomalies


def test_get_and_set_domain() -> None:
    schema = tfdv.infer_schema(tfdv.generate_statistics_from_dataframe(_frame()))
    city = tfdv.get_domain(schema, "city")
    assert isinstance(city, schema_pb2.StringDomain)
    assert sorted(city.value) == ["a", "b", "c"]
    tfdv.set_domain(schema, "age", schema_pb2.IntDomain(min=18, max=89))
    assert tfdv.get_domain(schema, "age") == schema_pb2.IntDomain(min=18, max=89)
    schema.string_domain.add(name="cities", value=["a", "b"])
    tfdv.set_domain(schema, "city", "cities")
    assert list(tfdv.get_domain(schema, "city").value) == ["a", "b"]
    with pytest.raises(InvalidInputError, match="no string domain"):
        tfdv.set_domain(schema, "city", "towns")
    with pytest.raises(InvalidInputError, match="not a feature domain"):
        tfdv.set_domain(schema, "city", schema_pb2.Feature())
    beam_stats.get_feature(schema, "city").domain = "gone"
    with pytest.raises(SchemaError, match="missing string domain gone"):
        tfdv.get_domain(schema, "city")


def test_statistics_html_filters_features() -> None:
    stats = tfdv.generate_statistics_from_dataframe(_frame())
    both = tfdv.get_statistics_html(stats, stats, lhs_name="train", rhs_name="eval")
    assert "train vs eval" in both and 'data-name="age"' in both
    only_city = tfdv.get_statistics_html(stats, denylist_features=["age"])
    assert 'data-name="city"' in only_city and 'data-name="age"' not in only_city
