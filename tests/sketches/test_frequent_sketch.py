"""Tests of beam_stats.sketches.frequent (mergeable Misra-Gries)."""

from __future__ import annotations

import collections
import pickle
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beam_stats.errors import DeserializationError, IncompatibleMergeError, InvalidInputError
from beam_stats.proto import sketches_pb2
from beam_stats.sketches import FrequentItemsAccumulator, FrequentItemsSpec

ALPHABET = [f"v{i}" for i in range(25)] + ["", "é", "a\x00b"]
words = st.lists(st.sampled_from(ALPHABET) | st.text(max_size=2), max_size=80)
capacities = st.integers(1, 12)


def sketch(values: list[str], capacity: int) -> FrequentItemsAccumulator:
    acc = FrequentItemsSpec(capacity=capacity).create()
    acc.add(pa.array(values, type=pa.string()))
    return acc


def listed(acc: FrequentItemsAccumulator) -> dict[bytes, float]:
    return {v: lo for v, lo, _ in acc.result(acc.spec.capacity)}


def assert_within_bounds(acc: FrequentItemsAccumulator, data: list[str]) -> None:
    """The Misra-Gries guarantees of the module docstring, against exact counts."""
    true = collections.Counter(v.encode() for v in data)
    lower = listed(acc)
    assert acc.total == len(data)
    assert len(lower) <= acc.spec.capacity
    for value in set(true) | set(lower):
        assert true[value] - acc.offset <= lower.get(value, 0.0) <= true[value], value
    assert acc.offset <= (acc.total - sum(lower.values())) / (acc.spec.capacity + 1)
    for _, lo, hi in acc.result(acc.spec.capacity):
        assert hi == lo + acc.offset


@pytest.mark.parametrize("bad", [0, -3, True, 2.5, "8"])
def test_spec_rejects_bad_capacity(bad: object) -> None:
    with pytest.raises(InvalidInputError, match=repr(bad) if isinstance(bad, str) else str(bad)):
        FrequentItemsSpec(capacity=bad)  # type: ignore[arg-type]


def test_empty() -> None:
    acc = FrequentItemsSpec().create()
    acc.add(pa.array([], pa.string()))
    acc.add(pa.array([None], pa.string()))
    acc.add(pa.array([None, None]))  # Arrow type null
    assert acc.is_empty
    assert acc.result(10) == []
    assert (acc.offset, acc.total, acc.max_error) == (0.0, 0.0, 0.0)


def test_exact_when_distinct_within_capacity() -> None:
    rng = np.random.default_rng(1)
    data = rng.choice([f"c{i}" for i in range(50)], size=10_000, p=np.arange(1, 51) / 1275)
    acc = FrequentItemsSpec(capacity=50).create()
    for batch in np.array_split(data, 7):
        acc.add(pa.array(batch))
    values, counts = np.unique(data, return_counts=True)
    order = np.lexsort((values, counts))[::-1]  # count descending, then value descending
    expected = [(values[i].encode(), float(counts[i]), float(counts[i])) for i in order]
    assert acc.offset == 0.0
    assert acc.result(100) == expected
    assert acc.result(3) == expected[:3]


def test_bounds_on_skewed_data_with_many_distinct_values() -> None:
    rng = np.random.default_rng(2)
    data = [f"z{x}" for x in rng.zipf(1.3, size=50_000)]
    acc = FrequentItemsSpec(capacity=64).create()
    for start in range(0, len(data), 4096):
        acc.add(pa.array(data[start : start + 4096]))
    assert acc.offset > 0
    assert_within_bounds(acc, data)
    top = collections.Counter(data).most_common(5)
    assert [v for v, _, _ in acc.result(5)] == [v.encode() for v, _ in top]


def test_all_unique_column_still_reports_values() -> None:
    data = [f"id-{i:05d}" for i in range(10_000)]
    acc = FrequentItemsSpec(capacity=16).create()
    for start in range(0, len(data), 1000):
        acc.add(pa.array(data[start : start + 1000][::-1]))
    top = acc.result(5)
    # Each batch's values outrank the zero counts left by earlier reductions; among equal
    # counts the byte-wise largest win (as in TFDV), so the state holds the last batch's
    # largest values.
    assert [v for v, _, _ in top] == [f"id-{i:05d}".encode() for i in range(9999, 9994, -1)]
    assert all(lo == 0.0 and hi == acc.offset for _, lo, hi in top)
    assert len(acc.result(100)) == 16
    assert_within_bounds(acc, data)


