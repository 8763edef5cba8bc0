"""Time series of per-span metrics and the strategies that find their outliers.

Metrics, read from the finished statistics of each span (one dataset):

* ``num_examples`` (the dataset's);
* per feature: ``missing_fraction`` (examples without the feature over all examples),
  ``mean`` and ``std`` (numeric features), ``distinct`` (string features' distinct count)
  and ``top_share`` (string features: the most frequent value's count over all values).

A span's value is checked against the values of the spans before it (the *window*: at
most ``baseline_spans`` of them, the same spans as the rolling baseline). Each strategy gives
an expected value and a half-width; the value is an outlier when it is outside
``expected +- max(z * scale, floor)``:

* ``mad`` (the default): expected = the window's median, scale = 1.4826 x its median
  absolute deviation (robust: one outage in the window moves neither);
* ``zscore``: expected = the window's mean, scale = its standard deviation;
* ``relative``: expected = the previous span's value, no scale (the floor alone);
* ``seasonal``: when every span key of the window and the target is a date
  (``YYYY-MM-DD``, read with :meth:`datetime.date.fromisoformat` on the whole key) and the
  window holds at least :data:`SEASONAL_MIN_WEEKS` spans on the target's weekday within the
  last :data:`SEASONAL_WEEKS` weeks: expected = the median of those same-weekday values,
  scale as ``mad`` but of them. ``auto`` uses ``seasonal`` when it can, else ``mad``.

The *floor* is the smallest change that matters, whatever the noise: a fraction of the
expected value (``num_examples``, ``std``, ``distinct``), an absolute change of a share
(``missing_fraction``, ``top_share``), or, for ``mean``, a fraction of the feature's typical
standard deviation (the window's median ``std``). It keeps a metric that barely moves (a
near-zero MAD) from raising on noise. ``num_examples`` is only checked downwards (a drop).

No window shorter than ``min_history`` spans is used. The defaults
(:data:`DEFAULT_SERIES_LIMITS`) raise nothing on stable data: a value must be 3.5 robust
standard deviations away *and* beyond its floor. A linear trend never raises here (the
window's spread grows with it); slow drift is the rolling baseline's to find.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats._types import FeaturePath
from beam_stats.errors import InvalidInputError
from beam_stats.schema.view import dataset_views, one_dataset

Strategy = Literal["auto", "mad", "zscore", "relative", "seasonal"]
STRATEGIES = ("auto", "mad", "zscore", "relative", "seasonal")
#: Metrics, in display order.
METRICS = ("num_examples", "missing_fraction", "mean", "std", "distinct", "top_share")
#: The seasonal strategy looks at most this many weeks back ...
SEASONAL_WEEKS = 4
#: ... and needs at least this many spans on the target's weekday.
SEASONAL_MIN_WEEKS = 3
_MAD_SCALE = 1.4826  # MAD to standard deviation, for normal data


@dataclasses.dataclass(frozen=True, kw_only=True)
class SeriesLimits:
    """How far a metric may move before it is an outlier (see the module docstring).

    Args:
        strategy: ``auto``, ``mad``, ``zscore``, ``relative`` or ``seasonal``.
        z: the half-width in scales (robust or plain standard deviations).
        min_history: the fewest earlier spans a check needs.
        num_examples_drop: the floor of a drop of ``num_examples``, a fraction of expected.
        share_change: the floor of ``missing_fraction`` and ``top_share``, absolute.
        mean_change: the floor of ``mean``, in the feature's typical standard deviations.
        relative_change: the floor of ``std`` and ``distinct``, a fraction of expected.
    """

    strategy: Strategy = "auto"
    z: float = 3.5
    min_history: int = 7
    num_examples_drop: float = 0.3
    share_change: float = 0.05
    mean_change: float = 0.25
    relative_change: float = 0.25

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise InvalidInputError(f"strategy must be one of {STRATEGIES}, got {self.strategy!r}")
        if isinstance(self.min_history, bool) or self.min_history < 1:
            raise InvalidInputError(f"min_history must be >= 1, got {self.min_history!r}")
        for name in ("z", "num_examples_drop", "share_change", "mean_change", "relative_change"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise InvalidInputError(f"{name} must be a finite number >= 0, got {value!r}")


#: The limits when the user sets none (see the module docstring).
DEFAULT_SERIES_LIMITS = SeriesLimits()


@dataclasses.dataclass(frozen=True)
class Outlier:
    """A metric of a span outside its expected range.

    Attributes:
        path: the feature, () for the dataset (``num_examples``).
        metric: one of :data:`METRICS`.
        value: the span's value.
        expected: the strategy's expected value.
        low, high: the expected range.
        strategy: the strategy that set the range (``auto`` resolved).
        history: how many earlier spans the range was computed from.
    """

    path: FeaturePath
    metric: str
    value: float
    expected: float
    low: float
    high: float
    strategy: str
    history: int


SpanMetrics = dict[tuple[FeaturePath, str], float]


def span_metrics(
    statistics: statistics_pb2.DatasetFeatureStatisticsList
    | statistics_pb2.DatasetFeatureStatistics,
) -> SpanMetrics:
    """Every metric of one span's statistics, by (feature path, metric); () for the dataset."""
    dataset = one_dataset(statistics)
    found: SpanMetrics = {((), "num_examples"): float(dataset.num_examples)}
    for path, view in dataset_views(dataset).items():
        if view.composite_only:
            continue
        stats = view.stats
        kind = stats.WhichOneof("stats")
        if kind not in ("num_stats", "string_stats"):
            continue
        inner = getattr(stats, kind)
        common = inner.common_stats
        seen = common.num_missing + common.num_non_missing
        if seen:
            found[path, "missing_fraction"] = float(common.num_missing / seen)
        if kind == "num_stats" and common.num_non_missing:
            found[path, "mean"] = float(inner.mean)
            found[path, "std"] = float(inner.std_dev)
        elif kind == "string_stats" and common.tot_num_values:
            found[path, "distinct"] = float(inner.unique)
            if inner.top_values:
                top = max(v.frequency for v in inner.top_values)
                found[path, "top_share"] = float(top / common.tot_num_values)
    return found


