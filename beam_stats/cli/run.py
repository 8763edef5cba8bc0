"""``beam-stats run``: the main job, from training and serving data to a report people read.

One Beam pipeline computes the statistics of both datasets (reading them in parallel); then,
from the statistics files alone: a schema is inferred from training (or the given one is
used), serving is validated against it (environment SERVING), training and serving are
compared for skew with the schema's thresholds, and one self-contained HTML report shows
both datasets side by side with every anomaly and distance. Everything lands in ``--out``.

Exit status: 0 no anomaly, 1 anomalies found (so the job can gate a pipeline), 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

from tensorflow_metadata.proto.v0 import anomalies_pb2, statistics_pb2

from beam_stats.beam.sources import FORMATS
from beam_stats.cli._common import report_input_problems, run_pipeline
from beam_stats.errors import InvalidInputError
from beam_stats.stats import StatisticsSpec

#: The files `run` writes into its folder.
OUTPUTS = (
    "train_stats.pb",
    "serving_stats.pb",
    "train_stats.pb.errors.jsonl",  # input problems: OUTPUT.errors.jsonl, as everywhere
    "serving_stats.pb.errors.jsonl",
    "schema.pbtxt",
    "anomalies.pbtxt",
    "report.html",
)

#: Skew thresholds of an inferred schema (per feature; edit the schema file to change them).
DEFAULT_SKEW_THRESHOLDS = {
    "l_infinity": 0.1,
    "jensen_shannon": 0.1,
    "psi": 0.25,
    "ks": 0.1,
    "missing_fraction": 0.1,
}


def add_parsers(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser(
        "run",
        help="statistics of training and serving data, schema, anomalies, skew and a report",
    )
    run.add_argument("--train", nargs="+", required=True, metavar="PATTERN", help="training data")
    run.add_argument("--serving", nargs="+", required=True, metavar="PATTERN", help="serving data")
    run.add_argument("--out", required=True, help="folder for every result")
    run.add_argument("--format", choices=FORMATS, help="input format (default: by suffix)")
    run.add_argument("--schema", help="a schema to use instead of inferring one from training")
    run.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="FEATURE",
        help="a feature present in training only (not expected in SERVING); repeatable",
    )
    run.add_argument(
        "--infer-ranges", action="store_true", help="infer numeric ranges (10%% margin)"
    )
    run.add_argument(
        "--disallow-nan", action="store_true", help="infer that NaN is allowed only where seen"
    )
    run.set_defaults(run=run_main_job)


def _compute_statistics(
    args: argparse.Namespace, beam_args: Sequence[str], out: str, spec: StatisticsSpec
) -> None:
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from beam_stats.beam import GenerateStatistics, ReadRecordBatches, WriteStatistics
    from beam_stats.beam.artifacts import errors_path
    from beam_stats.beam.progress import LogProgress
    from beam_stats.beam.writing import WriteTextFile, input_pattern, match_inputs

    try:
        pipeline = beam.Pipeline(options=PipelineOptions(list(beam_args)))
    except ValueError as e:  # e.g. an unknown --runner
        raise InvalidInputError(f"bad pipeline option: {e}") from e
    written = []
    for name in ("train", "serving"):
        patterns = [input_pattern(p) for p in getattr(args, name)]
        match_inputs(getattr(args, name))
        read = pipeline | f"Read {name}" >> ReadRecordBatches(patterns, args.format)
        written.append(
            read.batches
            | f"Progress {name}" >> LogProgress(name)
            | f"Statistics {name}" >> GenerateStatistics(spec, name=name)
            | f"Write {name}" >> WriteStatistics(f"{out}/{name}_stats.pb")
        )
        written.append(
            read.errors
            | f"Errors to JSON {name}" >> beam.Map(json.dumps)
            | f"Write errors {name}" >> WriteTextFile(errors_path(f"{out}/{name}_stats.pb"))
        )
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


def _distribution_features(
    dataset: statistics_pb2.DatasetFeatureStatistics,
) -> list[tuple[str, ...]]:
    """Features whose distribution is worth comparing: not structs, and not near-unique
    strings (ids), whose every value is new in the next dataset."""
    paths = []
    for feature in dataset.features:
        kind = feature.WhichOneof("stats")
        if kind is None or kind == "struct_stats":  # None: a sparse/weighted feature's checks
            continue
        if kind == "string_stats":
            values = feature.string_stats.common_stats.tot_num_values
            if values and feature.string_stats.unique > 0.5 * values:
                continue
        paths.append(tuple(feature.path.step))
    return paths


def run_main_job(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    from beam_stats.beam.artifacts import (
        errors_path,
        load_schema,
        load_statistics,
        write_anomalies,
        write_report,
        write_schema,
    )
    from beam_stats.beam.writing import check_outputs
    from beam_stats.cli.schema import plural, print_table
    from beam_stats.drift import set_skew_thresholds
    from beam_stats.report import render_report
    from beam_stats.schema import (
        RangeInferenceSpec,
        SchemaInferenceSpec,
        add_environments,
        composite_specs,
        infer_schema,
    )
    from beam_stats.validation import anomaly_rows, validate_statistics

    out = args.out.rstrip("/")
    check_outputs([*args.train, *args.serving, args.schema], [f"{out}/{f}" for f in OUTPUTS])
    progress = logging.getLogger("beam_stats.progress")
    if not progress.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("      %(message)s"))
        progress.addHandler(handler)
        progress.setLevel(logging.INFO)
        progress.propagate = False
    # A given schema's sparse and weighted features are counted in both datasets (as TFDV
    # does when its statistics options hold the schema); an inferred schema has none.
    given = load_schema(args.schema) if args.schema else None
    statistics_spec = StatisticsSpec(composites=composite_specs(given) if given is not None else ())
    print(f"[1/4] statistics of training and serving data (Beam) -> {out}/", file=sys.stderr)
    _compute_statistics(args, beam_args, out, statistics_spec)
    for name in ("train", "serving"):
        report_input_problems(errors_path(f"{out}/{name}_stats.pb"))
    train = load_statistics(f"{out}/train_stats.pb")
    serving = load_statistics(f"{out}/serving_stats.pb")

    if given is not None:
        print(f"[2/4] schema from {args.schema}", file=sys.stderr)
        schema = given
    else:
        print("[2/4] schema inferred from training", file=sys.stderr)
        spec = SchemaInferenceSpec(
            ranges=RangeInferenceSpec() if args.infer_ranges else None,
            disallow_nan=args.disallow_nan,
        )
        schema = infer_schema(train.datasets[0], spec)
        not_in = {label: ["SERVING"] for label in args.label}
        schema = add_environments(schema, ("TRAINING", "SERVING"), not_in=not_in)
        for path in _distribution_features(train.datasets[0]):
            schema = set_skew_thresholds(schema, path, **DEFAULT_SKEW_THRESHOLDS)
    write_schema(schema, f"{out}/schema.pbtxt")

    print("[3/4] validating serving and comparing it with training", file=sys.stderr)
    environments = set(schema.default_environment)
    serving_environment = "SERVING" if "SERVING" in environments else None
    training_environment = "TRAINING" if "TRAINING" in environments else None
    anomalies = _combined(
        validate_statistics(serving, schema, serving_environment),
        validate_statistics(
            train,
            schema,
            training_environment,
            serving_statistics=serving,
            serving_environment=serving_environment,
        ),
    )
    write_anomalies(anomalies, f"{out}/anomalies.pbtxt")

    print("[4/4] report", file=sys.stderr)
    html = render_report(train, serving, anomalies, title="train vs serving")
    write_report(html, f"{out}/report.html")
    rows = [
        (
            row.feature or "(dataset)",
            row.short_description
            if row.type == "CUSTOM_VALIDATION" and row.short_description.startswith("COMPARATOR_")
            else row.type,
            row.severity,
            row.description,
        )
        for row in anomaly_rows(anomalies)
    ]
    if rows:
        print_table([("feature", "anomaly", "severity", "description"), *rows])
    print(
        f"{plural(len(rows), 'anomaly', 'anomalies')}; "
        f"report: {out}/report.html, schema: {out}/schema.pbtxt, anomalies: {out}/anomalies.pbtxt"
    )
    return 1 if rows else 0
