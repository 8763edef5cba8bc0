"""The labeling loop, as one job: :func:`label_join` (``beam-stats label-join``).

One Beam pipeline reads what was served (with the model's predictions) and the feedback (with
the labels), joins them on the identifier features
(:class:`~beam_stats.pipelines.label_join.JoinLabels`; how duplicates and missing identifiers
are treated: :mod:`beam_stats.drift.label_join`) and writes into the output folder:

* ``labeled-*.parquet``: the joined labeled examples, the next training set: every served
  column, then the label and, with times, the delay in seconds (one file per Arrow schema
  of the served files, per shard of the write);
* ``summary.pbtxt`` (or the `summary` path given; binary unless it ends in ``.pbtxt``):
  the ``beam_stats.LabelJoinSummary``, counts, coverage, delay quantiles, calibration and
  groups;
* ``labeled.errors.jsonl`` (or the `errors` path given): the rows or files of either side
  that could not be read (file, line, kind, message; the one naming rule of every command).

Row files are written aside and moved into place when the run has succeeded; ``labeled-*``
files left by an earlier run are replaced, nothing else in the folder is touched. Every file
is written atomically; an output that is an input is refused before anything is read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from beam_stats.beam import ReadRecordBatches
from beam_stats.beam.artifacts import errors_path
from beam_stats.beam.running import make_pipeline, run_pipeline
from beam_stats.beam.sinks import WriteErrors
from beam_stats.beam.writing import (
    check_outputs,
    discard,
    input_pattern,
    match_inputs,
    publish_files,
    staging_folder,
)
from beam_stats.errors import InvalidInputError, LostOutputError
from beam_stats.jobs.statistics import count_problems
from beam_stats.pipelines.examples import WriteExamples, to_json_line
from beam_stats.pipelines.label_join import JoinLabels, WriteLabelJoinSummary, load_label_join
from beam_stats.proto import label_join_pb2
from beam_stats.stats.privacy import PrivacySpec
from beam_stats.stats.row_privacy import covers, protect_batch, row_policy

#: The rows files of the output folder this job owns (replaced by each run).
ROWS_FILES = "labeled-*"
#: Counts that are integrity problems of a join when not 0 (see LabelJoinResult.problems).
PROBLEM_COUNTS = (
    "served_null_ids", "served_duplicate_ids", "feedback_null_ids", "feedback_duplicate_ids",
    "orphan_ids", "feedback_null_labels", "feedback_bad_labels", "served_bad_predictions",
    "served_bad_times", "feedback_bad_times",
)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class LabelJoinResult:
    """What :func:`label_join` found and wrote.

    Attributes:
        summary: the ``LabelJoinSummary`` written to `summary_path`.
        output: the folder; rows: the ``labeled-*.parquet`` files written in it.
        errors: the errors file; input_problems: the records in it.
        min_coverage: the least coverage that is not a problem.
    """

    summary: label_join_pb2.LabelJoinSummary
    output: str
    rows: tuple[str, ...]
    summary_path: str
    errors: str
    input_problems: int
    min_coverage: float = 0.0

    @property
    def problems(self) -> tuple[str, ...]:
        """What is wrong with the join, one phrase each: the counts of ``PROBLEM_COUNTS``
        that are not 0 (``orphan_ids: 3``), negative delays, and a coverage below
        `min_coverage`."""
        s = self.summary
        found = [f"{name}: {getattr(s, name)}" for name in PROBLEM_COUNTS if getattr(s, name)]
        if s.delay.negative:
            found.append(f"negative label delays: {s.delay.negative}")
        coverage = s.coverage if s.served_rows else 0.0
        if self.min_coverage and coverage < self.min_coverage:
            found.append(f"coverage {coverage:.4f} below {self.min_coverage}")
        return tuple(found)

    @property
    def clean(self) -> bool:
        """No problem: every id present and unique on both sides, every feedback served,
        every value readable, no feedback before serving, enough coverage."""
        return not self.problems


def label_join(
    served: str | Sequence[str],
    feedback: str | Sequence[str],
    identifier_features: str | Sequence[str],
    prediction: str,
    label: str,
    output: str,
    *,
    served_time: str | None = None,
    feedback_time: str | None = None,
    groups: Sequence[str] = (),
    calibration_buckets: int = 10,
    prediction_range: tuple[float, float] = (0.0, 1.0),
    max_groups: int = 1000,
    min_coverage: float = 0.0,
    summary: str | None = None,
    num_shards: int | None = None,
    input_format: str | None = None,
    errors: str | None = None,
    privacy: PrivacySpec | None = None,
    pipeline_options: PipelineOptions | Sequence[str] | None = None,
) -> LabelJoinResult:
    """Joins served examples with the labels that came back, and summarises the join.

    Args:
        served, feedback: file paths or globs (any supported format, any Beam file system).
        identifier_features: the features that identify an example on both sides.
        prediction: the served feature of the prediction; label: the feedback's label.
        output: the folder of the labeled rows, the summary and the errors file.
        served_time, feedback_time: time features of each side (both or neither): the
            delay of the labels.
        groups: served features whose values are groups (rates per value).
        calibration_buckets, prediction_range: equal-width buckets of predictions.
        max_groups: the most distinct values of a group feature (more is an error).
        min_coverage: a coverage below it is a problem (:attr:`LabelJoinResult.problems`).
        summary: the summary file; default ``<output>/summary.pbtxt``.
        num_shards: partitions of the join (None: the transform's default).
        input_format: one of ``beam_stats.beam.sources.FORMATS``; None: by file suffix.
        errors: the errors file; default ``<output>/labeled.errors.jsonl``.
        privacy: what the labeled rows and the error messages keep of the values
            (:mod:`beam_stats.stats.row_privacy`; None: all). The identifiers, prediction,
            label and group features may not be redacted or hashed: the join and the
            summary are made of their values.
        pipeline_options: Beam pipeline options, or flags such as ``["--runner=..."]``.

    Raises:
        InvalidInputError: no file matches, an output is an input, a bad option or value.
        LostOutputError: the runner counted labeled rows but wrote no file of them.
    """
    served_patterns = [served] if isinstance(served, str) else list(served)
    feedback_patterns = [feedback] if isinstance(feedback, str) else list(feedback)
    folder = output.rstrip("/")
    summary = summary or f"{folder}/summary.pbtxt"
    errors = errors or errors_path(f"{folder}/labeled")
    if not (isinstance(min_coverage, float | int) and 0.0 <= min_coverage <= 1.0):
        raise InvalidInputError(f"min_coverage must be in [0, 1], got {min_coverage!r}")
    policy = row_policy(privacy)
    identifiers = (
        [identifier_features] if isinstance(identifier_features, str) else identifier_features
    )
    named = [*identifiers, *groups, prediction, label]
    hidden = [name for name in named if covers(policy.redact | policy.hash, name)]
    if hidden:
        raise InvalidInputError(
            f"the feature {hidden[0]!r} cannot be redacted or hashed in a label join: the "
            "join and its summary are made of its values (the identifiers, prediction, label "
            "and groups)"
        )
    inputs = [*served_patterns, *feedback_patterns]
    check_outputs(inputs, [f"{folder}/{ROWS_FILES}", summary, errors])
    match_inputs(inputs)
    shards = {"num_shards": num_shards} if num_shards is not None else {}
    join = JoinLabels(  # bad values raise here, before the pipeline starts
        identifier_features,
        prediction,
        label,
        served_time_feature=served_time,
        feedback_time_feature=feedback_time,
        group_features=groups,
        calibration_buckets=calibration_buckets,
        prediction_range=prediction_range,
        max_groups=max_groups,
        **shards,
    )
    pipeline = make_pipeline(pipeline_options)
    read_served = pipeline | "ReadServed" >> ReadRecordBatches(
        [input_pattern(p) for p in served_patterns], input_format, privacy=policy
    )
    read_feedback = pipeline | "ReadFeedback" >> ReadRecordBatches(
        [input_pattern(p) for p in feedback_patterns], input_format, privacy=policy
    )
    joined = (read_served.batches, read_feedback.batches) | "LabelJoin" >> join
    staging = staging_folder(folder)
    written = [
        joined.rows
        | "ProtectRows" >> beam.Map(protect_batch, policy)
        | "WriteRows" >> WriteExamples(staging, "parquet", "labeled"),
        joined.summary | "WriteSummary" >> WriteLabelJoinSummary(summary),
        (read_served.errors, read_feedback.errors)
        | "AllErrors" >> beam.Flatten()
        | "WriteErrors" >> WriteErrors(errors, to_json_line),
    ]
    # One final step that needs every write: Beam's DaskRunner runs only the graph of the
    # last transform (docs/RUNNERS.md).
    _ = tuple(written) | "Done" >> beam.Flatten()
    try:
        run_pipeline(pipeline)
        rows = publish_files(staging, folder, ROWS_FILES)
    finally:
        discard(staging)
    found = load_label_join(summary)
    if found.labeled_rows and not any(FileSystems.exists(path) for path in rows):
        raise LostOutputError(
            f"the runner finished but wrote no {folder}/{ROWS_FILES} file, though "
            f"{found.labeled_rows} labeled rows belong there; it does not finalise sharded "
            "file writes (Beam's DaskRunner does not: docs/RUNNERS.md). Use another runner."
        )
    return LabelJoinResult(
        summary=found,
        output=folder,
        rows=tuple(rows),
        summary_path=summary,
        errors=errors,
        input_problems=count_problems(errors),
        min_coverage=float(min_coverage),
    )
