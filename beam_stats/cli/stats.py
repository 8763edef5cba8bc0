"""``beam-stats stats``: files in, statistics out, on Beam."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from beam_stats.beam.sources import FORMATS
from beam_stats.cli._common import report_input_problems, run_pipeline
from beam_stats.errors import InvalidInputError
from beam_stats.stats.slicing import DEFAULT_MAX_SLICES


def add_parsers(commands: argparse._SubParsersAction) -> None:
    stats = commands.add_parser("stats", help="compute statistics of files")
    stats.add_argument("inputs", nargs="+", metavar="INPUT", help="file paths or globs")
    stats.add_argument("--output", required=True, help="statistics file to write")
    stats.add_argument("--format", choices=FORMATS, help="input format")
    stats.add_argument("--text", action="store_true", help="write the text proto format")
    stats.add_argument("--name", default="", help="dataset name in the output")
    stats.add_argument(
        "--errors", help="JSON-lines file for input problems (default: OUTPUT.errors.jsonl)"
    )
    stats.add_argument(
        "--categorical",
        action="append",
        default=[],
        metavar="FEATURE",
        help="an int feature to summarise like a string (repeatable)",
    )
    stats.add_argument(
        "--slice",
        action="append",
        default=[],
        metavar="FEATURE[,FEATURE...]",
        help="also compute statistics per value of a feature; a comma crosses features "
        "(repeatable)",
    )
    stats.add_argument(
        "--max-slices",
        type=int,
        metavar="N",
        help=f"with --slice: fail when the slicings make more than N slices (default "
        f"{DEFAULT_MAX_SLICES:,}); each slice holds an accumulator of every feature in memory",
    )
    stats.add_argument(
        "--weight", metavar="FEATURE", help="a numeric feature that weighs each example"
    )
    stats.add_argument(
        "--schema",
        metavar="SCHEMA",
        help="a schema whose sparse and weighted features get TFDV's statistics "
        "(missing_value, missing_index/missing_weight, length differences)",
    )
    stats.add_argument(
        "--no-sketch-state",
        dest="sketch_state",
        action="store_false",
        help="write the finished statistics only (smaller; cannot be merged later)",
    )
    stats.set_defaults(run=run_stats)


def run_stats(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from beam_stats.beam import GenerateStatistics, ReadRecordBatches, WriteStatistics
    from beam_stats.beam.files import summarize_statistics
    from beam_stats.beam.writing import (
        WriteTextFile,
        check_outputs,
        input_pattern,
        match_inputs,
    )
    from beam_stats.schema import composite_specs, load_schema
    from beam_stats.stats import SlicingSpec, StatisticsSpec

    errors_path = args.errors or f"{args.output}.errors.jsonl"
    check_outputs(
        [*args.inputs, *([args.schema] if args.schema else [])], [args.output, errors_path]
    )
    match_inputs(args.inputs)
    spec = StatisticsSpec(
        categorical_features=frozenset(args.categorical),
        weight_feature=args.weight,
        composites=composite_specs(load_schema(args.schema)) if args.schema else (),
    )
    if args.max_slices is not None and not args.slice:
        raise InvalidInputError("--max-slices needs --slice")
    slicing = (
        SlicingSpec(
            features=tuple(tuple(s.split(",")) for s in args.slice),
            max_slices=DEFAULT_MAX_SLICES if args.max_slices is None else args.max_slices,
        )
        if args.slice
        else None
    )
    options = PipelineOptions(list(beam_args))
    try:
        pipeline = beam.Pipeline(options=options)
    except ValueError as e:  # e.g. an unknown --runner
        raise InvalidInputError(f"bad pipeline option: {e}") from e
    read = pipeline | "Read" >> ReadRecordBatches(
        [input_pattern(p) for p in args.inputs], args.format
    )
    written_statistics = (
        read.batches
        | "Statistics"
        >> GenerateStatistics(
            spec, name=args.name, include_state=args.sketch_state, slicing=slicing
        )
        | "WriteStatistics" >> WriteStatistics(args.output, text=args.text)
    )
    written_errors = (
        read.errors
        | "ErrorsToJson" >> beam.Map(json.dumps)
        | "WriteErrors" >> WriteTextFile(errors_path)
    )
    # One final step that needs both writes: Beam's DaskRunner runs only the graph of
    # the last transform (docs/RUNNERS.md).
    _ = (written_statistics, written_errors) | "Done" >> beam.Flatten()
    run_pipeline(pipeline)
    summary = summarize_statistics(args.output)  # not the whole message: see issue 11
    slices = f" and {summary.num_datasets - 1} slices" if slicing else ""
    checked = f" ({summary.num_composites} sparse/weighted)" if summary.num_composites else ""
    print(
        f"wrote statistics of {summary.num_examples} examples and "
        f"{summary.num_features} features{checked}{slices} to {args.output}"
    )
    report_input_problems(errors_path)
    return 0
