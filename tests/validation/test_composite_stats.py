"""Sparse and weighted features validated from beam-stats' own composite statistics.

With ``StatisticsSpec(composites=composite_specs(schema))`` the statistics carry TFDV's
custom statistics at each composite's path, so validation reads exact per-row facts (as from
TFDV's statistics) instead of what the components' counts prove. Expected numbers are
computed here from the data, row by row.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from anomaly_helpers import by_feature, reasons, schema, stats
from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

from beam_stats import (
    StatisticsSpec,
    compare_statistics,
    infer_schema,
    render_report,
    update_schema,
)
from beam_stats.schema import composite_specs
from beam_stats.validation import validate_statistics

INTS, FLOATS = pa.list_(pa.int64()), pa.list_(pa.float64())
PLAIN_N = 'feature { name: "n" type: INT } '
SPARSE = PLAIN_N + (
    'sparse_feature { name: "sp" index_feature { name: "i" } value_feature { name: "v" } }'
)
WEIGHTED = PLAIN_N + (
    'weighted_feature { name: "w" feature { step: "v" } weight_feature { step: "i" } }'
)
NESTED = (
    'feature { name: "s" type: STRUCT struct_domain { '
    '  sparse_feature { name: "sp" index_feature { name: "i" } value_feature { name: "v" } }'
    "} }"
)


def table(other: list[Any], value: list[Any]) -> dict[str, Any]:
    return {
        "i": pa.array(other, INTS),
        "v": pa.array(value, FLOATS),
        "n": list(range(len(other))),
    }


def own_stats(data: dict[str, Any], text: str) -> statistics_pb2.DatasetFeatureStatisticsList:
    """Statistics computed with the schema's composites, as `stats --schema` computes them."""
    return stats(data, StatisticsSpec(composites=composite_specs(schema(text))))


def facts(other: list[Any], value: list[Any]) -> dict[str, int]:
    """TFDV's definitions from the lists, independently of beam-stats."""
    has_o = np.array([x is not None for x in other])
    has_v = np.array([x is not None for x in value])
    diff = np.array([len(o or []) - len(v or []) for o, v in zip(other, value, strict=True)])
    some = has_o | has_v
    return {
        "missing_value": int(np.sum(some & ~has_v)),
        "missing_other": int(np.sum(some & ~has_o)),
        "min": int(diff[some].min()),
        "max": int(diff[some].max()),
    }


CLEAN = ([[0, 3], [1], None, []], [[1.0, 2.0], [3.0], None, []])


@pytest.mark.parametrize("text", [SPARSE, WEIGHTED])
def test_clean_composites_have_no_anomaly_and_add_no_feature(text: str) -> None:
    data = own_stats(table(*CLEAN), text)
    assert any(tuple(f.path.step) in {("sp",), ("w",)} for f in data.datasets[0].features)
    assert reasons(validate_statistics(data, schema(text))) == set()
    assert update_schema(schema(text), data) == schema(text)


# (schema, other component, value, anomaly, what the description says, with the facts)
SP_LEN, W_LEN = "SPARSE_FEATURE_LENGTH_MISMATCH", "WEIGHTED_FEATURE_LENGTH_MISMATCH"
W_MISS = "WEIGHTED_FEATURE_MISSING_WEIGHT"
CASES = [
    (SPARSE, [[0], [1], [2]], [[1.0], [2.0], None], "SPARSE_FEATURE_MISSING_VALUE", "{mv} ex"),
    (SPARSE, [[0], None, None], [[1.0], [2.0], [3.0]], "SPARSE_FEATURE_MISSING_INDEX", "{mo} ex"),
    (WEIGHTED, [[1], [2]], [[1.0], None], "WEIGHTED_FEATURE_MISSING_VALUE", "{mv} ex"),
    (WEIGHTED, [[1], None, None], [[1.0], [2.0], [3.0]], W_MISS, "{mo} ex"),
    # Longer index lists in one example only: max_length_diff.
    (SPARSE, [[0, 1, 2], [3], [4]], [[1.0], [2.0], [3.0]], SP_LEN, "max_length_diff = {max}"),
    # Shorter index lists in one example only: min_length_diff.
    (SPARSE, [[0], [], [1]], [[1.0], [2.0, 3.0], [4.0]], SP_LEN, "min_length_diff = {min}"),
    (WEIGHTED, [[1], [2]], [[1.0, 2.0, 3.0], [2.0]], W_LEN, "min_weight_length_diff = {min} and"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "other", "value", "anomaly", "says"), CASES)
def test_each_anomaly_from_own_statistics(
    text: str, other: list[Any], value: list[Any], anomaly: str, says: str
) -> None:
    found = validate_statistics(own_stats(table(other, value), text), schema(text))
    name = "sp" if "sparse" in text else "w"
    known = facts(other, value)
    # A missing list counts 0 values (TFDV), so a missing component is a length mismatch too.
    mismatch = f"{'SPARSE' if name == 'sp' else 'WEIGHTED'}_FEATURE_LENGTH_MISMATCH"
    assert by_feature(found) == {
        name: {anomaly} | ({mismatch} if known["min"] or known["max"] else set())
    }
    expected = says.format(
        mv=known["missing_value"], mo=known["missing_other"], min=known["min"], max=known["max"]
    )
    description = found.anomaly_info[name].description
    assert expected in description
    assert "At least" not in description  # exact, not inferred from counts
    relaxed = update_schema(schema(text), own_stats(table(other, value), text))
    composite = relaxed.sparse_feature[0] if name == "sp" else relaxed.weighted_feature[0]
    assert composite.lifecycle_stage == schema_pb2.DEPRECATED