def _dates(spans: Sequence[str]) -> list[datetime.date] | None:
    try:
        return [datetime.date.fromisoformat(s) for s in spans]
    except ValueError:
        return None


def _robust(values: np.ndarray) -> tuple[float, float]:
    median = float(np.median(values))
    return median, _MAD_SCALE * float(np.median(np.abs(values - median)))


def _floor(metric: str, expected: float, typical_std: float, limits: SeriesLimits) -> float:
    if metric == "num_examples":
        return limits.num_examples_drop * abs(expected)
    if metric in ("missing_fraction", "top_share"):
        return limits.share_change
    if metric == "mean":
        return limits.mean_change * typical_std
    return limits.relative_change * abs(expected)


def series_outliers(
    spans: Sequence[str],
    metrics: Sequence[SpanMetrics],
    target: int,
    limits: SeriesLimits = DEFAULT_SERIES_LIMITS,
    window: int = 28,
) -> list[Outlier]:
    """The metrics of span `target` outside the range the spans before it give.

    Args:
        spans: the span keys, oldest first.
        metrics: :func:`span_metrics` of each span, aligned with `spans`.
        target: the index of the span checked.
        limits: strategy and thresholds.
        window: the most earlier spans used (the rolling baseline's length).

    Returns:
        The outliers, sorted by feature and metric; empty when the history is shorter than
        ``limits.min_history``.
    """
    if len(spans) != len(metrics) or not 0 <= target < len(spans):
        raise InvalidInputError(
            f"target {target} out of {len(spans)} spans ({len(metrics)} metric sets)"
        )
    first = max(0, target - window)
    earlier = list(range(first, target))
    if len(earlier) < limits.min_history:
        return []
    dates = _dates([spans[i] for i in [*earlier, target]])
    current = metrics[target]
    found = []
    for key in sorted(current, key=lambda k: (k[0], METRICS.index(k[1]))):
        path, metric = key
        history = [(i, metrics[i][key]) for i in earlier if key in metrics[i]]
        if len(history) < limits.min_history:
            continue
        stds = [metrics[i].get((path, "std")) for i in earlier]
        typical_std = float(np.median([s for s in stds if s is not None] or [0.0]))
        value = current[key]
        expected, scale, strategy = _expected(history, dates, earlier, limits)
        half = max(limits.z * scale, _floor(metric, expected, typical_std, limits))
        low, high = expected - half, expected + half
        low = max(low, 0.0)  # every metric is a count, a share or a spread ...
        if metric in ("missing_fraction", "top_share"):
            high = min(high, 1.0)
        elif metric == "num_examples":
            high = math.inf  # only a drop is an anomaly
        if metric == "mean":
            low = expected - half  # ... but a mean
        if not low <= value <= high:
            found.append(Outlier(path, metric, value, expected, low, high, strategy, len(history)))
    return found


def _expected(
    history: list[tuple[int, float]],
    dates: list[datetime.date] | None,
    earlier: list[int],
    limits: SeriesLimits,
) -> tuple[float, float, str]:
    """(expected, scale, strategy) of one metric from its earlier values."""
    values = np.array([v for _, v in history], dtype=np.float64)
    strategy = limits.strategy
    if strategy in ("auto", "seasonal"):
        same = _same_weekday(history, dates, earlier)
        if same is not None:
            expected, scale = _robust(same)
            return expected, scale, "seasonal"
        if strategy == "seasonal":
            return values[-1], 0.0, "relative"  # no dates: the previous span's value
        strategy = "mad"
    if strategy == "mad":
        expected, scale = _robust(values)
        return expected, scale, "mad"
    if strategy == "zscore":
        scale = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
        return float(np.mean(values)), scale, "zscore"
    return float(values[-1]), 0.0, "relative"


def _same_weekday(
    history: list[tuple[int, float]], dates: list[datetime.date] | None, earlier: list[int]
) -> np.ndarray | None:
    if dates is None:
        return None
    target = dates[-1]
    when: Mapping[int, datetime.date] = dict(zip(earlier, dates[:-1], strict=True))
    same = [
        v
        for i, v in history
        if (target - when[i]).days % 7 == 0 and 0 < (target - when[i]).days <= 7 * SEASONAL_WEEKS
    ]
    return np.array(same, dtype=np.float64) if len(same) >= SEASONAL_MIN_WEEKS else None
