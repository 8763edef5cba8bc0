"""Time series of per-span metrics and the strategies that find their outliers.

Metrics, read from the finished statistics of each span (one dataset):

* ``num_examples`` (the dataset's);
* per feature: ``missing_fraction`` (examples without the feature over all examples),
  ``mean`` and ``std`` (numeric features), ``distinct`` (string features' distinct count)
  and ``top_share`` (string features: the most frequent value's count over all values);
* per feature, of a span and the one before it (:func:`drift_metrics`): ``drift_previous``,
  the drift distance between the two, the measure TFDV's drift comparator uses by kind:
  L-infinity for categorical features, Jensen-Shannon for numeric ones
  (:data:`DRIFT_MEASURES`, as :func:`beam_stats.drift.compare_statistics` computes them).
  Not for id-like features (their distances are high every day, see
  :func:`beam_stats.drift.defaults.is_id_like`) nor a feature whose kind changed.

A span's value is checked against the values of the spans before it (the *window*: at
most ``baseline_spans`` of them, the same spans as the rolling baseline). Each strategy gives
an expected value and a half-width; the value is an outlier when it is outside
``expected +- max(z * scale, floor)``:

* ``mad`` (the default): expected = the window's median, scale = 1.4826 x its median
  absolute deviation (robust: one outage in the window moves neither);
* ``zscore``: expected = the window's mean, scale = its standard deviation;
* ``relative``: expected = the previous span's value, no scale (the floor alone);
* ``absolute``: expected = the previous span's value, half-width = the metric's
  ``threshold``, a fixed change in the metric's own unit (neither ``z`` nor the floor
  apply; the strategy needs the threshold, see :mod:`beam_stats.drift.series_limits`);
* ``seasonal``: when every span key of the window and the target is a date
  (``YYYY-MM-DD``, read with :meth:`datetime.date.fromisoformat` on the whole key) and the
  window holds at least :data:`SEASONAL_MIN_WEEKS` spans on the target's weekday within the
  last :data:`SEASONAL_WEEKS` weeks: expected = the median of those same-weekday values,
  scale as ``mad`` but of them. ``auto`` uses ``seasonal`` when it can, else ``mad``.

The *floor* is the smallest change that matters, whatever the noise: a fraction of the
expected value (``num_examples``, ``std``, ``distinct``), an absolute change of a share
(``missing_fraction``, ``top_share``) or of a distance (``drift_previous``), or, for
``mean``, a fraction of the feature's typical standard deviation (the window's median
``std``). It keeps a metric that barely moves (a near-zero MAD) from raising on noise.
``num_examples`` is only checked downwards (a drop), ``drift_previous`` only upwards (a
small distance is no anomaly).

The floor of ``drift_previous`` (:attr:`SeriesLimits.drift_change`, 0.05) is half the
default drift thresholds (0.1, :data:`~beam_stats.drift.defaults.DEFAULT_THRESHOLDS`): at
thousands of examples a day the distance between two days of the same data is sampling
noise of 0.001 to 0.03, and a day with few examples (an outage) doubles it; without the
floor that noise would be an outlier of a window that barely moves (the outage, already a
``num_examples`` drop, and the day after it would raise again). With it, a day-over-day
distance is an outlier when it is both unusual for the feature and half-way to a drift
threshold.

No window shorter than ``min_history`` spans is used. The defaults
(:data:`DEFAULT_SERIES_LIMITS`) raise nothing on stable data: a value must be 3.5 robust
standard deviations away *and* beyond its floor. A linear trend never raises here (the
window's spread grows with it); slow drift is the rolling baseline's to find.

Limits per metric and per feature (in the schema, :class:`HistoryLimits`) override these
field by field; :func:`metric_limits` resolves them (precedence in
:mod:`beam_stats.drift.series_limits`).
"""

from __future__ import annotations

import dataclasses
import datetime
import math
from collections.abc import Mapping, Sequence

import numpy as np
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats._types import FeaturePath
from beam_stats.drift.compare import FeatureData, compare_feature
from beam_stats.drift.defaults import is_id_like
from beam_stats.drift.measure import DistanceSpec
from beam_stats.drift.series_limits import DEFAULT_SERIES_LIMITS as DEFAULT_SERIES_LIMITS
from beam_stats.drift.series_limits import METRICS as METRICS
from beam_stats.drift.series_limits import STRATEGIES as STRATEGIES
from beam_stats.drift.series_limits import HistoryLimits, metric_limits
from beam_stats.drift.series_limits import SeriesLimits as SeriesLimits
from beam_stats.drift.threshold_schema import Thresholds
from beam_stats.errors import InvalidInputError
from beam_stats.schema.view import dataset_views, one_dataset

#: The measure of ``drift_previous`` by kind of feature (TFDV's drift comparator's).
DRIFT_MEASURES = {"categorical": "l_infinity", "numeric": "jensen_shannon"}
#: The seasonal strategy looks at most this many weeks back ...
SEASONAL_WEEKS = 4
#: ... and needs at least this many spans on the target's weekday.
SEASONAL_MIN_WEEKS = 3
_MAD_SCALE = 1.4826  # MAD to standard deviation, for normal data


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


