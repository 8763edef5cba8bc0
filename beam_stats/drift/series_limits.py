"""How far the metric series may move: for every metric, per metric and per feature.

:class:`~beam_stats.drift.series.SeriesLimits` gives every metric the same strategy, ``z``
and ``min_history`` (and a floor per family of metrics). :class:`HistoryLimits` sets them
per metric, and per feature, as :class:`MetricLimits`; its fields are those of the series
(:mod:`beam_stats.drift.series` gives their meaning and units):

* ``strategy``: ``auto``, ``mad``, ``zscore``, ``relative``, ``seasonal`` or ``absolute``;
* ``z``: the half-width in (robust) standard deviations;
* ``floor``: the smallest change that counts, in the metric's floor unit (a fraction of the
  expected value for ``num_examples``, ``std`` and ``distinct``; an absolute change for
  ``missing_fraction``, ``top_share`` and ``drift_previous``; the feature's typical standard
  deviations for ``mean``);
* ``min_history``: the fewest earlier spans a check needs;
* ``threshold``: the ``absolute`` strategy's half-width, in the metric's own unit (which
  that strategy needs: there is no default absolute change that suits every metric).

A schema keeps :class:`HistoryLimits` (:mod:`beam_stats.drift.series_schema`).

*Precedence*, field by field (an unset field falls through): the feature's limits for the
metric, the feature's for every metric (``"*"``), the schema's for the metric, the schema's
for every metric, then the caller's :class:`~beam_stats.drift.series.SeriesLimits` (its
``metrics`` for the metric, then its own fields: ``MonitorSpec.series``, the flags of
``beam-stats monitor``) and the library's defaults. The most specific setting wins; the
schema is more specific than a run's options, which apply to every store.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Literal

from beam_stats._types import FeaturePath, path_str
from beam_stats.errors import InvalidInputError

Strategy = Literal["auto", "mad", "zscore", "relative", "seasonal", "absolute"]
STRATEGIES: tuple[Strategy, ...] = ("auto", "mad", "zscore", "relative", "seasonal", "absolute")
#: Metrics, in display order.
METRICS = (
    "num_examples",
    "missing_fraction",
    "mean",
    "std",
    "distinct",
    "top_share",
    "drift_previous",
)
#: The metrics of the dataset rather than of a feature.
DATASET_METRICS = ("num_examples",)
#: The key of limits for every metric.
EVERY_METRIC = "*"
_FIELDS = ("strategy", "z", "floor", "min_history", "threshold")


def _number(name: str, value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(f"{name} must be a finite number >= 0, got {value!r}")
    if not (math.isfinite(value) and value >= 0):
        raise InvalidInputError(f"{name} must be a finite number >= 0, got {value!r}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class MetricLimits:
    """The limits of one metric (of every feature, or of one); None: the next level's.

    Args:
        strategy: one of :data:`STRATEGIES`.
        z: the half-width in (robust) standard deviations, >= 0.
        floor: the smallest change that counts, in the metric's floor unit (module
            docstring), >= 0.
        min_history: the fewest earlier spans a check needs, >= 1.
        threshold: the ``absolute`` strategy's half-width in the metric's unit, >= 0.

    Raises:
        InvalidInputError: a value out of its range, named in the message.
    """

    strategy: Strategy | None = None
    z: float | None = None
    floor: float | None = None
    min_history: int | None = None
    threshold: float | None = None

    def __post_init__(self) -> None:
        if self.strategy is not None and self.strategy not in STRATEGIES:
            raise InvalidInputError(f"strategy must be one of {STRATEGIES}, got {self.strategy!r}")
        n = self.min_history
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise InvalidInputError(f"min_history must be an integer >= 1, got {n!r}")
        for name in ("z", "floor", "threshold"):
            _number(name, getattr(self, name))

    def over(self, other: MetricLimits | None) -> MetricLimits:
        """These limits, with `other`'s where these are unset."""
        if other is None:
            return self
        return MetricLimits(
            **{
                name: getattr(self, name)
                if getattr(self, name) is not None
                else getattr(other, name)
                for name in _FIELDS
            }
        )

    @property
    def empty(self) -> bool:
        return all(getattr(self, name) is None for name in _FIELDS)


