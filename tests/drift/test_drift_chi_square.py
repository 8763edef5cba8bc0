"""The chi-squared survival function without scipy, against scipy's."""

from __future__ import annotations

import itertools

import pytest
from scipy.stats import chi2

from beam_stats.drift.chi_square import chi2_sf


@pytest.mark.parametrize(
    ("statistic", "dof"),
    list(
        itertools.product(
            [1e-6, 0.05, 0.5, 1.0, 2.0, 3.7, 10.0, 49.5, 100.0, 350.0, 1000.0, 7000.0],
            [1, 2, 3, 5, 8, 30, 299, 2000],
        )
    ),
)
def test_matches_scipy(statistic: float, dof: int) -> None:
    expected = float(chi2.sf(statistic, dof))
    if expected < 1e-290:  # below what a double resolves well
        assert chi2_sf(statistic, dof) < 1e-280
    else:
        assert chi2_sf(statistic, dof) == pytest.approx(expected, rel=1e-10, abs=1e-300)


def test_edges() -> None:
    assert chi2_sf(0.0, 3) == 1.0
    assert chi2_sf(float("inf"), 3) == 0.0
    with pytest.raises(ValueError, match="dof must be > 0"):
        chi2_sf(1.0, 0)
