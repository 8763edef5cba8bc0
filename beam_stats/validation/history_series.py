"""The metric series of a statistics history and its anomalies, as plain data to draw.

:func:`history_series` turns the statistics of ordered spans (oldest first) and the
``Anomalies`` that :func:`~beam_stats.validation.history.monitor_statistics` found in them
into a :class:`HistorySeries`: for the dataset and each feature, each metric of
:data:`~beam_stats.drift.series.METRICS` that applies to it, one value per span (``None``
where the span lacks the feature or the metric), and one :class:`SeriesMark` per anomaly,
at its span, with the metric it is about when it is about one:

* ``HISTORY_NUM_EXAMPLES_DROP``, ``DATA_MISSING`` and the other dataset-level anomalies:
  the dataset's ``num_examples``;
* ``HISTORY_METRIC_OUTLIER``: the metric its description names (the description is the
  library's own, :func:`~beam_stats.validation.history._outlier`, matched in full with the
  span key, never searched for a metric's name);
* ``COMPARATOR_MISSING_FRACTION_HIGH``: ``missing_fraction``;
* any other feature anomaly (a drift against the previous span or the rolling baseline):
  the feature as a whole (``metric`` is ``None``), drawn on each of its charts.

Descriptions of a feature that a span's privacy policy redacts or hashes are withheld
(:func:`~beam_stats.validation.pii.withhold_values`), as in the report of one file.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence

from tensorflow_metadata.proto.v0 import anomalies_pb2

from beam_stats._types import FeaturePath, path_str
from beam_stats.drift.compare import features_of
from beam_stats.drift.measure import DistanceSpec
from beam_stats.drift.series import METRICS, drift_metrics, span_metrics
from beam_stats.errors import InvalidInputError
from beam_stats.schema.view import one_dataset
from beam_stats.validation.catalogue import CUSTOM_NAMES
from beam_stats.validation.pii import withhold_values
from beam_stats.validation.statistics import Statistics, anomaly_rows

__all__ = ["HistorySeries", "SeriesMark", "history_series"]

_METRIC_OF = {"COMPARATOR_MISSING_FRACTION_HIGH": "missing_fraction"}


@dataclasses.dataclass(frozen=True)
class SeriesMark:
    """One anomaly of one span, where a chart marks it.

    Attributes:
        span: the span key.
        feature: the feature's dotted path; ``""`` for the dataset.
        metric: the metric it is about (one of ``METRICS``), or None: the feature as a whole.
        anomaly: its name: the custom short description (``HISTORY_METRIC_OUTLIER``, ...)
            or the anomaly type (``COMPARATOR_L_INFTY_HIGH``, ``DATA_MISSING``, ...).
        severity: ``ERROR``, ``WARNING`` or ``INFO``.
        description: what was found, naming the value and the expected range.
    """

    span: str
    feature: str
    metric: str | None
    anomaly: str
    severity: str
    description: str


@dataclasses.dataclass(frozen=True)
class HistorySeries:
    """The metrics of every span, and the anomalies found in them.

    Attributes:
        spans: the span keys, oldest first.
        series: feature (dotted path; ``""`` the dataset) -> metric -> one value per span
            (``None``: the span lacks it). Features in order of first appearance, metrics in
            the order of ``METRICS``; a metric is listed when some span has it.
        kinds: feature -> ``"numeric"``, ``"string"`` (from its metrics) or ``"dataset"``.
        marks: every anomaly, by span, then as the span's ``Anomalies`` lists them.
    """

    spans: tuple[str, ...]
    series: dict[str, dict[str, list[float | None]]]
    kinds: dict[str, str]
    marks: tuple[SeriesMark, ...]


def history_series(
    history: Sequence[tuple[str, Statistics]],
    anomalies: Mapping[str, anomalies_pb2.Anomalies],
    distances: DistanceSpec | None = None,
) -> HistorySeries:
    """The metric series of `history` and the marks of `anomalies` (see the module notes).

    Args:
        history: (span key, statistics of one dataset), oldest first.
        anomalies: span -> its ``Anomalies`` (as ``monitor_statistics`` returns them); spans
            not checked may be left out.
        distances: how ``drift_previous`` (each span's distance from the one before it) is
            measured; the monitor's (``MonitorSpec.distances``) so the series shows what it
            checked.

    Returns:
        The series and marks, plain data.

    Raises:
        InvalidInputError: an empty history, or anomalies of a span the history lacks.
    """
    spans = tuple(span for span, _ in history)
    if not spans:
        raise InvalidInputError("no span in the history: nothing to draw")
    unknown = sorted(set(anomalies) - set(spans))
    if unknown:
        raise InvalidInputError(f"anomalies of spans not in the history: {unknown}")
    metrics = [span_metrics(statistics) for _, statistics in history]
    features = [features_of(statistics) for _, statistics in history]
    for i in range(1, len(history)):
        metrics[i].update(drift_metrics(features[i - 1], features[i], distances))
    order: dict[FeaturePath, set[str]] = {}
    for found in metrics:
        for path, metric in found:
            order.setdefault(path, set()).add(metric)
    order = {(): order.pop((), set()), **order}
    series: dict[str, dict[str, list[float | None]]] = {}
    kinds: dict[str, str] = {}
    for path, present in order.items():
        name = path_str(path)
        series[name] = {
            metric: [found.get((path, metric)) for found in metrics]
            for metric in METRICS
            if metric in present
        }
        kinds[name] = (
            "dataset"
            if not path
            else "numeric"
            if present & {"mean", "std"}
            else "string"
            if present & {"distinct", "top_share"}
            else "other"
        )
    marks: list[SeriesMark] = []
    for span, statistics in history:
        if span in anomalies:
            shown = withhold_values(anomalies[span], one_dataset(statistics))
            marks += _marks(span, shown)
    return HistorySeries(spans, series, kinds, tuple(marks))


def _marks(span: str, anomalies: anomalies_pb2.Anomalies) -> list[SeriesMark]:
    marks = []
    if anomalies.data_missing:
        marks.append(
            SeriesMark(
                span, "", "num_examples", "DATA_MISSING", "ERROR", "The span has no examples."
            )
        )
    for row in anomaly_rows(anomalies):
        name = row.type
        if name == "CUSTOM_VALIDATION" and row.short_description in CUSTOM_NAMES:
            name = row.short_description
        if not row.feature:
            metric: str | None = "num_examples"
        elif name == "HISTORY_METRIC_OUTLIER":
            metric = _outlier_metric(span, row.description)
        else:
            metric = _METRIC_OF.get(name)
        marks.append(SeriesMark(span, row.feature, metric, name, row.severity, row.description))
    return marks


def _outlier_metric(span: str, description: str) -> str | None:
    """The metric a ``HISTORY_METRIC_OUTLIER`` description of `span` names, if it is one
    that ``validation.history`` wrote."""
    names = "|".join(re.escape(metric) for metric in METRICS)
    # The metric's words (METRIC_TEXT, or the distance's name for drift_previous), no "(".
    found = re.match(rf"Span {re.escape(span)}: the [^()]+ \(({names})\) is ", description)
    return found.group(1) if found else None
