"""Statistics of files, as one job: :func:`compute_statistics` (``beam-stats stats``).

One Beam pipeline reads every file (Parquet, CSV, JSON lines, TFRecord; any Beam file
system), computes the statistics of the whole dataset and of its slices, and writes them
with the rows or files it could not read (with file and line) in the errors file,
``<output>.errors.jsonl`` unless given (the one naming rule of every command; under the
spec's privacy policy its messages quote no value of the input). Nothing is
read before the outputs are checked (an output that is an input is refused); every file is
written atomically.

A label with ``quantile_bins`` (``--label-quantile-bins``) first gets its edges from a
pipeline of its own over the same inputs (:mod:`beam_stats.jobs.label_bins`): one more read
of the inputs.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

from beam_stats.beam.artifacts import (
    errors_path,
    load_schema,
    load_statistics,
    read_json_lines,
    summarize_statistics,
)
from beam_stats.beam.engines import runs_in_process
from beam_stats.beam.inprocess import check_workers, statistics_in_process
from beam_stats.beam.writing import check_outputs, input_pattern, match_inputs
from beam_stats.errors import InvalidInputError
from beam_stats.stats import SlicingSpec, StatisticsSpec
from beam_stats.stats.wire import Summary

if TYPE_CHECKING:
    from apache_beam.options.pipeline_options import PipelineOptions


def with_schema(spec: StatisticsSpec, schema: schema_pb2.Schema) -> StatisticsSpec:
    """`spec` with what a schema says about computing statistics, as TFDV does when its
    ``StatsOptions`` hold a schema: INT features with ``int_domain.is_categorical`` are
    summarised like strings, and the sparse and weighted features get their statistics;
    and the schema's privacy policy on top of the spec's (:mod:`beam_stats.schema.privacy`).
    """
    # The schema layer only when a schema is given (a statistics run without one starts
    # without it).
    from beam_stats.schema import composite_specs
    from beam_stats.schema.features import iter_features
    from beam_stats.schema.privacy import effective_privacy

    categorical = {
        path
        for path, feature in iter_features(schema)
        if feature.type == schema_pb2.INT and feature.int_domain.is_categorical
    }
    privacy = effective_privacy(spec.privacy, schema)
    if privacy.hash and privacy.hash_key is None:  # before any data is read
        names = ", ".join(sorted(".".join(p) for p in privacy.hash))
        raise InvalidInputError(f"the schema hashes {names}: give its key (--hash-key-file)")
    return dataclasses.replace(
        spec,
        categorical_features=spec.categorical_features | categorical,
        composites=(*spec.composites, *composite_specs(schema)),
        privacy=privacy,
    )


@dataclasses.dataclass(frozen=True)
class StatisticsResult:
    """What :func:`compute_statistics` wrote.

    Attributes:
        output: the statistics file.
        errors: the errors file (JSON lines: file, line, kind, message).
        input_problems: the rows and files that could not be read, listed in `errors`.
        summary: datasets, examples and features in `output` (read without loading it).
    """

    output: str
    errors: str
    input_problems: int
    summary: Summary

    @functools.cached_property
    def statistics(self) -> statistics_pb2.DatasetFeatureStatisticsList:
        """The statistics, loaded from `output` when first asked for (the whole dataset
        first, then one dataset per slice)."""
        return load_statistics(self.output)


def compute_statistics(
    inputs: str | Sequence[str],
    output: str,
    *,
    spec: StatisticsSpec | None = None,
    slicing: SlicingSpec | None = None,
    schema: schema_pb2.Schema | str | None = None,
    input_format: str | None = None,
    name: str = "",
    errors: str | None = None,
    text: bool | None = None,
    include_state: bool = True,
    pipeline_options: PipelineOptions | Sequence[str] | None = None,
    engine: str = "auto",
    workers: int = 1,
) -> StatisticsResult:
    """Computes the statistics of the files `inputs` match and writes them to `output`.

    Args:
        inputs: file paths or globs, on any Beam file system.
        output: the statistics file; text format when `text`, or by default when its
            suffix is ``.pbtxt``, ``.textproto`` or ``.txt``.
        spec: what to compute; TFDV's defaults. A label with ``quantile_bins`` costs one
            more read of the inputs, for its edges (:mod:`beam_stats.jobs.label_bins`).
        slicing: slices to compute beside the whole dataset.
        schema: a schema (or its path) to compute with (:func:`with_schema`).
        input_format: one of ``beam_stats.beam.sources.FORMATS``; None: by file suffix.
        name: the dataset's name in the output.
        errors: the errors file; default ``<output>.errors.jsonl``
            (:func:`~beam_stats.beam.artifacts.errors_path`).
        include_state: keep the sketch state, so the output merges later.
        pipeline_options: Beam pipeline options, or flags such as ``["--runner=..."]``.
        engine: ``auto`` (the default) computes in this process, without building a Beam
            pipeline, when no pipeline option is given and every input is local (the
            DirectRunner would run in this process too, after about 1.7 s of pipeline
            construction), else runs a pipeline; ``beam`` always runs a pipeline,
            ``in-process`` never (:mod:`beam_stats.beam.inprocess`).
        workers: processes of the in-process engine (:mod:`beam_stats.beam.parallel`): the
            same inputs and workers give the same statistics on every run; several workers'
            equal one's up to the order of merging. Not with a pipeline (whose workers are
            its runner's options, e.g. ``--direct_num_workers``). The workers are started
            afresh (``spawn``) and import the main module: call from a script under
            ``if __name__ == "__main__":``, with a spec and slicing that pickle.

    Raises:
        InvalidInputError: no file matches a pattern, an output is an input, a bad option,
            engine or number of workers.
        BeamStatsError: an unreadable schema, an output that cannot be written, too many
            slices.
    """
    patterns = [inputs] if isinstance(inputs, str) else list(inputs)
    if not patterns:
        raise InvalidInputError("no input pattern given")
    errors = errors or errors_path(output)
    in_process = runs_in_process(engine, pipeline_options, patterns)
    check_workers(workers, in_process)
    check_outputs([*patterns, schema if isinstance(schema, str) else None], [output, errors])
    match_inputs(patterns)
    spec = spec or StatisticsSpec()
    if schema is not None:
        spec = with_schema(spec, load_schema(schema) if isinstance(schema, str) else schema)
    if spec.needs_label_pass:  # a pipeline of its own (imports Beam only when needed)
        from beam_stats.jobs.label_bins import resolve_label_bins

        spec = resolve_label_bins(
            patterns, spec, output, input_format=input_format, pipeline_options=pipeline_options
        )
    if in_process:
        statistics_in_process(
            [input_pattern(p) for p in patterns],
            output,
            errors,
            spec=spec,
            slicing=slicing,
            input_format=input_format,
            name=name,
            text=text,
            include_state=include_state,
            workers=workers,
        )
    else:
        _run_pipeline(
            patterns,
            output,
            errors,
            spec=spec,
            slicing=slicing,
            input_format=input_format,
            name=name,
            text=text,
            include_state=include_state,
            pipeline_options=pipeline_options,
        )
    return _result(output, errors)


def _run_pipeline(
    patterns: Sequence[str],
    output: str,
    errors: str,
    *,
    spec: StatisticsSpec,
    slicing: SlicingSpec | None,
    input_format: str | None,
    name: str,
    text: bool | None,
    include_state: bool,
    pipeline_options: PipelineOptions | Sequence[str] | None,
) -> None:
    """The ``stats`` pipeline: arguments as :func:`compute_statistics` (its checks done).
    Beam is imported here, when a pipeline is needed (about 1.4 s)."""
    import apache_beam as beam

    from beam_stats.beam import ReadRecordBatches
    from beam_stats.beam.running import make_pipeline, run_pipeline
    from beam_stats.beam.sinks import WriteErrors
    from beam_stats.beam.transforms import GenerateAndWriteStatistics

    pipeline = make_pipeline(pipeline_options)
    read = pipeline | "Read" >> ReadRecordBatches(
        [input_pattern(p) for p in patterns], input_format, privacy=spec.privacy
    )
    # Without slicing, written a feature at a time: the statistics never exist whole.
    written_statistics = read.batches | "Statistics" >> GenerateAndWriteStatistics(
        output, spec, name=name, include_state=include_state, slicing=slicing, text=text
    )
    written_errors = read.errors | "WriteErrors" >> WriteErrors(errors)
    # One final step that needs both writes: Beam's DaskRunner runs only the graph of
    # the last transform (docs/RUNNERS.md).
    _ = (written_statistics, written_errors) | "Done" >> beam.Flatten()
    run_pipeline(pipeline)


def _result(output: str, errors: str) -> StatisticsResult:
    return StatisticsResult(output, errors, count_problems(errors), summarize_statistics(output))


def count_problems(path: str) -> int:
    """The number of problems listed in an errors file, on any Beam file system."""
    return sum(1 for _ in read_json_lines(path))
