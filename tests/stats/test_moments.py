"""Moments near the float64 limit: finite, equal to numpy's on scaled values, mergeable."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beam_stats.stats.moments import MomentsAccumulator, WeightedMomentsAccumulator

HUGE = [
    [1.7e308] * 10,
    [-9e307, 9e307],
    [-1.7976931348623157e308, 1.7976931348623157e308, 0.0],
    [1e308, -1e308, 3.0] * 7,
]


def reference(values: np.ndarray) -> tuple[float, float]:
    """The exact mean and population standard deviation, in rational arithmetic."""
    exact = [Fraction(float(v)) for v in values]
    mean = sum(exact, Fraction(0)) / len(exact)
    variance = sum(((v - mean) ** 2 for v in exact), Fraction(0)) / len(exact)
    if variance < 2**1000:
        return float(mean), math.sqrt(variance)
    scale = Fraction(2) ** 1000  # the square root without overflowing a float
    return float(mean), math.sqrt(variance / scale / scale) * 2.0**1000


@pytest.mark.parametrize("data", HUGE)
def test_values_near_the_float_limit_give_finite_moments(data: list[float]) -> None:
    values = np.array(data)
    acc = MomentsAccumulator()
    acc.add(values)
    mean, std = reference(values)
    scale = float(np.abs(values).max())  # float sums are exact to about 1e-16 of the largest
    assert abs(acc.mean - mean) <= 1e-12 * scale and abs(acc.std_dev - std) <= 1e-12 * scale
    restored = MomentsAccumulator.from_proto(acc.to_proto())
    assert (restored.mean, restored.std_dev) == (acc.mean, acc.std_dev)
    weighted = WeightedMomentsAccumulator()
    weighted.add(values, np.ones(values.size))
    assert abs(weighted.mean - mean) <= 1e-12 * scale
    assert abs(weighted.std_dev - std) <= 1e-12 * scale
    restored_w = WeightedMomentsAccumulator.from_proto(weighted.to_proto())
    assert (restored_w.mean, restored_w.std_dev) == (weighted.mean, weighted.std_dev)


def test_usual_values_are_not_scaled() -> None:
    acc = MomentsAccumulator()
    acc.add(np.array([1.0, 2.0, 4.0]))
    assert acc.m2_exponent == 0 and acc.m2 == pytest.approx(
        np.square(np.array([1, 2, 4]) - 7 / 3).sum()
    )


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=200, deadline=None)
@given(a=st.lists(finite, max_size=20), b=st.lists(finite, max_size=20))
def test_merge_of_parts_equals_the_whole_at_any_magnitude(a: list[float], b: list[float]) -> None:
    whole = np.array(a + b)
    left, right = MomentsAccumulator(), MomentsAccumulator()
    left.add(np.array(a))
    right.add(np.array(b))
    left.merge(right)
    assert left.count == whole.size
    if not whole.size:
        return
    mean, std = reference(whole)
    scale = float(np.abs(whole).max())
    assert math.isfinite(left.mean) and math.isfinite(left.std_dev)
    assert abs(left.mean - mean) <= 1e-9 * scale
    assert abs(left.std_dev - std) <= 1e-7 * scale


@pytest.mark.parametrize(
    "values",
    [
        np.random.default_rng(1).normal(5.0, 3.0, 1000),
        -np.random.default_rng(2).exponential(1e300, 50),  # scaled; max |x| is -min
        np.random.default_rng(3).exponential(1e300, 50),  # scaled; max |x| is max
        np.array([-0.0, 0.0, -0.0]),
    ],
)
def test_weighted_moments_equal_the_direct_formula_bit_for_bit(values: np.ndarray) -> None:
    """The weighted mean and M2 of one add are the formula's, computed here with numpy on
    the same values (scaled by the same power of two), to the last bit."""
    weights = np.random.default_rng(4).random(values.size) * 10.0
    acc = WeightedMomentsAccumulator()
    acc.add(values, weights)
    e = max(0, math.frexp(float(np.abs(values).max()))[1] - 400)
    scaled = np.ldexp(values, -e)
    weight = float(weights.sum())
    mean = float((weights * scaled).sum() / weight)
    assert acc.weight == weight
    assert acc.m2_exponent == e
    assert acc.mean == math.ldexp(mean, e)
    assert acc.m2 == float((weights * np.square(scaled - mean)).sum())
