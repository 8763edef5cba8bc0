"""Time of ``beam-stats stats`` on a Parquet file of many tiny row groups (issue 11, item 12).

Standalone: ``.venv/bin/python benchmarks/tiny_row_groups.py [--groups 1000 3000 5000]``.
Writes one file per count, of that many row groups of 2 rows (3 columns), runs the CLI on it
in a child process and prints the wall time, beside pyarrow reading the same file.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--groups", type=int, nargs="+", default=[1000, 3000, 5000])
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    for groups in args.groups:
        n = 2 * groups
        table = pa.table({"i": range(n), "f": [i / 3 for i in range(n)], "s": ["ab"] * n})
        path = folder / f"tiny-{groups}.parquet"
        pq.write_table(table, path, row_group_size=2)
        start = time.perf_counter()
        pq.read_table(path)
        arrow = time.perf_counter() - start
        start = time.perf_counter()
        command = [sys.executable, "-m", "beam_stats.cli", "stats", str(path)]
        subprocess.run([*command, "--output", str(folder / "out.pb")], check=True)
        wall = time.perf_counter() - start
        print(f"{groups:,} row groups of 2 rows: beam-stats {wall:.1f} s, pyarrow {arrow:.2f} s")


if __name__ == "__main__":
    main()
