"""Pieces the command modules share."""

from __future__ import annotations

import argparse
import itertools
import logging
import re
import sys
from collections.abc import Sequence

from beam_stats.beam.engines import ENGINES
from beam_stats.errors import BeamStatsError, InvalidInputError
from beam_stats.report.model import visible
from beam_stats.stats.privacy import PrivacySpec

# How a beam-stats error raised in a worker process reaches the runner: as text, the last
# line of its traceback inside the runner's RuntimeError (the type does not cross processes).
_WORKER_ERROR = re.compile(r"^beam_stats\.errors\.\w+: (.+)$", re.MULTILINE)


def add_errors_argument(parser: argparse.ArgumentParser, output: str = "OUTPUT") -> None:
    """The ``--errors FILE`` flag of every command that reads data; `output` names, in the
    help, the output whose errors file is the default (``artifacts.errors_path``)."""
    parser.add_argument(
        "--errors",
        metavar="FILE",
        help=f"JSON-lines file of the input problems (default: {output}.errors.jsonl)",
    )


def add_engine_argument(parser: argparse.ArgumentParser) -> None:
    """The ``--engine`` flag of the commands that compute statistics of files
    (:mod:`beam_stats.beam.engines`: the choice and its default live there)."""
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default=ENGINES[0],
        help="auto (default): in this process, without a Beam pipeline, when no pipeline "
        "option is given and every input is local, else a Beam pipeline; beam: always a "
        "pipeline (on the runner the options name); in-process: never",
    )


def add_workers_argument(parser: argparse.ArgumentParser) -> None:
    """The ``--workers`` flag: processes of the in-process engine
    (:mod:`beam_stats.beam.parallel`)."""
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes computing the statistics in process (default 1); not with a "
        "pipeline, whose workers are its runner's options",
    )


def add_privacy_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of a privacy policy (``beam_stats.stats.privacy``), for every command whose
    outputs carry values; :func:`privacy_spec` reads them."""
    group = parser.add_argument_group("privacy (what outputs keep of the values)")
    group.add_argument(
        "--redact",
        action="append",
        default=[],
        metavar="FEATURE",
        help="no value of FEATURE appears in any output; counts, presence, lengths and "
        "distinct counts remain (repeatable)",
    )
    group.add_argument(
        "--redact-pii",
        action="store_true",
        help="redact every feature detected as personal data (e-mail, phone, card, ...)",
    )
    group.add_argument(
        "--hash",
        action="append",
        default=[],
        metavar="FEATURE",
        help="values of FEATURE appear only as keyed hashes (HMAC-SHA256; needs "
        "--hash-key-file; repeatable)",
    )
    group.add_argument(
        "--hash-key-file",
        metavar="FILE",
        help="file holding the hash key (at least 16 bytes, e.g. openssl rand -hex 32) of the "
        "features --hash or the schema names; never written anywhere",
    )
    group.add_argument(
        "--min-count",
        type=int,
        default=1,
        metavar="K",
        help="show a value only if at least K examples have it; rarer ones are folded into "
        "one count (default 1: all)",
    )


def privacy_spec(args: argparse.Namespace) -> PrivacySpec:
    """The policy the flags of :func:`add_privacy_arguments` give."""
    from beam_stats.beam.artifacts import read_hash_key

    return PrivacySpec(
        redact=frozenset(args.redact),
        redact_pii=args.redact_pii,
        hash=frozenset(args.hash),
        hash_key=read_hash_key(args.hash_key_file) if args.hash_key_file else None,
        min_count=args.min_count,
    )


def report_input_problems(errors_path: str, shown: int = 5) -> int:
    """Prints how many input problems a run wrote to `errors_path`, and the first few.

    Returns:
        The number of problems.
    """
    from beam_stats.beam.artifacts import read_json_lines

    lines = read_json_lines(errors_path)
    problems = list(itertools.islice(lines, shown))
    count = len(problems) + sum(1 for _ in lines)
    if count:
        problems_text = plural(count, "input problem")
        print(f"{problems_text}, listed in {errors_path}; the first:", file=sys.stderr)
        for problem in problems:
            where = f"{problem['file']}" + (f":{problem['line']}" if problem["line"] else "")
            line = f"  {where}: {problem['kind']}: {problem['message']}"
            print(visible(line), file=sys.stderr)
    return count


# How an operating system error inside a transform reaches the runner's RuntimeError.
_STEP = re.compile(r"\[while running '([^']+)'\]")
_OS_ERROR = re.compile(r"\b(?:\w+Error): \[Errno \d+\] ([^\n]+)")


def os_error(error: BaseException) -> str | None:
    """The operating system's complaint (no space left, permission denied, ...) behind
    `error`, if it is one or was caused by one (also as text, from a worker); else None."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno is not None:
            step = _STEP.search(str(error))
            where = (
                f": {seen.filename}"
                if seen.filename
                else f" (in the pipeline step {step.group(1)!r})"
                if step
                else ""
            )
            return f"{seen.strerror}{where}"
        seen = seen.__cause__ or seen.__context__
    found = _OS_ERROR.findall(str(error))
    return str(found[-1]) if found else None


def worker_error(error: Exception) -> str | None:
    """The message of the beam-stats error a Beam worker process raised, if `error` (what
    the runner raised in its place) carries one; else None."""
    found = _WORKER_ERROR.findall(str(error))
    return str(found[-1]) if found else None


#: Where Beam logs, with its traceback, an exception raised by a transform: in-process
#: (the exception itself), and from worker processes (its traceback as text; e.g. the
#: DirectRunner's multi_processing mode).
BEAM_ERROR_LOGGERS = (
    "apache_beam.runners.common",
    "apache_beam.runners.portability.local_job_service",
    "apache_beam.runners.worker.sdk_worker",
)
# A worker's error as text (its log, relayed by the runner): a beam-stats error, or the
# operating system's refusal, which the command reports as os_error does.
_REFUSAL_TEXT = re.compile(r"beam_stats\.errors\.\w+: |\b\w+Error: \[Errno \d+\] ")


class QuietBeamStatsErrors(logging.Filter):
    """Drops Beam's log of a transform that raised a beam-stats error (an expected refusal:
    bad input, an output that cannot be written): the command prints the message itself,
    once, and a traceback would only hide it."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, BeamStatsError):
            return False
        if isinstance(error, OSError) and error.errno is not None:
            return False  # no space, no permission: one line too (status 2, see os_error)
        if record.levelno >= logging.ERROR and error is None:
            return not _REFUSAL_TEXT.search(record.getMessage())
        return True


def no_pipeline(beam_args: Sequence[str]) -> None:
    """Refuses flags a command that runs no pipeline does not know (they are not Beam
    options there, so they can only be mistakes)."""
    if beam_args:
        raise InvalidInputError(f"unknown arguments: {' '.join(beam_args)}")


def plural(n: int, singular: str, many: str | None = None) -> str:
    """``n`` and the noun, e.g. ``"1 error"``, ``"2 errors"``, ``"3 anomalies"``."""
    return f"{n} {singular if n == 1 else many or singular + 's'}"


def _cell(text: str) -> str:
    # Feature names and values are user text: keep each row on one line and keep terminal
    # control sequences out (only here, in the table; the protos hold the text as it is).
    return visible(text)


def print_table(rows: list[tuple[str, ...]]) -> None:
    """Prints aligned columns, the last one unpadded; each cell on one line (see _cell)."""
    cells = [[_cell(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]) - 1)]
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1])
