"""Benchmark harness: beam-stats against a hand-written pyarrow baseline (``make bench``).

Usage::

    .venv/bin/python benchmarks/run.py [--sizes 1000000,5000000] [--data-dir benchmarks/data]
                                       [--runs baseline,beam,beam-mp] [--repeat 1]

For every size it generates ``mixed_{N}.parquet`` with ``benchmarks/make_dataset.py`` if missing
(reused otherwise), then runs each command as its own subprocess, so interpreter start-up and
imports are part of the wall time and memory is measured per run:

* ``baseline``: ``python benchmarks/baseline_pyarrow.py FILE.parquet``;
* ``beam``: ``python -m beam_stats.cli stats FILE.parquet --output OUT.pb`` (DirectRunner
  defaults, in-process);
* ``beam-mp``: the same plus ``--direct_num_workers=2 --direct_running_mode=multi_processing``;
* ``beam-label``: ``beam`` with label-aware statistics, ``--label b_flag`` (a boolean label:
  lift, mutual information and the label-conditional state of every other feature).

How it is measured:

* wall seconds: ``time.perf_counter`` from ``Popen`` to the child being reaped;
* peak RSS: the larger of two figures, both shown in the table.
  ``proc MB`` is the kernel's high-water mark from ``os.wait4``'s rusage (``ru_maxrss``): the
  peak of the child *or* of any descendant it reaped, whichever is largest: a maximum over
  processes, not a sum, so it is exact for one process but understates a multi-process run.
  The child is spawned with vfork, and Linux carries the address space's high-water mark
  across ``exec``, so ``ru_maxrss`` is at least the harness's own RSS: the harness therefore
  imports nothing heavy (no pyarrow, no protobuf) and prints its RSS; it is about 15 MB.
  ``tree MB`` is the sum of ``VmRSS`` over the child and all its live descendants (found through
  ``/proc/PID/task/*/children``), sampled every ``--sample-interval`` seconds: it covers worker
  processes running at the same time, may miss a peak shorter than the interval, and counts
  pages shared between processes once per process (an upper bound in that respect).

A command that fails or times out is reported with the tail of its stderr and the harness goes
on. A beam-stats output is checked (in a subprocess): it must parse as a
``DatasetFeatureStatisticsList`` whose first dataset has ``num_examples`` equal to the size.

The targets at the end are informational (the exit status is 0 whatever they say). The results
table is printed again as markdown at the end, to paste into ``benchmarks/RESULTS.md``.
``benchmarks/workloads.py`` (the issue-16 workloads, run by ``make bench`` after this script)
measures its commands with this module's :func:`measure`, :func:`check_output` and tables.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.metadata
import os
import platform
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "benchmarks"
RUNS = ("baseline", "beam", "beam-mp", "beam-label")
BEAM_RUNS = ("beam", "beam-mp", "beam-label")
LABEL = "b_flag"  # the label of the beam-label run
MB = 10**6  # memory and sizes are reported in MB (10^6 bytes); the RSS target is 1 GB


@dataclasses.dataclass
class Result:
    size: int
    run: str
    ok: bool
    wall: float = float("nan")
    proc_rss: float = float("nan")  # MB, os.wait4 ru_maxrss
    tree_rss: float = float("nan")  # MB, sampled sum over the process tree
    inner: float | None = None  # seconds the command reports itself (baseline only)
    note: str = ""

    @property
    def peak_rss(self) -> float:
        return max(self.proc_rss, self.tree_rss)

    @property
    def rows_per_s(self) -> float:
        return self.size / self.wall if self.ok and self.wall > 0 else float("nan")


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return kids
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids.extend(int(k) for k in f.read().split())
        except OSError:
            continue
    return kids


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0  # gone, or a zombie


def tree_rss_bytes(pid: int) -> int:
    """Sum of VmRSS over ``pid`` and its live descendants."""
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        total += _rss_bytes(p)
        todo.extend(_children(p))
    return total


def measure(
    cmd: list[str], size: int, run: str, timeout: float, sample_interval: float, log_dir: Path
) -> Result:
    """Runs ``cmd`` to completion and measures wall time and memory (see module docstring)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    out_path, err_path = log_dir / f"{run}_{size}.stdout", log_dir / f"{run}_{size}.stderr"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        start = time.perf_counter()
        # A session of its own, so a timed-out command and its workers can be killed together.
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=err, start_new_session=True)
        tree_peak, timed_out = 0, False
        while True:
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            tree_peak = max(tree_peak, tree_rss_bytes(proc.pid))
            if time.perf_counter() - start > timeout and not timed_out:
                timed_out = True
                os.killpg(proc.pid, signal.SIGKILL)
            time.sleep(sample_interval)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    stdout = out_path.read_text(errors="replace")
    m = re.search(r"wall_seconds=([0-9.]+)", stdout)
    result = Result(
        size=size,
        run=run,
        ok=proc.returncode == 0 and not timed_out,
        wall=wall,
        proc_rss=rusage.ru_maxrss * 1024 / MB,  # Linux reports kilobytes
        tree_rss=tree_peak / MB,
        inner=float(m.group(1)) if m else None,
    )
    if timed_out:
        result.note = f"timed out after {timeout:.0f} s"
    elif proc.returncode != 0:
        result.note = f"exit status {proc.returncode}"
    if not result.ok:
        tail = err_path.read_text(errors="replace").splitlines()[-25:]
        print(f"  !! {run} at {size:,} failed ({result.note}); stderr tail:", flush=True)
        for line in tail:
            print(f"  | {line}", flush=True)
    return result


