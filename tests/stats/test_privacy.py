"""Privacy policies (stats/privacy.py): what redaction, keyed hashes and min-count folding
keep of the values, in the finished statistics and in the stored state, through merges."""

from __future__ import annotations

import collections

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from privacy_reference import KEY, hashed, leaks, planted_table
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats import (
    StatisticsSpec,
    generate_statistics_from_table,
    merge_statistics,
    protect_statistics,
)
from beam_stats.errors import IncompatibleMergeError, InvalidInputError
from beam_stats.stats.feature import STATE_NAME
from beam_stats.stats.privacy import MIN_KEY_BYTES, PrivacySpec, key_id


def _stats(
    table: pa.Table, policy: PrivacySpec | None = None, **spec: object
) -> statistics_pb2.DatasetFeatureStatisticsList:
    return generate_statistics_from_table(
        table,
        StatisticsSpec(privacy=policy or PrivacySpec(), **spec),  # type: ignore[arg-type]
    )


def _feature(
    stats: statistics_pb2.DatasetFeatureStatisticsList, name: str
) -> statistics_pb2.FeatureNameStatistics:
    return next(f for f in stats.datasets[0].features if f.path.step == [name])


def _custom(feature: statistics_pb2.FeatureNameStatistics) -> dict[str, object]:
    return {c.name: c.num if c.HasField("num") else c.str for c in feature.custom_stats}


def _finished(
    feature: statistics_pb2.FeatureNameStatistics,
) -> statistics_pb2.FeatureNameStatistics:
    """The statistics without the stored state."""
    copy = statistics_pb2.FeatureNameStatistics()
    copy.CopyFrom(feature)
    kept = [c for c in copy.custom_stats if c.name != STATE_NAME]
    del copy.custom_stats[:]
    copy.custom_stats.extend(kept)
    return copy


def _top(feature: statistics_pb2.FeatureNameStatistics) -> dict[str, float]:
    return {v.value: v.frequency for v in feature.string_stats.top_values}


def test_redaction_leaves_no_value_and_keeps_the_counts() -> None:
    table, planted = planted_table()
    plain = _stats(table)
    policy = PrivacySpec(redact=["email", "phone", "card", "amount"])
    protected = _stats(table, policy)
    assert leaks(plain.SerializeToString(), planted)  # the search finds them without a policy
    assert leaks(protected.SerializeToString(), planted) == []
    for name in ("email", "phone", "card"):
        before, after = _feature(plain, name), _feature(protected, name)
        assert after.string_stats.common_stats == before.string_stats.common_stats
        assert after.string_stats.avg_length == before.string_stats.avg_length
        assert not after.string_stats.top_values and not after.string_stats.rank_histogram.buckets
        # the distinct count is an estimate now, within three standard errors
        rse = _custom(after)["distinct_relative_standard_error"]
        assert isinstance(rse, float) and rse > 0
        exact = len(planted[name])
        assert abs(after.string_stats.unique - exact) <= 3 * rse * exact + 1
        assert _custom(after)["privacy"] == "redacted"
    amount_before, amount_after = _feature(plain, "amount"), _feature(protected, "amount")
    assert amount_after.num_stats.common_stats == amount_before.num_stats.common_stats
    numbers = amount_after.num_stats
    assert (numbers.mean, numbers.min, numbers.max, numbers.median) == (0, 0, 0, 0)
    assert not numbers.histograms
    # not named: unchanged, but for the policy its state records
    assert _finished(_feature(protected, "plan")) == _finished(_feature(plain, "plan"))


def test_redact_pii_takes_the_detected_features_only() -> None:
    table, planted = planted_table()
    protected = _stats(table, PrivacySpec(redact_pii=True))
    assert leaks(protected.SerializeToString(), planted) == []
    for name in ("email", "phone", "card"):
        assert _custom(_feature(protected, name))["privacy"] == "redacted"
    assert _top(_feature(protected, "plan")) == dict(
        collections.Counter(table.column("plan").to_pylist())
    )
    assert "privacy" not in _custom(_feature(protected, "plan"))


def test_hashes_are_the_keyed_hmac_of_each_value_with_exact_counts() -> None:
    table, planted = planted_table()
    policy = PrivacySpec(hash=["email", "plan"], hash_key=KEY)
    protected = _stats(table, policy)
    data = protected.SerializeToString()
    assert not leaks(data, {"email": planted["email"]})
    assert KEY not in data and KEY.hex().encode() not in data
    for name in ("email", "plan"):
        counts = collections.Counter(table.column(name).to_pylist())
        expected = {hashed(v): float(n) for v, n in counts.items()}
        top = _top(_feature(protected, name))
        assert len(top) == min(20, len(counts))
        assert top.items() <= expected.items()
    assert _custom(_feature(protected, "plan"))["privacy"] == (
        f"hashed (HMAC-SHA256, key {key_id(KEY)})"
    )


