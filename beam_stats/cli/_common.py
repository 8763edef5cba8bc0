"""Pieces the command modules share."""

from __future__ import annotations

import itertools
import json
import logging
import re
import sys

from apache_beam.io.filesystems import FileSystems

from beam_stats.errors import BeamStatsError

# How a beam-stats error raised in a worker process reaches the runner: as text, the last
# line of its traceback inside the runner's RuntimeError (the type does not cross processes).
_WORKER_ERROR = re.compile(r"^beam_stats\.errors\.\w+: (.+)$", re.MULTILINE)


def report_input_problems(errors_path: str, shown: int = 5) -> int:
    """Prints how many input problems a run wrote to `errors_path`, and the first few.

    Returns:
        The number of problems.
    """
    with FileSystems.open(errors_path) as f:
        problems = [json.loads(line) for line in itertools.islice(f, shown)]
        count = len(problems) + sum(1 for _ in f)
    if count:
        print(f"{count} input problems, listed in {errors_path}; the first:", file=sys.stderr)
        for problem in problems:
            where = f"{problem['file']}" + (f":{problem['line']}" if problem["line"] else "")
            print(f"  {where}: {problem['kind']}: {problem['message']}", file=sys.stderr)
    return count


def worker_error(error: Exception) -> str | None:
    """The message of the beam-stats error a Beam worker process raised, if `error` (what
    the runner raised in its place) carries one; else None."""
    found = _WORKER_ERROR.findall(str(error))
    return str(found[-1]) if found else None


class QuietBeamStatsErrors(logging.Filter):
    """Drops Beam's log of a transform that raised a beam-stats error: the command prints
    the message itself, once, and a traceback would only hide it."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, BeamStatsError)