def _checked(
    limits: Mapping[str, MetricLimits], where: str, feature: bool
) -> dict[str, MetricLimits]:
    result: dict[str, MetricLimits] = {}
    for metric, value in limits.items():
        if metric != EVERY_METRIC and metric not in METRICS:
            raise InvalidInputError(
                f"unknown metric {metric!r} in the limits of {where}; expected one of "
                f"{METRICS} or {EVERY_METRIC!r} for every metric"
            )
        if feature and metric in DATASET_METRICS:
            raise InvalidInputError(
                f"{metric!r} is the dataset's metric, not one of {where}: set it for every feature"
            )
        if not isinstance(value, MetricLimits):
            raise InvalidInputError(
                f"the limits of {metric!r} ({where}) must be MetricLimits, got {value!r}"
            )
        result[metric] = value
    return result


@dataclasses.dataclass(frozen=True, kw_only=True)
class HistoryLimits:
    """Limits per metric, for every feature and per feature (what a schema keeps).

    Args:
        metrics: metric (or ``"*"``: every metric) -> its limits, for every feature and the
            dataset.
        features: feature path (a tuple of names) -> metric (or ``"*"``) -> its limits, over
            `metrics` for that feature.

    Raises:
        InvalidInputError: an unknown metric, ``num_examples`` on a feature, or a path that
            is not a tuple of names.
    """

    metrics: Mapping[str, MetricLimits] = dataclasses.field(default_factory=dict)
    features: Mapping[FeaturePath, Mapping[str, MetricLimits]] = dataclasses.field(
        default_factory=dict
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "metrics", _checked(self.metrics, "every feature", False))
        features = {}
        for path, limits in self.features.items():
            if not (isinstance(path, tuple) and path and all(isinstance(s, str) for s in path)):
                raise InvalidInputError(f"a feature path is a tuple of names, got {path!r}")
            features[path] = _checked(limits, f"feature {path_str(path)!r}", True)
        object.__setattr__(self, "features", features)

    def for_metric(self, path: FeaturePath, metric: str) -> MetricLimits:
        """The limits of `metric` of the feature at `path` (() for the dataset), the levels
        merged by precedence (see the module docstring); empty when none is set."""
        own = self.features.get(path, {})
        found = MetricLimits()
        for level in (own.get(metric), own.get(EVERY_METRIC)) if path else ():
            found = found.over(level)
        for level in (self.metrics.get(metric), self.metrics.get(EVERY_METRIC)):
            found = found.over(level)
        return found

    @property
    def empty(self) -> bool:
        return not self.metrics and not self.features


#: The fields of :class:`SeriesLimits` that are floors.
_FLOORS = ("num_examples_drop", "share_change", "mean_change", "relative_change", "drift_change")


