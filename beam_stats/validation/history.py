"""Monitoring over time: each span of a statistics history against the spans before it.

Given the statistics of ordered spans (oldest first, one dataset each), a checked span gets
one tensorflow-metadata ``Anomalies`` message (``baseline``: the schema, if any) with:

1. **The previous span**: the drift comparators (:func:`beam_stats.drift.compare_statistics`)
   with the schema's drift thresholds when a schema is given, else the library's
   :data:`~beam_stats.drift.defaults.DEFAULT_THRESHOLDS`; a breach is the comparator's own
   anomaly (``COMPARATOR_L_INFTY_HIGH``, ``COMPARATOR_MISSING_FRACTION_HIGH``, ...,
   :mod:`beam_stats.validation.comparators`), and with a schema its
   ``num_examples_drift_comparator`` applies too. *Recovery rule*: a breach against the
   previous span is dropped when the same measure of the same feature is within its
   threshold against the rolling baseline (the previous span was the odd one out, and
   the data came back to normal), so one bad day raises once, not twice.
2. **The rolling baseline**: the exact merge of the last ``baseline_spans`` spans before the
   checked one (:meth:`beam_stats.beam.history.StatisticsStore.rolling_baseline`), with the
   same comparators and thresholds: a breach is ``CUSTOM_VALIDATION``
   ``HISTORY_ROLLING_DRIFT_HIGH``. A slow drift that never moves far in one span
   accumulates against it.
3. **Metric series** (:mod:`beam_stats.drift.series`): a drop of ``num_examples`` is
   ``HISTORY_NUM_EXAMPLES_DROP`` (dataset level), a feature metric out of its range
   ``HISTORY_METRIC_OUTLIER``; the metrics include ``drift_previous``, each span's drift
   distance from the span before it, so an unusually large day-over-day change (for that
   feature's past distances) is an outlier too. Their limits: the schema's
   (:func:`~beam_stats.drift.series_schema.history_limits`, per metric and per feature)
   over ``MonitorSpec.series`` (precedence in :mod:`beam_stats.drift.series_limits`).

Check 2 needs ``series.min_history`` earlier spans (7 by default), check 3 each metric's
``min_history``; before that a span is only compared with the previous one. Each
description names the span, the metric or measure, the value, the expected range or
threshold and the strategy or baseline.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence

from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2, statistics_pb2

from beam_stats._types import FeaturePath, path_str
from beam_stats.drift.compare import (
    DatasetComparison,
    FeatureData,
    Measured,
    compare_statistics,
    features_of,
)
from beam_stats.drift.defaults import DEFAULT_THRESHOLDS
from beam_stats.drift.measure import DistanceSpec
from beam_stats.drift.series import (
    DRIFT_MEASURES,
    Outlier,
    SpanMetrics,
    drift_metrics,
    series_outliers,
    span_metrics,
)
from beam_stats.drift.series_limits import (
    DEFAULT_BASELINE_SPANS,
    DEFAULT_SERIES_LIMITS,
    HistoryLimits,
    SeriesLimits,
    check_limits,
)
from beam_stats.drift.series_schema import history_limits
from beam_stats.drift.threshold_schema import Thresholds
from beam_stats.errors import InvalidInputError
from beam_stats.schema.view import one_dataset
from beam_stats.schema.violations import Violation, num
from beam_stats.stats import merge_statistics
from beam_stats.validation import comparators
from beam_stats.validation.statistics import Statistics, ValidationSpec, fill_info

AnomalyType = anomalies_pb2.AnomalyInfo.Type

#: Each metric of the series in words (descriptions name both).
METRIC_TEXT = {
    "num_examples": "number of examples",
    "missing_fraction": "fraction of examples missing the feature",
    "mean": "mean",
    "std": "standard deviation",
    "distinct": "number of distinct values",
    "top_share": "share of the most frequent value",
    "drift_previous": "drift distance from the previous span",
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class MonitorSpec:
    """Options of :func:`monitor_statistics`.

    Args:
        baseline_spans: the rolling baseline's (and the metric window's) length in spans.
        series: the metric series' strategy and thresholds, under the schema's limits
            (:class:`~beam_stats.drift.series_limits.HistoryLimits`) when it keeps some.
        thresholds: drift thresholds for every feature, over the schema's or the defaults.
        validation: severity overrides and distance options, as for validation.
    """

    baseline_spans: int = DEFAULT_BASELINE_SPANS
    series: SeriesLimits = DEFAULT_SERIES_LIMITS
    thresholds: Thresholds | None = None
    validation: ValidationSpec = dataclasses.field(default_factory=ValidationSpec)

    def __post_init__(self) -> None:
        n = self.baseline_spans
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InvalidInputError(f"baseline_spans must be a positive integer, got {n!r}")

    @property
    def distances(self) -> DistanceSpec:
        return self.validation.distances


def monitor_statistics(
    history: Sequence[tuple[str, Statistics]],
    schema: schema_pb2.Schema | None = None,
    *,
    spans: Collection[str] | None = None,
    baselines: Mapping[str, Statistics] | None = None,
    spec: MonitorSpec | None = None,
) -> dict[str, anomalies_pb2.Anomalies]:
    """The anomalies of spans of a history against the spans before them.

    Args:
        history: (span key, statistics of one dataset) of every span, oldest first.
        schema: drift thresholds (and ``num_examples_drift_comparator``) and the limits of
            the metric series it keeps; without one the library's default thresholds apply
            to every feature.
        spans: the spans to check; by default the newest.
        baselines: the rolling baseline of a checked span, when the caller has it (a
            store merges its files); otherwise the window's statistics are merged here.
        spec: options.

    Returns:
        span -> its ``Anomalies`` (see the module docstring), in history order.

    Raises:
        InvalidInputError: an empty history, spans out of order or twice, a span to check
            that the history lacks, or an ``absolute`` strategy without a threshold.
        SchemaError: the schema's limits of the metric series are unreadable or invalid.
        IncompatibleMergeError: spans made with other sketch settings or privacy policies.
    """
    spec = spec or MonitorSpec()
    keys = [span for span, _ in history]
    if not keys:
        raise InvalidInputError("no span in the history: nothing to monitor")
    if any(a >= b for a, b in zip(keys, keys[1:], strict=False)):
        raise InvalidInputError(f"the history's spans are not in increasing order: {keys}")
    wanted = [keys[-1]] if spans is None else list(spans)
    unknown = sorted(set(wanted) - set(keys))
    if unknown:
        raise InvalidInputError(f"spans not in the history: {unknown} (it has {len(keys)})")
    overrides = history_limits(schema) if schema is not None else None
    check_limits(spec.series, overrides)
    metrics = [span_metrics(statistics) for _, statistics in history]
    _add_drift_metrics(history, [keys.index(s) for s in wanted], metrics, spec)
    found = {}
    for index, (span, _) in enumerate(history):
        if span not in wanted:
            continue
        baseline = (baselines or {}).get(span)
        found[span] = _check(history, index, metrics, schema, overrides, baseline, spec)
    return found


def _add_drift_metrics(
    history: Sequence[tuple[str, Statistics]],
    checked: list[int],
    metrics: list[SpanMetrics],
    spec: MonitorSpec,
) -> None:
    """Adds ``drift_previous`` to the metrics of the spans the checks of `checked` read
    (each checked span and its window), each span's features read once."""
    needed = sorted({i for t in checked for i in range(max(1, t - spec.baseline_spans), t + 1)})
    features: dict[int, dict[FeaturePath, FeatureData]] = {}
    for i in needed:
        for j in (i - 1, i):
            if j not in features:
                features[j] = features_of(history[j][1])
        metrics[i].update(drift_metrics(features[i - 1], features[i], spec.distances))


