"""Merging: the three-way check and the algebra (identity, commutativity, associativity)."""

from __future__ import annotations

import collections
import math

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from proto_compare import assert_close, plain
from test_feature import check_rank, make_table

from beam_stats.errors import IncompatibleMergeError
from beam_stats.proto import sketches_pb2
from beam_stats.sketches import QuantilesSpec
from beam_stats.stats import DatasetAccumulator, StatisticsSpec

SPEC = StatisticsSpec()


def accumulate(batches: list[pa.RecordBatch], spec: StatisticsSpec = SPEC) -> DatasetAccumulator:
    accumulator = DatasetAccumulator(spec)
    accumulator.add_all(batches)
    return accumulator


def round_trip(accumulator: DatasetAccumulator) -> DatasetAccumulator:
    wire = accumulator.to_proto().SerializeToString()
    return DatasetAccumulator.from_proto(
        sketches_pb2.DatasetState.FromString(wire), accumulator.spec
    )


def merged(parts: list[DatasetAccumulator]) -> DatasetAccumulator:
    total = DatasetAccumulator(SPEC)
    for part in parts:
        total.merge(part)
    return total


def exact_part(accumulator: DatasetAccumulator) -> dict[str, object]:
    """The statistics that must agree exactly (up to float rounding) however data is split."""
    out: dict[str, object] = {}
    for feature in accumulator.result().features:
        kind = feature.WhichOneof("stats")
        stats = getattr(feature, kind)
        common = plain(stats.common_stats)
        common.pop("num_values_histogram", None)
        entry: dict[str, object] = {"type": feature.type, "common": common}
        if kind == "num_stats":
            entry.update(
                {f: getattr(stats, f) for f in ("mean", "std_dev", "min", "max")},
                num_zeros=stats.num_zeros,
            )
        if kind == "string_stats":
            entry.update(avg_length=stats.avg_length, invalid=stats.invalid_utf8_count)
        out[".".join(feature.path.step)] = entry
    return out


@pytest.fixture(scope="module")
def batches() -> list[pa.RecordBatch]:
    return make_table(seed=1, n=12_000).to_batches(max_chunksize=1000)


def test_three_way_check(batches: list[pa.RecordBatch]) -> None:
    one = accumulate(batches)
    per_batch = merged([accumulate([b]) for b in batches])
    via_proto = merged([round_trip(accumulate([b])) for b in batches])
    assert_close(exact_part(one), exact_part(per_batch))
    assert_close(exact_part(one), exact_part(via_proto))
    # Sketched statistics: each answer within its own bound of the truth.
    table = pa.Table.from_batches(batches)
    values = table["float"].to_numpy(zero_copy_only=False)
    finite = np.sort(values[np.isfinite(values)])
    for accumulator in (one, per_batch, via_proto):
        stats = accumulator.result()
        feature = next(f for f in stats.features if f.path.step == ["float"])
        eps = next(c.num for c in feature.custom_stats if c.name == "quantiles_rank_error")
        check_rank(finite, feature.num_stats.median, 0.5, eps)
        low = next(f for f in stats.features if f.path.step == ["low"])
        counts = collections.Counter(v for v in table["low"].to_pylist() if v is not None)
        assert [(t.value, t.frequency) for t in low.string_stats.top_values] == sorted(
            counts.items(),
            key=lambda kv: (kv[1], kv[0]),
            reverse=True,  # TFDV's order
        )
        ids = next(f for f in stats.features if f.path.step == ["id"])
        rse = SPEC.distinct.relative_standard_error
        assert abs(ids.string_stats.unique - table.num_rows) <= 4 * rse * table.num_rows
    # HLL registers are a max per register: identical whatever the split.
    assert [f.string.distinct for f in one.to_proto().features] == [
        f.string.distinct for f in via_proto.to_proto().features
    ]


def test_merge_with_different_settings_fails() -> None:
    other = StatisticsSpec(quantiles=QuantilesSpec(capacity=1024))
    with pytest.raises(IncompatibleMergeError, match="settings"):
        DatasetAccumulator(SPEC).merge(DatasetAccumulator(other))
    with pytest.raises(IncompatibleMergeError):
        DatasetAccumulator.from_proto(DatasetAccumulator(other).to_proto(), SPEC)


# Small tables keep every sketch in its exact mode (fewer values than KLL's k, fewer distinct
# values than the frequent-items capacity), so whole results must agree, not just bounds.
_rows = st.lists(
    st.fixed_dictionaries(
        {
            "f": st.one_of(st.none(), st.floats(-1e6, 1e6), st.just(float("nan"))),
            "i": st.one_of(st.none(), st.integers(-(2**40), 2**40)),
            "s": st.one_of(st.none(), st.sampled_from(["a", "b", "cc", "", "é"])),
            "l": st.one_of(st.none(), st.lists(st.integers(0, 9), max_size=4)),
        }
    ),
    max_size=40,
)
_SCHEMA = pa.schema(
    {"f": pa.float64(), "i": pa.int64(), "s": pa.string(), "l": pa.list_(pa.int64())}
)


def _acc(rows: list[dict[str, object]]) -> DatasetAccumulator:
    return accumulate([pa.RecordBatch.from_pylist(rows, schema=_SCHEMA)])


def _result(accumulator: DatasetAccumulator) -> object:
    return plain(accumulator.result(include_state=False))


@settings(max_examples=40, deadline=None)
@given(_rows, _rows, _rows)
def test_merge_algebra(a: list, b: list, c: list) -> None:
    whole = _result(_acc(a + b + c))
    # Float sums are exact to about 1e-16 of the largest value: a mean of 154.6 from values
    # near 2**40 that cancel (Chan's merge of partial means) is off by ~2e-5 (hypothesis).
    numbers = [abs(r[k]) for r in a + b + c for k in ("f", "i") if r.get(k) is not None]
    numbers = [x for x in numbers if math.isfinite(x)]
    tolerance = max(1e-6, 1e-13 * max(numbers, default=0.0))
    ab = _acc(a)
    ab.merge(_acc(b))
    ba = _acc(b)
    ba.merge(_acc(a))
    assert_close(_result(ab), _result(ba), abs_=tolerance)  # commutative
    left = _acc(a)
    left.merge(_acc(b))
    left.merge(_acc(c))
    bc = _acc(b)
    bc.merge(_acc(c))
    right = _acc(a)
    right.merge(bc)
    assert_close(_result(left), _result(right), abs_=tolerance)  # associative
    assert_close(_result(left), whole, abs_=tolerance)  # and equal to the union's
    identity = _acc(a)
    identity.merge(DatasetAccumulator(SPEC))
    assert_close(_result(identity), _result(_acc(a)))
    assert_close(_result(round_trip(_acc(a))), _result(_acc(a)))