def test_reduction_ties_break_by_largest_value() -> None:
    acc = FrequentItemsSpec(capacity=2).create()
    acc.add_counts(pa.array(["c", "a", "b", "d"]), np.array([1.0, 1.0, 1.0, 5.0]))
    assert acc.result(5) == [(b"d", 4.0, 5.0), (b"c", 0.0, 1.0)]
    assert acc.offset == 1.0
    assert acc.total == 8.0


def test_input_types_agree() -> None:
    data = ["x", "y", None, "x", "é", ""]
    expected = sketch([v for v in data if v is not None], 3)
    for arr in (
        pa.array(data, pa.string()),
        pa.array(data, pa.large_string()),
        pa.array(data, pa.string_view()),
        pa.array([None if v is None else v.encode() for v in data], pa.binary()),
        pa.array([None if v is None else v.encode() for v in data], pa.large_binary()),
        pa.array(data).dictionary_encode(),
        pa.chunked_array([data[:2], data[2:]]),
    ):
        acc = FrequentItemsSpec(capacity=3).create()
        acc.add(arr)
        assert acc == expected, arr.type


def test_dictionary_with_repeated_and_null_entries() -> None:
    dictionary = pa.array(["a", "b", "a", None, "c"])
    arr = pa.DictionaryArray.from_arrays(pa.array([0, 2, 1, 3, None, 2], pa.int32()), dictionary)
    acc = FrequentItemsSpec().create()
    acc.add(arr)
    assert acc.result(5) == [(b"a", 3.0, 3.0), (b"b", 1.0, 1.0)]


def test_add_counts_matches_add_and_drops_zero_weights() -> None:
    data = pa.array(["p", "q", "p", "r", None, "p"])
    by_add = sketch(["p", "q", "p", "r", "p"], 10)
    encoded = pc.dictionary_encode(data.drop_null())
    counts = np.bincount(encoded.indices.to_numpy(), minlength=len(encoded.dictionary))
    by_counts = FrequentItemsSpec(capacity=10).create()
    by_counts.add_counts(encoded.dictionary, counts.astype(np.float64))
    by_counts.add_counts(pa.array(["never"]), np.array([0.0]))
    assert by_counts == by_add
    assert b"never" not in listed(by_counts)


def test_weighted_counts() -> None:
    acc = FrequentItemsSpec(capacity=4).create()
    acc.add_counts(pa.array([b"a", b"b"]), np.array([0.5, 2.25]))
    acc.add_counts(pa.array([b"b"]), np.array([0.25]))
    assert acc.result(2) == [(b"b", 2.5, 2.5), (b"a", 0.5, 0.5)]
    assert acc.total == 3.0


