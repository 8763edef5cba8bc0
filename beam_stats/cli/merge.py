"""``beam-stats merge``: statistics of partitions to the statistics of their union;
``beam-stats redact``: values removed from statistics written before."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from beam_stats.beam import load_statistics, write_statistics
from beam_stats.cli._common import add_privacy_arguments, no_pipeline, privacy_spec
from beam_stats.stats import merge_statistics


def add_parsers(commands: argparse._SubParsersAction) -> None:
    merge = commands.add_parser(
        "merge",
        help="merge statistics files of disjoint data (e.g. daily runs) without the data",
    )
    merge.add_argument("inputs", nargs="+", metavar="FILE", help="statistics files")
    merge.add_argument("--output", required=True, help="statistics file to write")
    merge.add_argument("--text", action="store_true", help="write the text proto format")
    merge.add_argument(
        "--no-sketch-state",
        dest="sketch_state",
        action="store_false",
        help="write the finished statistics only (the result cannot be merged again)",
    )
    add_privacy_arguments(merge)
    merge.set_defaults(run=run_merge)
    _add_redact_parser(commands)


def run_merge(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    from beam_stats.beam.writing import check_outputs

    no_pipeline(beam_args)  # merging reads only the (small) statistics files
    check_outputs(args.inputs, [args.output])
    merged = merge_statistics(
        *(load_statistics(path) for path in args.inputs),
        sources=args.inputs,
        include_state=args.sketch_state,
        privacy=privacy_spec(args),
    )
    write_statistics(merged, args.output, text=args.text or None)
    total = sum(d.num_examples for d in merged.datasets)
    print(f"merged {len(args.inputs)} files ({total} examples) into {args.output}")
    return 0


def _add_redact_parser(commands: argparse._SubParsersAction) -> None:
    redact = commands.add_parser(
        "redact",
        help="remove values from statistics written before (retention and deletion requests)",
        description="Writes STATS again with a privacy policy on top of the one it records: "
        "the finished statistics and the sketch state are rebuilt without the values "
        "(STATS needs its sketch state). --feature F is --redact F.",
    )
    redact.add_argument("statistics", metavar="STATS", help="statistics file")
    redact.add_argument(
        "--feature",
        action="append",
        default=[],
        metavar="FEATURE",
        help="a feature whose values are removed (repeatable)",
    )
    redact.add_argument("--output", required=True, help="statistics file to write")
    redact.add_argument("--text", action="store_true", help="write the text proto format")
    add_privacy_arguments(redact)
    redact.set_defaults(run=run_redact)


def run_redact(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    from beam_stats.beam.writing import check_outputs
    from beam_stats.errors import InvalidInputError
    from beam_stats.stats import protect_statistics

    no_pipeline(beam_args)
    check_outputs([args.statistics], [args.output])
    args.redact = [*args.redact, *args.feature]
    privacy = privacy_spec(args)
    if not privacy.active:
        raise InvalidInputError(
            "nothing to remove: give --feature, --redact-pii, --hash or --min-count"
        )
    protected = protect_statistics(
        load_statistics(args.statistics), privacy, source=args.statistics
    )
    write_statistics(protected, args.output, text=args.text or None)
    print(f"wrote {args.statistics} with privacy policy applied to {args.output}")
    return 0
