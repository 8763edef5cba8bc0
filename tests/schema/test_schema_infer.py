"""Schema inference: TFDV's semantics, and only what the statistics prove."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from anomaly_helpers import reasons, schema, stats
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

from beam_stats import FrequentItemsSpec, StatisticsSpec
from beam_stats.errors import InvalidInputError
from beam_stats.schema import (
    RangeInferenceSpec,
    SchemaInferenceSpec,
    UniqueInferenceSpec,
    get_feature,
    infer_schema,
)
from beam_stats.schema.extras import provenance, spec_of
from beam_stats.schema.view import FeatureView
from beam_stats.validation import validate_statistics

INTS = pa.list_(pa.int64())


def infer(columns: dict[str, Any], spec: SchemaInferenceSpec | None = None, **kw: Any) -> Any:
    return infer_schema(stats(columns, StatisticsSpec(**kw) if kw else None), spec)


def feature_text(schema: schema_pb2.Schema, name: str) -> str:
    return text_format.MessageToString(get_feature(schema, name), as_one_line=True)


def test_types_presence_and_shape() -> None:
    inferred = infer(
        {
            "i": [1, 2, 3],
            "f": [1.5, None, 2.5],
            "s": ["a", "b", "a"],
            "raw": pa.array([b"\xff\x00", b"\xfe", b"\xfd"], pa.binary()),
            "nothing": pa.array([None, None, None], pa.int64()),
        }
    )
    assert feature_text(inferred, "i") == (
        'name: "i" type: INT presence { min_fraction: 1.0 min_count: 1 } shape { dim { size: 1 } }'
    )
    # Missing somewhere: no min_fraction, and a value count instead of a shape.
    assert feature_text(inferred, "f") == (
        'name: "f" value_count { min: 1 max: 1 } type: FLOAT presence { min_count: 1 }'
    )
    assert get_feature(inferred, "raw").type == schema_pb2.BYTES
    assert get_feature(inferred, "raw").WhichOneof("domain_info") is None
    nothing = 'name: "nothing" type: INT presence { min_count: 0 }'
    assert feature_text(inferred, "nothing") == nothing


def test_valency() -> None:
    inferred = infer(
        {
            "fixed": pa.array([[1, 2], [3, 4], [5, 6]], INTS),
            "fixed_missing": pa.array([[1, 2], None, [5, 6]], INTS),
            "varying": pa.array([[1], [2, 3], [4, 5, 6]], INTS),
            "with_empty": pa.array([[], [2, 3], [4]], INTS),
        }
    )
    assert get_feature(inferred, "fixed").shape.dim[0].size == 2
    fixed_missing = get_feature(inferred, "fixed_missing")
    assert (fixed_missing.value_count.min, fixed_missing.value_count.max) == (2, 2)
    varying = get_feature(inferred, "varying").value_count
    assert varying.min == 1 and not varying.HasField("max")
    assert not get_feature(inferred, "with_empty").HasField("value_count")
    no_shape = infer({"x": [1, 2]}, SchemaInferenceSpec(infer_shape=False))
    assert feature_text(no_shape, "x").startswith('name: "x" value_count { min: 1 max: 1 }')


def test_structs_nest_their_fields_and_get_no_shape() -> None:
    inferred = infer({"s": [{"a": 1, "b": "u"}, {"a": 2, "b": "v"}]})
    parent = get_feature(inferred, "s")
    assert parent.type == schema_pb2.STRUCT and not parent.HasField("shape")
    assert [f.name for f in parent.struct_domain.feature] == ["a", "b"]
    assert get_feature(inferred, "s.b").domain == "s.b"
    assert get_feature(inferred, ("s", "a")).type == schema_pb2.INT


def domain_text(feature: schema_pb2.Feature) -> str | None:
    which = feature.WhichOneof("domain_info")
    if which is None or which == "domain":
        return which and f'domain: "{feature.domain}"'
    body = text_format.MessageToString(getattr(feature, which), as_one_line=True)
    return f"{which} {body}".strip()


@pytest.mark.parametrize(
    ("values", "domain"),
    [
        ([0, 1, 1], "bool_domain"),
        ([True, False], "bool_domain"),
        ([1, 1], "bool_domain"),  # TFDV: min >= 0 and max == 1
        ([0, 0], None),
        ([0, 1, 2], None),
        (["true", "false"], 'bool_domain true_value: "true" false_value: "false"'),
        (["FALSE"], 'bool_domain false_value: "FALSE"'),
        (["1", "0", "1"], 'bool_domain true_value: "1" false_value: "0"'),
        (["yes", "no"], 'domain: "x"'),
        (["true", "TRUE"], 'domain: "x"'),  # two spellings of true: not a bool
        (["10", "-3", "007"], "int_domain"),
        (["10", "3.5"], 'domain: "x"'),
    ],
)
def test_domains(values: list[Any], domain: str | None) -> None:
    assert domain_text(get_feature(infer({"x": values}), "x")) == domain


def test_string_domains_list_every_value_up_to_the_limit() -> None:
    values = [f"v{i:03d}" for i in range(30)]
    inferred = infer({"x": values * 2})
    assert list(inferred.string_domain[0].value) == values
    assert inferred.string_domain[0].name == "x"
    small = infer({"x": values}, SchemaInferenceSpec(max_string_domain_size=29))
    assert get_feature(small, "x").WhichOneof("domain_info") is None
    assert not small.string_domain


def test_domains_only_when_the_statistics_list_every_value() -> None:
    # With 8 counters and 40 distinct values the listed values are a subset: no domain,
    # neither a string domain nor an int domain for int-like strings.
    limited: dict[str, Any] = dict(
        frequent_items=FrequentItemsSpec(capacity=8), num_top_values=8, num_rank_histogram_buckets=8
    )
    words = infer({"x": [f"w{i}" for i in range(40)] + ["w0"] * 100}, **limited)
    assert get_feature(words, "x").WhichOneof("domain_info") is None
    numbers = infer({"x": [str(i) for i in range(40)]}, **limited)
    assert get_feature(numbers, "x").WhichOneof("domain_info") is None
    view = FeatureView(stats({"x": ["a", "b"]}).datasets[0].features[0], 2)
    assert view.values_complete and view.all_values() == ["a", "b"]


def test_invalid_utf8_gets_no_domain() -> None:
    mostly_text = pa.array([b"a", b"a", b"\xff"], pa.binary())
    inferred = infer({"x": mostly_text})
    assert get_feature(inferred, "x").type == schema_pb2.BYTES
    assert get_feature(inferred, "x").WhichOneof("domain_info") is None


def test_categorical_ints() -> None:
    inferred = infer({"x": [3, 1, 3]}, categorical_features=frozenset({("x",)}))
    feature = get_feature(inferred, "x")
    assert feature.type == schema_pb2.INT and feature.int_domain.is_categorical


def test_string_domain_names_stay_unique() -> None:
    inferred = infer({"a.b": ["x", "y"], "a": [{"b": "z"}, {"b": "w"}]})
    assert sorted(d.name for d in inferred.string_domain) == ["a.b", "a.b2"]
    assert {get_feature(inferred, ("a.b",)).domain, get_feature(inferred, ("a", "b")).domain} == {
        "a.b",
        "a.b2",
    }


def test_ranges() -> None:
    spec = SchemaInferenceSpec(ranges=RangeInferenceSpec(margin=0.1))
    inferred = infer({"pos": [2, 10, 50], "neg": [-10, 0, 10], "f": [1.0, 2.0, 3.0]}, spec)
    pos = get_feature(inferred, "pos").int_domain
    assert (pos.min, pos.max) == (0, 55)  # not below 0: no value was negative
    neg = get_feature(inferred, "neg").int_domain
    assert (neg.min, neg.max) == (-12, 12)
    f = get_feature(inferred, "f").float_domain
    assert (f.min, f.max) == (pytest.approx(0.8), pytest.approx(3.2))
    no_margin = infer({"f": [0.1, 0.7]}, SchemaInferenceSpec(ranges=RangeInferenceSpec(margin=0)))
    exact = get_feature(no_margin, "f").float_domain
    assert exact.min == np.float32(0.1) and exact.max == np.float32(0.7)
    # Bools keep their bool domain; TFDV's default infers no range.
    assert get_feature(infer({"b": [0, 1]}, spec), "b").HasField("bool_domain")
    assert not get_feature(infer({"x": [5, 7]}), "x").HasField("int_domain")


def test_ranges_from_quantiles() -> None:
    values = np.arange(1000, dtype=np.float64)
    statistics = stats({"x": values})
    view = FeatureView(statistics.datasets[0].features[0], 1000)
    spec = SchemaInferenceSpec(
        ranges=RangeInferenceSpec(margin=0.0, lower_quantile=0.1, upper_quantile=0.9)
    )
    domain = get_feature(infer_schema(statistics, spec), "x").float_domain
    error = 1000 * next(
        c.num
        for c in statistics.datasets[0].features[0].custom_stats
        if c.name == "quantiles_rank_error"
    )
    assert abs(domain.min - 100) <= error + 1 and abs(domain.max - 900) <= error + 1
    assert view.quantile(0.0) == 0 and view.quantile(1.0) == 999
    found = validate_statistics(statistics, infer_schema(statistics, spec))
    assert reasons(found) == {("x", "FLOAT_TYPE_SMALL_FLOAT"), ("x", "FLOAT_TYPE_BIG_FLOAT")}


def test_nan_and_inf_bans() -> None:
    spec = SchemaInferenceSpec(disallow_nan=True, disallow_inf=True)
    inferred = infer({"clean": [1.0, 2.0], "nan": [1.0, math.nan], "inf": [1.0, math.inf]}, spec)
    assert feature_text(inferred, "clean").count("disallow_nan: true disallow_inf: true") == 1
    assert not get_feature(inferred, "nan").float_domain.disallow_nan
    assert get_feature(inferred, "nan").float_domain.disallow_inf
    assert get_feature(inferred, "inf").float_domain.disallow_nan
    assert not get_feature(inferred, "inf").float_domain.disallow_inf


def test_unique_constraints_only_from_exact_counts() -> None:
    spec = SchemaInferenceSpec(unique=UniqueInferenceSpec(margin=0.5))
    inferred = infer({"s": ["a", "b", "c", "d"], "i": [1, 2, 3, 4]}, spec)
    unique = get_feature(inferred, "s").unique_constraints
    assert (unique.min, unique.max) == (2, 6)
    assert not get_feature(inferred, "i").HasField("unique_constraints")
    estimated = stats({"s": ["a", "b"]})
    estimated.datasets[0].features[0].custom_stats.add(
        name="distinct_relative_standard_error", num=0.01
    )
    del estimated.datasets[0].features[0].custom_stats[1]  # the original, exact one
    assert not get_feature(infer_schema(estimated, spec), "s").HasField("unique_constraints")


def test_provenance_records_the_options() -> None:
    spec = SchemaInferenceSpec(
        max_string_domain_size=7,
        ranges=RangeInferenceSpec(margin=0.2, upper_quantile=0.99),
        unique=UniqueInferenceSpec(margin=0.1),
        disallow_nan=True,
    )
    inferred = infer_schema(stats({"x": [1]}, name="train"), spec)
    recorded = provenance(inferred)
    assert recorded is not None
    assert recorded.tool == "beam-stats"
    assert (recorded.dataset_name, recorded.num_examples) == ("train", 1)
    assert spec_of(recorded) == spec
    assert spec_of(None) == SchemaInferenceSpec()


def test_inferred_schemas_accept_their_own_data() -> None:
    rng = np.random.default_rng(0)
    columns = {
        "f": rng.normal(size=300),
        "i": rng.integers(-5, 5, 300),
        "s": rng.choice(["a", "b", "c"], 300),
        "n": rng.choice(["1", "2"], 300),
        "l": pa.array([[1] * int(k) for k in rng.integers(0, 3, 300)], INTS),
        "m": pa.array([None if k else 1.0 for k in rng.integers(0, 2, 300)], pa.float64()),
    }
    statistics = stats(columns)
    for spec in (
        SchemaInferenceSpec(),
        SchemaInferenceSpec(infer_shape=False, max_string_domain_size=1),
        SchemaInferenceSpec(
            ranges=RangeInferenceSpec(margin=0),
            unique=UniqueInferenceSpec(),
            disallow_nan=True,
            disallow_inf=True,
        ),
    ):
        assert reasons(validate_statistics(statistics, infer_schema(statistics, spec))) == set()


def test_bad_arguments() -> None:
    with pytest.raises(InvalidInputError, match="margin must be a number in"):
        RangeInferenceSpec(margin=-1)
    with pytest.raises(InvalidInputError, match="must not exceed"):
        RangeInferenceSpec(lower_quantile=0.9, upper_quantile=0.1)
    with pytest.raises(InvalidInputError, match="max_string_domain_size must be an int >= 0"):
        SchemaInferenceSpec(max_string_domain_size=-1)
    with pytest.raises(InvalidInputError, match="ranges must be a RangeInferenceSpec"):
        SchemaInferenceSpec(ranges=0.1)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="margin must be a number in"):
        UniqueInferenceSpec(margin=2)
    two = statistics_pb2.DatasetFeatureStatisticsList(
        datasets=[statistics_pb2.DatasetFeatureStatistics(name=n) for n in ("a", "b")]
    )
    with pytest.raises(InvalidInputError, match="one dataset, got 2"):
        infer_schema(two)
    assert infer_schema(two.datasets[1]).feature == schema_pb2.Schema().feature
    with pytest.raises(InvalidInputError, match="expected a DatasetFeatureStatisticsList"):
        infer_schema(schema('feature { name: "x" }'))


def test_int64_edges_infer_validate_and_update_without_a_crash() -> None:
    """Statistics hold floats, so 2**63 - 1 reads as 2**63: inferring a range, validating and
    updating must stay within int64 and not report the edge values as out of range."""
    from beam_stats import generate_statistics_from_table as generate
    from beam_stats import infer_schema, update_schema, validate_statistics
    from beam_stats.schema import RangeInferenceSpec, SchemaInferenceSpec

    edges = pa.table(
        {
            "top": pa.array([0, 5, 2**63 - 1], pa.int64()),
            "bottom": pa.array([-(2**63), 1, 2], pa.int64()),
        }
    )
    statistics = generate(edges)
    inferred = infer_schema(
        statistics.datasets[0], SchemaInferenceSpec(ranges=RangeInferenceSpec())
    )
    domains = {f.name: f.int_domain for f in inferred.feature}
    assert domains["top"].max == 2**63 - 1 and domains["bottom"].min == -(2**63)
    assert not validate_statistics(statistics, inferred).anomaly_info
    # A narrower domain: the edges are found (not a crash), and the update widens to int64.
    narrow = schema_pb2.Schema()
    narrow.CopyFrom(inferred)
    for feature in narrow.feature:
        feature.int_domain.min, feature.int_domain.max = -10, 10
    anomalies = validate_statistics(statistics, narrow)
    assert set(anomalies.anomaly_info) == {"top", "bottom"}
    updated = {f.name: f.int_domain for f in update_schema(narrow, statistics).feature}
    assert updated["top"].max == 2**63 - 1 and updated["bottom"].min == -(2**63)
