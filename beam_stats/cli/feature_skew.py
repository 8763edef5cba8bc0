"""``beam-stats feature-skew``: the same examples in two datasets, feature by feature."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from beam_stats.beam.sources import FORMATS
from beam_stats.cli._common import report_input_problems
from beam_stats.errors import InvalidInputError


def add_parsers(commands: argparse._SubParsersAction) -> None:
    skew = commands.add_parser(
        "feature-skew", help="join two datasets on an identifier and compare every feature"
    )
    skew.add_argument("--base", nargs="+", required=True, metavar="PATTERN", help="e.g. training")
    skew.add_argument("--test", nargs="+", required=True, metavar="PATTERN", help="e.g. serving")
    skew.add_argument("--id", action="append", required=True, help="identifier feature(s)")
    skew.add_argument("--feature", action="append", help="features to compare (default: all)")
    skew.add_argument("--output", required=True, help="result file (.pbtxt: text)")
    skew.add_argument("--samples", help="JSON-lines file of the mismatched pairs kept")
    skew.add_argument("--sample-size", type=int, default=10, help="samples kept per feature")
    skew.add_argument("--float-tolerance", type=float, default=1e-6, help="relative tolerance")
    skew.add_argument("--format", choices=FORMATS, help="input format (default: by suffix)")
    skew.set_defaults(run=run_feature_skew)


def _write(result: object, path: str) -> str:
    from apache_beam.io.filesystems import FileSystems
    from google.protobuf import text_format

    from beam_stats.proto import skew_pb2

    assert isinstance(result, skew_pb2.FeatureSkewResult)
    text = path.endswith((".pbtxt", ".textproto", ".txt"))
    data = text_format.MessageToString(result).encode() if text else result.SerializeToString()
    with FileSystems.create(path) as f:
        f.write(data)
    return path


def run_feature_skew(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    import apache_beam as beam
    from apache_beam.io.filesystems import FileSystems
    from apache_beam.options.pipeline_options import PipelineOptions
    from google.protobuf import text_format

    from beam_stats.beam import ReadRecordBatches
    from beam_stats.cli.schema import print_table
    from beam_stats.pipelines.feature_skew import DetectFeatureSkew
    from beam_stats.proto import skew_pb2

    for pattern in [*args.base, *args.test]:
        if not FileSystems.match([pattern])[0].metadata_list:
            raise FileNotFoundError(f"no file matches {pattern!r}")
    errors_path = f"{args.output}.errors.jsonl"
    try:
        pipeline = beam.Pipeline(options=PipelineOptions(list(beam_args)))
    except ValueError as e:
        raise InvalidInputError(f"bad pipeline option: {e}") from e
    base = pipeline | "ReadBase" >> ReadRecordBatches(args.base, args.format)
    test = pipeline | "ReadTest" >> ReadRecordBatches(args.test, args.format)
    output = args.output
    written = (
        (base.batches, test.batches)
        | DetectFeatureSkew(args.id, args.feature, args.float_tolerance, args.sample_size)
        | "Write" >> beam.Map(_write, output)
    )
    errors = (
        (base.errors, test.errors)
        | "AllErrors" >> beam.Flatten()
        | "ErrorsToJson" >> beam.Map(json.dumps)
        | "WriteErrors" >> beam.io.WriteToText(errors_path, num_shards=1, shard_name_template="")
    )
    _ = (written, errors) | "Done" >> beam.Flatten()  # one last step (DaskRunner)
    pipeline.run().wait_until_finish()
    report_input_problems(errors_path)

    with FileSystems.open(output) as f:
        data = f.read()
    result = skew_pb2.FeatureSkewResult()
    if output.endswith((".pbtxt", ".textproto", ".txt")):
        text_format.Parse(data.decode(), result)
    else:
        result.ParseFromString(data)
    if args.samples:
        with FileSystems.create(args.samples) as f:
            for feature in result.features:
                for s in feature.samples:
                    line = {"feature": feature.feature, "id": s.identifier,
                            "base": s.base_value, "test": s.test_value}  # fmt: skip
                    f.write((json.dumps(line) + "\n").encode())
    rows = [
        (f.feature, str(f.match_count), str(f.mismatch_count), str(f.base_only), str(f.test_only))
        for f in sorted(result.features, key=lambda f: (-f.mismatch_count, f.feature))
    ]
    header = ("feature", "matches", "mismatches", "base only", "test only")
    if rows:
        print_table([header, *rows])
    print(
        f"{result.joined} identifiers joined; {result.base_only_ids} only in base, "
        f"{result.test_only_ids} only in test; duplicates {result.base_duplicate_ids} base / "
        f"{result.test_duplicate_ids} test; rows without an identifier {result.base_null_ids} "
        f"base / {result.test_null_ids} test; result in {output}",
        file=sys.stdout,
    )
    return 1 if any(f.mismatch_count for f in result.features) else 0