def test_min_count_lists_only_values_of_k_examples_or_more() -> None:
    values = ["a"] * 7 + ["b"] * 5 + ["c"] * 4 + [f"rare{i}" for i in range(9)]
    table = pa.table({"v": values})
    feature = _feature(_stats(table, PrivacySpec(min_count=5)), "v")
    assert _top(feature) == {"a": 7.0, "b": 5.0}
    custom = _custom(feature)
    assert custom["rare_values"] == 4 + 9  # folded: c and the nine rare ones
    assert custom["top_values_max_error"] == 4  # the largest count folded
    assert feature.string_stats.unique == 12 or custom["distinct_relative_standard_error"] > 0


def test_protected_files_merge_and_stay_protected() -> None:
    table, planted = planted_table()
    policy = PrivacySpec(hash=["email"], hash_key=KEY, redact=["card"])
    half = table.num_rows // 2
    first, second = _stats(table.slice(0, half), policy), _stats(table.slice(half), policy)
    merged = merge_statistics(first, second)
    whole = _stats(table, policy)
    data = merged.SerializeToString()
    assert leaks(data, {"email": planted["email"], "card": planted["card"]}) == []
    assert leaks(data, {"phone": planted["phone"]})  # not in the policy: still there
    assert _top(_feature(merged, "email")) == _top(_feature(whole, "email"))
    assert _feature(merged, "card").string_stats.common_stats == (
        _feature(whole, "card").string_stats.common_stats
    )
    # merging applies the policy again: hashes are not hashed twice
    again = merge_statistics(merged)
    assert _top(_feature(again, "email")) == _top(_feature(merged, "email"))


def test_files_with_other_policies_or_keys_refuse_to_merge() -> None:
    table, _ = planted_table(rows=40)
    hashed_file = _stats(table, PrivacySpec(hash=["email"], hash_key=KEY))
    with pytest.raises(IncompatibleMergeError, match="privacy policy=none"):
        merge_statistics(hashed_file, _stats(table))
    other_key = _stats(table, PrivacySpec(hash=["email"], hash_key=b"another key of 16+ bytes"))
    with pytest.raises(IncompatibleMergeError, match=key_id(KEY)):
        merge_statistics(hashed_file, other_key)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hash": ["x"]}, "needs a hash key"),
        ({"hash": ["x"], "hash_key": b"short"}, f"at least {MIN_KEY_BYTES} bytes"),
        ({"min_count": 0}, "min_count must be an int >= 1"),
        ({"redact": "email"}, "collection of features"),
        ({"hash_key": KEY, "hash_key_id": "0" * 16}, "another key"),
    ],
)
def test_bad_policies_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        PrivacySpec(**kwargs)  # type: ignore[arg-type]


def test_the_label_and_groups_cannot_be_hidden() -> None:
    with pytest.raises(InvalidInputError, match="the label 'y' cannot be redacted"):
        StatisticsSpec(label="y", privacy=PrivacySpec(redact=["y"]))
    with pytest.raises(InvalidInputError, match="group feature 'g' cannot be redacted"):
        StatisticsSpec(groups=["g"], privacy=PrivacySpec(hash=["g"], hash_key=KEY))


def test_label_pairs_are_hashed_and_folded_like_the_values() -> None:
    values = ["a"] * 6 + ["b"] * 6 + ["seldom"] * 2
    labels = ["1", "0"] * 7
    table = pa.table({"v": values, "y": labels})
    policy = PrivacySpec(hash=["v"], hash_key=KEY, min_count=3)
    stats = _stats(table, policy, label="y")
    data = stats.SerializeToString()
    assert b"seldom" not in data and hashed("seldom").encode() not in data
    cross = stats.datasets[0].cross_features
    shown = {
        v.x_string
        for c in cross
        for series in c.categorical_cross_stats.lift.lift_series
        for v in series.lift_values
    }
    assert shown and shown <= {hashed("a"), hashed("b")}


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.sampled_from(["x@example.com", "y@example.org", "z", "w"]), min_size=1),
    st.lists(st.sampled_from(["x@example.com", "q@example.net", "z"]), min_size=1),
)
def test_protecting_then_merging_is_protecting_the_union(a: list[str], b: list[str]) -> None:
    policy = PrivacySpec(hash=["v"], hash_key=KEY, redact=["r"])
    parts = [pa.table({"v": part, "r": part}) for part in (a, b)]
    one, two = (_stats(t, policy) for t in parts)
    union = _stats(pa.concat_tables(parts), policy)
    for merged in (merge_statistics(one, two), merge_statistics(two, one)):
        for name in ("v", "r"):
            got, want = _feature(merged, name), _feature(union, name)
            assert _top(got) == _top(want)
            assert got.string_stats.common_stats == want.string_stats.common_stats
            assert got.string_stats.unique == want.string_stats.unique


def test_statistics_without_state_cannot_be_protected() -> None:
    table, _ = planted_table(rows=20)
    bare = generate_statistics_from_table(table, include_state=False)
    with pytest.raises(IncompatibleMergeError, match="cannot apply a privacy policy: .*no sketch"):
        protect_statistics(bare, PrivacySpec(redact=["email"]))
