"""The ``beam-stats`` command line.

One module per command family, each with ``add_parsers(commands)`` that registers its
subcommands and sets ``run(args, beam_args) -> exit status``. Flags a command does not know
are Beam pipeline options (``--runner``, ``--direct_num_workers``, ``--project``, ...) and go
to the pipeline as they are; one that no pipeline option takes is refused
(:func:`~beam_stats.beam.running.check_flags`).

Exit status, one meaning each: 0 done, nothing found; 1 the command's own "found something"
(anomalies, breaches, mismatches, bad rows); 2 bad input or usage (no such file, bad option,
unreadable statistics or schema, an output that is an input or cannot be written, the
operating system refusing a read or write such as a full disk, or a beam-stats error raised
inside the pipeline, e.g. too many slices): its message is printed on one line, without a
traceback, also from worker processes (:mod:`beam_stats.cli._stderr`); 3 an unexpected
failure (a bug, here or in the runner), never confused with "found something": one line
names it. ``--debug`` (or ``BEAM_STATS_TRACEBACK=1``) shows the
traceback instead.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import os
import sys
from collections.abc import Sequence

from beam_stats.cli import (
    compare,
    demo,
    examples,
    history,
    label_join,
    merge,
    report,
    run,
    schema,
    skew,
    stats,
)
from beam_stats.cli._common import (
    BEAM_ERROR_LOGGERS,
    QuietBeamStatsErrors,
    os_error,
    worker_error,
)
from beam_stats.cli._stderr import filtered_stderr
from beam_stats.errors import BeamStatsError
from beam_stats.pandas_free import pyarrow_without_pandas
from beam_stats.report.model import visible as shown


def parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    root = argparse.ArgumentParser(
        prog="beam-stats",
        description="Mergeable statistics of ML data on Apache Beam. Unknown flags are "
        "passed to Beam as pipeline options (e.g. --runner, --direct_num_workers).",
    )
    commands = root.add_subparsers(dest="command", required=True)
    debug = "show the traceback of an unexpected failure (also BEAM_STATS_TRACEBACK=1)"
    root.add_argument("--debug", action="store_true", help=debug)
    modules = (stats, merge, history, schema, examples, compare, skew, label_join, report, run)
    for module in (*modules, demo):
        module.add_parsers(commands)
    for command in _commands(commands):  # also after the command's name
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=debug)
    return root


def _commands(commands: argparse._SubParsersAction) -> list[argparse.ArgumentParser]:
    """Every command's parser, those of a family's commands (``history add``) included."""
    found = []
    for command in commands.choices.values():
        found.append(command)
        for action in command._actions:
            if isinstance(action, argparse._SubParsersAction):
                found += _commands(action)
    return found


def _worker_processes(beam_args: Sequence[str]) -> bool:
    """Whether the pipeline options start worker processes that share our standard error."""
    flag, mode = "--direct_running_mode", "multi_processing"
    return f"{flag}={mode}" in beam_args or (flag, mode) in itertools.pairwise(beam_args)


def console() -> int:
    """The ``beam-stats`` program (and ``python -m beam_stats.cli``): :func:`main` in a
    process of its own, where pyarrow need not import pandas
    (:func:`~beam_stats.pandas_free.pyarrow_without_pandas`: 0.3 s less per command)."""
    pyarrow_without_pandas()
    return main()


def main(argv: Sequence[str] | None = None) -> int:
    args, beam_args = parser().parse_known_args(argv)
    debug = args.debug or bool(os.environ.get("BEAM_STATS_TRACEBACK"))
    quiet = QuietBeamStatsErrors()
    loggers = [] if debug else [logging.getLogger(name) for name in BEAM_ERROR_LOGGERS]
    for logger in loggers:
        logger.addFilter(quiet)
    try:
        # Worker processes print Beam's report of a refusal themselves (cli/_stderr.py).
        with filtered_stderr(enabled=not debug and _worker_processes(beam_args)):
            return int(args.run(args, beam_args))
    except (BeamStatsError, FileNotFoundError) as e:
        if debug:
            raise
        print(f"beam-stats: error: {shown(str(e))}", file=sys.stderr)
        return 2
    except Exception as e:
        if debug:
            raise
        # Runners with worker processes re-raise a beam-stats error as a RuntimeError.
        message = worker_error(e) if isinstance(e, RuntimeError) else None
        if message is None:
            message = os_error(e)  # a full disk, a permission: the environment, not a bug
        if message is not None:
            print(f"beam-stats: error: {shown(message)}", file=sys.stderr)
            return 2
        print(
            f"beam-stats: internal error: {type(e).__name__}: {shown(str(e))}\n"
            "This is a bug (in beam-stats or the runner), not a finding about the data; "
            "run again with --debug for the traceback and report it.",
            file=sys.stderr,
        )
        return 3
    finally:
        for logger in loggers:
            logger.removeFilter(quiet)