def _check(
    history: Sequence[tuple[str, Statistics]],
    index: int,
    metrics: list[SpanMetrics],
    schema: schema_pb2.Schema | None,
    overrides: HistoryLimits | None,
    baseline: Statistics | None,
    spec: MonitorSpec,
) -> anomalies_pb2.Anomalies:
    span, statistics = history[index]
    dataset = one_dataset(statistics)
    anomalies = anomalies_pb2.Anomalies(anomaly_name_format=anomalies_pb2.Anomalies.SERIALIZED_PATH)
    if schema is not None:
        anomalies.baseline.CopyFrom(schema)
    if dataset.num_examples == 0:
        anomalies.data_missing = True
        return anomalies
    features: dict[FeaturePath, list[Violation]] = {}
    dataset_reasons: list[Violation] = []
    window = history[max(0, index - spec.baseline_spans) : index]
    rolling: DatasetComparison | None = None
    if len(window) >= spec.series.min_history:
        if baseline is None:
            baseline = merge_statistics(*(one_list(s) for _, s in window))
        rolling = _compare(baseline, dataset, schema, spec)
        where = f"the rolling baseline of {len(window)} spans ({window[0][0]} to {window[-1][0]})"
        for feature in rolling.features:
            for measured in feature.breaches:
                features.setdefault(feature.path, []).append(_rolling(span, where, measured))
    if index > 0:
        previous_span, previous = history[index - 1]
        if schema is not None:
            dataset_reasons += comparators.num_examples_comparator(
                schema, dataset, one_dataset(previous)
            )
        compared = _compare(previous, dataset, schema, spec)
        calm = _within(rolling) if rolling is not None else None
        for feature in compared.features:
            for measured in feature.breaches:
                if calm is not None and (feature.path, measured.measure) in calm:
                    continue  # the recovery rule (see the module docstring)
                found = comparators._violation(measured, "current", "previous")
                prefix = f"Span {span} against the previous span {previous_span}: "
                violation = Violation(found.type, found.short, prefix + found.long)
                features.setdefault(feature.path, []).append(violation)
    for outlier in series_outliers(
        [key for key, _ in history],
        metrics,
        index,
        spec.series,
        spec.baseline_spans,
        overrides=overrides,
    ):
        if outlier.path:
            text = None
            if outlier.metric == "drift_previous":
                kind = features_of(dataset)[outlier.path].kind
                text = f"{comparators.ANOMALIES[DRIFT_MEASURES[kind]][3]} from the previous span"
            features.setdefault(outlier.path, []).append(_outlier(span, outlier, text))
        else:
            dataset_reasons.append(_outlier(span, outlier))
    severities = spec.validation.severities(schema or schema_pb2.Schema())
    for path, violations in sorted(features.items()):
        info = anomalies.anomaly_info[path_str(path)]
        info.path.step.extend(path)
        fill_info(info, violations, severities)
    if dataset_reasons:
        fill_info(anomalies.dataset_anomaly_info, dataset_reasons, severities)
    return anomalies


