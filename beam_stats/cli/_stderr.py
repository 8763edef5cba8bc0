"""Standard error of a run with worker processes, without Beam's report of a refusal.

With worker processes on this machine (the DirectRunner's ``multi_processing`` mode) each
worker inherits the command's standard error and writes there: Beam's start-up chatter
(``INFO:...`` lines and a few warnings about Beam's own flags, every run) and, when a
transform raises, the traceback, which Beam's worker *prints* (not only logs), so no
logging filter of the command reaches it. An expected refusal (a beam-stats error: bad
input, too many slices, an output that cannot be written; or the operating system
refusing a read or write) then shows a page of tracebacks above the one line the command
prints for it.

:func:`filtered_stderr` points file descriptor 2 (which the workers inherit) at a pipe for
the run and copies what arrives to the real standard error, line by line, except:

* a traceback block (``Traceback (most recent call last):`` with its chained causes, and
  the ``ERROR:`` log line just above it) whose last exception line is a beam-stats error
  or an ``[Errno n]`` error: the command prints its message itself, once, with status 2;
* Beam's harness chatter: ``INFO:`` lines (a worker logs at INFO; the command's own
  process does not), but beam-stats' progress where the command shows it (``run``), the
  warnings every worker logs on start, and gRPC's complaint about a closed channel when
  a failing run's workers stop (listed in ``_CHATTER``).

Everything else passes unchanged, in order: beam-stats' warnings, any other traceback (a
bug prints in full: exit status 3 then says so), Beam's other warnings. ``--debug`` (or
``BEAM_STATS_TRACEBACK=1``) turns the filter off.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator

_TRACEBACK = "Traceback (most recent call last):"
_CHAINED = (
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
)
#: The last line of a traceback that reports an expected refusal.
#: (Beam re-raises some as ``RuntimeError: OSError: [Errno 27] ...``.)
_REFUSAL = re.compile(r"^(?:\w+Error: )*(?:beam_stats\.errors\.\w+: |\w+Error: \[Errno \d+\] )")
_PROGRESS = "INFO:beam_stats.progress:"
#: Lines each worker writes on every run, which tell a user nothing.
_CHATTER = re.compile(
    r"^(?:INFO:"
    r"|WARNING:root:apitools not found"
    r"|WARNING:__main__:No semi_persistent_directory found"
    r"|WARNING:apache_beam\.options\.pipeline_options:Discarding unparseable args: "
    r"\[(?:'--direct_runner_use_stacked_bundle'|'--pipeline_type_check')"
    r"(?:, '--direct_runner_use_stacked_bundle'|, '--pipeline_type_check')*\]$"
    r"|WARNING:apache_beam\.runners\.portability\.local_job_service:Worker: severity: "
    r"(?:DEBUG|INFO|NOTICE|WARN) "  # the parent's copy of a worker's log line
    # gRPC's C core, when a worker's channel is torn down as the run fails (rare)
    r"|E\d{4} [\d:.]+ +\d+ ev_epoll1_linux\.cc:\d+\] \(event_engine\) Epoll1Poller:0x[0-9a-f]+ "
    r"encountered epoll_wait error: Bad file descriptor$)"
)


def quiet_lines(lines: Iterable[str], progress: Callable[[], bool] = bool) -> Iterator[str]:
    """`lines` (each with its newline) without refusal tracebacks and harness chatter;
    workers' ``INFO:beam_stats.progress:`` lines pass while `progress()` is true."""
    block: list[str] = []  # a traceback being read, held until it ends
    last = ""  # its latest exception line
    logged: list[str] = []  # an ERROR log line, which may head a traceback
    for line in lines:
        text = line.rstrip("\n")
        if block:
            previous = block[-1].rstrip("\n")
            if not text or text.startswith((" ", "\t")) or text in (_TRACEBACK, *_CHAINED):
                block.append(line)
                continue
            if previous == _TRACEBACK or previous.startswith((" ", "\t")):
                block.append(line)  # the exception line, after the frames
                last = text
                continue
            if not _REFUSAL.match(last):  # the block ended before this line
                yield from block
            block = []
        if text == _TRACEBACK:
            block, last, logged = [*logged, line], "", []
            continue
        yield from logged
        logged = []
        if text.startswith("ERROR:"):
            logged = [line]
        elif not _CHATTER.match(text) or (text.startswith(_PROGRESS) and progress()):
            yield line
    yield from logged
    if block and not _REFUSAL.match(last):
        yield from block


def _shows_progress() -> bool:
    return bool(logging.getLogger("beam_stats.progress").handlers)  # as `beam-stats run`


def _copy(source: int, target: int) -> None:
    with os.fdopen(source, "r", encoding="utf-8", errors="replace") as lines:
        for line in quiet_lines(lines, _shows_progress):
            # A closed standard error must not stop the draining: writers would block.
            with contextlib.suppress(OSError):
                os.write(target, line.encode("utf-8", errors="replace"))


@contextlib.contextmanager
def filtered_stderr(enabled: bool = True) -> Iterator[None]:
    """Filters file descriptor 2 (and the worker processes started meanwhile, which
    inherit it) as the module docstring says, while the block runs."""
    if not enabled:
        yield
        return
    sys.stderr.flush()
    real = os.dup(2)
    read, write = os.pipe()
    os.dup2(write, 2)
    os.close(write)
    copier = threading.Thread(target=_copy, args=(read, real), daemon=True)
    copier.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(real, 2)  # closes the pipe's last writer here; workers still running keep theirs
        copier.join(timeout=10)
        if not copier.is_alive():  # else a worker still writes: the copier keeps `real`
            os.close(real)
