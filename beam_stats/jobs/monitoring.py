"""Monitoring a statistics store over time, as one job: :func:`monitor` (``beam-stats
monitor``).

Reads the spans of a :class:`~beam_stats.beam.history.StatisticsStore` (the newest, or every
one), each with the spans before it that its checks need, takes each checked span's rolling
baseline from the store (the exact merge of the last ``baseline_spans`` files) and checks it
with :func:`beam_stats.validation.history.monitor_statistics`: against the previous span,
against the rolling baseline, and along its metric series. No pipeline: the statistics are
small, and every file is verified against the store's manifest (a damaged span raises, it is
never skipped).

:func:`store_history` checks every span the same way and returns the metric series and the
anomalies as plain data; :func:`history_report` draws them (``beam-stats report --history``).
"""

from __future__ import annotations

import dataclasses
import os

from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2, statistics_pb2

from beam_stats.beam.artifacts import (
    PathLike,
    load_schema,
    numbered_path,
    write_anomalies,
    write_report,
)
from beam_stats.beam.history import SpanEntry, StatisticsStore
from beam_stats.beam.writing import check_outputs
from beam_stats.drift.series_limits import DEFAULT_BASELINE_SPANS
from beam_stats.errors import InvalidInputError
from beam_stats.report.history import render_history_report
from beam_stats.stats import merge_statistics
from beam_stats.validation.history import MonitorSpec, monitor_statistics
from beam_stats.validation.history_series import HistorySeries, history_series

__all__ = ["MonitorResult", "history_report", "monitor", "store_history"]

Found = dict[str, anomalies_pb2.Anomalies]


@dataclasses.dataclass(frozen=True)
class MonitorResult:
    """What :func:`monitor` found.

    Attributes:
        anomalies: span -> its ``Anomalies``, oldest first (every checked span, with or
            without anomalies).
        outputs: the anomalies files written (span -> path); empty without `output`.
    """

    anomalies: dict[str, anomalies_pb2.Anomalies]
    outputs: dict[str, str]

    @property
    def flagged(self) -> list[str]:
        """The checked spans with an anomaly."""
        return [span for span, a in self.anomalies.items() if _found(a)]

    @property
    def exit_status(self) -> int:
        """0 when no checked span has an anomaly, else 1 (as ``beam-stats validate``)."""
        return 1 if self.flagged else 0


def _found(anomalies: anomalies_pb2.Anomalies) -> bool:
    return bool(
        anomalies.data_missing or anomalies.anomaly_info or anomalies.dataset_anomaly_info.reason
    )


def output_paths(output: str, spans: list[str]) -> dict[str, str]:
    """Where the anomalies of `spans` go: `output` for one span, else one file per span
    (``anomalies.pbtxt`` -> ``anomalies-2026-01-15.pbtxt``)."""
    if len(spans) == 1:
        return {spans[0]: output}
    return {span: numbered_path(output, span) for span in spans}


def monitor(
    store: StatisticsStore | PathLike,
    *,
    schema: schema_pb2.Schema | PathLike | None = None,
    all_spans: bool = False,
    baseline_spans: int = DEFAULT_BASELINE_SPANS,
    spec: MonitorSpec | None = None,
    output: PathLike | None = None,
) -> MonitorResult:
    """Checks the newest span of `store` (every span with `all_spans`) against its history.

    Args:
        store: the statistics store, or its folder.
        schema: drift thresholds (a Schema or its file); None: the library's defaults.
        all_spans: check every span, not only the newest.
        baseline_spans: the rolling baseline's length (overrides `spec`'s).
        spec: the other options (metric strategy and thresholds, severities).
        output: write each checked span's ``Anomalies`` here (text by suffix); with several
            spans, one file per span named by :func:`output_paths`.

    Returns:
        The anomalies per span; :attr:`MonitorResult.exit_status` is 0 or 1.

    Raises:
        InvalidInputError: an empty store, a bad `baseline_spans`, a missing file or an
            output that is an input.
        DeserializationError: a damaged file, manifest or schema.
        IncompatibleMergeError: spans that cannot merge into a baseline.
    """
    store, spec, schema = _options(store, schema, baseline_spans, spec)
    entries = store.spans()
    if not entries:
        raise InvalidInputError(f"no spans in the statistics store {store.path}: nothing to check")
    checked = [e.span for e in entries] if all_spans else [entries[-1].span]
    paths: dict[str, str] = {}
    if output is not None:
        paths = output_paths(os.fspath(output), checked)
        check_outputs([store.manifest_path], list(paths.values()))
    _, found = _check(store, entries, checked, schema, spec)
    for span, path in paths.items():
        write_anomalies(found[span], path)
    return MonitorResult(found, paths)


