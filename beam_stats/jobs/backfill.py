"""A statistics history filled in one job: :func:`backfill_history` (``beam-stats stats
--span-from-path REGEX --history STORE``, or ``--span KEY --history STORE``).

Every input file belongs to exactly one span, read from its path by a regular expression
(:class:`~beam_stats.beam.spans.SpanFromPath`; ``day=(?P<span>[^/]+)`` reads ``2026-11-23``
from ``data/day=2026-11-23/part-0.parquet``), or to the one span given. The files are
listed first, and a file whose path the expression does not match fails the job before
anything is read, naming the file and the expression: no file is ever dropped.

One Beam pipeline reads every file, keys each record batch by its file's span (the reader
passes the path along, ``ReadRecordBatches(with_paths=True)``) and combines the spans as
slices are combined (``CombinePerKey`` of the one fused ``CombineFn``), so the spans are
computed together, in one read of the data. Each span's statistics are exactly what
``compute_statistics`` gives for that span's files alone (the same accumulator, the same
finished statistics, the sketch state included), and are written by the workers as the
span's file of the store (:meth:`~beam_stats.beam.history.StatisticsStore.write_span`); a
last step lists them all in the store's manifest in one atomic write, replacing spans the
store had (:meth:`~beam_stats.beam.history.StatisticsStore.add_entries`). A span whose
files gave no rows (every one unreadable, say) is added with no examples, so the monitor
sees the gap; the unreadable rows and files are in the errors file, as for ``stats``.

Options are those of :func:`~beam_stats.jobs.statistics.compute_statistics` that make sense
per span: the statistics spec (its privacy policy goes into every span's statistics), a
schema, the input format and the dataset name. Not slicing: a span file holds one dataset
(the store's entries count its examples, its baselines merge it), so user slices are
refused; compute them with ``compute_statistics`` per span. The sketch state is always
kept (the store refuses statistics without it). A label with ``quantile_bins`` gets its
edges from all the spans' files together (one more read), so that the spans merge.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Sequence

import apache_beam as beam
import pyarrow as pa
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.transforms.combiners import ToList
from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

from beam_stats.beam import ReadRecordBatches
from beam_stats.beam.artifacts import PathLike, errors_path, load_schema
from beam_stats.beam.combine import StatisticsCombineFn
from beam_stats.beam.formats import is_local
from beam_stats.beam.history import SpanEntry, StatisticsStore
from beam_stats.beam.running import make_pipeline, run_pipeline
from beam_stats.beam.sinks import WriteErrors
from beam_stats.beam.spans import SpanFromPath, check_span
from beam_stats.beam.writing import (
    check_outputs,
    input_pattern,
    match_inputs,
)
from beam_stats.errors import InvalidInputError
from beam_stats.jobs.label_bins import resolve_label_bins
from beam_stats.jobs.statistics import count_problems, with_schema
from beam_stats.stats import DatasetAccumulator, StatisticsSpec


@dataclasses.dataclass(frozen=True)
class BackfillResult:
    """What :func:`backfill_history` added.

    Attributes:
        store: the statistics store.
        entries: the spans added, sorted by span, as the manifest lists them.
        replaced: the spans among them that the store had before (now replaced).
        errors: the errors file (JSON lines: file, line, kind, message).
        input_problems: the rows and files that could not be read, listed in `errors`.
    """

    store: StatisticsStore
    entries: tuple[SpanEntry, ...]
    replaced: tuple[str, ...]
    errors: str
    input_problems: int

    @property
    def num_examples(self) -> int:
        """The examples of every span added."""
        return sum(e.num_examples for e in self.entries)


class _SpanOf:
    """A file's span: read from its path, or the one span of every file."""

    def __init__(self, rule: SpanFromPath | str) -> None:
        self._rule = rule

    def __call__(self, path: str) -> str:
        return self._rule if isinstance(self._rule, str) else self._rule.span_of(path)


def _spans_of_files(patterns: Sequence[str], span_of: _SpanOf) -> dict[str, str]:
    """The span of every file `patterns` match (path -> span), before anything is read.

    A file matched under several paths (overlapping patterns, links) is read once, under
    the least of them (as ``ReadRecordBatches`` does), so its span is read from that one.
    """
    by_file: dict[str, str] = {}
    for path in match_inputs(patterns):
        key = os.path.realpath(path) if is_local(path) else path  # the reader's key
        by_file[key] = min(path, by_file.get(key, path))
    return {path: span_of(path) for path in sorted(by_file.values())}


def _keyed(item: tuple[str, pa.RecordBatch], span_of: _SpanOf) -> tuple[str, pa.RecordBatch]:
    path, batch = item
    return span_of(path), batch


def _write_span(
    item: tuple[str, statistics_pb2.DatasetFeatureStatisticsList], store: StatisticsStore
) -> SpanEntry:
    span, statistics = item
    return store.write_span(statistics, span, f"the statistics of span {span!r}")