def drift_metrics(
    previous: Mapping[FeaturePath, FeatureData],
    current: Mapping[FeaturePath, FeatureData],
    spec: DistanceSpec | None = None,
) -> SpanMetrics:
    """``drift_previous`` of every feature of a span: the distance of :data:`DRIFT_MEASURES`
    between its previous span's statistics and its own (see the module docstring).

    Args:
        previous, current: the features of the two spans
            (:func:`beam_stats.drift.compare.features_of`).
        spec: binning and reading options of the distances.
    """
    found: SpanMetrics = {}
    for path, test in current.items():
        base = previous.get(path)
        measure = DRIFT_MEASURES.get(test.kind)
        if base is None or measure is None or base.kind != test.kind:
            continue
        if is_id_like(base.stats) or is_id_like(test.stats):
            continue
        compared = compare_feature(base, test, Thresholds(), measures=(measure,), spec=spec)
        distance = compared.measured[0].distance
        if distance is not None:
            found[path, "drift_previous"] = float(distance.value)
    return found


def _dates(spans: Sequence[str]) -> list[datetime.date] | None:
    try:
        return [datetime.date.fromisoformat(s) for s in spans]
    except ValueError:
        return None


def _robust(values: np.ndarray) -> tuple[float, float]:
    median = float(np.median(values))
    return median, _MAD_SCALE * float(np.median(np.abs(values - median)))


def _floor(metric: str, expected: float, typical_std: float, floor: float) -> float:
    """The floor in the metric's own unit."""
    if metric in ("missing_fraction", "top_share", "drift_previous"):
        return floor
    if metric == "mean":
        return floor * typical_std
    return floor * abs(expected)  # num_examples, std, distinct


def series_outliers(
    spans: Sequence[str],
    metrics: Sequence[SpanMetrics],
    target: int,
    limits: SeriesLimits = DEFAULT_SERIES_LIMITS,
    window: int = 28,
    *,
    overrides: HistoryLimits | None = None,
) -> list[Outlier]:
    """The metrics of span `target` outside the range the spans before it give.

    Args:
        spans: the span keys, oldest first.
        metrics: :func:`span_metrics` of each span, aligned with `spans`.
        target: the index of the span checked.
        limits: strategy and thresholds (the caller's).
        window: the most earlier spans used (the rolling baseline's length).
        overrides: limits per metric and feature (a schema's), over `limits`.

    Returns:
        The outliers, sorted by feature and metric; a metric whose history is shorter than
        its ``min_history`` is not checked.

    Raises:
        InvalidInputError: `target` out of range, or an ``absolute`` strategy without a
            threshold.
    """
    if len(spans) != len(metrics) or not 0 <= target < len(spans):
        raise InvalidInputError(
            f"target {target} out of {len(spans)} spans ({len(metrics)} metric sets)"
        )
    first = max(0, target - window)
    earlier = list(range(first, target))
    if not earlier:
        return []
    dates = _dates([spans[i] for i in [*earlier, target]])
    current = metrics[target]
    found = []
    for key in sorted(current, key=lambda k: (k[0], METRICS.index(k[1]))):
        path, metric = key
        rule = metric_limits(limits, overrides, path, metric)
        history = [(i, metrics[i][key]) for i in earlier if key in metrics[i]]
        if len(history) < rule.min_history:
            continue
        stds = [metrics[i].get((path, "std")) for i in earlier]
        typical_std = float(np.median([s for s in stds if s is not None] or [0.0]))
        value = current[key]
        expected, scale, strategy = _expected(history, dates, earlier, rule.strategy)
        if strategy == "absolute":
            assert rule.threshold is not None  # metric_limits refuses an absolute without
            half = rule.threshold
        else:
            half = max(rule.z * scale, _floor(metric, expected, typical_std, rule.floor))
        low, high = expected - half, expected + half
        low = max(low, 0.0)  # every metric is a count, a share, a spread or a distance ...
        if metric in ("missing_fraction", "top_share"):
            high = min(high, 1.0)
        elif metric == "num_examples":
            high = math.inf  # only a drop is an anomaly
        elif metric == "drift_previous":
            low = 0.0  # only a larger distance is
        if metric == "mean":
            low = expected - half  # ... but a mean
        if not low <= value <= high:
            found.append(Outlier(path, metric, value, expected, low, high, strategy, len(history)))
    return found


def _expected(
    history: list[tuple[int, float]],
    dates: list[datetime.date] | None,
    earlier: list[int],
    strategy: str,
) -> tuple[float, float, str]:
    """(expected, scale, strategy) of one metric from its earlier values."""
    values = np.array([v for _, v in history], dtype=np.float64)
    if strategy in ("auto", "seasonal"):
        same = _same_weekday(history, dates, earlier)
        if same is not None:
            expected, scale = _robust(same)
            return expected, scale, "seasonal"
        if strategy == "seasonal":
            return float(values[-1]), 0.0, "relative"  # no dates: the previous span's value
        strategy = "mad"
    if strategy == "mad":
        expected, scale = _robust(values)
        return expected, scale, "mad"
    if strategy == "zscore":
        scale = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
        return float(np.mean(values)), scale, "zscore"
    if strategy == "absolute":
        return float(values[-1]), 0.0, "absolute"
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