# Run in a subprocess: importing protobuf/tensorflow_metadata here would grow the harness and,
# through ru_maxrss inheritance (see module docstring), the memory figures of later runs.
_CHECK_OUTPUT = """
import sys
from tensorflow_metadata.proto.v0 import statistics_pb2
stats = statistics_pb2.DatasetFeatureStatisticsList()
try:
    stats.ParseFromString(open(sys.argv[1], "rb").read())
except Exception as e:
    sys.exit(f"output does not parse as DatasetFeatureStatisticsList: {e}")
if not stats.datasets:
    sys.exit("output has no dataset")
n = stats.datasets[0].num_examples
if n != int(sys.argv[2]):
    sys.exit(f"num_examples={n}, expected {sys.argv[2]}")
"""


def check_output(python: str, path: Path, size: int) -> str:
    """An empty string when ``path`` holds stats for ``size`` examples, else what is wrong."""
    if not path.exists() or path.stat().st_size == 0:
        return f"no output at {path}"
    done = subprocess.run(
        [python, "-c", _CHECK_OUTPUT, str(path), str(size)], capture_output=True, text=True
    )
    if done.returncode == 0:
        return ""
    lines = done.stderr.strip().splitlines()
    return lines[-1] if lines else f"output check failed with status {done.returncode}"


def generate(python: str, size: int, data_dir: Path) -> tuple[Path, str]:
    """``data_dir/mixed_{size}.parquet`` (made by make_dataset.py unless current) and a note."""
    cmd = [python, str(BENCH_DIR / "make_dataset.py"), "--rows", str(size), "--out",
           str(data_dir), "--format", "parquet"]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    done.check_returncode()
    how = (
        "reused"
        if "reusing" in done.stderr
        else f"generated in {time.perf_counter() - start:.1f} s"
    )
    return data_dir / f"mixed_{size}.parquet", how


def own_rss() -> float:
    return _rss_bytes(os.getpid()) / MB


def compile_bytecode(python: str) -> str:
    """Compiles beam_stats' modules to bytecode, as installing a package does, and says so.

    A source checkout run with ``PYTHONDONTWRITEBYTECODE`` set (as on the machines these
    figures come from) compiles every imported module again in every process: about 0.5 s
    of each command's start-up that an installed beam-stats does not pay.
    """
    package = Path(__file__).resolve().parent.parent / "beam_stats"
    done = subprocess.run(
        [python, "-m", "compileall", "-q", str(package)], capture_output=True, text=True
    )
    state = "compiled" if done.returncode == 0 else f"not compiled ({done.stderr.strip()[-200:]})"
    return f"bytecode of beam_stats: {state} before measuring (as an installed package has it)"


def machine_info() -> list[str]:
    def first(path: str, key: str) -> str:
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith(key):
                        return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return "?"

    def version(dist: str) -> str:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    mem_kb = first("/proc/meminfo", "MemTotal").split()[0]
    mem = f"{int(mem_kb) / 2**20:.1f} GiB" if mem_kb.isdigit() else "?"
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    return [
        f"nproc: {usable} usable of {os.cpu_count()}",
        f"CPU: {first('/proc/cpuinfo', 'model name')}",
        f"memory: {mem}",
        f"OS: {platform.system()} {platform.release()}",
        f"python: {platform.python_version()}, pyarrow {version('pyarrow')}, "
        f"apache-beam {version('apache-beam')}, numpy {version('numpy')}, "
        f"beam-stats {version('beam-stats')}",
    ]


