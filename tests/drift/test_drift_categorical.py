"""Categorical distances against references computed on the raw values with numpy/scipy."""

from __future__ import annotations

import collections
import math

import numpy as np
import pyarrow as pa
import pytest
from anomaly_helpers import stats
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats import FrequentItemsSpec, StatisticsSpec
from beam_stats.drift import Distance, compare_statistics
from beam_stats.drift.categorical import REST, Categorical, aligned_shares
from beam_stats.drift.chi_square import chi_squared
from beam_stats.drift.hellinger import hellinger_categorical
from beam_stats.drift.infinity_norm import l_infinity
from beam_stats.drift.jensen_shannon import jensen_shannon_categorical
from beam_stats.drift.normalized_difference import normalized_abs_difference
from beam_stats.drift.psi import psi_categorical

CATEGORICAL = ("l_infinity", "jensen_shannon", "normalized_abs_difference", "psi", "hellinger")
MEASURES = {
    "l_infinity": l_infinity,
    "jensen_shannon": jensen_shannon_categorical,
    "normalized_abs_difference": normalized_abs_difference,
    "psi": lambda a, b: psi_categorical(a, b, 1e-4),
    "hellinger": hellinger_categorical,
}


def measured(
    base: statistics_pb2.DatasetFeatureStatisticsList,
    test: statistics_pb2.DatasetFeatureStatisticsList,
    feature: str = "x",
) -> dict[str, Distance | None]:
    comparison = compare_statistics(base, test)
    found = next(f for f in comparison.features if f.path == (feature,))
    return {m.measure: m.distance for m in found.measured}


def reference(a: list[str], b: list[str], with_rest: bool = True) -> dict[str, float]:
    """Every categorical measure, from the raw values (every value listed, exact counts)."""
    ca, cb = collections.Counter(a), collections.Counter(b)
    labels = sorted(set(ca) | set(cb))
    p = np.array([ca[v] for v in labels], dtype=float)
    q = np.array([cb[v] for v in labels], dtype=float)
    pn, qn = p / p.sum(), q / q.sum()
    floor_p, floor_q = np.maximum(pn, 1e-4), np.maximum(qn, 1e-4)
    chi = chi2_contingency(np.vstack([p, q]), correction=False)
    return {
        "l_infinity": float(np.max(np.abs(pn - qn))),
        "normalized_abs_difference": float(np.max(np.abs(p - q)) / (p.sum() + q.sum())),
        "jensen_shannon": float(jensenshannon(pn, qn, base=2) ** 2),
        "psi": float(np.sum((floor_q - floor_p) * np.log(floor_q / floor_p))),
        "hellinger": math.sqrt(max(0.0, 1 - float(np.sum(np.sqrt(pn * qn))))),
        "chi_squared": float(chi.statistic),
        "p_value": float(chi.pvalue),
    }


