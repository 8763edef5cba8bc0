"""The ``beam-stats`` command line.

One module per command family, each with ``add_parsers(commands)`` that registers its
subcommands and sets ``run(args, beam_args) -> exit status``. Flags a command does not know
are Beam pipeline options (``--runner``, ``--direct_num_workers``, ``--project``, ...) and go
to the pipeline as they are.

Exit status: 0 done, 1 the command's own "found something" (e.g. anomalies), 2 bad input
(no such file, bad option, unreadable statistics, or a beam-stats error raised inside the
pipeline, e.g. too many slices): its message is printed, without a traceback; 3 an
unexpected failure (a bug, here or in the runner), never confused with "found something":
one line names it, and ``BEAM_STATS_TRACEBACK=1`` shows the traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from beam_stats.cli import (
    compare,
    demo,
    examples,
    merge,
    report,
    run,
    schema,
    skew,
    stats,
)
from beam_stats.cli._common import QuietBeamStatsErrors, worker_error
from beam_stats.errors import BeamStatsError

# Where Beam logs (with its traceback) an exception raised by a transform run in-process.
_BEAM_TRANSFORM_LOGGER = "apache_beam.runners.common"


def parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    root = argparse.ArgumentParser(
        prog="beam-stats",
        description="Mergeable statistics of ML data on Apache Beam. Unknown flags are "
        "passed to Beam as pipeline options (e.g. --runner, --direct_num_workers).",
    )
    commands = root.add_subparsers(dest="command", required=True)
    for module in (stats, merge, schema, examples, compare, skew, report, run, demo):
        module.add_parsers(commands)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args, beam_args = parser().parse_known_args(argv)
    quiet, beam_logger = QuietBeamStatsErrors(), logging.getLogger(_BEAM_TRANSFORM_LOGGER)
    beam_logger.addFilter(quiet)
    try:
        return int(args.run(args, beam_args))
    except (BeamStatsError, FileNotFoundError) as e:
        print(f"beam-stats: error: {e}", file=sys.stderr)
        return 2
    except Exception as e:
        # Runners with worker processes re-raise a beam-stats error as a RuntimeError.
        message = worker_error(e) if isinstance(e, RuntimeError) else None
        if message is not None:
            print(f"beam-stats: error: {message}", file=sys.stderr)
            return 2
        if os.environ.get("BEAM_STATS_TRACEBACK"):
            raise
        print(
            f"beam-stats: internal error: {type(e).__name__}: {e}\n"
            "This is a bug (in beam-stats or the runner), not a finding about the data; "
            "run again with BEAM_STATS_TRACEBACK=1 for the traceback and report it.",
            file=sys.stderr,
        )
        return 3
    finally:
        beam_logger.removeFilter(quiet)
