"""How a schema is inferred: small frozen option types, checked when they are made."""

from __future__ import annotations

import dataclasses
import math

from beam_stats.errors import InvalidInputError


def _check_fraction(name: str, value: object, *, upper: float = 1.0) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0.0 <= value <= upper
    ):
        raise InvalidInputError(f"{name} must be a number in [0, {upper:g}], got {value!r}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class RangeInferenceSpec:
    """Infer numeric ranges (``int_domain``/``float_domain`` min and max); off unless given.

    The range is ``[lo - margin * (hi - lo), hi + margin * (hi - lo)]``, where ``lo`` and ``hi``
    are the observed ``lower_quantile`` and ``upper_quantile`` (0 and 1: the exact observed
    min and max; other quantiles are read from the quantiles histogram, within the sketch's
    ``quantiles_rank_error``). Int ranges are rounded outwards. A lower bound is not taken
    below 0 when no observed value is negative. With quantiles other than 0 and 1, the data
    the schema was inferred from itself falls partly out of range.

    Args:
        margin: widening on each side, as a fraction of the observed span (>= 0).
        lower_quantile: the quantile that gives the lower bound, in [0, 1].
        upper_quantile: the quantile that gives the upper bound, in [lower_quantile, 1].
    """

    margin: float = 0.1
    lower_quantile: float = 0.0
    upper_quantile: float = 1.0

    def __post_init__(self) -> None:
        _check_fraction("margin", self.margin, upper=math.inf)
        _check_fraction("lower_quantile", self.lower_quantile)
        _check_fraction("upper_quantile", self.upper_quantile)
        if self.lower_quantile > self.upper_quantile:
            raise InvalidInputError(
                f"lower_quantile ({self.lower_quantile}) must not exceed "
                f"upper_quantile ({self.upper_quantile})"
            )


@dataclasses.dataclass(frozen=True, kw_only=True)
class UniqueInferenceSpec:
    """Infer ``unique_constraints`` for string and categorical features; off unless given.

    Only for features whose distinct count is exact (``distinct_relative_standard_error`` 0):
    ``min = floor(unique * (1 - margin))``, ``max = ceil(unique * (1 + margin))``.

    Args:
        margin: relative slack on each side, in [0, 1].
    """

    margin: float = 0.0

    def __post_init__(self) -> None:
        _check_fraction("margin", self.margin)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SchemaInferenceSpec:
    """Options of :func:`beam_stats.infer_schema`; the defaults are TFDV's.

    Args:
        infer_shape: a feature present in every example with the same number of values n
            everywhere gets ``shape { dim { size: n } }`` instead of a ``value_count``.
        max_string_domain_size: a string feature gets an enumerated domain when its distinct
            values are provably all listed in the statistics and number at most this.
        ranges: numeric range inference (beyond TFDV); None leaves ranges open.
        unique: ``unique_constraints`` inference (beyond TFDV); None infers none.
        disallow_nan: a float feature without NaN gets ``float_domain { disallow_nan: true }``.
        disallow_inf: a float feature without +-inf gets ``float_domain { disallow_inf: true }``.
    """

    infer_shape: bool = True
    max_string_domain_size: int = 100
    ranges: RangeInferenceSpec | None = None
    unique: UniqueInferenceSpec | None = None
    disallow_nan: bool = False
    disallow_inf: bool = False

    def __post_init__(self) -> None:
        size = self.max_string_domain_size
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise InvalidInputError(f"max_string_domain_size must be an int >= 0, got {size!r}")
        for name in ("infer_shape", "disallow_nan", "disallow_inf"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidInputError(f"{name} must be a bool, got {getattr(self, name)!r}")
        if self.ranges is not None and not isinstance(self.ranges, RangeInferenceSpec):
            raise InvalidInputError(f"ranges must be a RangeInferenceSpec, got {self.ranges!r}")
        if self.unique is not None and not isinstance(self.unique, UniqueInferenceSpec):
            raise InvalidInputError(f"unique must be a UniqueInferenceSpec, got {self.unique!r}")