def fmt(x: float | None, spec: str) -> str:
    return "-" if x is None or x != x else format(x, spec)  # x != x: NaN


def table_rows(results: list[Result]) -> tuple[list[str], list[list[str]]]:
    base = {r.size: r for r in results if r.run == "baseline" and r.ok}
    header = ["size", "run", "wall s", "rows/s", "peak RSS MB", "proc MB", "tree MB",
              "vs baseline", "status"]  # fmt: skip
    rows = []
    for r in results:
        ratio = r.wall / base[r.size].wall if r.ok and r.size in base else None
        status = "ok" if r.ok and not r.note else (r.note or "failed")
        if r.inner is not None:
            status += f" (inner {r.inner:.2f} s)"
        rows.append([
            f"{r.size:,}", r.run, fmt(r.wall, ".2f"), fmt(r.rows_per_s, ",.0f"),
            fmt(r.peak_rss, ".0f"), fmt(r.proc_rss, ".0f"), fmt(r.tree_rss, ".0f"),
            "-" if ratio is None else f"{ratio:.2f}x", status,
        ])  # fmt: skip
    return header, rows


def plain_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(x) for x in col) for col in zip(header, *rows, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _pass(passed: bool, figure: str) -> str:
    return f"{'PASS' if passed else 'MISS'} ({figure})"


def _need(by: dict[tuple[int, str], Result], keys: list[tuple[int, str]]) -> list[Result] | str:
    """The results for ``keys``, or why a target cannot be judged."""
    missing = [f"{run} at {size:,}" for size, run in keys if (size, run) not in by]
    if missing:
        return f"n/a (not run: {', '.join(missing)})"
    failed = [f"{run} at {size:,}" for size, run in keys if not by[size, run].ok]
    if failed:
        return f"MISS (failed: {', '.join(failed)})"
    return [by[k] for k in keys]


def targets(results: list[Result]) -> list[tuple[str, str]]:
    """(target, verdict) pairs; a verdict is PASS, MISS or n/a followed by the figure."""
    by = {(r.size, r.run): r for r in results}
    m1, m5 = 1_000_000, 5_000_000
    out: list[tuple[str, str]] = []

    label = "1M: beam wall <= 3x pyarrow baseline"
    got = _need(by, [(m1, "beam"), (m1, "baseline")])
    if isinstance(got, str):
        out.append((label, got))
    else:
        ratio = got[0].wall / got[1].wall
        out.append((label, _pass(ratio <= 3, f"{ratio:.2f}x")))

    for run in ("beam", "beam-mp"):
        label = f"5M: {run} >= 300,000 rows/s"
        got = _need(by, [(m5, run)])
        if isinstance(got, str):
            out.append((label, got))
        else:
            speed = got[0].rows_per_s
            out.append((label, _pass(speed >= 300_000, f"{speed:,.0f} rows/s")))

    for r in results:
        if r.run in BEAM_RUNS:
            label = f"{r.size:,}: {r.run} peak RSS < 1 GB"
            got = _need(by, [(r.size, r.run)])
            verdict = (
                got if isinstance(got, str) else _pass(r.peak_rss < 1000, f"{r.peak_rss:.0f} MB")
            )
            out.append((label, verdict))

    label = "5M: beam-mp faster than beam (1 worker)"
    got = _need(by, [(m5, "beam-mp"), (m5, "beam")])
    if isinstance(got, str):
        out.append((label, got))
    else:
        mp, one = got
        out.append((label, _pass(mp.wall < one.wall, f"{mp.wall:.1f} s vs {one.wall:.1f} s")))

    for size in (m1, m5):
        label = f"{size // m1}M: beam --label <= 1.5x beam"
        got = _need(by, [(size, "beam-label"), (size, "beam")])
        if isinstance(got, str):
            out.append((label, got))
        else:
            ratio = got[0].wall / got[1].wall
            out.append((label, _pass(ratio <= 1.5, f"{ratio:.2f}x")))
    return out


def _csv_ints(value: str) -> list[int]:
    try:
        sizes = [int(v.replace("_", "")) for v in value.split(",") if v.strip()]
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"sizes must be integers, got {value!r}") from e
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"sizes must be >= 1, got {value!r}")
    return sizes


