"""The main job: from training and serving data to the report people read.

:func:`check` (``beam-stats run`` on the command line, which only parses its arguments):

1. one Beam pipeline computes the statistics of both datasets, reading them in parallel,
   and writes each dataset's input problems (rows it could not read, with file and line);
2. a schema is inferred from training statistics (:class:`CheckSpec` says how: TFDV's
   inference, environments ``TRAINING``/``SERVING`` with the labels absent from serving,
   the default skew thresholds of :mod:`beam_stats.drift.defaults`), or the given one is
   used, unchanged;
3. serving statistics are validated against the schema (environment ``SERVING`` when the
   schema declares it), and training is compared with serving for skew with the schema's
   thresholds;
4. one self-contained HTML report shows both datasets side by side with every anomaly.

A label with ``quantile_bins`` gets its edges from training alone, by a first pipeline over
the training files (:mod:`beam_stats.jobs.label_bins`: one more read of training); both
datasets' statistics use those edges, so their label classes are the same and concept
shift compares like with like.

Everything lands in one folder (:data:`OUTPUTS`); an output that is an input is refused
before anything is read, and every file is written atomically.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2, statistics_pb2

from beam_stats.beam import GenerateStatistics, ReadRecordBatches, WriteStatistics
from beam_stats.beam.artifacts import (
    load_schema,
    load_statistics,
    write_anomalies,
    write_report,
    write_schema,
)
from beam_stats.beam.engines import runs_in_process
from beam_stats.beam.formats import FORMATS
from beam_stats.beam.inprocess import check_workers, statistics_in_process
from beam_stats.beam.progress import LogProgress
from beam_stats.beam.running import make_pipeline, run_pipeline
from beam_stats.beam.sinks import WriteErrors
from beam_stats.beam.writing import (
    check_outputs,
    input_pattern,
    match_inputs,
)
from beam_stats.drift.defaults import (
    DEFAULT_CONCEPT_SHIFT,
    DEFAULT_GROUP_SHARE,
    DEFAULT_GROUP_THRESHOLDS,
    DEFAULT_THRESHOLDS,
    with_group_thresholds,
    with_thresholds_for_all,
)
from beam_stats.drift.threshold_schema import GroupThresholds, Thresholds
from beam_stats.errors import InvalidInputError
from beam_stats.jobs.label_bins import resolve_label_bins
from beam_stats.jobs.statistics import count_problems, with_schema
from beam_stats.report import render_report
from beam_stats.schema import (
    SchemaInferenceSpec,
    add_environments,
    infer_schema,
)
from beam_stats.schema.features import SERVING, TRAINING, environment_if_declared
from beam_stats.schema.privacy import treated_paths, without_values
from beam_stats.stats import StatisticsSpec
from beam_stats.stats.label_spec import LabelSpec
from beam_stats.validation import AnomalyRow, anomaly_rows, validate_statistics

#: The files :func:`check` writes into its folder, by role.
OUTPUTS = {
    "train_stats": "train_stats.pb",
    "serving_stats": "serving_stats.pb",
    "train_errors": "train_stats.pb.errors.jsonl",  # <output>.errors.jsonl, as everywhere
    "serving_errors": "serving_stats.pb.errors.jsonl",
    "schema": "schema.pbtxt",
    "anomalies": "anomalies.pbtxt",
    "report": "report.html",
}
_DATASETS = ("train", "serving")
_log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, kw_only=True)
class CheckSpec:
    """How :func:`check` reads the data and infers the schema (when none is given).

    Args:
        labels: features present in training only: not expected in ``SERVING``. The
            first is the label of the label-aware statistics (``statistics.label``, when
            that is not set): lift and mutual information per feature, and concept shift
            where both datasets have labels.
        inference: schema inference options (TFDV's defaults).
        skew_thresholds: the skew thresholds put on every feature of an inferred schema
            (as :func:`beam_stats.drift.defaults.applicable` allows; edit the schema file
            to change one feature's).
        concept_shift: with `labels`, the concept-shift skew threshold of an inferred
            schema (where `skew_thresholds` sets none); None: not checked.
        groups: group features (``statistics.groups``, added to those): each group's share,
            label distribution and disparity in the report, checked in both datasets.
        group_thresholds: what an inferred schema asks of every group feature, with a skew
            threshold ``group_share`` of ``group_share`` (None: not set)
            (:mod:`beam_stats.drift.defaults`).
        input_format: one of ``beam_stats.beam.sources.FORMATS``; None: by file suffix.
        statistics: statistics options; a given schema adds to them
            (:func:`~beam_stats.jobs.statistics.with_schema`). A label with
            ``quantile_bins`` gets its edges from training (one more read of training) and
            both datasets use them.
        workers: processes computing the statistics in process (where no pipeline option
            is given and the inputs are local; :mod:`beam_stats.beam.parallel`).
    """

    labels: tuple[str, ...] = ()
    inference: SchemaInferenceSpec = SchemaInferenceSpec()
    skew_thresholds: Thresholds = DEFAULT_THRESHOLDS
    concept_shift: float | None = DEFAULT_CONCEPT_SHIFT
    groups: tuple[str, ...] = ()
    group_thresholds: GroupThresholds = DEFAULT_GROUP_THRESHOLDS
    group_share: float | None = DEFAULT_GROUP_SHARE
    input_format: str | None = None
    statistics: StatisticsSpec = StatisticsSpec()
    workers: int = 1

    def __post_init__(self) -> None:
        check_workers(self.workers)
        if isinstance(self.labels, str):
            raise InvalidInputError(f"labels must be a sequence of names, got {self.labels!r}")
        object.__setattr__(self, "labels", tuple(self.labels))
        if self.labels and self.statistics.label is None:
            with_label = dataclasses.replace(
                self.statistics, label=LabelSpec(feature=self.labels[0])
            )
            object.__setattr__(self, "statistics", with_label)
        if isinstance(self.groups, str):
            raise InvalidInputError(f"groups must be a sequence of names, got {self.groups!r}")
        object.__setattr__(self, "groups", tuple(self.groups))
        if self.groups:
            groups = (*self.statistics.groups, *(tuple(g.split(".")) for g in self.groups))
            with_groups = dataclasses.replace(self.statistics, groups=groups)
            object.__setattr__(self, "statistics", with_groups)
        if self.input_format is not None and self.input_format not in FORMATS:
            raise InvalidInputError(
                f"input_format must be one of {', '.join(FORMATS)}, got {self.input_format!r}"
            )


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """What :func:`check` found and wrote.

    Attributes:
        paths: role (the keys of :data:`OUTPUTS`) -> the file written.
        train, serving: the statistics of each dataset.
        schema: the schema used (inferred or given).
        anomalies: serving's anomalies against the schema, then the skew findings.
        rows: every reason of `anomalies`, flattened (:class:`~beam_stats.AnomalyRow`).
        input_problems: dataset (``train``, ``serving``) -> rows or files it could not read,
            listed in ``paths["<dataset>_errors"]``.
    """

    paths: dict[str, str]
    train: statistics_pb2.DatasetFeatureStatisticsList
    serving: statistics_pb2.DatasetFeatureStatisticsList
    schema: schema_pb2.Schema
    anomalies: anomalies_pb2.Anomalies
    rows: tuple[AnomalyRow, ...]
    input_problems: dict[str, int]

    @property
    def clean(self) -> bool:
        """No anomaly (input problems are counted apart, in `input_problems`)."""
        return not self.rows


def check(
    train: str | Sequence[str],
    serving: str | Sequence[str],
    out: str,
    *,
    schema: schema_pb2.Schema | str | None = None,
    spec: CheckSpec | None = None,
    pipeline_options: PipelineOptions | Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> CheckResult:
    """Runs the main job (see the module docstring) and writes its results into `out`.

    Args:
        train, serving: file paths or globs of each dataset, on any Beam file system.
        out: the folder for every result (:data:`OUTPUTS`), on any Beam file system.
        schema: a schema (or the path of one) to use instead of inferring one.
        spec: reading and inference options.
        pipeline_options: Beam pipeline options, or flags such as ``["--runner=..."]``.
        progress: called with a line at each step; default: logged at INFO.

    Raises:
        InvalidInputError: no input matches a pattern, an output is an input, a bad option.
        BeamStatsError: unreadable schema or statistics, an output that cannot be written.
    """
    spec = spec or CheckSpec()
    say = progress or _log.info
    patterns = {"train": _patterns(train), "serving": _patterns(serving)}
    out = out.rstrip("/")
    paths = {role: f"{out}/{name}" for role, name in OUTPUTS.items()}
    schema_path = schema if isinstance(schema, str) else None
    check_outputs([*patterns["train"], *patterns["serving"], schema_path], paths.values())
    everything = [*patterns["train"], *patterns["serving"]]
    check_workers(spec.workers, runs_in_process("auto", pipeline_options, everything))
    given = load_schema(schema) if isinstance(schema, str) else schema
    statistics_spec = spec.statistics if given is None else with_schema(spec.statistics, given)
    if statistics_spec.needs_label_pass:
        say("[1/4] label bins: quantiles of the training label (a first pass over training)")
        statistics_spec = resolve_label_bins(
            patterns["train"],
            statistics_spec,
            paths["train_stats"],
            input_format=spec.input_format,
            pipeline_options=pipeline_options,
        )

    say(f"[1/4] statistics of training and serving data -> {out}/")
    _compute_statistics(patterns, paths, spec, statistics_spec, pipeline_options)
    train_stats = load_statistics(paths["train_stats"])
    serving_stats = load_statistics(paths["serving_stats"])
    if given is None:
        say("[2/4] schema inferred from training")
        used = inferred_schema(train_stats.datasets[0], spec)
    else:
        say(f"[2/4] schema from {schema_path or 'the caller'}")
        # Under a privacy policy the schema keeps no value of a redacted or hashed feature
        # (its domain may list them, and cannot be compared with what statistics show).
        hidden = treated_paths(train_stats.datasets[0], serving_stats.datasets[0], folded=False)
        used = without_values(given, hidden) if hidden else given
    write_schema(used, paths["schema"])

    say("[3/4] validating serving and comparing it with training")
    serving_environment = environment_if_declared(used, SERVING)
    anomalies = _combined(
        validate_statistics(serving_stats, used, serving_environment),
        validate_statistics(
            train_stats,
            used,
            environment_if_declared(used, TRAINING),
            serving_statistics=serving_stats,
            serving_environment=serving_environment,
        ),
    )
    write_anomalies(anomalies, paths["anomalies"])

    say("[4/4] report")
    html = render_report(train_stats, serving_stats, anomalies, title="train vs serving")
    write_report(html, paths["report"])
    return CheckResult(
        paths=paths,
        train=train_stats,
        serving=serving_stats,
        schema=used,
        anomalies=anomalies,
        rows=tuple(anomaly_rows(anomalies)),
        input_problems={name: count_problems(paths[f"{name}_errors"]) for name in _DATASETS},
    )


def inferred_schema(
    training: statistics_pb2.DatasetFeatureStatistics, spec: CheckSpec | None = None
) -> schema_pb2.Schema:
    """The schema :func:`check` infers from training statistics: TFDV's inference, the
    environments ``TRAINING`` and ``SERVING`` (labels not in ``SERVING``), the default
    skew thresholds (with a label, concept shift's too), and the group thresholds on the
    group features."""
    spec = spec or CheckSpec()
    schema = infer_schema(training, spec.inference)
    not_in = {label: [SERVING] for label in spec.labels}
    schema = add_environments(schema, (TRAINING, SERVING), not_in=not_in)
    thresholds = spec.skew_thresholds
    if spec.labels and spec.concept_shift is not None and thresholds.concept_shift is None:
        thresholds = dataclasses.replace(thresholds, concept_shift=spec.concept_shift)
    schema = with_thresholds_for_all(schema, training, "skew", thresholds)
    groups = spec.statistics.groups
    return with_group_thresholds(schema, groups, "skew", spec.group_thresholds, spec.group_share)


def _patterns(given: str | Sequence[str]) -> list[str]:
    patterns = [given] if isinstance(given, str) else list(given)
    if not patterns:
        raise InvalidInputError("no input pattern given")
    return patterns


def _compute_statistics(
    patterns: dict[str, list[str]],
    paths: dict[str, str],
    check_spec: CheckSpec,
    spec: StatisticsSpec,
    options: PipelineOptions | Sequence[str] | None,
) -> None:
    input_format = check_spec.input_format
    for name in _DATASETS:
        match_inputs(patterns[name])
    if runs_in_process("auto", options, [p for name in _DATASETS for p in patterns[name]]):
        for name in _DATASETS:
            statistics_in_process(
                [input_pattern(p) for p in patterns[name]],
                paths[f"{name}_stats"],
                paths[f"{name}_errors"],
                spec=spec,
                input_format=input_format,
                name=name,
                progress=name,
                workers=check_spec.workers,
            )
        return
    pipeline = make_pipeline(options)
    written = []
    for name in _DATASETS:
        read = pipeline | f"Read {name}" >> ReadRecordBatches(
            [input_pattern(p) for p in patterns[name]], input_format, privacy=spec.privacy
        )
        written.append(
            read.batches
            | f"Progress {name}" >> LogProgress(name)
            | f"Statistics {name}" >> GenerateStatistics(spec, name=name)
            | f"Write {name}" >> WriteStatistics(paths[f"{name}_stats"])
        )
        written.append(read.errors | f"Write errors {name}" >> WriteErrors(paths[f"{name}_errors"]))
    # One final step that needs every write (Beam's DaskRunner runs only the last graph).
    _ = tuple(written) | "Done" >> beam.Flatten()
    run_pipeline(pipeline)


def _combined(
    serving: anomalies_pb2.Anomalies, skew: anomalies_pb2.Anomalies
) -> anomalies_pb2.Anomalies:
    """One Anomalies message: serving's schema anomalies, then the skew findings."""
    combined = anomalies_pb2.Anomalies()
    combined.CopyFrom(serving)
    for feature, info in skew.anomaly_info.items():
        if feature in combined.anomaly_info:
            combined.anomaly_info[feature].reason.extend(info.reason)
        else:
            combined.anomaly_info[feature].CopyFrom(info)
    combined.drift_skew_info.extend(skew.drift_skew_info)
    return combined