@pytest.mark.parametrize("text", [SPARSE, WEIGHTED])
def test_opposite_length_differences_with_equal_totals_are_found(text: str) -> None:
    """Counts cannot see them (the old statistics validate clean); the new statistics can."""
    other, value = [[0, 1], [2]], [[1.0], [2.0, 3.0]]
    assert reasons(validate_statistics(stats(table(other, value)), schema(text))) == set()
    found = validate_statistics(own_stats(table(other, value), text), schema(text))
    name = "sp" if "sparse" in text else "w"
    assert set(by_feature(found)[name]) == {
        "SPARSE_FEATURE_LENGTH_MISMATCH" if name == "sp" else "WEIGHTED_FEATURE_LENGTH_MISMATCH"
    }
    known = facts(other, value)
    assert (known["min"], known["max"]) == (-1, 1)
    for number in (known["min"], known["max"]):
        assert f"= {number}" in " ".join(r.description for r in found.anomaly_info[name].reason)


def test_equal_numbers_missing_each_component_are_found() -> None:
    """One example lacks the index, another the value: present counts are equal."""
    other, value = [[0], None, [2]], [[1.0], [2.0], None]
    assert reasons(validate_statistics(stats(table(other, value)), schema(SPARSE))) == set()
    found = validate_statistics(own_stats(table(other, value), SPARSE), schema(SPARSE))
    assert by_feature(found)["sp"] >= {
        "SPARSE_FEATURE_MISSING_VALUE",
        "SPARSE_FEATURE_MISSING_INDEX",
    }


def test_old_statistics_without_composite_statistics_validate_as_before() -> None:
    other, value = [[0], [1], [2]], [[1.0], [2.0], None]
    old = validate_statistics(stats(table(other, value)), schema(SPARSE))
    both = {"SPARSE_FEATURE_MISSING_VALUE", "SPARSE_FEATURE_LENGTH_MISMATCH"}
    assert by_feature(old) == {"sp": both}
    assert old.anomaly_info["sp"].description.startswith("At least 1 example")
    new = validate_statistics(own_stats(table(other, value), SPARSE), schema(SPARSE))
    assert by_feature(new) == {"sp": both}
    assert new.anomaly_info["sp"].description.startswith("1 example")


def test_nested_sparse_feature_from_own_statistics() -> None:
    good = {"s": [{"i": [0, 1], "v": [1.0, 2.0]}, {"i": [2], "v": [3.0]}]}
    assert reasons(validate_statistics(own_stats(good, NESTED), schema(NESTED))) == set()
    # Opposite differences in two struct elements: equal totals, found per element.
    bad = {"s": [{"i": [0, 1], "v": [1.0]}, {"i": [2], "v": [3.0, 4.0]}]}
    assert reasons(validate_statistics(stats(bad), schema(NESTED))) == set()
    found = validate_statistics(own_stats(bad, NESTED), schema(NESTED))
    assert reasons(found) == {("s.sp", "SPARSE_FEATURE_LENGTH_MISMATCH")}
    assert "index feature s.i" in found.anomaly_info["s.sp"].description


def test_composite_entries_are_no_column_for_other_schemas_inference_and_comparison() -> None:
    data = own_stats(table(*CLEAN), SPARSE)
    # Validated against a schema without the sparse feature: its components are new columns
    # (as in TFDV), its statistics entry is not.
    found = validate_statistics(data, schema(PLAIN_N))
    assert by_feature(found) == {"i": {"SCHEMA_NEW_COLUMN"}, "v": {"SCHEMA_NEW_COLUMN"}}
    assert "sp" not in {f.name for f in update_schema(schema(PLAIN_N), data).feature}
    assert {f.name for f in infer_schema(data).feature} == {"i", "v", "n"}
    compared = compare_statistics(data, data)
    assert {f.path for f in compared.features} == {("i",), ("v",), ("n",)}


def test_schema_skew_ignores_composite_entries_of_one_side() -> None:
    training = own_stats(table(*CLEAN), SPARSE)
    serving = stats(table(*CLEAN))
    found = validate_statistics(training, schema(SPARSE), serving_statistics=serving)
    assert reasons(found) == set()
    found = validate_statistics(serving, schema(SPARSE), serving_statistics=training)
    assert reasons(found) == set()


def test_report_shows_the_composite_row_with_its_anomaly() -> None:
    other, value = [[0, 1], [2]], [[1.0], [2.0, 3.0]]
    data = own_stats(table(other, value), SPARSE)
    found = validate_statistics(data, schema(SPARSE))
    html = render_report(data, data, found)
    row = re.search(r'<tr class="feature[^"]*"[^>]*data-name="sp".*?</tr>', html, re.S)
    assert row is not None and ">SPARSE<" in row.group(0) and ">INT<" not in row.group(0)
    assert "SPARSE_FEATURE_LENGTH_MISMATCH" in html
    known = facts(other, value)
    assert f'"max_length_diff","i: {known["max"]}"' in html.replace(", ", ",")
