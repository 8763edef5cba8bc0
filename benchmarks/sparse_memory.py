"""Peak memory of ``beam-stats stats`` on sparse data (issue 11, item 1).

Standalone: ``.venv/bin/python benchmarks/sparse_memory.py [--rows 100000] [--keys 100000]
[--format jsonl|tfrecord]``. Writes a file of `rows` examples, each with 3 of `keys` integer
features chosen at random (7 MB of JSON lines at the defaults), runs the CLI on it in a
child process and prints the wall time and the child's peak RSS. Before the readers bounded
their batches by rows x columns, the defaults were OOM-killed at 23.7 GB.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_file(path: Path, rows: int, keys: int, file_format: str, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    chosen = rng.integers(0, keys, size=(rows, 3))
    values = rng.integers(0, 1000, size=(rows, 3))
    if file_format == "jsonl":
        with path.open("w") as f:
            for ks, vs in zip(chosen.tolist(), values.tolist(), strict=True):
                f.write(json.dumps({f"k{k}": v for k, v in zip(ks, vs, strict=True)}) + "\n")
        return
    from apache_beam.io.tfrecordio import _TFRecordUtil

    from beam_stats.proto import example_pb2

    with path.open("wb") as f:
        for ks, vs in zip(chosen.tolist(), values.tolist(), strict=True):
            example = example_pb2.Example()
            for k, v in zip(ks, vs, strict=True):
                example.features.feature[f"k{k}"].int64_list.value.append(v)
            _TFRecordUtil.write_record(f, example.SerializeToString())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--format", choices=("jsonl", "tfrecord"), default="jsonl")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    path = folder / f"sparse.{args.format}"
    make_file(path, args.rows, args.keys, args.format)
    size = path.stat().st_size / 1e6
    start = time.perf_counter()
    command = [sys.executable, "-m", "beam_stats.cli", "stats", str(path)]
    done = subprocess.run([*command, "--output", str(folder / "out.pb")], check=False)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"{args.format}: {args.rows:,} rows, 3 of {args.keys:,} keys each, {size:.1f} MB: "
        f"exit {done.returncode}, {wall:.1f} s, peak RSS {peak:,.0f} MB"
    )


if __name__ == "__main__":
    main()