@dataclasses.dataclass(frozen=True, kw_only=True)
class SeriesLimits:
    """How far a metric may move before it is an outlier (:mod:`beam_stats.drift.series`):
    the caller's limits, under those of a schema (:class:`HistoryLimits`).

    Args:
        strategy: ``auto``, ``mad``, ``zscore``, ``relative``, ``seasonal`` or ``absolute``
            (which needs a ``threshold`` for every metric, in `metrics` or the schema).
        z: the half-width in scales (robust or plain standard deviations).
        min_history: the fewest earlier spans a check needs.
        num_examples_drop: the floor of a drop of ``num_examples``, a fraction of expected.
        share_change: the floor of ``missing_fraction`` and ``top_share``, absolute.
        mean_change: the floor of ``mean``, in the feature's typical standard deviations.
        relative_change: the floor of ``std`` and ``distinct``, a fraction of expected.
        drift_change: the floor of ``drift_previous``, absolute (why 0.05:
            :mod:`beam_stats.drift.series`).
        metrics: metric -> its own limits, over these fields for that metric.

    Raises:
        InvalidInputError: a value out of range, an unknown strategy or metric.
    """

    strategy: Strategy = "auto"
    z: float = 3.5
    min_history: int = 7
    num_examples_drop: float = 0.3
    share_change: float = 0.05
    mean_change: float = 0.25
    relative_change: float = 0.25
    drift_change: float = 0.05
    metrics: Mapping[str, MetricLimits] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise InvalidInputError(f"strategy must be one of {STRATEGIES}, got {self.strategy!r}")
        n = self.min_history
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InvalidInputError(f"min_history must be an integer >= 1, got {n!r}")
        for name in ("z", *_FLOORS):
            value = getattr(self, name)
            if isinstance(value, bool) or not (
                isinstance(value, int | float) and math.isfinite(value) and value >= 0
            ):
                raise InvalidInputError(f"{name} must be a finite number >= 0, got {value!r}")
        # The same checks as a schema's limits for every feature (metric names, types).
        object.__setattr__(self, "metrics", dict(HistoryLimits(metrics=self.metrics).metrics))
        if "*" in self.metrics:
            raise InvalidInputError(
                "SeriesLimits.metrics names metrics; its own fields are the limits of every metric"
            )

    def floor(self, metric: str) -> float:
        """The floor of `metric`, in its floor unit (see the module docstring)."""
        if metric == "num_examples":
            return self.num_examples_drop
        if metric in ("missing_fraction", "top_share"):
            return self.share_change
        if metric == "mean":
            return self.mean_change
        if metric == "drift_previous":
            return self.drift_change
        return self.relative_change


@dataclasses.dataclass(frozen=True)
class MetricRule:
    """The limits one metric of one feature is checked with, every level resolved."""

    strategy: str
    z: float
    floor: float
    min_history: int
    threshold: float | None


def metric_limits(
    limits: SeriesLimits,
    overrides: HistoryLimits | None,
    path: FeaturePath,
    metric: str,
) -> MetricRule:
    """The limits of `metric` of the feature at `path` (() for the dataset): `overrides`
    (a schema's) over `limits` (precedence in :mod:`beam_stats.drift.series_limits`).

    Raises:
        InvalidInputError: the strategy is ``absolute`` and no level sets a threshold.
    """
    found = overrides.for_metric(path, metric) if overrides is not None else MetricLimits()
    found = found.over(limits.metrics.get(metric))
    rule = MetricRule(
        strategy=found.strategy if found.strategy is not None else limits.strategy,
        z=found.z if found.z is not None else limits.z,
        floor=found.floor if found.floor is not None else limits.floor(metric),
        min_history=found.min_history if found.min_history is not None else limits.min_history,
        threshold=found.threshold,
    )
    if rule.strategy == "absolute" and rule.threshold is None:
        if overrides is not None and path in overrides.features:
            where = f"feature {path_str(path)!r}"
        else:
            where = "the dataset" if metric in DATASET_METRICS else "every feature"
        raise InvalidInputError(
            f"the absolute strategy of {metric!r} ({where}) needs a threshold, the largest "
            "change from the previous span in the metric's unit; none is set"
        )
    return rule


def check_limits(limits: SeriesLimits, overrides: HistoryLimits | None) -> None:
    """Resolves the limits of every metric, everywhere `overrides` set them, so a missing
    ``absolute`` threshold is refused before any span is checked.

    Raises:
        InvalidInputError: as :func:`metric_limits`.
    """
    for metric in METRICS:
        metric_limits(limits, overrides, ("",) if metric not in DATASET_METRICS else (), metric)
    for path in overrides.features if overrides is not None else ():
        for metric in METRICS:
            if metric not in DATASET_METRICS:
                metric_limits(limits, overrides, path, metric)


#: The limits when the user sets none (see :mod:`beam_stats.drift.series`).
DEFAULT_SERIES_LIMITS = SeriesLimits()
#: The rolling baseline's length, in spans, when the user gives none.
DEFAULT_BASELINE_SPANS = 28