class _AddEntries(beam.DoFn):
    """The spans' entries (all of them, one list) to the manifest; a span that got no rows
    is written first, with no examples. Yields the store's path."""

    def __init__(
        self, store: StatisticsStore, spans: Sequence[str], spec: StatisticsSpec, name: str
    ) -> None:
        super().__init__()
        self._store, self._spans, self._spec, self._name = store, tuple(spans), spec, name

    def process(self, written: list[SpanEntry]) -> Iterator[str]:
        entries = list(written)  # an input is never changed in place
        done = {e.span for e in entries}
        for span in self._spans:
            if span not in done:
                empty = statistics_pb2.DatasetFeatureStatisticsList()
                DatasetAccumulator(self._spec).result(self._name, True, into=empty.datasets.add())
                entries.append(self._store.write_span(empty, span, f"span {span!r}"))
        self._store.add_entries(entries)
        yield self._store.path


def backfill_history(
    inputs: str | Sequence[str],
    store: StatisticsStore | PathLike,
    *,
    span_from_path: SpanFromPath | str | None = None,
    span: str | None = None,
    spec: StatisticsSpec | None = None,
    schema: schema_pb2.Schema | str | None = None,
    input_format: str | None = None,
    name: str = "",
    errors: str | None = None,
    pipeline_options: PipelineOptions | Sequence[str] | None = None,
) -> BackfillResult:
    """Computes the statistics of every span of the files `inputs` match, in one pipeline,
    and adds each span to `store` (see the module's notes).

    Args:
        inputs: file paths or globs, on any Beam file system.
        store: the statistics store (or its folder); spans it has are replaced.
        span_from_path: the regular expression (or :class:`SpanFromPath`) that reads each
            file's span from its path: its group named ``span``, or its only group.
        span: instead of `span_from_path`, the one span of every file.
        spec, schema, input_format, name, pipeline_options: as for
            :func:`~beam_stats.jobs.statistics.compute_statistics`.
        errors: the errors file; default ``<store>.errors.jsonl``, beside the store's folder.

    Raises:
        InvalidInputError: neither or both of `span_from_path` and `span`, a bad regular
            expression, a file whose path it does not match (named, with the expression),
            a bad span key, an output that is an input, a bad option.
        FileNotFoundError: a pattern matches no file.
        BeamStatsError: an unreadable schema, a store that cannot be written.
    """
    if (span_from_path is None) == (span is None):
        raise InvalidInputError(
            "give the spans of the files: a regular expression that reads each file's span "
            "from its path (span_from_path, --span-from-path), or one span for all (span, "
            "--span); not both"
        )
    rule: SpanFromPath | str
    if span is not None:
        rule = check_span(span)
    elif isinstance(span_from_path, SpanFromPath):
        rule = span_from_path
    else:
        rule = SpanFromPath(str(span_from_path))
    span_of = _SpanOf(rule)
    patterns = [inputs] if isinstance(inputs, str) else list(inputs)
    if not patterns:
        raise InvalidInputError("no input pattern given")
    store = store if isinstance(store, StatisticsStore) else StatisticsStore(store)
    errors = errors or errors_path(store.path)
    check_outputs(
        [*patterns, schema if isinstance(schema, str) else None], [store.manifest_path, errors]
    )
    spans = sorted(set(_spans_of_files(patterns, span_of).values()))  # fails fast
    before = {e.span for e in store.spans()}
    spec = spec or StatisticsSpec()
    if schema is not None:
        spec = with_schema(spec, load_schema(schema) if isinstance(schema, str) else schema)
    spec = resolve_label_bins(
        patterns, spec, errors, input_format=input_format, pipeline_options=pipeline_options
    )
    store.check_settings(spec.settings(), "the backfilled statistics", replacing=spans)
    pipeline = make_pipeline(pipeline_options)
    read = pipeline | "Read" >> ReadRecordBatches(
        [input_pattern(p) for p in patterns], input_format, privacy=spec.privacy, with_paths=True
    )
    added = (
        read.batches
        | "KeyBySpan" >> beam.Map(_keyed, span_of)
        | "CombinePerSpan" >> beam.CombinePerKey(StatisticsCombineFn(spec, name, True))
        | "WriteSpans" >> beam.Map(_write_span, store)
        | "Entries" >> ToList()
        | "AddToStore" >> beam.ParDo(_AddEntries(store, spans, spec, name))
    )
    written_errors = read.errors | "WriteErrors" >> WriteErrors(errors)
    # One final step that needs both writes: Beam's DaskRunner runs only the graph of
    # the last transform (docs/RUNNERS.md).
    _ = (added, written_errors) | "Done" >> beam.Flatten()
    run_pipeline(pipeline)
    entries = tuple(e for e in store.spans() if e.span in set(spans))
    replaced = tuple(s for s in spans if s in before)
    return BackfillResult(store, entries, replaced, errors, count_problems(errors))
