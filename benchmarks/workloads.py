"""The workloads of issue 16, each as a ratio against a reference measured in the same run.

Usage::

    .venv/bin/python benchmarks/workloads.py [--only files,tiny] [--repeat 3] [--quick]
        [--data-dir benchmarks/data] [--rows 1000000] [--mp-rows 5000000] ...

``make bench`` runs ``benchmarks/run.py`` and then this script; ``make bench-workloads`` runs
this script alone. Every command is a subprocess measured by ``run.py``'s :func:`run.measure`
(wall seconds from start to reaping, start-up included; peak RSS the larger of ``ru_maxrss``
and the sampled sum over the process tree). A workload runs its reference and its subject
alternately, ``--repeat`` times each, and prints the median wall time of each, the ratio of the
medians, the spread of the per-pair ratios (min-max), the peak RSS (the largest over the
repeats), its target and whether it is met. Targets are informational: the exit status is 0
whatever they say (and when a command fails: the failure is printed and the run goes on).

Workloads (``--only`` names; ``ROWS`` is ``--rows``, one million by default):

============  =================================================  ==========================
name          subject [reference]                                target
============  =================================================  ==========================
files         ROWS rows as files of ``--file-rows`` (500) rows   <= 1.3x
              (2,000 files) [the same rows in one file]
slices1000    ROWS rows ``--slice s_medium`` (1,000 string       <= 3x, peak < 1 GB
              values) [unsliced]; the output sizes are printed
slices10      ROWS rows ``--slice i_small`` (10 values)          <= 1.3x
              [unsliced]
weights       ROWS rows ``--weight f_price`` [unweighted]        <= 1.3x
wide          ``--wide-columns`` (1,000) columns x               <= 2x, peak < 1 GB
              ``--wide-rows`` (50,000) rows [the pyarrow floor,
              ``baseline_pyarrow.py``]
tiny          a 10-row file, the whole process (absolute; the    <= 0.8 s
              share of imports is measured once more under
              ``python -X importtime``)
floor         ROWS rows [the pyarrow floor]                      <= 1.5x
workers       ``--mp-rows`` rows with ``--workers`` (2)          speed-up >= 1.6x
              worker processes of the in-process engine
              (``stats --workers``) [the default: one]
============  =================================================  ==========================

The issue measures ``workers`` at 20M rows; the default here is 5M (``mixed_5000000.parquet``,
the file ``run.py`` uses too), ``--mp-rows 20000000`` gives the issue's size. Its ratio is a
speed-up (reference / subject, higher is better); every other ratio is subject / reference.
The issue measured Beam's DirectRunner in ``multi_processing`` mode; against the in-process
engine that mode gave no speed-up (0.99x, benchmarks/RESULTS.md), so the subject is now the
in-process engine's own worker processes.

Data (in ``--data-dir``, generated once and reused; deterministic, the seed of
``make_dataset.py``): ``mixed_{N}.parquet`` of ``make_dataset.py`` for ROWS, ``--mp-rows`` and
10 rows; ``files_{ROWS}x{FILE_ROWS}/`` and ``wide_{C}x{R}.parquet`` of ``workload_data.py``
(run in a subprocess: the harness imports nothing heavy, see ``run.py``).

``--quick`` makes every size small (20,000 rows, 40 files of 500 rows, 100 columns x 2,000
rows, 20,000 rows for ``workers``) for a smoke check; the figures then mean little. Sizes given
explicitly win over ``--quick``'s.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import (  # noqa: E402  (benchmarks/run.py: the measurement and the tables)
    BENCH_DIR,
    MB,
    Result,
    check_output,
    compile_bytecode,
    fmt,
    generate,
    machine_info,
    markdown_table,
    measure,
    own_rss,
    plain_table,
)

WORKLOADS = ("files", "slices1000", "slices10", "weights", "wide", "tiny", "floor", "workers")
FULL = dict(rows=1_000_000, file_rows=500, wide_columns=1000, wide_rows=50_000, mp_rows=5_000_000)
QUICK = dict(rows=20_000, file_rows=500, wide_columns=100, wide_rows=2_000, mp_rows=20_000)
TINY_ROWS = 10


@dataclasses.dataclass(frozen=True)
class Command:
    what: str  # for people: "one 1,000,000-row file"
    argv: list[str]
    rows: int  # num_examples its output must have
    output: Path | None = None  # a beam-stats output, checked after the first run


@dataclasses.dataclass(frozen=True)
class Workload:
    name: str
    subject: Command
    reference: Command | None  # None: the target is absolute seconds
    limit: float  # the ratio's (or the seconds') target
    speedup: bool = False  # ratio = reference / subject, target >= limit
    memory_mb: float | None = None  # the subject's peak RSS target (MB, < limit)

    @property
    def target(self) -> str:
        if self.reference is None:
            main = f"<= {self.limit:g} s"
        else:
            main = f"{'speed-up >=' if self.speedup else '<='} {self.limit:g}x"
        return main + (f", < {self.memory_mb / 1000:g} GB" if self.memory_mb else "")


@dataclasses.dataclass
class Outcome:
    workload: Workload
    subject: list[Result] = dataclasses.field(default_factory=list)
    reference: list[Result] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)

    def _ok(self, results: list[Result]) -> list[Result]:
        return [r for r in results if r.ok]

    def median(self, results: list[Result]) -> float:
        ok = self._ok(results)
        return statistics.median(r.wall for r in ok) if ok else float("nan")

    def peak(self, results: list[Result]) -> float:
        ok = self._ok(results)
        return max(r.peak_rss for r in ok) if ok else float("nan")

    def _ratio(self, subject: float, reference: float) -> float:
        return reference / subject if self.workload.speedup else subject / reference

    def ratio(self) -> float:
        if self.workload.reference is None:
            return float("nan")
        return self._ratio(self.median(self.subject), self.median(self.reference))

    def spread(self) -> tuple[float, float]:
        pairs = [
            self._ratio(s.wall, r.wall)
            for s, r in zip(self.subject, self.reference, strict=False)
            if s.ok and r.ok
        ]
        return (min(pairs), max(pairs)) if pairs else (float("nan"), float("nan"))

    def verdict(self) -> str:
        w = self.workload
        if not self._ok(self.subject) or (w.reference is not None and not self._ok(self.reference)):
            return "n/a (failed)"
        if w.reference is None:
            figure, met = self.median(self.subject), self.median(self.subject) <= w.limit
            text = f"{figure:.2f} s"
        else:
            figure = self.ratio()
            met = figure >= w.limit if w.speedup else figure <= w.limit
            text = f"{figure:.2f}x"
        if w.memory_mb is not None:
            met = met and self.peak(self.subject) < w.memory_mb
            text += f", {self.peak(self.subject):.0f} MB"
        return f"{'met' if met else 'NOT met'} ({text})"


def _stats(python: str, inputs: list[str], output: Path, *extra: str) -> list[str]:
    return [python, "-m", "beam_stats.cli", "stats", *inputs, "--output", str(output), *extra]


def _floor(python: str, path: Path) -> list[str]:
    return [python, str(BENCH_DIR / "baseline_pyarrow.py"), str(path)]


def _derived(python: str, *args: str) -> Path:
    """A path written by ``workload_data.py`` (in a subprocess)."""
    done = subprocess.run(
        [python, str(BENCH_DIR / "workload_data.py"), *args], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"workload_data.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return Path(done.stdout.strip().splitlines()[-1])


def build(name: str, sizes: dict[str, int], args: argparse.Namespace, data: Path) -> Workload:
    """The workload ``name`` with its data generated (or reused)."""
    py, out, rows = args.python, data / "out", sizes["rows"]

    def stats(tag: str, inputs: list[str], n: int, *extra: str, what: str) -> Command:
        output = out / f"{name}_{tag}.pb"
        return Command(what, _stats(py, inputs, output, *extra), n, output)

    if name == "tiny":
        path, _ = generate(py, TINY_ROWS, data)
        subject = stats("subject", [str(path)], TINY_ROWS, what=f"{TINY_ROWS}-row file")
        return Workload(name, subject, None, 0.8)
    if name == "workers":
        n = sizes["mp_rows"]
        path, _ = generate(py, n, data)
        return Workload(
            name,
            stats(
                "subject",
                [str(path)],
                n,
                f"--workers={args.workers}",
                what=f"{n:,} rows, {args.workers} workers",
            ),
            stats("reference", [str(path)], n, what="1 worker"),
            1.6,
            speedup=True,
        )
    if name == "wide":
        cols, n = sizes["wide_columns"], sizes["wide_rows"]
        wide = _derived(py, "wide", "--columns", str(cols), "--rows", str(n), "--out", str(data))
        return Workload(
            name,
            stats("subject", [str(wide)], n, what=f"{cols:,} columns x {n:,} rows"),
            Command("pyarrow floor", _floor(py, wide), n),
            2.0,
            memory_mb=1000,
        )
    path, _ = generate(py, rows, data)
    plain = stats("reference", [str(path)], rows, what="unsliced")
    if name == "files":
        where = _derived(
            py, "files", "--source", str(path), "--file-rows", str(sizes["file_rows"]),
            "--out", str(data),
        )  # fmt: skip
        count = -(-rows // sizes["file_rows"])
        what = f"{count:,} files of {sizes['file_rows']:,} rows"
        subject = stats("subject", [str(where / "*.parquet")], rows, what=what)
        return Workload(name, subject, dataclasses.replace(plain, what="one file"), 1.3)
    if name == "slices1000":
        subject = stats("subject", [str(path)], rows, "--slice", "s_medium", what="s_medium")
        return Workload(name, subject, plain, 3.0, memory_mb=1000)
    if name == "slices10":
        subject = stats("subject", [str(path)], rows, "--slice", "i_small", what="i_small")
        return Workload(name, subject, plain, 1.3)
    if name == "weights":
        subject = stats("subject", [str(path)], rows, "--weight", "f_price", what="f_price")
        return Workload(name, subject, dataclasses.replace(plain, what="unweighted"), 1.3)
    if name == "floor":
        subject = stats("subject", [str(path)], rows, what=f"{rows:,} rows")
        return Workload(name, subject, Command("pyarrow floor", _floor(py, path), rows), 1.5)
    raise ValueError(f"unknown workload {name!r}")


def _run(cmd: Command, tag: str, args: argparse.Namespace, log_dir: Path, check: bool) -> Result:
    if cmd.output is not None:
        cmd.output.unlink(missing_ok=True)
    r = measure(cmd.argv, cmd.rows, tag, args.timeout, args.sample_interval, log_dir)
    if r.ok and check and cmd.output is not None:
        r.note = check_output(args.python, cmd.output, cmd.rows)
        if r.note:
            r.ok = False
            print(f"  !! {tag}: {r.note}", flush=True)
    return r


def import_share(python: str, cmd: Command) -> str:
    """Seconds spent importing during ``cmd``, from ``python -X importtime`` (one more run)."""
    argv = [python, "-X", "importtime", *cmd.argv[1:]]
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True)
    wall = time.perf_counter() - start
    total_us = 0
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (.*)$", line)
        if m and not m.group(2).startswith(" "):  # a top-level import: nested ones are indented
            total_us += int(m.group(1))
    if done.returncode != 0 or not total_us:
        return "import share: not measured (the -X importtime run failed)"
    return (
        f"imports {total_us / 1e6:.2f} s of a {wall:.2f} s run under -X importtime "
        f"({100 * total_us / 1e6 / wall:.0f}%; that run is slower than a plain one)"
    )


def run_workload(w: Workload, args: argparse.Namespace, log_dir: Path) -> Outcome:
    outcome = Outcome(w)
    for i in range(args.repeat):  # alternately, so a change in the machine's load hits both
        if w.reference is not None:
            ref = _run(w.reference, f"{w.name}-reference", args, log_dir, i == 0)
            outcome.reference.append(ref)
        outcome.subject.append(_run(w.subject, f"{w.name}-subject", args, log_dir, i == 0))
    if w.name == "slices1000":
        sizes = [
            f"{c.what}: {c.output.stat().st_size / MB:,.1f} MB"
            for c in (w.subject, w.reference)
            if c is not None and c.output is not None and c.output.exists()
        ]
        outcome.notes.append("output size " + ", ".join(sizes))
    if w.name == "tiny":
        outcome.notes.append(import_share(args.python, w.subject))
    return outcome


HEADER = ["workload", "subject", "reference", "subject s", "reference s", "ratio",
          "ratio min-max", "subject peak MB", "reference peak MB", "target", "result"]  # fmt: skip


def row(o: Outcome) -> list[str]:
    w = o.workload
    lo, hi = o.spread()
    return [
        w.name, w.subject.what, w.reference.what if w.reference else "-",
        fmt(o.median(o.subject), ".2f"), fmt(o.median(o.reference), ".2f"),
        fmt(o.ratio(), ".2f") + ("x" if o.ratio() == o.ratio() else ""),
        "-" if lo != lo else f"{lo:.2f}-{hi:.2f}",
        fmt(o.peak(o.subject), ".0f"), fmt(o.peak(o.reference), ".0f"), w.target, o.verdict(),
    ]  # fmt: skip


def _names(value: str) -> list[str]:
    names = [v.strip() for v in value.split(",") if v.strip()]
    bad = [n for n in names if n not in WORKLOADS]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"workloads must be among {WORKLOADS}, got {value!r}")
    return names


def _load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", type=_names, default=list(WORKLOADS), help="comma list")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke check")
    parser.add_argument("--data-dir", type=Path, default=BENCH_DIR / "data")
    for key in FULL:
        flag = "--" + key.replace("_", "-")
        parser.add_argument(flag, type=int, help=f"default {FULL[key]:,} ({QUICK[key]:,} quick)")
    parser.add_argument("--workers", type=int, default=2, help="workers of 'workers'")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per command")
    parser.add_argument("--sample-interval", type=float, default=0.05, help="seconds")
    parser.add_argument("--python", default=sys.executable, help="interpreter for the commands")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error(f"--repeat must be >= 1, got {args.repeat}")
    preset = QUICK if args.quick else FULL
    sizes = {k: getattr(args, k) or preset[k] for k in FULL}
    if min(sizes.values()) < 1:
        parser.error(f"sizes must be >= 1, got {sizes}")

    info = machine_info()
    info.append(f"harness RSS: {own_rss():.0f} MB (a floor of proc MB, see run.py's docstring)")
    info.append(compile_bytecode(args.python))
    info.append(f"at the start: {_load()}")
    print("\n".join(info), flush=True)
    data = args.data_dir if args.data_dir.is_absolute() else Path.cwd() / args.data_dir
    outcomes: list[Outcome] = []
    for name in args.only:
        try:
            w = build(name, sizes, args, data)
        except (RuntimeError, subprocess.CalledProcessError) as e:
            print(f"\n!! {name}: no data, skipped: {e}", flush=True)
            continue
        ref = f" vs {w.reference.what}" if w.reference else ""
        print(f"\n== {name}: {w.subject.what}{ref} ({_load()})", flush=True)
        outcomes.append(run_workload(w, args, data / "out" / "logs"))
        print("  " + "  ".join(f"{h}: {c}" for h, c in zip(HEADER, row(outcomes[-1]), strict=True)))
        for note in outcomes[-1].notes:
            print(f"  {note}", flush=True)

    info.append(f"at the end: {_load()}")
    rows = [row(o) for o in outcomes]
    print("\n" + plain_table(HEADER, rows))
    notes = [f"{o.workload.name}: {n}" for o in outcomes for n in o.notes]
    print("\n".join(notes))
    print("\n---- markdown ----\n")
    command = "benchmarks/workloads.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print(f"Measured {time.strftime('%Y-%m-%d')} by `{command.strip()}` (`--repeat {args.repeat}`,"
          f" sizes {', '.join(f'{k}={v:,}' for k, v in sizes.items())}).\n")  # fmt: skip
    print("\n".join(f"- {line}" for line in info))
    print("\n" + markdown_table(HEADER, rows) + "\n")
    print("\n".join(f"- {n}" for n in notes))
    print(
        "\nsubject s / reference s: median wall seconds of the whole process; ratio: of the "
        "medians (subject / reference, or reference / subject for a speed-up); ratio min-max: "
        "over the alternating pairs; peak MB: the largest over the repeats of max(ru_maxrss, "
        "summed VmRSS of the process tree)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
