"""``beam-stats feature-skew``: the same examples in two datasets, joined on an identifier.

Writes the ``FeatureSkewResult`` (``--output``; text when the name ends in .pbtxt), the
mismatched pairs kept (``--samples``, JSON lines) and the input problems
(``OUTPUT.errors.jsonl``), and prints one line per feature, most mismatches first.

Exit status: 0 when every compared feature matches on every joined identifier, 1 when some
value differs or is present on one side only, 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from beam_stats.beam.sources import FORMATS
from beam_stats.cli._common import add_errors_argument, report_input_problems, run_pipeline
from beam_stats.errors import InvalidInputError


def add_parsers(commands: argparse._SubParsersAction) -> None:
    skew = commands.add_parser(
        "feature-skew",
        help="join two datasets on identifier features and compare every feature's values",
    )
    skew.add_argument("--base", nargs="+", required=True, metavar="PATTERN", help="e.g. training")
    skew.add_argument("--test", nargs="+", required=True, metavar="PATTERN", help="e.g. serving")
    skew.add_argument(
        "--id", action="append", required=True, metavar="FEATURE", help="identifier (repeatable)"
    )
    skew.add_argument(
        "--feature", action="append", metavar="FEATURE", help="compare only these (repeatable)"
    )
    skew.add_argument("--output", required=True, help="result file (.pbtxt: text proto)")
    skew.add_argument("--samples", help="JSON-lines file of the mismatched pairs kept")
    skew.add_argument("--sample-size", type=int, default=10, help="pairs kept per feature")
    skew.add_argument(
        "--float-tolerance", type=float, default=1e-6, help="relative tolerance of floats"
    )
    skew.add_argument(
        "--absolute-tolerance", type=float, help="absolute tolerance (default: --float-tolerance)"
    )
    skew.add_argument(
        "--num-shards", type=int, help="join partitions (default 512; raise for huge inputs)"
    )
    skew.add_argument("--format", choices=FORMATS, help="input format (default: by suffix)")
    add_errors_argument(skew)
    skew.set_defaults(run=run_feature_skew)


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def print_result(result: Any) -> None:
    """The per-feature table and the identifier counts of a ``FeatureSkewResult``."""
    from beam_stats.cli._common import print_table

    rows: list[tuple[str, ...]] = [
        ("feature", "compared", "matches", "mismatches", "mismatch %", "base only", "test only")
    ]
    features = sorted(
        result.features,
        key=lambda f: (-f.mismatch_count, -(f.base_only + f.test_only), f.feature),
    )
    for f in features:
        compared = f.match_count + f.mismatch_count
        counts = (compared, f.match_count, f.mismatch_count)
        share = _percent(f.mismatch_count, compared)
        rows.append((f.feature, *map(str, counts), share, str(f.base_only), str(f.test_only)))
    if features:
        print_table(rows)
    r = result
    print(f"{r.joined} identifiers joined and compared")
    print(f"only in base: {r.base_only_ids}, only in test: {r.test_only_ids}")
    print(
        f"duplicated, not compared: {r.base_duplicate_ids} in base ({r.base_duplicate_rows} "
        f"rows), {r.test_duplicate_ids} in test ({r.test_duplicate_rows} rows), "
        f"{r.duplicate_ids_skipped} on both sides"
    )
    print(
        f"rows without an identifier: {r.base_null_ids} of {r.base_rows} in base, "
        f"{r.test_null_ids} of {r.test_rows} in test"
    )
    for side, rows_read, nulls in (
        ("base", r.base_rows, r.base_null_ids),
        ("test", r.test_rows, r.test_null_ids),
    ):
        if rows_read and nulls == rows_read:
            ids = ", ".join(r.identifier_features)
            print(f"warning: no {side} row has the identifier ({ids})", file=sys.stderr)


def run_feature_skew(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from beam_stats.beam import ReadRecordBatches
    from beam_stats.beam.artifacts import errors_path as default_errors_path
    from beam_stats.beam.writing import (
        WriteTextFile,
        check_outputs,
        input_pattern,
        match_inputs,
    )
    from beam_stats.pipelines.skew import (
        DetectFeatureSkew,
        WriteFeatureSkew,
        WriteSkewSamples,
        load_feature_skew,
    )

    errors_path = args.errors or default_errors_path(args.output)
    check_outputs([*args.base, *args.test], [args.output, args.samples, errors_path])
    match_inputs([*args.base, *args.test])
    shards = {"num_shards": args.num_shards} if args.num_shards is not None else {}
    detect = DetectFeatureSkew(  # bad values raise here, before the pipeline starts
        args.id,
        args.feature,
        args.float_tolerance,
        args.sample_size,
        absolute_tolerance=args.absolute_tolerance,
        **shards,
    )
    try:
        pipeline = beam.Pipeline(options=PipelineOptions(list(beam_args)))
    except ValueError as e:  # e.g. an unknown --runner
        raise InvalidInputError(f"bad pipeline option: {e}") from e
    base = pipeline | "ReadBase" >> ReadRecordBatches(
        [input_pattern(p) for p in args.base], args.format
    )
    test = pipeline | "ReadTest" >> ReadRecordBatches(
        [input_pattern(p) for p in args.test], args.format
    )
    result = (base.batches, test.batches) | "FeatureSkew" >> detect
    written = [result | "WriteResult" >> WriteFeatureSkew(args.output)]
    if args.samples:
        written.append(result | "WriteSamples" >> WriteSkewSamples(args.samples))
    written.append(
        (base.errors, test.errors)
        | "AllErrors" >> beam.Flatten()
        | "ErrorsToJson" >> beam.Map(json.dumps)
        | "WriteErrors" >> WriteTextFile(errors_path)
    )
    # One final step that needs every write: Beam's DaskRunner runs only the graph of the
    # last transform (docs/RUNNERS.md).
    _ = tuple(written) | "Done" >> beam.Flatten()
    run_pipeline(pipeline)
    skew = load_feature_skew(args.output)
    print_result(skew)
    where = args.output + (f", samples in {args.samples}" if args.samples else "")
    print(f"result in {where}")
    report_input_problems(errors_path)
    differs = any(f.mismatch_count or f.base_only or f.test_only for f in skew.features)
    return 1 if differs else 0