@pytest.mark.parametrize(
    ("values", "counts", "match"),
    [
        (pa.array(["a", None]), [1.0, 1.0], "null"),
        (pa.array(["a", "b"]), [1.0], "2 values but 1 counts"),
        (pa.array(["a"]), [-1.0], "finite and >= 0"),
        (pa.array(["a"]), [np.nan], "finite and >= 0"),
        (pa.array([1, 2]), [1.0, 1.0], "int64"),
    ],
)
def test_add_counts_rejects_bad_input(values: pa.Array, counts: list[float], match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        FrequentItemsSpec().create().add_counts(values, np.array(counts))


def test_result_rejects_negative_k_and_merge_rejects_other_capacity() -> None:
    with pytest.raises(InvalidInputError, match="-1"):
        FrequentItemsSpec().create().result(-1)
    with pytest.raises(IncompatibleMergeError, match="2048 and 8"):
        FrequentItemsSpec().create().merge(FrequentItemsSpec(capacity=8).create())


@settings(max_examples=80, deadline=None)
@given(a=words, capacity=capacities)
def test_merge_identity(a: list[str], capacity: int) -> None:
    left = FrequentItemsSpec(capacity=capacity).create()
    left.merge(sketch(a, capacity))
    right = sketch(a, capacity)
    right.merge(FrequentItemsSpec(capacity=capacity).create())
    assert left == sketch(a, capacity) == right


@settings(max_examples=80, deadline=None)
@given(a=words, b=words, capacity=capacities)
def test_merge_commutative_exactly(a: list[str], b: list[str], capacity: int) -> None:
    ab = sketch(a, capacity)
    ab.merge(sketch(b, capacity))
    ba = sketch(b, capacity)
    ba.merge(sketch(a, capacity))
    assert ab == ba
    assert ab.to_proto() == ba.to_proto()


@settings(max_examples=80, deadline=None)
@given(a=words, b=words, c=words, capacity=capacities)
def test_merge_associative(a: list[str], b: list[str], c: list[str], capacity: int) -> None:
    ab_c = sketch(a, capacity)
    ab_c.merge(sketch(b, capacity))
    ab_c.merge(sketch(c, capacity))
    bc = sketch(b, capacity)
    bc.merge(sketch(c, capacity))
    a_bc = sketch(a, capacity)
    a_bc.merge(bc)
    assert_within_bounds(ab_c, a + b + c)
    assert_within_bounds(a_bc, a + b + c)
    if len(set(a + b + c)) <= capacity:
        assert ab_c == a_bc == sketch(a + b + c, capacity)


@settings(max_examples=80, deadline=None)
@given(a=words, b=words, capacity=capacities)
def test_merge_matches_sketch_of_concatenation(a: list[str], b: list[str], capacity: int) -> None:
    merged = sketch(a, capacity)
    merged.merge(sketch(b, capacity))
    assert_within_bounds(merged, a + b)
    if len(set(a + b)) <= capacity:
        assert merged == sketch(a + b, capacity)


@settings(max_examples=80, deadline=None)
@given(batches=st.lists(words, max_size=5), capacity=capacities)
def test_one_accumulator_vs_merged_batches_vs_round_trip(
    batches: list[list[str]], capacity: int
) -> None:
    spec = FrequentItemsSpec(capacity=capacity)
    single = spec.create()
    merged = spec.create()
    for batch in batches:
        single.add(pa.array(batch, pa.string()))
        merged.merge(sketch(batch, capacity))
    restored = FrequentItemsAccumulator.from_proto(merged.to_proto())
    data = [v for batch in batches for v in batch]
    assert restored == merged
    assert_within_bounds(single, data)
    assert_within_bounds(merged, data)
    if len(set(data)) <= capacity:
        assert single == merged


@settings(max_examples=80, deadline=None)
@given(a=words, capacity=capacities)
def test_proto_and_pickle_round_trip(a: list[str], capacity: int) -> None:
    acc = sketch(a, capacity)
    msg = acc.to_proto()
    assert list(msg.values) == [v for v, _, _ in acc.result(capacity)]
    wire = sketches_pb2.FrequentItemsState.FromString(msg.SerializeToString())
    assert FrequentItemsAccumulator.from_proto(wire) == acc
    assert pickle.loads(pickle.dumps(acc)) == acc


@settings(max_examples=60, deadline=None)
@given(a=words, capacity=capacities)
def test_state_written_in_place_is_the_message_of_its_fields(a: list[str], capacity: int) -> None:
    """write() (the values and the packed counts parsed at once, into a field of a larger
    message) gives the message set field by field, present even when empty."""
    acc = sketch(a, capacity)
    values, lowers = acc.top_arrays(capacity)
    want = sketches_pb2.FrequentItemsState(
        capacity=capacity,
        values=values.to_pylist(),
        counts=lowers.tolist(),
        offset=acc.offset,
        total=acc.total,
    )
    outer = sketches_pb2.StringState()
    acc.write(outer.top_values)
    assert outer.HasField("top_values")
    assert outer.top_values.SerializeToString() == want.SerializeToString()
    assert acc.to_proto() == want


def _state(**changes: Any) -> sketches_pb2.FrequentItemsState:
    fields: dict[str, Any] = {
        "capacity": 2,
        "values": [b"a", b"b"],
        "counts": [2.0, 1.0],
        "offset": 0.0,
        "total": 3.0,
    }
    fields.update(changes)
    return sketches_pb2.FrequentItemsState(**fields)


def test_from_proto_accepts_valid_state() -> None:
    acc = FrequentItemsAccumulator.from_proto(_state())
    assert acc.result(2) == [(b"a", 2.0, 2.0), (b"b", 1.0, 1.0)]


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"capacity": 0}, "capacity"),
        ({"counts": [2.0]}, "2 values but 1 counts"),
        ({"values": [b"a", b"b", b"c"], "counts": [1.0, 1.0, 1.0]}, "capacity 2"),
        ({"values": [b"a", b"a"]}, "twice"),
        ({"counts": [2.0, -1.0]}, ">= 0"),
        ({"counts": [2.0, float("inf")]}, ">= 0"),
        ({"offset": float("nan")}, ">= 0"),
        ({"total": -1.0}, ">= 0"),
    ],
)
def test_from_proto_rejects_corrupt_state(changes: dict[str, Any], match: str) -> None:
    with pytest.raises(DeserializationError, match=match):
        FrequentItemsAccumulator.from_proto(_state(**changes))