def draws(shares: dict[str, float], n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return list(rng.choice(list(shares), size=n, p=list(shares.values())))


def test_every_measure_matches_the_reference_on_the_raw_values() -> None:
    a = draws({"mobile": 0.5, "desktop": 0.4, "tablet": 0.1}, 3000, 1)
    b = draws({"mobile": 0.75, "desktop": 0.2, "tablet": 0.05}, 1000, 2)
    found = measured(stats({"x": a}), stats({"x": b}))
    expected = reference(a, b)
    for name in (*CATEGORICAL, "chi_squared"):
        distance = found[name]
        assert distance is not None and distance.source == "sketch", name
        assert distance.value == pytest.approx(expected[name], rel=1e-9, abs=1e-12), name
        assert distance.error == 0.0  # every value listed with its exact count
    chi = found["chi_squared"]
    assert chi is not None and chi.p_value == pytest.approx(expected["p_value"], rel=1e-6)
    linf = found["l_infinity"]
    assert linf is not None and '"mobile"' in linf.detail


def test_finished_statistics_without_state_give_the_same_values() -> None:
    a = draws({"a": 0.2, "b": 0.3, "c": 0.5}, 500, 3)
    b = draws({"a": 0.3, "b": 0.3, "c": 0.4}, 800, 4)
    with_state = measured(stats({"x": a}), stats({"x": b}))
    table_a, table_b = stats({"x": a}), stats({"x": b})
    for table in (table_a, table_b):
        for feature in table.datasets[0].features:
            kept = [c for c in feature.custom_stats if c.name != "beam_stats.state"]
            del feature.custom_stats[:]
            feature.custom_stats.extend(kept)
    without = measured(table_a, table_b)
    for name in (*CATEGORICAL, "chi_squared"):
        left, right = with_state[name], without[name]
        assert left is not None and right is not None
        assert right.source == "rank_histogram"
        assert right.value == pytest.approx(left.value, rel=1e-12)


def test_identical_datasets_give_zero() -> None:
    values = draws({"a": 0.6, "b": 0.3, "c": 0.1}, 1000, 5)
    same = stats({"x": values})
    found = measured(same, same)
    for name in CATEGORICAL:
        distance = found[name]
        assert distance is not None and distance.value == 0.0, name
    chi = found["chi_squared"]
    assert chi is not None and chi.value == 0.0 and chi.p_value == 1.0


def test_one_sided_categories_count_zero_on_the_other_side() -> None:
    a, b = ["x"] * 50 + ["y"] * 50, ["y"] * 50 + ["z"] * 50
    found = measured(stats({"x": a}), stats({"x": b}))
    expected = reference(a, b)
    for name in (*CATEGORICAL, "chi_squared"):
        distance = found[name]
        assert distance is not None and distance.value == pytest.approx(expected[name]), name
    linf = found["l_infinity"]
    assert linf is not None and linf.value == 0.5
    jsd = found["jensen_shannon"]
    assert jsd is not None and jsd.value == pytest.approx(0.5)  # half the mass is disjoint
    psi = found["psi"]  # the floor keeps one-sided terms finite
    assert psi is not None and psi.value == pytest.approx(2 * (0.5 - 1e-4) * math.log(0.5 / 1e-4))


def test_disjoint_values_give_the_maximum() -> None:
    found = measured(stats({"x": ["a", "b"] * 10}), stats({"x": ["c"] * 5}))
    for name in ("l_infinity", "jensen_shannon", "hellinger"):
        distance = found[name]
        assert distance is not None and distance.value == pytest.approx(1.0), name


def test_a_dataset_without_values_gives_no_distance() -> None:
    empty = stats({"x": pa.array([None] * 4, type=pa.string()), "y": ["a", "b", "c", "d"]})
    found = compare_statistics(stats({"x": ["a", "b"], "y": ["a", "b"]}), empty)
    x = next(f for f in found.features if f.path == ("x",))
    by_name = {m.measure: m for m in x.measured}
    for name in (*CATEGORICAL, "chi_squared"):
        assert by_name[name].distance is None, name
        assert by_name[name].note, name
    missing = by_name["missing_fraction"].distance
    assert missing is not None and missing.value == 1.0


def test_truncated_value_lists_keep_the_rest_as_one_category() -> None:
    # 40 distinct values, a summary of 8 counters: counts are lower bounds, the rest of the
    # values is one category for the measures that use shares of all values.
    spec = StatisticsSpec(
        frequent_items=FrequentItemsSpec(capacity=8), num_top_values=8, num_rank_histogram_buckets=8
    )
    rng = np.random.default_rng(6)
    a = [f"v{i}" for i in rng.zipf(1.5, 2000) % 40]
    b = [f"v{i}" for i in rng.zipf(1.5, 2000) % 40]
    found = measured(stats({"x": a}, spec), stats({"x": b}, spec))
    for name in (*CATEGORICAL, "chi_squared"):
        distance = found[name]
        assert distance is not None, name
        assert distance.error is None and "short by up to" in distance.detail, name


def test_shares_of_listed_values_and_of_all_values() -> None:
    # Counts of 100 values, 80 listed on the base side; exact and complete on the test side.
    base = Categorical({"a": 60.0, "b": 20.0}, 100.0, 2.0, "sketch")
    test = Categorical({"a": 50.0, "c": 50.0}, 100.0, 0.0, "sketch")
    listed = aligned_shares(base, test, with_rest=False)
    assert listed is not None and listed.labels == ["a", "b", "c"]
    np.testing.assert_allclose(listed.base, [0.75, 0.25, 0.0])  # TFDV: shares of the listed
    with_rest = aligned_shares(base, test, with_rest=True)
    assert with_rest is not None and with_rest.labels == ["a", "b", "c", REST]
    np.testing.assert_allclose(with_rest.base, [0.6, 0.2, 0.0, 0.2])
    np.testing.assert_allclose(with_rest.test, [0.5, 0.0, 0.5, 0.0])
    linf = l_infinity(base, test)
    assert linf is not None and linf.value == 0.5 and linf.error is None
    assert '"c"' in linf.detail and "base counts short by up to 2" in linf.detail
    psi = psi_categorical(base, test, 1e-4)
    floor = np.maximum
    p, q = floor(with_rest.base, 1e-4), floor(with_rest.test, 1e-4)
    assert psi is not None and psi.value == pytest.approx(float(np.sum((q - p) * np.log(q / p))))


counts = st.dictionaries(
    st.sampled_from("abcdefgh"), st.integers(min_value=1, max_value=1000), min_size=1
)


@settings(max_examples=60, deadline=None)
@given(counts, counts)
def test_properties_of_the_categorical_measures(a: dict[str, int], b: dict[str, int]) -> None:
    base = Categorical({k: float(v) for k, v in a.items()}, float(sum(a.values())), 0.0, "sketch")
    test = Categorical({k: float(v) for k, v in b.items()}, float(sum(b.values())), 0.0, "sketch")
    for name, measure in MEASURES.items():
        forward, backward = measure(base, test), measure(test, base)
        same = measure(base, base)
        assert forward is not None and backward is not None and same is not None
        assert same.value == 0.0, name
        assert forward.value >= 0.0, name
        assert forward.value == pytest.approx(backward.value, rel=1e-12, abs=1e-12), name
        if name in ("l_infinity", "jensen_shannon", "normalized_abs_difference", "hellinger"):
            assert forward.value <= 1.0 + 1e-12, name
    chi = chi_squared(base, test)
    assert chi is None or 0.0 <= (chi.p_value or 0.0) <= 1.0
