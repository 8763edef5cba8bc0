"""``beam-stats demo``: the main job on the bundled training/serving sample pair.

Statistics of both files (on Beam), a schema inferred from training, and the serving
statistics validated against it: the planted changes of data/sample/README.md come out as
anomalies.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from beam_stats.cli.schema import parser_defaults
from beam_stats.cli.stats import run_stats

TRAIN = "data/sample/train.parquet"
SERVING = "data/sample/serving.parquet"


def add_parsers(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser("demo", help="the main job on the bundled sample pair")
    demo.add_argument("--out", default="out/demo", help="folder for the results")
    demo.set_defaults(run=run_demo)


def run_demo(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    out = args.out.rstrip("/")
    for name, path in (("train", TRAIN), ("serving", SERVING)):
        stats_args = argparse.Namespace(
            inputs=[path],
            output=f"{out}/{name}_stats.pb",
            format=None,
            text=False,
            name=name,
            errors=None,
            categorical=[],
            sketch_state=True,
        )
        run_stats(stats_args, beam_args)
    schema_path = f"{out}/schema.pbtxt"
    infer = parser_defaults(
        "infer-schema",
        [
            f"{out}/train_stats.pb",
            "--output",
            schema_path,
            "--infer-ranges",
            "--disallow-nan",
            "--environment",
            "TRAINING",
            "--environment",
            "SERVING",
            "--not-in",
            "SERVING=churned",
        ],
    )
    infer.run(infer, [])
    validate = parser_defaults(
        "validate",
        [
            f"{out}/serving_stats.pb",
            "--schema",
            schema_path,
            "--environment",
            "SERVING",
            "--output",
            f"{out}/serving_anomalies.pbtxt",
        ],
    )
    found = validate.run(validate, [])
    print(f"demo: statistics, schema and anomalies are in {out}/")
    return 0 if found in (0, 1) else int(found)
