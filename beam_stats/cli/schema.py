"""``beam-stats infer-schema`` and ``beam-stats validate``: statistics in, schema or anomalies out.

``validate`` prints one row per anomaly reason (feature, anomaly type, severity, description)
and exits 0 when there is none, 1 when there are some (``--fail-on error``: only when one is
an ERROR), 2 on bad input (missing or corrupt statistics or schema, unknown environment).
With ``--previous`` it checks the schema's drift comparators, with ``--serving`` its skew
comparators and schema skew (``beam_stats.validation.comparators``); reasons of the
comparators tensorflow-metadata has no anomaly type for (``CUSTOM_VALIDATION``) are listed
by their stable short description, e.g. ``COMPARATOR_PSI_HIGH``. ``infer-schema`` writes
thresholds for every feature with ``--drift-threshold``/``--skew-threshold`` (as
:mod:`beam_stats.drift.defaults` allows: not the distributions of id-like features).
Neither command runs a pipeline, so flags they do not know are errors, not Beam options.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from beam_stats.cli._common import (
    add_privacy_arguments,
    no_pipeline,
    plural,
    print_table,
    privacy_spec,
)
from beam_stats.errors import InvalidInputError

if TYPE_CHECKING:
    from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2, statistics_pb2

    from beam_stats.drift.threshold_schema import Kind


def add_parsers(commands: argparse._SubParsersAction) -> None:
    infer = commands.add_parser("infer-schema", help="infer a schema from statistics")
    infer.add_argument("statistics", metavar="STATS", help="statistics file (binary or text)")
    infer.add_argument("--output", required=True, help="schema file to write (.pbtxt: text)")
    infer.add_argument(
        "--dataset",
        help="the dataset to infer from, when STATS holds several (default: 'All Examples')",
    )
    infer.add_argument(
        "--max-string-domain-size",
        type=int,
        default=100,
        metavar="N",
        help="most values of an enumerated string domain (default: 100)",
    )
    infer.add_argument(
        "--no-shape", dest="infer_shape", action="store_false", help="infer no fixed shapes"
    )
    infer.add_argument("--infer-ranges", action="store_true", help="infer numeric ranges")
    infer.add_argument(
        "--range-margin",
        type=float,
        default=0.1,
        metavar="FRACTION",
        help="widening of each inferred range, as a fraction of its span (default: 0.1)",
    )
    infer.add_argument(
        "--range-quantiles",
        type=float,
        nargs=2,
        default=(0.0, 1.0),
        metavar=("LOW", "HIGH"),
        help="quantiles that bound the inferred ranges (default: 0 1, the min and max)",
    )
    infer.add_argument(
        "--unique-constraints", action="store_true", help="infer unique-value count bounds"
    )
    infer.add_argument(
        "--unique-margin",
        type=float,
        default=0.0,
        metavar="FRACTION",
        help="relative slack of the unique-value bounds (default: 0)",
    )
    infer.add_argument("--disallow-nan", action="store_true", help="ban NaN where none is seen")
    infer.add_argument("--disallow-inf", action="store_true", help="ban infinities likewise")
    infer.add_argument(
        "--environment",
        action="append",
        default=[],
        metavar="NAME",
        help="a default environment, e.g. TRAINING (repeatable)",
    )
    infer.add_argument(
        "--not-in",
        action="append",
        default=[],
        metavar="ENV=FEATURE",
        help="a feature not expected in an environment, e.g. SERVING=label (repeatable)",
    )
    _severity_argument(infer, "store in the schema a severity for an anomaly type")
    for kind, against in (("drift", "previous statistics"), ("skew", "serving statistics")):
        infer.add_argument(
            f"--{kind}-threshold",
            action="append",
            default=[],
            metavar="MEASURE=VALUE",
            help=f"a {kind} threshold (vs {against}) for every feature, e.g. psi=0.25; "
            "measures: l_infinity, jensen_shannon, normalized_abs_difference, psi, ks, "
            "wasserstein, hellinger, chi_squared (minimum p-value), missing_fraction, "
            "concept_shift, group_share (repeatable)",
        )
    infer.add_argument(
        "--num-examples-drift",
        type=float,
        nargs=2,
        metavar=("MIN", "MAX"),
        help="bounds of the ratio of example counts, current over previous statistics",
    )
    add_privacy_arguments(infer)
    infer.set_defaults(run=run_infer_schema)

    validate = commands.add_parser("validate", help="validate statistics against a schema")
    validate.add_argument("statistics", metavar="STATS", help="statistics file (binary or text)")
    validate.add_argument("--schema", required=True, help="schema file (text or binary)")
    validate.add_argument("--environment", help="the environment of the data, e.g. SERVING")
    validate.add_argument(
        "--output",
        help="anomalies file to write (.pbtxt: text); with several datasets one file each, "
        "named OUTPUT with -0, -1, ... before the suffix",
    )
    validate.add_argument(
        "--previous",
        metavar="PREV_STATS",
        help="the previous span's statistics: check the schema's drift comparators",
    )
    validate.add_argument(
        "--serving",
        metavar="SERVING_STATS",
        help="serving statistics (STATS being training's): check skew comparators and schema skew",
    )
    validate.add_argument(
        "--serving-environment",
        metavar="NAME",
        help="the environment of --serving (default: SERVING when the schema declares it)",
    )
    _severity_argument(validate, "severity for an anomaly type, over the schema's")
    validate.add_argument(
        "--fail-on",
        choices=("warning", "error"),
        default="warning",
        help="lowest severity that makes the exit status 1 (default: warning)",
    )
    add_privacy_arguments(validate)
    validate.set_defaults(run=run_validate)


def _severity_argument(parser: argparse.ArgumentParser, text: str) -> None:
    parser.add_argument(
        "--severity",
        action="append",
        default=[],
        metavar="TYPE=LEVEL",
        help=f"{text}, e.g. SCHEMA_NEW_COLUMN=WARNING (repeatable)",
    )


def _pairs(values: Sequence[str], flag: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key or not rest:
            raise InvalidInputError(f"{flag} takes KEY=VALUE, got {value!r}")
        pairs.append((key, rest))
    return pairs


def run_infer_schema(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    from beam_stats.beam.artifacts import load_statistics, write_schema
    from beam_stats.beam.writing import check_outputs
    from beam_stats.schema import (
        RangeInferenceSpec,
        SchemaInferenceSpec,
        UniqueInferenceSpec,
        add_environments,
        infer_schema,
        with_severity_overrides,
    )
    from beam_stats.schema.view import one_dataset

    no_pipeline(beam_args)
    check_outputs([args.statistics], [args.output])
    # Made even when unused, so that a bad margin is reported rather than ignored.
    ranges = RangeInferenceSpec(
        margin=args.range_margin,
        lower_quantile=args.range_quantiles[0],
        upper_quantile=args.range_quantiles[1],
    )
    unique = UniqueInferenceSpec(margin=args.unique_margin)
    spec = SchemaInferenceSpec(
        infer_shape=args.infer_shape,
        max_string_domain_size=args.max_string_domain_size,
        ranges=ranges if args.infer_ranges else None,
        unique=unique if args.unique_constraints else None,
        disallow_nan=args.disallow_nan,
        disallow_inf=args.disallow_inf,
    )
    not_in: dict[str, list[str]] = {}
    for environment, feature in _pairs(args.not_in, "--not-in"):
        not_in.setdefault(feature, []).append(environment)
    severities = dict(_pairs(args.severity, "--severity"))
    statistics = load_statistics(args.statistics, privacy_spec(args))
    dataset = one_dataset(statistics, args.dataset, args.statistics)
    schema = infer_schema(dataset, spec)
    schema = add_environments(schema, args.environment, not_in=not_in)
    if severities:
        schema = with_severity_overrides(schema, severities)
    schema = _with_comparators(schema, dataset, args)
    write_schema(schema, args.output)
    print(f"wrote a schema of {len(schema.feature)} features to {args.output}")
    return 0


def _with_comparators(
    schema: schema_pb2.Schema,
    statistics: statistics_pb2.DatasetFeatureStatistics,
    args: argparse.Namespace,
) -> schema_pb2.Schema:
    from beam_stats.drift import Thresholds
    from beam_stats.drift.defaults import with_thresholds_for_all

    kinds: tuple[Kind, ...] = ("drift", "skew")
    for flag in kinds:
        values: dict[str, float] = {}
        for measure, text in _pairs(getattr(args, f"{flag}_threshold"), f"--{flag}-threshold"):
            try:
                values[measure] = float(text)
            except ValueError as e:
                raise InvalidInputError(
                    f"--{flag}-threshold {measure}: not a number: {text!r}"
                ) from e
        if values:  # to every feature the library's policy allows (not id-like ones)
            wanted = Thresholds.from_mapping(values)
            schema = with_thresholds_for_all(schema, statistics, flag, wanted)
    if args.num_examples_drift is not None:
        low, high = args.num_examples_drift
        if not 0 <= low <= high:
            raise InvalidInputError(f"--num-examples-drift needs 0 <= MIN <= MAX, got {low} {high}")
        comparator = schema.dataset_constraints.num_examples_drift_comparator
        comparator.min_fraction_threshold, comparator.max_fraction_threshold = low, high
    return schema


def run_validate(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    from beam_stats.beam.artifacts import load_schema, load_statistics, numbered_path
    from beam_stats.beam.writing import check_outputs
    from beam_stats.schema.privacy import effective_privacy
    from beam_stats.validation import ValidationSpec, anomaly_rows, validate_slices
    from beam_stats.validation.catalogue import CUSTOM_NAMES
    from beam_stats.validation.pii import withhold_values

    no_pipeline(beam_args)
    inputs = [args.statistics, args.schema, args.previous, args.serving]
    if args.output:  # one file, or one per dataset (OUTPUT-0, -1, ...): none may be an input
        check_outputs(inputs, [args.output, numbered_path(args.output, "*")])
    spec = ValidationSpec(severity_overrides=dict(_pairs(args.severity, "--severity")))
    schema = load_schema(args.schema)
    privacy = effective_privacy(privacy_spec(args), schema)
    statistics = load_statistics(args.statistics, privacy)
    previous = load_statistics(args.previous, privacy) if args.previous else None
    serving = load_statistics(args.serving, privacy) if args.serving else None
    results = validate_slices(
        statistics,
        schema,
        args.environment,
        previous,
        serving,
        serving_environment=args.serving_environment,
        spec=spec,
    )
    if not results:
        raise InvalidInputError(f"{args.statistics} holds no dataset")
    if privacy.active:  # descriptions and the baseline may quote the schema's values
        shown = [*statistics.datasets, *(serving.datasets if serving is not None else [])]
        results = {name: withhold_values(a, *shown, folded=False) for name, a in results.items()}
    sliced = len(results) > 1
    table: list[tuple[str, ...]] = []
    levels: list[str] = []
    for name, anomalies in results.items():
        prefix = (name or "(unnamed)",) if sliced else ()
        if anomalies.data_missing:
            missing = "The dataset has no examples (data_missing)."
            table.append((*prefix, "(dataset)", "DATA_MISSING", "ERROR", missing))
            levels.append("ERROR")
        for row in anomaly_rows(anomalies, spec):
            feature = row.feature or "(dataset)"
            kind = row.type
            if kind == "CUSTOM_VALIDATION" and row.short_description in CUSTOM_NAMES:
                kind = row.short_description  # the stable name of a beam-stats comparator
            table.append((*prefix, feature, kind, row.severity, row.description))
            levels.append(row.severity)
    if args.output:
        _write_anomalies(results, args.output)
    if not table:
        print(f"no anomalies ({len(results)} dataset{'s' if sliced else ''} checked)")
        return 0
    header = (*(("dataset",) if sliced else ()), "feature", "anomaly", "severity", "description")
    print_table([header, *table])
    errors = levels.count("ERROR")
    features = len({row[:-3] for row in table})
    print(
        f"\n{plural(len(table), 'anomaly', 'anomalies')} in {plural(features, 'feature')}: "
        f"{plural(errors, 'error')}, {plural(len(table) - errors, 'warning')}"
    )
    return 1 if args.fail_on == "warning" or errors else 0


def _anomalies_paths(output: str, count: int) -> list[str]:
    from beam_stats.beam.artifacts import numbered_path

    return [output] if count == 1 else [numbered_path(output, i) for i in range(count)]


def _write_anomalies(results: Mapping[str, anomalies_pb2.Anomalies], output: str) -> None:
    from beam_stats.beam.artifacts import write_anomalies

    targets = _anomalies_paths(output, len(results))
    for target, (name, anomalies) in zip(targets, results.items(), strict=True):
        write_anomalies(anomalies, target)
        if len(results) > 1:
            print(f"anomalies of dataset {name!r} written to {target}", file=sys.stderr)


def parser_defaults(command: str, argv: Sequence[str]) -> argparse.Namespace:
    """The parsed arguments of one of this module's commands (for other commands to call)."""
    root = argparse.ArgumentParser(prog="beam-stats")
    add_parsers(root.add_subparsers(dest="command", required=True))
    return root.parse_args([command, *argv])
