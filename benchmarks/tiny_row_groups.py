"""Time of ``beam-stats stats`` on many tiny reads (issue 11, item 12): one Parquet file of
many row groups of 2 rows, or many Parquet or JSON-lines files of 2 rows each.

Standalone: ``.venv/bin/python benchmarks/tiny_row_groups.py [--groups 1000 3000 5000]
[--files 1000 3000 5000] [--formats parquet jsonl] [-- BEAM OPTIONS]``. Writes the data
(3 columns), runs the CLI on it in a child process and prints the wall time, beside pyarrow
reading the same single file. Linear growth means the time per group or file stays flat.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def _table(first: int, n: int) -> pa.Table:
    rows = range(first, first + n)
    return pa.table({"i": rows, "f": [i / 3 for i in rows], "s": ["ab"] * n})


def _stats(inputs: str, folder: Path, beam_args: list[str]) -> float:
    start = time.perf_counter()
    command = [sys.executable, "-m", "beam_stats.cli", "stats", inputs, *beam_args]
    subprocess.run([*command, "--output", str(folder / "out.pb")], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--groups", type=int, nargs="*", default=[1000, 3000, 5000])
    parser.add_argument("--files", type=int, nargs="*", default=[1000, 3000, 5000])
    parser.add_argument("--formats", nargs="*", default=["parquet", "jsonl"])
    parser.add_argument("beam_args", nargs="*", help="after --: Beam options, e.g. a runner")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    for groups in args.groups:
        path = folder / f"tiny-{groups}.parquet"
        pq.write_table(_table(0, 2 * groups), path, row_group_size=2)
        start = time.perf_counter()
        pq.read_table(path)
        arrow = time.perf_counter() - start
        wall = _stats(str(path), folder, args.beam_args)
        print(
            f"{groups:,} row groups of 2 rows: beam-stats {wall:.1f} s "
            f"({1000 * wall / groups:.2f} ms per group), pyarrow {arrow:.2f} s"
        )
    for file_format in args.formats:
        for files in args.files:
            where = folder / f"{file_format}-{files}"
            where.mkdir()
            for k in range(files):
                table = _table(2 * k, 2)
                name = where / f"part-{k:05d}.{file_format}"
                if file_format == "parquet":
                    pq.write_table(table, name)
                else:
                    name.write_text("".join(json.dumps(r) + "\n" for r in table.to_pylist()))
            wall = _stats(str(where / f"*.{file_format}"), folder, args.beam_args)
            print(
                f"{files:,} {file_format} files of 2 rows: beam-stats {wall:.1f} s "
                f"({1000 * wall / files:.2f} ms per file)"
            )


if __name__ == "__main__":
    main()
