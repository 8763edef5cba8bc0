"""Top values and rank histograms written as wire bytes (stats/string_reports.py report_bytes):
the message of one protobuf ``.add()`` per value, for one feature or many at once, for
``string_stats`` and ``weighted_string_stats``, and in a report of weighted and categorical
int features (ties as numbers), values computed here with plain Python."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pyarrow as pa
import pytest
from google.protobuf.message import Message
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.stats import StatisticsSpec, generate_statistics_from_table
from beam_stats.stats.string_reports import (
    STRING_FIELDS,
    WEIGHTED_FIELDS,
    ReportFields,
    report_bytes,
)

MESSAGES = [
    (STRING_FIELDS, statistics_pb2.StringStatistics),
    (WEIGHTED_FIELDS, statistics_pb2.WeightedStringStatistics),
]


def added(message: type[Message], pairs: list[tuple[str, float]], top: int, rank: int) -> Message:
    """The message of one ``.add()`` per top value and per bucket, the histogram present."""
    msg = message()
    for value, frequency in pairs[:top]:
        msg.top_values.add(value=value, frequency=frequency)  # type: ignore[attr-defined]
    msg.rank_histogram.SetInParent()  # type: ignore[attr-defined]
    for i, (label, count) in enumerate(pairs[:rank]):
        msg.rank_histogram.buckets.add(  # type: ignore[attr-defined]
            low_rank=i, high_rank=i, label=label, sample_count=count
        )
    return msg


FEATURES: list[list[tuple[bytes, float]]] = [
    [(b"b", 3.0), (b"a", 3.0), (b"\xff\xfe", 1.5), (b"caf\xc3\xa9", 1.0), (b"", 0.0)],
    [],  # an empty feature: no top value, the histogram present and empty
    [(b"x" * 200, 0.25)],
    [(b"\xc3", 7.0), (b"y", 2.0)],
]


@pytest.mark.parametrize(("fields", "message"), MESSAGES)
@pytest.mark.parametrize(("top", "rank"), [(0, 0), (2, 3), (3, 1), (20, 1000)])
def test_one_feature_and_many_are_the_messages_of_add_calls(
    fields: ReportFields, message: type[Message], top: int, rank: int
) -> None:
    texts = [[value.decode("utf-8", "backslashreplace") for value, _ in f] for f in FEATURES]
    counts = [[count for _, count in f] for f in FEATURES]
    together = report_bytes(
        pa.array([t for f in texts for t in f], type=pa.string()),
        np.array([c for f in counts for c in f], dtype=np.float64),
        [len(f) for f in FEATURES],
        top,
        rank,
        fields,
    )
    assert len(together) == len(FEATURES)
    for feature_texts, feature_counts, data in zip(texts, counts, together, strict=True):
        (alone,) = report_bytes(
            pa.array(feature_texts, type=pa.string()),
            np.array(feature_counts, dtype=np.float64),
            [len(feature_texts)],
            top,
            rank,
            fields,
        )
        assert alone == data
        got = message.FromString(data)
        want = added(message, list(zip(feature_texts, feature_counts, strict=True)), top, rank)
        assert got.SerializeToString() == want.SerializeToString()
        assert got.HasField("rank_histogram")


def _ordered(
    values: list[object], weights: list[float] | None, numeric: bool
) -> list[tuple[str, float]]:
    """(text, count or total weight) by count descending, ties by value descending (as numbers
    if `numeric`, else as bytes), texts decoded with backslash escapes."""
    totals: dict[object, float] = defaultdict(float)
    for i, value in enumerate(values):
        totals[value] += 1.0 if weights is None else weights[i]
    pairs = sorted(totals.items(), key=lambda p: (p[1], p[0]), reverse=True)

    def text(value: object) -> str:
        return str(value) if numeric else value.decode("utf-8", "backslashreplace")  # type: ignore[attr-defined]

    return [(text(value), total) for value, total in pairs]


def test_weighted_and_categorical_int_reports_are_the_messages_of_add_calls() -> None:
    """Through a feature's report: a binary feature with invalid UTF-8 values and ties, and a
    categorical int whose ties order differently as numbers and as text, both weighted."""
    values = [b"a", b"\xff", b"caf\xc3\xa9", b"a", b"\xff", b"z", b"caf\xc3\xa9", b"q"]
    codes = [9, 10, 100, -5, 9, 10, 100, 7]
    weights = [1.0, 0.5, 2.0, 0.5, 1.0, 0.25, 0.25, 0.75]  # sums exact in float64
    table = pa.table({"b": pa.array(values, type=pa.binary()), "code": codes, "w": weights})
    top, rank = 2, 4
    spec = StatisticsSpec(
        weight_feature="w",
        categorical_features=["code"],
        num_top_values=top,
        num_rank_histogram_buckets=rank,
    )
    stats = generate_statistics_from_table(table, spec).datasets[0]
    for name, column, numeric in (("b", values, False), ("code", codes, True)):
        got = next(f.string_stats for f in stats.features if f.path.step == [name])
        want = added(statistics_pb2.StringStatistics, _ordered(column, None, numeric), top, rank)
        weighted = added(
            statistics_pb2.WeightedStringStatistics, _ordered(column, weights, numeric), top, rank
        )
        want.weighted_string_stats.CopyFrom(weighted)  # type: ignore[attr-defined]
        for field, _ in got.ListFields():
            if field.name not in ("top_values", "rank_histogram", "weighted_string_stats"):
                got.ClearField(field.name)
        assert got.SerializeToString() == want.SerializeToString(), name
    # The orders these reports check: ties as numbers, ties as bytes, an escaped value.
    assert [v for v, _ in _ordered(codes, None, True)][:3] == ["100", "10", "9"]
    assert [v for v, _ in _ordered(codes, weights, True)][2:4] == ["10", "7"]
    assert [v for v, _ in _ordered(values, weights, False)][:3] == ["café", "\\xff", "a"]
