"""Numeric distances against references computed on the raw values with numpy/scipy.

Sketches of at most k = 200 values are exact, so there every measure equals its reference
(the binned ones on the same bins: equal-mass bins of the two datasets' even mixture).
Larger inputs compact; then the Kolmogorov-Smirnov statistic and the Wasserstein distance
must stay within the error bound they report, and every bin share of the binned measures
within twice the sketch's rank error of the exact share (the bound stated in
beam_stats.drift.numeric).
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import ks_2samp, wasserstein_distance
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats import QuantilesSpec, StatisticsSpec, generate_statistics_from_table
from beam_stats.drift import Distance, DistanceSpec, compare_statistics
from beam_stats.drift import numeric as numeric_module
from beam_stats.drift.compare import features_of

NUMERIC = ("jensen_shannon", "psi", "ks", "wasserstein", "hellinger")
Stats = statistics_pb2.DatasetFeatureStatisticsList


def stats(
    values: np.ndarray, include_state: bool = True, spec: StatisticsSpec | None = None
) -> Stats:
    table = pa.table({"x": pa.array(values, type=pa.float64())})
    return generate_statistics_from_table(table, spec, include_state=include_state)


# Past the exact limit, so that the sketches compact and state a bound.
COMPACTING = StatisticsSpec(quantiles=QuantilesSpec(exact_limit=1000, capacity=256))


def measured(base: Stats, test: Stats, spec: DistanceSpec | None = None) -> dict[str, Distance]:
    comparison = compare_statistics(base, test, spec=spec)
    found = {m.measure: m.distance for m in comparison.features[0].measured}
    return {name: d for name, d in found.items() if d is not None}


def exact_shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Shares of [e_i, e_i+1) for each i, then of {e_last}, then of -inf, +inf and NaN."""
    finite = values[np.isfinite(values)]
    inner = [
        np.count_nonzero((finite >= lo) & (finite < hi))
        for lo, hi in zip(edges[:-1], edges[1:], strict=True)
    ]
    top = np.count_nonzero(finite == edges[-1])
    special = [np.count_nonzero(values == -np.inf), np.count_nonzero(values == np.inf)]
    special.append(np.count_nonzero(np.isnan(values)))
    return np.array([*inner, top, *special], dtype=float) / values.size


def mixture_edges(a: np.ndarray, b: np.ndarray, bins: int) -> np.ndarray:
    """Where the even mixture of the two empirical CDFs first reaches each i / bins."""
    fa, fb = np.sort(a[np.isfinite(a)]), np.sort(b[np.isfinite(b)])
    z = np.unique(np.concatenate([fa, fb]))
    cdf = np.searchsorted(fa, z, "right") / fa.size + np.searchsorted(fb, z, "right") / fb.size
    index = np.searchsorted(cdf / 2, np.linspace(0, 1, bins + 1) - 1e-12, "left")
    return np.unique(z[np.minimum(index, z.size - 1)])


def binned_reference(a: np.ndarray, b: np.ndarray, bins: int = 10) -> dict[str, float]:
    edges = mixture_edges(a, b, bins)
    p, q = exact_shares(a, edges), exact_shares(b, edges)
    keep = (p > 0) | (q > 0) | (np.arange(p.size) < edges.size)
    p, q = p[keep], q[keep]
    fp, fq = np.maximum(p, 1e-4), np.maximum(q, 1e-4)
    return {
        "jensen_shannon": float(jensenshannon(p, q, base=2) ** 2),
        "psi": float(np.sum((fq - fp) * np.log(fq / fp))),
        "hellinger": math.sqrt(max(0.0, 1 - float(np.sum(np.sqrt(p * q))))),
    }


def test_exact_sketches_equal_the_references() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 1, 180), rng.normal(0.5, 1.5, 150)
    found = measured(stats(a), stats(b))
    expected = binned_reference(a, b)
    expected["ks"] = float(ks_2samp(a, b).statistic)
    expected["wasserstein"] = float(wasserstein_distance(a, b) / np.std(a))
    for name in NUMERIC:
        assert found[name].source == "sketch"
        assert found[name].value == pytest.approx(expected[name], rel=1e-9, abs=1e-12), name
        assert found[name].error == 0.0, name


def test_nan_and_infinities_get_bins_of_their_own() -> None:
    rng = np.random.default_rng(2)
    a = rng.normal(0, 1, 150)
    b = np.concatenate([rng.normal(0, 1, 120), [np.nan] * 20, [np.inf] * 5, [-np.inf] * 5])
    found = measured(stats(a), stats(b))
    expected = binned_reference(a, b)
    for name in ("jensen_shannon", "psi", "hellinger"):
        assert found[name].value == pytest.approx(expected[name], rel=1e-9), name
    finite = b[np.isfinite(b)]
    assert found["ks"].value == pytest.approx(ks_2samp(a, finite).statistic)


