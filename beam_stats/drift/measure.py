"""What every distance returns, and the options the measures share.

A :class:`Distance` carries the value, a bound on its error where one can be stated, and
where the numbers came from (``source``): ``sketch`` when a feature's lossless sketch state
was read (quantiles sketch, Misra-Gries frequent items), else the finished statistics it fell
back to (``rank_histogram``, ``top_values``, ``quantiles_histogram``,
``standard_histogram``). The two datasets may differ (``sketch/rank_histogram``).
"""

from __future__ import annotations

import dataclasses

from beam_stats.errors import InvalidInputError


@dataclasses.dataclass(frozen=True)
class Distance:
    """One measured difference between two distributions.

    Attributes:
        value: the measure (see its module for the formula).
        error: a bound on ``|value - v|``, where ``v`` is the same measure computed on the
            raw data (same bins, where the measure bins); None when the inputs give no
            bound (e.g. binned measures read from sketches, or truncated value lists).
        source: what was read, per dataset (see the module docstring).
        detail: a short note, e.g. the value with the largest difference.
        p_value: the test's p-value, for tests (chi-squared).
    """

    value: float
    error: float | None
    source: str
    detail: str = ""
    p_value: float | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class DistanceSpec:
    """How the measures read and align two datasets.

    Args:
        num_bins: bins of the binned measures on numeric features (Jensen-Shannon, PSI,
            Hellinger): equal-mass bins of the two datasets' even mixture, plus bins for
            the largest value, -inf, +inf and NaN (:mod:`beam_stats.drift.numeric`).
        psi_floor: the smallest share a category or bin gets in the PSI, so that a share
            of 0 on one side gives a large finite term rather than infinity.
        grid_size: ranks ``i / grid_size`` at which every numeric measure reads each
            quantiles sketch; adds at most ``1 / grid_size`` per dataset to the error bound
            of the Kolmogorov-Smirnov statistic and the Wasserstein distance.
    """

    num_bins: int = 10
    psi_floor: float = 1e-4
    grid_size: int = 4096

    def __post_init__(self) -> None:
        for name in ("num_bins", "grid_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInputError(f"{name} must be a positive int, got {value!r}")
        floor = self.psi_floor
        if not isinstance(floor, (int, float)) or not (0.0 < floor < 1.0):
            raise InvalidInputError(f"psi_floor must be in (0, 1), got {floor!r}")


def joint_source(base: str, test: str) -> str:
    """``base`` when both datasets were read the same way, else ``base/test``."""
    return base if base == test else f"{base}/{test}"
