"""`aligned_counts` against the plain-Python alignment it replaced, and its memo."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from beam_stats.drift.categorical import REST, Aligned, Categorical, aligned_counts


def reference(base: Categorical, test: Categorical, *, with_rest: bool) -> Aligned:
    """The alignment as first written: one dictionary look-up per label."""
    labels = sorted(set(base.counts) | set(test.counts))
    a = np.array([base.counts.get(v, 0.0) for v in labels], dtype=np.float64)
    b = np.array([test.counts.get(v, 0.0) for v in labels], dtype=np.float64)
    if with_rest:
        rest_a, rest_b = max(base.total - a.sum(), 0.0), max(test.total - b.sum(), 0.0)
        if rest_a > 0 or rest_b > 0:
            labels.append(REST)
            a, b = np.append(a, rest_a), np.append(b, rest_b)
    return Aligned(labels, a, b)


def assert_same(got: Aligned, want: Aligned) -> None:
    assert got.labels == want.labels
    assert got.base.dtype == want.base.dtype == np.float64
    assert got.test.dtype == want.test.dtype == np.float64
    np.testing.assert_array_equal(got.base, want.base)
    np.testing.assert_array_equal(got.test, want.test)


# Labels numpy's fixed-width strings would confuse (trailing NUL), unicode of every width,
# and the REST label itself as a listed value.
LABELS = st.one_of(
    st.text(max_size=6),
    st.sampled_from(["a", "a\x00", "\x00", "", "é", "e\u0301", "漢字", "😀", "Z", REST]),
)
COUNTS = st.dictionaries(LABELS, st.floats(0, 1e9, allow_nan=False) | st.integers(0, 10**6))


@st.composite
def categoricals(draw: st.DrawFn) -> Categorical:
    counts = draw(COUNTS)
    listed = float(sum(counts.values()))
    total = draw(st.sampled_from([listed, listed + 7.5, 0.0]))
    return Categorical(counts, total, draw(st.sampled_from([0.0, 2.0])), "sketch")


@settings(max_examples=300, deadline=None)
@given(categoricals(), categoricals(), st.booleans())
def test_aligned_counts_equal_the_reference(
    base: Categorical, test: Categorical, with_rest: bool
) -> None:
    assert_same(
        aligned_counts(base, test, with_rest=with_rest), reference(base, test, with_rest=with_rest)
    )
    # Again, now from the memo, and the other way round.
    assert_same(
        aligned_counts(base, test, with_rest=with_rest), reference(base, test, with_rest=with_rest)
    )
    assert_same(
        aligned_counts(test, base, with_rest=with_rest), reference(test, base, with_rest=with_rest)
    )


def test_empty_sides_and_labels_on_one_side() -> None:
    empty = Categorical({}, 0.0, 0.0, "sketch")
    one = Categorical({"b": 2.0, "a": 1.0}, 5.0, 0.0, "sketch")
    got = aligned_counts(empty, one, with_rest=True)
    assert got.labels == ["a", "b", REST]
    assert got.base.tolist() == [0.0, 0.0, 0.0]
    assert got.test.tolist() == [1.0, 2.0, 2.0]
    both_empty = aligned_counts(empty, Categorical({}, 0.0, 0.0, "sketch"), with_rest=True)
    assert both_empty.labels == [] and both_empty.base.shape == both_empty.test.shape == (0,)


def test_a_trailing_nul_is_a_label_of_its_own() -> None:
    base = Categorical({"a": 1.0, "a\x00": 2.0}, 3.0, 0.0, "sketch")
    test = Categorical({"a\x00": 5.0}, 5.0, 0.0, "sketch")
    got = aligned_counts(base, test, with_rest=False)
    assert got.labels == ["a", "a\x00"]
    assert got.base.tolist() == [1.0, 2.0] and got.test.tolist() == [0.0, 5.0]


def test_the_memo_follows_the_test_dataset_and_callers_cannot_spoil_it() -> None:
    base = Categorical({"x": 1.0, "y": 2.0}, 3.0, 0.0, "sketch")
    first = Categorical({"y": 4.0}, 4.0, 0.0, "sketch")
    second = Categorical({"z": 8.0}, 9.0, 0.0, "sketch")
    got = aligned_counts(base, first, with_rest=False)
    got.labels.append("spoiled")
    got.base[:] = -1.0
    assert_same(
        aligned_counts(base, first, with_rest=False), reference(base, first, with_rest=False)
    )
    assert_same(
        aligned_counts(base, second, with_rest=True), reference(base, second, with_rest=True)
    )
    assert_same(aligned_counts(base, first, with_rest=True), reference(base, first, with_rest=True))
    # The memo is no part of a Categorical's value.
    assert base == Categorical({"x": 1.0, "y": 2.0}, 3.0, 0.0, "sketch")
