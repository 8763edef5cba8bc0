"""Per-example validation of record batches against a schema (no Beam)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2

from beam_stats.errors import InvalidInputError
from beam_stats.validation.examples import (
    MAX_VALUE_CHARS,
    REASON_TYPE,
    ColumnAnomaly,
    ExampleChecks,
    check_batch,
    escape_bytes,
)

Reason = tuple[str, str, Any]


def schema_of(text: str) -> schema_pb2.Schema:
    return text_format.Parse(text, schema_pb2.Schema())


def split(
    schema: str, batch: pa.RecordBatch | dict[str, Any], environment: str | None = None
) -> tuple[list[dict[str, Any]], dict[int, list[Reason]]]:
    """Good rows, and each bad row's reasons by its index in the batch.

    Rows of the test batches are told apart by a column ``id``, which the schema ignores.
    """
    if isinstance(batch, dict):
        n = len(next(iter(batch.values())))
        batch = pa.RecordBatch.from_pydict({"id": list(range(n)), **batch})
    schema_text = f'{schema}\nfeature {{ name: "id" type: INT }}'
    good, bad = check_batch(batch, schema_of(schema_text), environment)
    assert good.schema == batch.schema
    assert bad.schema == batch.schema.append(pa.field("reasons", pa.list_(REASON_TYPE)))
    assert good.num_rows + bad.num_rows == batch.num_rows
    reasons = {
        row["id"]: [(r["feature"], r["anomaly"], r["value"]) for r in row["reasons"]]
        for row in bad.to_pylist()
    }
    return good.to_pylist(), reasons


# One case per anomaly type: a column in which the listed rows trigger it and the other rows
# do not, with each bad row's expected offending value.
CASES = [
    (
        "FEATURE_TYPE_NOT_PRESENT",
        'feature { name: "x" type: INT presence { min_fraction: 1 } }',
        [1, None, 3],
        {1: None},
    ),
    (
        "FEATURE_TYPE_LOW_NUMBER_VALUES",
        'feature { name: "x" type: INT value_count { min: 2 } }',
        [[1, 2], [1], None, [], [1, 2, 3]],
        {1: "1", 3: "0"},
    ),
    (
        "FEATURE_TYPE_HIGH_NUMBER_VALUES",
        'feature { name: "x" type: INT value_count { min: 1 max: 2 } }',
        [[1, 2], [1, 2, 3], None, [7]],
        {1: "3"},
    ),
    (
        "INVALID_FEATURE_SHAPE",
        'feature { name: "x" type: FLOAT shape { dim { size: 2 } } }',
        [[1.0, 2.0], [1.0], None, [0.5, 0.5]],
        {1: "1", 2: None},
    ),
    (
        "UNEXPECTED_DATA_TYPE",
        'feature { name: "x" type: INT }',
        ["7", None, "a"],
        {0: "7", 2: "a"},
    ),
    (
        "INT_TYPE_SMALL_INT",
        'feature { name: "x" type: INT int_domain { min: 0 max: 10 } }',
        [0, 10, -1, None],
        {2: "-1"},
    ),
    (
        "INT_TYPE_BIG_INT",
        'feature { name: "x" type: INT int_domain { min: 0 max: 10 } }',
        [0, 10, 11, None],
        {2: "11"},
    ),
    (
        "INT_TYPE_NOT_INT_STRING",
        'feature { name: "x" type: BYTES int_domain { } }',
        [" 12 ", "+3", "-0", "1.5", "abc", "9223372036854775808", "-9223372036854775808", ""],
        {3: "1.5", 4: "abc", 5: "9223372036854775808", 7: ""},
    ),
    (
        "FLOAT_TYPE_SMALL_FLOAT",
        'feature { name: "x" type: FLOAT float_domain { min: 0.1 max: 1 } }',
        [0.1, 1.0, 0.05, math.nan, None],  # 0.1 is the bound as float32 stores it
        {2: "0.05"},
    ),
    (
        "FLOAT_TYPE_BIG_FLOAT",
        'feature { name: "x" type: FLOAT float_domain { min: 0.1 max: 1 } }',
        [0.1, 1.0, 1.5, math.nan],
        {2: "1.5"},
    ),
    (
        "FLOAT_TYPE_HAS_NAN",
        'feature { name: "x" type: FLOAT float_domain { disallow_nan: true } }',
        [1.0, math.nan, math.inf],
        {1: "nan"},
    ),
    (
        "FLOAT_TYPE_HAS_INF",
        'feature { name: "x" type: FLOAT float_domain { disallow_inf: true } }',
        [1.0, math.nan, math.inf, -math.inf],
        {2: "inf", 3: "-inf"},
    ),
    (
        "FLOAT_TYPE_STRING_NOT_FLOAT",
        'feature { name: "x" type: BYTES float_domain { } }',
        ["1.5", " -2e3 ", "nan", "Infinity", ".5", "x", "1.2.3", "0x10"],
        {5: "x", 6: "1.2.3", 7: "0x10"},
    ),
    (
        "ENUM_TYPE_UNEXPECTED_STRING_VALUES",
        'feature { name: "x" type: BYTES string_domain { value: "red" value: "blue" } }',
        [["red"], ["green"], None, ["blue", "red"], ["red", "Red", "pink"]],
        {1: "green", 4: "Red"},
    ),
    (
        "ENUM_TYPE_INVALID_UTF8",
        'feature { name: "x" type: BYTES string_domain { value: "red" } }',
        [b"red", b"\xff\xfered", None],
        {1: "\\xff\\xfered"},
    ),
    (
        "BOOL_TYPE_SMALL_INT",
        'feature { name: "x" type: INT bool_domain { } }',
        [0, 1, -1, None],
        {2: "-1"},
    ),
    (
        "BOOL_TYPE_BIG_INT",
        'feature { name: "x" type: INT bool_domain { } }',
        [0, 1, 2],
        {2: "2"},
    ),
    (
        "BOOL_TYPE_UNEXPECTED_FLOAT",
        'feature { name: "x" type: FLOAT bool_domain { } }',
        [0.0, 1.0, 0.5, math.nan],
        {2: "0.5", 3: "nan"},
    ),
    (
        "BOOL_TYPE_UNEXPECTED_STRING",
        'feature { name: "x" type: BYTES bool_domain { true_value: "yes" false_value: "no" } }',
        ["yes", "no", "maybe", "true"],
        {2: "maybe", 3: "true"},
    ),
]


@pytest.mark.parametrize(
    ("anomaly", "schema", "values", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_each_anomaly_type_flags_exactly_the_rows_that_break_it(
    anomaly: str, schema: str, values: list[Any], expected: dict[int, Any]
) -> None:
    assert anomalies_pb2.AnomalyInfo.Type.Value(anomaly)  # a real TFDV anomaly type name
    good, bad = split(schema, {"x": values})
    assert bad == {row: [("x", anomaly, value)] for row, value in expected.items()}
    assert [row["id"] for row in good] == [i for i in range(len(values)) if i not in expected]


def test_one_reason_per_row_feature_and_anomaly_with_the_first_offending_value() -> None:
    schema = 'feature { name: "x" type: INT int_domain { max: 10 } value_count { max: 2 } }'
    _, bad = split(schema, {"x": [[11, 12, 3], [1, 20]]})
    assert bad == {
        0: [("x", "FEATURE_TYPE_HIGH_NUMBER_VALUES", "3"), ("x", "INT_TYPE_BIG_INT", "11")],
        1: [("x", "INT_TYPE_BIG_INT", "20")],
    }


def test_a_required_column_absent_from_the_batch_is_missing_in_every_row() -> None:
    schema = """
      feature { name: "x" type: INT presence { min_fraction: 1 } }
      feature { name: "y" type: INT presence { min_fraction: 0.5 min_count: 1 } }
    """
    good, bad = split(schema, {"z": [1, 2]})
    assert good == []
    assert bad == {i: [("x", "FEATURE_TYPE_NOT_PRESENT", None)] for i in range(2)}


def test_types_that_readers_produce_are_accepted() -> None:
    schema = """
      feature { name: "f" type: FLOAT }
      feature { name: "i" type: INT }
      feature { name: "s" type: BYTES domain: "colors" }
      feature { name: "n" type: BYTES int_domain { max: 100 } }
      feature { name: "b" type: BYTES bool_domain { true_value: "true" false_value: "false" } }
      string_domain { name: "colors" value: "red" }
    """
    batch = pa.RecordBatch.from_pydict(
        {
            "id": [0, 1],
            "f": pa.array([1, 2], pa.int32()),  # whole numbers read as ints
            "i": pa.array([True, False]),
            "s": pa.array(["red", "red"], pa.large_string()).dictionary_encode(),
            "n": [5, 500],  # CSV reads digits as int64
            "b": [True, False],  # ... and true/false as booleans
        }
    )
    good, bad = split(schema, batch)
    assert [row["id"] for row in good] == [0]
    assert bad == {1: [("n", "INT_TYPE_BIG_INT", "500")]}


def test_a_wrong_type_skips_the_domain_checks() -> None:
    schema = 'feature { name: "x" type: BYTES string_domain { value: "a" } }'
    _, bad = split(schema, {"x": [1.5, None]})
    assert bad == {0: [("x", "UNEXPECTED_DATA_TYPE", "1.5")]}


ENVIRONMENTS = """
  default_environment: "TRAINING"
  default_environment: "SERVING"
  feature { name: "x" type: INT presence { min_fraction: 1 } }
  feature {
    name: "label" type: INT presence { min_fraction: 1 } int_domain { max: 1 }
    not_in_environment: "SERVING"
  }
  feature {
    name: "debug" type: INT presence { min_fraction: 1 }
    in_environment: "DEBUG" not_in_environment: "SERVING" not_in_environment: "TRAINING"
  }