def test_discrete_values_keep_point_masses_apart() -> None:
    a = np.array([0.0] * 90 + [1.0] * 10)
    b = np.array([0.0] * 50 + [1.0] * 50)
    found = measured(stats(a), stats(b))
    expected = binned_reference(a, b)
    for name in ("jensen_shannon", "psi", "hellinger"):
        assert found[name].value == pytest.approx(expected[name], rel=1e-9), name
    assert found["ks"].value == pytest.approx(0.4)
    assert found["jensen_shannon"].detail == "2 bins"  # [0, 1) and {1}


def test_compacted_sketches_stay_within_their_bounds() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(0, 1, 20_000), rng.normal(0.3, 1.2, 30_000)
    found = measured(stats(a, spec=COMPACTING), stats(b, spec=COMPACTING))
    eps = max(
        features_of(stats(v, spec=COMPACTING))[("x",)].numeric().eps  # type: ignore[union-attr]
        for v in (a, b)
    )
    assert eps > 0.0
    for name, exact in (
        ("ks", ks_2samp(a, b).statistic),
        ("wasserstein", wasserstein_distance(a, b) / np.std(a)),
    ):
        distance = found[name]
        assert distance.error is not None and distance.error >= 2 * eps, name
        assert abs(distance.value - exact) <= distance.error, name
    for name in ("jensen_shannon", "psi", "hellinger"):
        assert found[name].error is None  # no stated bound for the binned measures
    base = features_of(stats(a, spec=COMPACTING))[("x",)].numeric()
    test = features_of(stats(b, spec=COMPACTING))[("x",)].numeric()
    assert base is not None and test is not None
    edges = numeric_module.bin_edges(base, test, 10, 4096)
    _, p, q = numeric_module.binned_shares(base, test, 10, 4096)
    np.testing.assert_allclose(p, exact_shares(a, edges)[: p.size], atol=2 * eps)
    np.testing.assert_allclose(q, exact_shares(b, edges)[: q.size], atol=2 * eps)


def test_statistics_without_state_fall_back_to_histograms() -> None:
    rng = np.random.default_rng(4)
    a, b = rng.normal(0, 1, 5000), rng.normal(1, 1, 5000)
    found = measured(stats(a, include_state=False), stats(b, include_state=False))
    for name in NUMERIC:
        assert found[name].source == "quantiles_histogram", name
    for name, exact in (
        ("ks", ks_2samp(a, b).statistic),
        ("wasserstein", wasserstein_distance(a, b) / np.std(a)),
    ):
        distance = found[name]
        assert distance.error is not None and abs(distance.value - exact) <= distance.error, name
    mixed = measured(stats(a), stats(b, include_state=False))
    assert mixed["ks"].source == "sketch/quantiles_histogram"
    assert abs(mixed["ks"].value - ks_2samp(a, b).statistic) <= mixed["ks"].error  # type: ignore[operator]


def test_identical_datasets_give_zero() -> None:
    same = stats(np.random.default_rng(5).lognormal(3, 1, 10_000))
    found = measured(same, same)
    for name in NUMERIC:
        assert found[name].value == 0.0, name


def test_constant_features() -> None:
    same = measured(stats(np.full(50, 3.0)), stats(np.full(80, 3.0)))
    for name in NUMERIC:
        assert same[name].value == 0.0, name
    shifted = measured(stats(np.full(50, 3.0)), stats(np.full(80, 4.0)))
    assert shifted["ks"].value == 1.0
    assert shifted["jensen_shannon"].value == 1.0 and shifted["hellinger"].value == 1.0
    assert shifted["wasserstein"].value == math.inf  # in units of the base's deviation, 0
    assert shifted["wasserstein"].detail == "base is constant"


def test_a_dataset_without_finite_values_gives_no_distance() -> None:
    comparison = compare_statistics(stats(np.array([1.0, 2.0])), stats(np.array([np.nan] * 3)))
    for m in comparison.features[0].measured:
        if m.measure in NUMERIC:
            assert m.distance is None and m.note == "no finite values in a dataset", m.measure


def test_more_bins_read_more_quantiles() -> None:
    rng = np.random.default_rng(6)
    a, b = rng.normal(0, 1, 150), rng.normal(0, 1, 150)
    fine = measured(stats(a), stats(b), DistanceSpec(num_bins=20))
    expected = binned_reference(a, b, bins=20)
    assert fine["psi"].value == pytest.approx(expected["psi"], rel=1e-9)