def one_list(statistics: Statistics) -> statistics_pb2.DatasetFeatureStatisticsList:
    """`statistics` as a list of its one dataset."""
    if isinstance(statistics, statistics_pb2.DatasetFeatureStatisticsList):
        return statistics
    return statistics_pb2.DatasetFeatureStatisticsList(datasets=[statistics])


def _compare(
    base: Statistics,
    test: Statistics,
    schema: schema_pb2.Schema | None,
    spec: MonitorSpec,
) -> DatasetComparison:
    return compare_statistics(
        base,
        test,
        schema,
        kind="drift",
        limits=spec.thresholds,
        defaults=DEFAULT_THRESHOLDS if schema is None else None,
        spec=spec.distances,
    )


def _within(comparison: DatasetComparison) -> set[tuple[FeaturePath, str]]:
    """(feature, measure) pairs measured and within their threshold."""
    return {
        (feature.path, m.measure)
        for feature in comparison.features
        for m in feature.measured
        if m.distance is not None and m.threshold is not None and not m.breached
    }


def _rolling(span: str, where: str, measured: Measured) -> Violation:
    distance, threshold = measured.distance, measured.threshold
    assert distance is not None and threshold is not None
    text = comparators.ANOMALIES[measured.measure][3]
    if measured.measure == "chi_squared":
        p_value = distance.p_value if distance.p_value is not None else 0.0
        value = f"{num(p_value)} (statistic {num(distance.value)}), below"
    else:
        error = f" +- {num(distance.error)}" if distance.error else ""
        value = f"{num(distance.value)}{error}, above"
    detail = f"; {distance.detail}" if distance.detail else ""
    return Violation(
        AnomalyType.CUSTOM_VALIDATION,
        "HISTORY_ROLLING_DRIFT_HIGH",
        f"Span {span}: the {text} ({measured.measure}) against {where} is {value} the "
        f"threshold {num(threshold)} (read from: {distance.source}{detail}).",
    )


def _outlier(span: str, outlier: Outlier, text: str | None = None) -> Violation:
    text = text or METRIC_TEXT[outlier.metric]
    if outlier.metric == "num_examples":
        short = "HISTORY_NUM_EXAMPLES_DROP"
        expected = f"expected at least {num(outlier.low)}"
    else:
        short = "HISTORY_METRIC_OUTLIER"
        expected = f"expected range [{num(outlier.low)}, {num(outlier.high)}]"
    return Violation(
        AnomalyType.CUSTOM_VALIDATION,
        short,
        f"Span {span}: the {text} ({outlier.metric}) is {num(outlier.value)}, {expected} "
        f"(around {num(outlier.expected)}; strategy {outlier.strategy}, from "
        f"{outlier.history} earlier spans).",
    )