"""


def test_features_outside_the_environment_are_not_required_or_checked() -> None:
    serving = {"x": [1, 2]}
    assert split(ENVIRONMENTS, serving, "SERVING")[1] == {}
    training = split(ENVIRONMENTS, serving, "TRAINING")[1]
    assert training == {i: [("label", "FEATURE_TYPE_NOT_PRESENT", None)] for i in range(2)}
    everything = split(ENVIRONMENTS, {"x": [1], "label": [0]})[1]  # no environment: all
    assert everything == {0: [("debug", "FEATURE_TYPE_NOT_PRESENT", None)]}
    debug = split(ENVIRONMENTS, {"x": [None], "debug": [None]}, "DEBUG")[1]
    assert debug == {0: [("debug", "FEATURE_TYPE_NOT_PRESENT", None)]}  # x is not in DEBUG


def test_a_feature_excluded_from_the_environment_but_present_is_a_column_problem() -> None:
    checks = ExampleChecks(schema_of(ENVIRONMENTS), "SERVING")
    batch = pa.RecordBatch.from_pydict({"x": [1, 2, 3], "label": [7, None, 1]})
    result = checks.check(batch)
    assert result.good.num_rows == 3 and result.bad.num_rows == 0  # label's 7 is not checked
    assert result.new_columns == [
        ColumnAnomaly(
            "label", "SCHEMA_NEW_COLUMN", 2, "present in the data but not in environment SERVING"
        )
    ]
    empty_label = pa.RecordBatch.from_pydict({"x": [1], "label": pa.nulls(1, pa.int64())})
    assert checks.check(empty_label).new_columns == []


def test_new_columns_make_no_row_bad_and_are_reported_once_at_the_top() -> None:
    schema = """
      feature { name: "x" type: INT }
      feature { name: "s" type: STRUCT struct_domain { feature { name: "a" type: INT } } }
      feature { name: "old" type: INT deprecated: true }
      feature { name: "older" type: STRUCT lifecycle_stage: DEPRECATED }
      sparse_feature { name: "sp" index_feature { name: "sp_i" } value_feature { name: "sp_v" } }
    """
    batch = pa.RecordBatch.from_pydict(
        {
            "x": [1, 2],
            "extra": [{"p": 1, "q": [1]}, None],
            "s": [{"a": 1, "b": "new"}, {"a": 2, "b": None}],
            "old": ["wrong type", "ignored"],
            "older": [{"z": 1}, None],
            "sp_i": [[0], [1]],
            "sp_v": [[0.5], [1.5]],
        }
    )
    result = ExampleChecks(schema_of(schema)).check(batch)
    assert result.bad.num_rows == 0 and result.good.num_rows == 2
    assert result.new_columns == [
        ColumnAnomaly("extra", "SCHEMA_NEW_COLUMN", 1, "in the data but not in the schema"),
        ColumnAnomaly("s.b", "SCHEMA_NEW_COLUMN", 1, "in the data but not in the schema"),
    ]


def test_struct_fields_are_checked_where_their_parent_is_present() -> None:
    schema = """
      feature {
        name: "s" type: STRUCT
        struct_domain {
          feature { name: "a" type: INT presence { min_fraction: 1 } int_domain { min: 0 } }
          feature { name: "tags" type: BYTES string_domain { value: "t" } }
        }
      }
      feature {
        name: "items" type: STRUCT value_count { max: 2 }
        struct_domain { feature { name: "v" type: FLOAT float_domain { max: 1 } } }
      }
    """
    data = {
        "s": [{"a": 1, "tags": ["t"]}, {"a": None, "tags": []}, None, {"a": -5, "tags": ["u"]}],
        "items": [[{"v": 0.5}], [{"v": 2.0}, {"v": 3.0}], [{"v": 1}, {"v": 1}, {"v": 1}], None],
    }
    good, bad = split(schema, data)
    assert [row["id"] for row in good] == [0]
    assert bad == {
        1: [("s.a", "FEATURE_TYPE_NOT_PRESENT", None), ("items.v", "FLOAT_TYPE_BIG_FLOAT", "2")],
        2: [("items", "FEATURE_TYPE_HIGH_NUMBER_VALUES", "3")],
        3: [
            ("s.a", "INT_TYPE_SMALL_INT", "-5"),
            ("s.tags", "ENUM_TYPE_UNEXPECTED_STRING_VALUES", "u"),
        ],
    }


def test_hostile_values_come_out_as_intact_text() -> None:
    hostile = ['say "hi"', "<script>alert(1)</script>", "line\nbreak\r\n", "\u2028\x00é"]
    schema = 'feature { name: "s" type: BYTES string_domain { value: "ok" } }'
    _, bad = split(schema, {"s": hostile})
    assert [bad[i][0][2] for i in range(4)] == hostile
    raw = [b"\xff", b"a\\xffb", b"\xc3\xa9\\", b"\xed\xa0\x80"]  # the last: a UTF-16 surrogate
    _, bad = split('feature { name: "b" type: INT }', {"b": raw})
    texts = [bad[i][0][2] for i in range(4)]
    assert texts == ["\\xff", "a\\\\xffb", "é\\\\", "\\xed\\xa0\\x80"]
    assert texts == [escape_bytes(b) for b in raw]
    # The escape is reversible.
    assert [t.encode("utf-8").decode("unicode_escape").encode("latin-1") for t in texts[:2]] == [
        b"\xff",
        b"a\\xffb",
    ]


def test_long_values_are_cut() -> None:
    _, bad = split('feature { name: "x" type: INT }', {"x": ["é" * 1000]})
    assert bad[0][0][2] == "é" * MAX_VALUE_CHARS + "\N{HORIZONTAL ELLIPSIS}"


def test_a_data_column_named_reasons_keeps_its_name() -> None:
    batch = pa.RecordBatch.from_pydict({"reasons": ["mine"], "x": [None]})
    schema = schema_of('feature { name: "x" type: INT presence { min_fraction: 1 } }')
    good, bad = check_batch(batch, schema)
    assert bad.schema.names == ["reasons", "x", "reasons_"]
    assert bad.column("reasons").to_pylist() == ["mine"]
    assert good.num_rows == 0


def test_empty_batch() -> None:
    batch = pa.RecordBatch.from_pydict({"x": pa.array([], pa.int64())})
    good, bad = check_batch(batch, schema_of('feature { name: "x" type: INT }'))
    assert (good.num_rows, bad.num_rows) == (0, 0)
    assert good.schema == batch.schema and bad.schema.names == ["x", "reasons"]


def test_a_schema_that_names_an_undefined_string_domain_is_a_schema_problem() -> None:
    """As validation of statistics: reported (TFDV's INVALID_DOMAIN_SPECIFICATION), and the
    rows are checked without the domain (before, the schema was rejected)."""
    schema = schema_of('feature { name: "x" type: BYTES domain: "nowhere" }')
    checks = ExampleChecks(schema)
    assert [(p.feature, p.anomaly) for p in checks.schema_problems] == [
        ("x", "INVALID_DOMAIN_SPECIFICATION")
    ]
    assert "nowhere" in checks.schema_problems[0].description
    assert checks.check(pa.RecordBatch.from_pydict({"x": ["a"]})).good.num_rows == 1


def test_an_environment_the_schema_does_not_name_is_rejected() -> None:
    with pytest.raises(InvalidInputError, match="'SERVNG' is not in the schema"):
        ExampleChecks(schema_of(ENVIRONMENTS), "SERVNG")
    assert ExampleChecks(schema_of(ENVIRONMENTS), "DEBUG").environment == "DEBUG"


def test_matches_a_row_by_row_reference_on_random_data() -> None:
    rng = np.random.default_rng(7)
    n = 5000
    ints = rng.integers(-5, 105, n).tolist()
    ints = [None if rng.random() < 0.05 else v for v in ints]
    lists = [
        None if rng.random() < 0.1 else rng.normal(size=rng.integers(0, 4)).tolist()
        for _ in range(n)
    ]
    words = rng.choice(["a", "b", "c", "zz"], n).tolist()
    schema = """
      feature { name: "i" type: INT presence { min_fraction: 1 } int_domain { min: 0 max: 100 } }
      feature { name: "l" type: FLOAT value_count { min: 1 max: 2 } float_domain { max: 1.5 } }
      feature { name: "w" type: BYTES string_domain { value: "a" value: "b" value: "c" } }
    """
    good, bad = split(schema, {"i": ints, "l": lists, "w": words})

    def reference(row: int) -> list[Reason]:
        reasons: list[Reason] = []
        i, values, w = ints[row], lists[row], words[row]
        if i is None:
            reasons.append(("i", "FEATURE_TYPE_NOT_PRESENT", None))
        elif i < 0:
            reasons.append(("i", "INT_TYPE_SMALL_INT", str(i)))
        elif i > 100:
            reasons.append(("i", "INT_TYPE_BIG_INT", str(i)))
        if values is not None and len(values) < 1:
            reasons.append(("l", "FEATURE_TYPE_LOW_NUMBER_VALUES", "0"))
        if values is not None and len(values) > 2:
            reasons.append(("l", "FEATURE_TYPE_HIGH_NUMBER_VALUES", str(len(values))))
        big = [v for v in values or [] if np.float32(v) > np.float32(1.5)]
        if big:
            reasons.append(
                ("l", "FLOAT_TYPE_BIG_FLOAT", pa.array(big[:1]).cast(pa.string())[0].as_py())
            )
        if w not in ("a", "b", "c"):
            reasons.append(("w", "ENUM_TYPE_UNEXPECTED_STRING_VALUES", w))
        return reasons

    expected = {row: reference(row) for row in range(n) if reference(row)}
    assert bad == expected
    assert 0 < len(bad) < n
    assert [row["id"] for row in good] == [row for row in range(n) if row not in expected]