def pandas_top(data: list[str]) -> list[tuple[bytes, float, float]]:
    """Exact counts by pandas, ordered as TFDV orders them: count, then value, descending."""
    counts = pd.Series([v.encode() for v in data], dtype=object).value_counts()
    frame = pd.DataFrame({"v": counts.index, "c": counts.to_numpy()})
    frame = frame.sort_values(["c", "v"], ascending=False, kind="stable")
    return [(v, float(c), float(c)) for v, c in zip(frame["v"], frame["c"], strict=True)]


@settings(max_examples=80, deadline=None)
@given(data=st.data(), a=st.lists(st.sampled_from(ALPHABET[:12]), max_size=120))
def test_exact_and_order_free_below_capacity(data: st.DataObject, a: list[str]) -> None:
    """Fewer distinct values than the capacity: exact counts, in TFDV's order, and the same
    state bytes whatever the batches and the merge tree."""
    capacity = data.draw(st.integers(max(len(set(a)), 1), 14))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(a)), max_size=5)))
    parts = [sketch(a[i:j], capacity) for i, j in zip([0, *cuts], [*cuts, len(a)], strict=True)]
    while len(parts) > 1:  # merge a random pair, in a random order, until one is left
        i = data.draw(st.integers(0, len(parts) - 1))
        left = parts.pop(i)
        right = parts.pop(data.draw(st.integers(0, len(parts) - 1)))
        left.merge(right)
        parts.append(left)
    merged = parts[0]
    assert merged.offset == 0.0
    assert merged.result(capacity) == pandas_top(a)
    single = sketch(a, capacity)
    assert merged.to_proto().SerializeToString() == single.to_proto().SerializeToString()


def test_ties_by_value_descending_bytes_or_numbers() -> None:
    acc = FrequentItemsSpec(capacity=10).create()
    acc.add(pa.array(["9", "10", "-3", "10", "9", "b", "a", "-3"]))
    # Bytes: "9" > "10" > "-3"; the ones with count 1 follow, "b" before "a".
    assert [v for v, _, _ in acc.result(10)] == [b"9", b"10", b"-3", b"b", b"a"]
    numbers = FrequentItemsSpec(capacity=10).create()
    numbers.add(pa.array(["9", "10", "-3", "10", "9", "-3", "7"]))
    assert [v for v, _, _ in numbers.result(10, numeric=True)] == [b"10", b"9", b"-3", b"7"]
    # A value that is not a number: ties fall back to bytes.
    assert [v for v, _, _ in acc.result(10, numeric=True)] == [b"9", b"10", b"-3", b"b", b"a"]


def exact_order(values: list[str]) -> list[tuple[bytes, float]]:
    """Count descending, then the value's bytes descending, counted with pandas."""
    counts = pd.Series([v.encode() for v in values]).value_counts()
    pairs = [(v, float(c)) for v, c in counts.items()]
    return sorted(pairs, key=lambda p: (p[1], p[0]), reverse=True)


@settings(max_examples=50, deadline=None)
@given(words, words)
def test_results_after_to_proto_and_more_adds_are_fresh(a: list[str], b: list[str]) -> None:
    """The state is kept in result order once sorted for to_proto; values added later (new
    ones, and counts that overtake) are sorted in again."""
    acc = sketch(a, 64)  # capacity above the alphabet: exact
    acc.to_proto()
    assert [(v, c) for v, c, _ in acc.result(100)] == exact_order(a)
    acc.add(pa.array(b, type=pa.string()))
    assert [(v, c) for v, c, _ in acc.result(100)] == exact_order(a + b)
    fresh = sketch(a + b, 64)
    assert acc.to_proto() == fresh.to_proto()


def test_from_proto_of_a_state_out_of_order_is_sorted() -> None:
    """A state listed in another order (any writer may) is reported in result order."""
    msg = sketches_pb2.FrequentItemsState(
        capacity=8, values=[b"a", b"c", b"b"], counts=[1.0, 3.0, 2.0], total=6.0
    )
    acc = FrequentItemsAccumulator.from_proto(msg)
    assert [(v, c) for v, c, _ in acc.result(3)] == [(b"c", 3.0), (b"b", 2.0), (b"a", 1.0)]
    assert list(acc.to_proto().values) == [b"c", b"b", b"a"]
    values, lowers = acc.top_arrays(2)
    assert values.to_pylist() == [b"c", b"b"] and lowers.tolist() == [3.0, 2.0]
