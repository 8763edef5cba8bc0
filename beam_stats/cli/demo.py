"""``beam-stats demo``: the main job (``beam-stats run``) on the bundled sample pair.

Statistics of data/sample/train.parquet and serving.parquet on Beam, a schema inferred from
training, serving validated and compared with training, and the HTML report: the changes
planted in serving (data/sample/README.md) come out as anomalies and breaches.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from beam_stats.cli.run import run_main_job

TRAIN = "data/sample/train.parquet"
SERVING = "data/sample/serving.parquet"
LABEL = "churned"


def add_parsers(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser("demo", help="the main job on the bundled sample pair")
    demo.add_argument("--out", default="out/demo", help="folder for the results")
    demo.set_defaults(run=run_demo)


def run_demo(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    from beam_stats.cli import parser  # the run command's own parser: its defaults, always

    job = parser().parse_args(
        ["run", "--train", TRAIN, "--serving", SERVING, "--out", args.out, "--label", LABEL,
         "--infer-ranges", "--disallow-nan"]
    )  # fmt: skip
    found = run_main_job(job, beam_args)
    print(f"demo: open {args.out.rstrip('/')}/report.html in a browser")
    return 0 if found in (0, 1) else found  # finding the planted anomalies is the point
