"""A command-line refusal as users see it: exit status 2 and one line on standard error;
and a command run in a child limited in the size of the files it writes."""

from __future__ import annotations

import sys

import pytest

from beam_stats.cli import main


def one_line_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """Runs ``beam-stats ARGV``, checks it exits 2 with one ``beam-stats: error:`` line and
    no traceback on standard error, and returns that line."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("beam-stats: error: "), err
    assert "Traceback" not in err
    return lines[0]


#: The command line, as ``python -m beam_stats.cli`` runs it (for :func:`limited_python`).
CLI_CODE = "import runpy\nrunpy.run_module('beam_stats.cli', run_name='__main__', alter_sys=True)\n"


def limited_python(limit: int, code: str) -> list[str]:
    """The argv of a Python child that limits the files it writes to `limit` bytes (writes
    past it fail with EFBIG), then runs `code`. The child sets the limit itself: a
    ``preexec_fn`` forks the test's process, which earlier tests in the same worker leave
    with gRPC's threads, and one such child (make test, session 31) died of SIGABRT with
    gRPC's "epoll_wait error: Bad file descriptor" before running the command (not seen
    again in 3 runs after a pipeline test; without the fork it cannot happen)."""
    limit_it = f"import resource\nresource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))\n"
    return [sys.executable, "-c", limit_it + code]