def _csv_runs(value: str) -> list[str]:
    runs = [v.strip() for v in value.split(",") if v.strip()]
    bad = [r for r in runs if r not in RUNS]
    if bad or not runs:
        raise argparse.ArgumentTypeError(f"runs must be among {RUNS}, got {value!r}")
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=_csv_ints, default=[1_000_000, 5_000_000])
    parser.add_argument("--data-dir", type=Path, default=BENCH_DIR / "data")
    parser.add_argument("--runs", type=_csv_runs, default=list(RUNS))
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per command; the fastest is kept"
    )
    parser.add_argument("--workers", type=int, default=2, help="--direct_num_workers of beam-mp")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per command")
    parser.add_argument("--sample-interval", type=float, default=0.05, help="seconds")
    parser.add_argument("--python", default=sys.executable, help="interpreter for the commands")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error(f"--repeat must be >= 1, got {args.repeat}")

    info = machine_info()
    info.append(f"harness RSS: {own_rss():.0f} MB (a floor of proc MB, see run.py's docstring)")
    info.append(compile_bytecode(args.python))
    print("\n".join(info), flush=True)
    data_dir = args.data_dir if args.data_dir.is_absolute() else Path.cwd() / args.data_dir
    out_dir = data_dir / "out"
    results: list[Result] = []
    for size in args.sizes:
        try:
            path, how = generate(args.python, size, data_dir)
        except subprocess.CalledProcessError as e:
            print(f"\n!! no data for {size:,} rows, skipped: {e}\n{e.stderr[-3000:]}", flush=True)
            continue
        print(f"\n== {size:,} rows: {path} ({path.stat().st_size / MB:.1f} MB, {how})", flush=True)
        for run in args.runs:
            output = out_dir / f"{run}_{size}.pb"
            if run == "baseline":
                cmd = [args.python, str(BENCH_DIR / "baseline_pyarrow.py"), str(path)]
            else:
                cmd = [args.python, "-m", "beam_stats.cli", "stats", str(path), "--output",
                       str(output)]  # fmt: skip
                if run == "beam-mp":
                    cmd += [f"--direct_num_workers={args.workers}",
                            "--direct_running_mode=multi_processing"]  # fmt: skip
                if run == "beam-label":
                    cmd += ["--label", LABEL]
            best: Result | None = None
            for _ in range(args.repeat):
                output.unlink(missing_ok=True)
                r = measure(cmd, size, run, args.timeout, args.sample_interval, out_dir / "logs")
                if r.ok and run in BEAM_RUNS:
                    r.note = check_output(args.python, output, size)
                    if r.note:
                        print(f"  !! {run} at {size:,}: {r.note}", flush=True)
                if best is None or (r.ok and (not best.ok or r.wall < best.wall)):
                    best = r
            assert best is not None
            results.append(best)
            print(
                f"  {run:<9} {fmt(best.wall, '8.2f')} s  {fmt(best.rows_per_s, '>10,.0f')} rows/s"
                f"  peak {fmt(best.peak_rss, '.0f')} MB  {'ok' if best.ok else 'FAILED'}",
                flush=True,
            )

    header, rows = table_rows(results)
    verdicts = targets(results)
    print("\n" + plain_table(header, rows))
    print("\nTargets (informational):")
    for label, verdict in verdicts:
        print(f"  {verdict.split()[0]:<5} {label}: {verdict.partition(' ')[2]}")

    print("\n---- markdown ----\n")
    sizes = ",".join(map(str, args.sizes))
    print(f"Measured {time.strftime('%Y-%m-%d')} by `benchmarks/run.py --sizes {sizes}`", end="")
    print(f" (`--repeat {args.repeat}`, beam-mp with {args.workers} workers).\n")
    print("\n".join(f"- {line}" for line in info))
    print("\n" + markdown_table(header, rows) + "\n")
    print(markdown_table(["target", "result"], [[label, v] for label, v in verdicts]))
    print(
        "\nwall s: whole process (start-up included); rows/s = size / wall s; peak RSS MB = "
        "max(proc MB, tree MB); proc MB: `ru_maxrss` from `os.wait4` (largest single process); "
        "tree MB: summed VmRSS of the process tree, sampled; vs baseline: wall / baseline wall."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
