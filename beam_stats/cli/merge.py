"""``beam-stats merge``: statistics of partitions to the statistics of their union."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from beam_stats.beam import load_statistics, write_statistics
from beam_stats.cli._common import no_pipeline
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
    merge.set_defaults(run=run_merge)


def run_merge(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    from beam_stats.beam.writing import check_outputs

    no_pipeline(beam_args)  # merging reads only the (small) statistics files
    check_outputs(args.inputs, [args.output])
    merged = merge_statistics(
        *(load_statistics(path) for path in args.inputs),
        sources=args.inputs,
        include_state=args.sketch_state,
    )
    write_statistics(merged, args.output, text=args.text or None)
    total = sum(d.num_examples for d in merged.datasets)
    print(f"merged {len(args.inputs)} files ({total} examples) into {args.output}")
    return 0
