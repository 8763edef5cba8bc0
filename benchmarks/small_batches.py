"""Small batches and many slices (issue 16): ``beam-stats stats`` on the same 1M rows read as
one file, as 2,000 files of 500 rows, sliced by a ~1,000-value feature and by a 10-value
one, each as a ratio against the unsliced one-file run measured in the same round.

Standalone: ``.venv/bin/python benchmarks/small_batches.py [--rows 1000000] [--files 2000]
[--repeat 3] [--data /tmp/small_batches]``. Writes the 20-column mixed dataset of
``make_dataset.py`` once (and its split into ``--files`` files), then runs every workload
once per round, alternating, in child processes, and prints the median wall time, peak
RSS and output size of each, and the median of the per-round ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
from make_dataset import generate

#: The ratio each workload should stay under (issue 16), against one unsliced file.
TARGETS = {"2,000 files": 1.3, "1,000 slices": 3.0, "10 slices": 1.3}


def _split(source: Path, folder: Path, files: int) -> None:
    if folder.exists() and len(list(folder.glob("*.parquet"))) == files:
        return
    folder.mkdir(parents=True, exist_ok=True)
    table = pq.read_table(source)
    size = -(-table.num_rows // files)
    for k in range(files):
        pq.write_table(table.slice(k * size, size), folder / f"part-{k:05d}.parquet")


Run = tuple[float, float, float, int]


def _run(inputs: str, out: Path, extra: list[str]) -> Run:
    """Wall seconds, CPU seconds (user + system: steadier than wall on a shared machine),
    peak RSS MB and output bytes of one ``beam-stats stats`` process."""
    command = [sys.executable, "-m", "beam_stats.cli", "stats", inputs, "--output", str(out)]
    # The beam_stats of this checkout, whatever is installed.
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M %U %S", *command, *extra],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    wall = time.perf_counter() - start
    rss_kb, user, system = done.stderr.strip().splitlines()[-1].split()
    return wall, float(user) + float(system), int(rss_kb) / 1024, out.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=Path("/tmp/small_batches"))
    parser.add_argument("--many", default="s_medium", help="the ~1,000-value slicing feature")
    parser.add_argument("--few", default="i_small", help="the 10-value slicing feature")
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    source = generate(args.rows, args.data, formats=("parquet",))["parquet"]
    _split(source, args.data / "small", args.files)
    workloads = {
        "one file": (str(source), []),
        f"{args.files:,} files": (str(args.data / "small" / "*.parquet"), []),
        "1,000 slices": (str(source), ["--slice", args.many]),
        "10 slices": (str(source), ["--slice", args.few]),
    }
    runs: dict[str, list[Run]] = {name: [] for name in workloads}
    ratios: dict[str, list[float]] = {name: [] for name in workloads}
    cpu_ratios: dict[str, list[float]] = {name: [] for name in workloads}
    for _ in range(args.repeat):
        for name, (inputs, extra) in workloads.items():
            runs[name].append(_run(inputs, args.data / f"out-{os.getpid()}.pb", extra))
        for name in workloads:
            ratios[name].append(runs[name][-1][0] / runs["one file"][-1][0])
            cpu_ratios[name].append(runs[name][-1][1] / runs["one file"][-1][1])
    print(
        "| workload | wall s (median) | spread s | CPU s (median) | peak RSS MB | output MB "
        "| wall ratio | CPU ratio | target |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, measured in runs.items():
        walls = [run[0] for run in measured]
        cpu = statistics.median(run[1] for run in measured)
        rss = statistics.median(run[2] for run in measured)
        size = measured[-1][3] / 1e6
        target = TARGETS.get(name)
        print(
            f"| {name} | {statistics.median(walls):.2f} | {min(walls):.2f}-{max(walls):.2f} "
            f"| {cpu:.2f} | {rss:.0f} | {size:.1f} | {statistics.median(ratios[name]):.2f}x "
            f"| {statistics.median(cpu_ratios[name]):.2f}x "
            f"| {'' if target is None else f'<= {target}x'} |"
        )


if __name__ == "__main__":
    main()