def _options(
    store: StatisticsStore | PathLike,
    schema: schema_pb2.Schema | PathLike | None,
    baseline_spans: int,
    spec: MonitorSpec | None,
) -> tuple[StatisticsStore, MonitorSpec, schema_pb2.Schema | None]:
    if not isinstance(store, StatisticsStore):
        store = StatisticsStore(store)
    spec = dataclasses.replace(spec or MonitorSpec(), baseline_spans=baseline_spans)
    if schema is not None and not isinstance(schema, schema_pb2.Schema):
        schema = load_schema(schema)
    return store, spec, schema


def _check(
    store: StatisticsStore,
    entries: list[SpanEntry],
    checked: list[str],
    schema: schema_pb2.Schema | None,
    spec: MonitorSpec,
) -> tuple[list[tuple[str, statistics_pb2.DatasetFeatureStatisticsList]], Found]:
    """(the spans loaded, oldest first: `checked` and the windows before them; the
    anomalies of each checked span)."""
    first = next(i for i, e in enumerate(entries) if e.span == checked[0])
    # The window of the first checked span, and the span before it (its drift_previous).
    needed = entries[max(0, first - spec.baseline_spans - 1) :]
    history = [(e.span, store.load(e.span)) for e in needed]
    loaded = dict(history)
    baselines: dict[str, statistics_pb2.DatasetFeatureStatisticsList] = {}
    for span in checked:
        window = store.window(spec.baseline_spans, before=span)
        if len(window) >= spec.series.min_history:
            # What store.baseline merges, from the files read (and verified) once above.
            baselines[span] = merge_statistics(
                *(loaded[e.span] for e in window),
                sources=[f"span {e.span!r} ({store.file_path(e)})" for e in window],
            )
    found = monitor_statistics(history, schema, spans=checked, baselines=baselines, spec=spec)
    return history, found


def store_history(
    store: StatisticsStore | PathLike,
    *,
    schema: schema_pb2.Schema | PathLike | None = None,
    baseline_spans: int = DEFAULT_BASELINE_SPANS,
    spec: MonitorSpec | None = None,
) -> HistorySeries:
    """Every span of `store`, checked as :func:`monitor` with ``all_spans=True`` does, as
    plain data to draw: each metric's series and each anomaly at its span.

    Args:
        store: the statistics store, or its folder.
        schema: drift thresholds (a Schema or its file); None: the library's defaults.
        baseline_spans: the rolling baseline's length (overrides `spec`'s).
        spec: the other options of the checks.

    Returns:
        The series and anomalies (:func:`beam_stats.validation.history_series.history_series`).

    Raises:
        InvalidInputError: an empty store, a bad `baseline_spans` or a missing file.
        DeserializationError: a damaged file, manifest or schema.
        IncompatibleMergeError: spans that cannot merge into a baseline.
    """
    store, spec, schema = _options(store, schema, baseline_spans, spec)
    entries = store.spans()
    if not entries:
        raise InvalidInputError(f"no spans in the statistics store {store.path}: nothing to report")
    history, found = _check(store, entries, [e.span for e in entries], schema, spec)
    return history_series(history, found, spec.distances)


def history_report(
    store: StatisticsStore | PathLike,
    output: PathLike | None = None,
    *,
    schema: schema_pb2.Schema | PathLike | None = None,
    baseline_spans: int = DEFAULT_BASELINE_SPANS,
    spec: MonitorSpec | None = None,
    title: str | None = None,
) -> str:
    """The HTML report of a store over time (``beam-stats report --history``): every
    feature's metrics along the spans, each anomaly of :func:`store_history` marked at its
    span and listed (:func:`beam_stats.report.history.render_history_report`).

    Args:
        store: the statistics store, or its folder.
        output: write the page here (atomically); it may not be a file of the store or the
            schema.
        schema: drift thresholds (a Schema or its file); None: the library's defaults.
        baseline_spans: the rolling baseline's length (overrides `spec`'s).
        spec: the other options of the checks.
        title: the page title; by default names the store.

    Returns:
        The HTML document.

    Raises:
        InvalidInputError: an empty store, a bad `baseline_spans` or a missing file.
        OutputError: `output` is an input or cannot be written.
        DeserializationError: a damaged file, manifest or schema.
        IncompatibleMergeError: spans that cannot merge into a baseline.
    """
    if not isinstance(store, StatisticsStore):
        store = StatisticsStore(store)
    if output is not None:
        inputs = [store.manifest_path, *(store.file_path(e) for e in store.spans())]
        if schema is not None and not isinstance(schema, schema_pb2.Schema):
            inputs.append(os.fspath(schema))
        check_outputs(inputs, [os.fspath(output)])
    series = store_history(store, schema=schema, baseline_spans=baseline_spans, spec=spec)
    name = store.path.rstrip("/").rsplit("/", 1)[-1] or store.path
    page = render_history_report(series, title=title or f"beam-stats history: {name}")
    if output is not None:
        write_report(page, output)
    return page
