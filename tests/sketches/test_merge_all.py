"""Merging many states at once (``merge_all``) against merging them one by one: the same
state byte for byte wherever the sketches are exact (and whatever the order of the states),
within each sketch's stated bound where they are not (checked against the exact answers)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sketches.test_distinct_sketch import DENSE
from sketches.test_distinct_sketch import SMALL as SMALL_DISTINCT
from sketches.test_distinct_sketch import sketch as distinct_sketch
from sketches.test_frequent_sketch import assert_within_bounds, words
from sketches.test_frequent_sketch import sketch as frequent_sketch
from sketches.test_quantiles_sketch import SMALL, assert_within_bound, seeded, small_lists
from sketches.test_quantiles_sketch import sketch as quantiles_sketch

from beam_stats.errors import IncompatibleMergeError
from beam_stats.sketches import (
    DistinctCountSpec,
    FrequentItemsSpec,
    QuantilesSpec,
)
from beam_stats.sketches import frequent as frequent_module
from beam_stats.sketches import quantiles as quantiles_module
from beam_stats.sketches._groups import bounded_groups

parts_of_words = st.lists(words, max_size=6)
parts_of_numbers = st.lists(seeded | small_lists.map(np.array), max_size=6)
parts_of_ints = st.lists(st.lists(st.integers(0, 300), max_size=60), max_size=6)


def _one_by_one(first: object, others: list[object]) -> object:
    for other in others:
        first.merge(other)  # type: ignore[attr-defined]
    return first


@settings(max_examples=80, deadline=None)
@given(parts=parts_of_words, capacity=st.integers(1, 12), data=st.data())
def test_frequent_items_all_at_once(
    parts: list[list[str]], capacity: int, data: st.DataObject
) -> None:
    states = [frequent_sketch(part, capacity) for part in parts]
    together = FrequentItemsSpec(capacity=capacity).create()
    together.merge_all(states)
    values = [v for part in parts for v in part]
    assert_within_bounds(together, values)
    assert together.offset <= sum(s.offset for s in states) + together.total / (capacity + 1)
    if len(set(values)) <= capacity:  # exact: the counts of the union, in any order
        shuffled = data.draw(st.permutations(states))
        again = FrequentItemsSpec(capacity=capacity).create()
        again.merge_all(shuffled)
        one_by_one = _one_by_one(FrequentItemsSpec(capacity=capacity).create(), states)
        assert together.to_proto() == again.to_proto() == one_by_one.to_proto()  # type: ignore[attr-defined]
    assert [s.to_proto() for s in states] == [
        frequent_sketch(part, capacity).to_proto() for part in parts
    ]  # the others are unchanged


def test_frequent_items_join_values_in_bounded_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    """Values are joined a group at a time (Arrow's binary offsets stop at 2 GiB): with
    groups of one state the union is still exact."""
    monkeypatch.setattr(frequent_module, "_MERGE_BYTES", 1)
    parts = [["a", "b", "a"], ["b", "c"], [], ["c", "c", "d"]]
    together = FrequentItemsSpec(capacity=8).create()
    together.merge_all([frequent_sketch(part, 8) for part in parts])
    assert together == frequent_sketch([v for part in parts for v in part], 8)


def test_frequent_items_refuse_another_capacity_before_changing_anything() -> None:
    state = frequent_sketch(["a", "b"], 4)
    with pytest.raises(IncompatibleMergeError, match="capacity"):
        state.merge_all([frequent_sketch(["a"], 4), frequent_sketch(["a"], 5)])
    assert state == frequent_sketch(["a", "b"], 4) and state.total == 2


@settings(max_examples=50, deadline=None)
@given(parts=parts_of_numbers, data=st.data())
def test_quantiles_all_at_once(parts: list[np.ndarray], data: st.DataObject) -> None:
    states = [quantiles_sketch(part) for part in parts]
    together = SMALL.create()
    together.merge_all(states)
    values = np.concatenate([np.asarray(p, dtype=np.float64) for p in parts] or [np.zeros(0)])
    assert_within_bound(together, values)
    if len(np.unique(values)) <= SMALL.exact_limit:
        again = SMALL.create()
        again.merge_all(data.draw(st.permutations(states)))
        one_by_one = _one_by_one(SMALL.create(), states)
        assert together.to_proto() == again.to_proto() == one_by_one.to_proto()  # type: ignore[attr-defined]


@settings(max_examples=50, deadline=None)
@given(parts=st.lists(st.lists(st.integers(-40, 40), max_size=80), max_size=12))
def test_quantiles_exact_union_counts_each_value(parts: list[list[int]]) -> None:
    """The exact union of many states (their sorted runs merged) holds every distinct value
    once, increasing, with the sum of its counts: numpy's unique of all the values."""
    states = [quantiles_sketch(np.array(part, dtype=np.float64)) for part in parts]
    together = SMALL.create()
    together.merge_all(states)
    exact = together.exact_arrays()
    assert exact is not None
    values = np.array([v for part in parts for v in part], dtype=np.float64)
    expected_values, expected_counts = np.unique(values, return_counts=True)
    np.testing.assert_array_equal(exact[0], expected_values)
    np.testing.assert_array_equal(exact[1], expected_counts)
    assert exact[1].dtype == np.int64


@settings(max_examples=40, deadline=None)
@given(parts=parts_of_numbers, extra=st.lists(seeded, max_size=3))
def test_quantiles_counting_others_first_changes_nothing(
    parts: list[np.ndarray], extra: list[np.ndarray]
) -> None:
    """Exact states with many pending values are counted before the union takes them (and
    keep that settled state): the union and every state read the same as when none is."""

    def merged(threshold: int) -> tuple[object, list[object]]:
        states = [quantiles_sketch(part) for part in parts]
        for more in extra:  # past the exact limit when distinct enough, then pending values
            state = quantiles_sketch(np.concatenate([more, more + 0.5, more + 0.25]))
            state.add(more[: SMALL.exact_limit - 1] + 0.125)
            states.append(state)
        together = SMALL.create()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(quantiles_module, "_SETTLE_BEFORE_MERGE", threshold)
            together.merge_all(states)
        return together.to_proto(), [state.to_proto() for state in states]  # type: ignore[attr-defined]

    assert merged(1) == merged(10**9)


def test_quantiles_refuse_other_settings() -> None:
    with pytest.raises(IncompatibleMergeError, match="quantiles"):
        SMALL.create().merge_all([quantiles_sketch([1.0], QuantilesSpec())])


@pytest.mark.parametrize("spec", [SMALL_DISTINCT, DENSE], ids=["sparse-then-dense", "dense"])
@settings(max_examples=60, deadline=None)
@given(parts=parts_of_ints, data=st.data())
def test_distinct_counts_all_at_once(
    spec: DistinctCountSpec, parts: list[list[int]], data: st.DataObject
) -> None:
    # Some states of the smaller limit of DENSE: the union takes the smallest limit.
    specs = data.draw(st.lists(st.sampled_from([spec, DENSE]), min_size=len(parts)))
    states = [distinct_sketch(part, s) for part, s in zip(parts, specs, strict=False)]
    together = spec.create()
    together.merge_all(states)
    shuffled = spec.create()
    shuffled.merge_all(data.draw(st.permutations(states)))
    one_by_one = _one_by_one(spec.create(), states)
    # A union of sets and a maximum of registers: the same state whatever the grouping.
    assert together.to_proto() == shuffled.to_proto() == one_by_one.to_proto()  # type: ignore[attr-defined]
    union = {v for part in parts for v in part}
    if together.is_exact:
        assert together.result() == len(union)


def test_distinct_counts_sort_bounded_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    from beam_stats.sketches import distinct as distinct_module

    monkeypatch.setattr(distinct_module, "_MERGE_HASHES", 3)
    parts = [[1, 2, 3], [3, 4], [5, 6, 7, 8], [1]]
    together = SMALL_DISTINCT.create()
    together.merge_all([distinct_sketch(part) for part in parts])
    assert together.to_proto() == distinct_sketch([v for p in parts for v in p]).to_proto()


def test_distinct_counts_refuse_another_precision() -> None:
    other = DistinctCountSpec(precision=9, exact_limit=40).create()
    other.add(pa.array([1]))
    with pytest.raises(IncompatibleMergeError, match="precision"):
        SMALL_DISTINCT.create().merge_all([other])


def test_nothing_to_merge_changes_nothing() -> None:
    state = frequent_sketch(["a", "b"], 4)
    state.merge_all([])
    assert state == frequent_sketch(["a", "b"], 4)
    numbers = quantiles_sketch([1.0, 2.0, 2.0])
    numbers.merge_all([])
    assert numbers.to_proto() == quantiles_sketch([1.0, 2.0, 2.0]).to_proto()
    hashes = distinct_sketch([1, 2, 3])
    hashes.merge_all([])
    assert hashes.to_proto() == distinct_sketch([1, 2, 3]).to_proto()


def test_bounded_groups_keep_the_order_and_the_bound() -> None:
    sizes = [5, 1, 1, 7, 2, 0]
    groups = list(bounded_groups(sizes, int, 6))
    assert groups == [[5, 1], [1], [7], [2, 0]]  # 7 alone: larger than the bound
    assert list(bounded_groups([], int, 6)) == []
