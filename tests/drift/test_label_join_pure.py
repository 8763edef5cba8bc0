"""The label join in memory (drift/label_join.py, label_summary.py, label_values.py) against
pandas on the same rows, its merges, and the conversions of predictions, labels and times."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from label_reference import check_summary, make_data, reference

from beam_stats.drift.label_join import join_labels, split_feedback, split_served
from beam_stats.drift.label_summary import RATE_SUMS, LabelJoinAccumulator, LabelJoinSpec
from beam_stats.drift.label_values import as_numbers, as_seconds, group_codes
from beam_stats.errors import InvalidInputError

SPEC = LabelJoinSpec(
    identifier_features=("rid",),
    prediction_feature="score",
    label_feature="clicked",
    served_time_feature="st",
    feedback_time_feature="ft",
    group_features=("country",),
    num_shards=7,
)
SERVED_SCHEMA = pa.schema(
    [("rid", pa.int64()), ("score", pa.float64()), ("st", pa.int64()),
     ("country", pa.string()), ("x", pa.int64())]
)  # fmt: skip
PROBLEMS = (
    "served_duplicate_ids", "served_null_ids", "feedback_duplicate_ids", "orphan_ids",
    "feedback_null_labels", "feedback_null_ids", "predictions_out_of_range",
    "served_null_times", "feedback_null_times",
)  # fmt: skip
FEEDBACK_SCHEMA = pa.schema([("rid", pa.int64()), ("clicked", pa.bool_()), ("ft", pa.int64())])


def batches(rows: list[dict[str, Any]], schema: pa.Schema, size: int) -> list[pa.RecordBatch]:
    return [
        pa.RecordBatch.from_pylist(rows[i : i + size], schema=schema)
        for i in range(0, len(rows), size)
    ]


def rows_frame(rows: list[pa.RecordBatch]) -> pd.DataFrame:
    frame = pa.Table.from_batches(rows).to_pandas()
    return frame.sort_values(["rid", "st", "x"]).reset_index(drop=True)


@pytest.mark.parametrize("seed", [0, 1])
def test_join_matches_pandas(seed: int) -> None:
    served, feedback = make_data(seed)
    ref = reference(served, feedback)
    summary, rows = join_labels(
        batches(served, SERVED_SCHEMA, 97), batches(feedback, FEEDBACK_SCHEMA, 61), SPEC
    )
    check_summary(summary, ref)
    # The data has every kind of problem it claims to have.
    for name in PROBLEMS:
        assert getattr(summary, name) > 0, name
    assert summary.delay.negative > 0
    got = rows_frame(rows)
    assert list(got.columns) == list(ref["rows"].columns)
    pd.testing.assert_frame_equal(got, ref["rows"], check_dtype=False)


def test_every_row_is_accounted_for() -> None:
    served, feedback = make_data(2)
    s, _ = join_labels(
        batches(served, SERVED_SCHEMA, 50), batches(feedback, FEEDBACK_SCHEMA, 50), SPEC
    )
    assert s.served_rows == s.served_null_ids + s.labeled_rows + s.unlabeled_rows
    assert s.feedback_rows == (
        s.feedback_null_ids + s.orphan_rows + s.labeled_ids + s.feedback_unused_rows
    )
    assert s.served_ids == s.labeled_ids + s.unlabeled_ids
    assert s.overall.served_rows == s.served_rows
    assert sum(b.rates.served_rows for b in s.calibration) == s.overall.predicted_rows
    assert sum(g.rates.served_rows for g in s.groups) == s.served_rows


@pytest.mark.parametrize(("served_size", "feedback_size", "shards"), [(1, 1000, 1), (13, 7, 64)])
def test_the_split_does_not_change_the_answer(
    served_size: int, feedback_size: int, shards: int
) -> None:
    served, feedback = make_data(3, served_ids=150)
    base, base_rows = join_labels(
        batches(served, SERVED_SCHEMA, 1000), batches(feedback, FEEDBACK_SCHEMA, 1000), SPEC
    )
    spec = LabelJoinSpec(**{**SPEC.__dict__, "num_shards": shards})
    rng = np.random.default_rng(shards)
    feedback = [feedback[i] for i in rng.permutation(len(feedback))]
    other, other_rows = join_labels(
        batches(served, SERVED_SCHEMA, served_size),
        batches(feedback, FEEDBACK_SCHEMA, feedback_size),
        spec,
    )
    for name in (f.name for f in other.DESCRIPTOR.fields if f.type == f.TYPE_UINT64):
        assert getattr(other, name) == getattr(base, name), name
    assert list(other.delay.quantiles) == list(base.delay.quantiles)
    for a, b in zip(other.calibration, base.calibration, strict=True):
        for name in RATE_SUMS:
            assert getattr(a.rates, name) == pytest.approx(getattr(b.rates, name)), name
    pd.testing.assert_frame_equal(rows_frame(other_rows), rows_frame(base_rows))


def test_accumulators_merge_and_round_trip_through_the_proto() -> None:
    served, feedback = make_data(4, served_ids=120)
    whole, _ = join_labels(
        batches(served, SERVED_SCHEMA, 40), batches(feedback, FEEDBACK_SCHEMA, 40), SPEC
    )
    merged = LabelJoinAccumulator(SPEC)
    for batch in batches(served, SERVED_SCHEMA, 40):
        found, _ = split_served(batch, SPEC)
        if found is not None:
            merged.merge(LabelJoinAccumulator.from_proto(found.to_proto(), SPEC))
    for batch in batches(feedback, FEEDBACK_SCHEMA, 40):
        found, _ = split_feedback(batch, SPEC)
        merged.merge(LabelJoinAccumulator.from_proto(found.to_proto(), SPEC))
    # The split parts alone count what needs no join, exactly.
    assert merged.to_proto().served_null_ids == whole.served_null_ids
    assert merged.to_proto().feedback_null_labels == whole.feedback_null_labels
    again = LabelJoinAccumulator.from_proto(whole, SPEC).to_proto()
    assert again.SerializeToString(deterministic=True) == whole.SerializeToString(
        deterministic=True
    )


def test_identity_and_empty_input() -> None:
    summary, rows = join_labels([], [], SPEC)
    assert rows == [] and summary.served_rows == 0 and summary.delay.count == 0
    assert math.isnan(summary.coverage) and math.isnan(summary.overall.label_rate)
    assert all(math.isnan(q) for q in summary.delay.quantiles)


def test_missing_columns_are_nulls_and_the_label_name_is_not_lost() -> None:
    served = pa.RecordBatch.from_pylist([{"rid": "a", "clicked": 5}, {"rid": "b", "clicked": 6}])
    feedback = pa.RecordBatch.from_pylist([{"rid": "a", "clicked": 1}, {"rid": "c"}])
    spec = LabelJoinSpec(identifier_features="rid", prediction_feature="p", label_feature="clicked")
    summary, rows = join_labels([served], [feedback], spec)
    assert summary.served_null_predictions == 2 and summary.feedback_null_labels == 1
    assert summary.orphan_ids == 1 and summary.labeled_rows == 1
    (batch,) = rows
    assert batch.to_pylist() == [{"rid": "a", "clicked (served)": 5, "clicked": 1}]
    assert not summary.HasField("delay")


def test_ids_of_several_features_and_of_lists_of_one_value() -> None:
    served = pa.RecordBatch.from_pydict(
        {"u": [[1], [1], [2]], "d": ["x", "y", "x"], "score": [[0.2], [0.4], [0.6]]}
    )
    feedback = pa.RecordBatch.from_pydict({"u": [1, 2, 2], "d": ["y", "x", "y"], "y": [1, 0, 1]})
    spec = LabelJoinSpec(identifier_features=("u", "d"), prediction_feature="score",
                         label_feature="y")  # fmt: skip
    summary, rows = join_labels([served], [feedback], spec)
    assert (summary.labeled_ids, summary.orphan_ids, summary.unlabeled_ids) == (2, 1, 1)
    assert summary.overall.compared_prediction_sum == pytest.approx(1.0)
    assert sorted(r["y"] for b in rows for r in b.to_pylist()) == [0, 1]


def test_numbers_of_every_kind() -> None:
    text = pa.array([" 0.25", "1e-3", "TRUE", "false", "nan", "abc", None, "", "-3"])
    values, null, bad = as_numbers(text)
    expected = [0.25, 1e-3, 1.0, 0.0, math.nan, math.nan, math.nan, math.nan, -3.0]
    np.testing.assert_array_equal(values, expected)
    assert null.tolist() == [False] * 4 + [True, False, True, False, False]
    assert bad.tolist() == [False] * 5 + [True, False, True, False]
    listed = pa.array([[1.5], [], [1.0, 2.0], None])
    values, null, bad = as_numbers(listed)
    np.testing.assert_array_equal(values, [1.5, math.nan, math.nan, math.nan])
    assert null.tolist() == [False, True, False, True] and bad.tolist() == [0, 0, 1, 0]
    values, null, bad = as_numbers(pa.array([{"a": 1}, None]))
    assert bad.tolist() == [True, False] and null.tolist() == [False, True]
    values, _, _ = as_numbers(pa.array([True, False, None]).dictionary_encode())
    np.testing.assert_array_equal(values, [1.0, 0.0, math.nan])


def test_times_of_every_kind() -> None:
    t0 = 1_714_557_600.0  # 2024-05-01T10:00:00Z
    strings = pa.array(["2024-05-01T10:00:00Z", "2024-05-01 12:00:00.5+02:00",
                        "2024-05-01T10:00:01", "2024-05-01", "soon", None])  # fmt: skip
    seconds, null, bad = as_seconds(strings)
    np.testing.assert_array_equal(seconds[:4], [t0, t0 + 0.5, t0 + 1, t0 - 36_000])
    assert null.tolist() == [False] * 5 + [True] and bad.tolist() == [False] * 4 + [True, False]
    stamps = pa.array([int(t0 * 1000), None], pa.timestamp("ms", "Europe/Paris"))
    np.testing.assert_array_equal(as_seconds(stamps)[0], [t0, math.nan])
    np.testing.assert_array_equal(as_seconds(pa.array([t0, 5.0]))[0], [t0, 5.0])
    dates = pa.array([19844], pa.date32())  # 2024-05-01
    np.testing.assert_array_equal(as_seconds(dates)[0], [t0 - 36_000])


def test_group_codes() -> None:
    codes, names = group_codes(pa.array([["a"], ["b"], None, ["a", "b"], ["a"]]))
    assert [None if c < 0 else names[c] for c in codes] == ["a", "b", None, None, "a"]
    codes, names = group_codes(pa.array([1.0, -0.0, 0.0, math.nan]))
    assert [None if c < 0 else names[c] for c in codes] == ["1.0", "0.0", "0.0", None]
    codes, names = group_codes(pa.array([b"\xff"]))
    assert names == ["\\xff"]


def test_too_many_groups_is_an_error_naming_the_feature() -> None:
    served = pa.RecordBatch.from_pydict({"rid": [1, 2, 3], "g": ["a", "b", "c"]})
    spec = LabelJoinSpec(identifier_features="rid", prediction_feature="p", label_feature="y",
                         group_features=("g",), max_groups=2)  # fmt: skip
    with pytest.raises(InvalidInputError, match="'g' has more than 2"):
        join_labels([served], [], spec)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"identifier_features": ()}, "identifier features"),
        ({"served_time_feature": None}, "both the served and the feedback"),
        ({"prediction_range": (1.0, 0.0)}, "prediction_range"),
        ({"calibration_buckets": 0}, "calibration_buckets must be >= 1"),
        ({"delay_ranks": (0.5, 2.0)}, "delay_ranks"),
        ({"group_features": ("g", "g")}, "repeat"),
        ({"label_feature": ""}, "label_feature"),
    ],
)
def test_bad_specs_are_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        LabelJoinSpec(**{**SPEC.__dict__, **change})
