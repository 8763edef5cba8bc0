"""Pieces the command modules share."""

from __future__ import annotations

import itertools
import json
import sys

from apache_beam.io.filesystems import FileSystems


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
