"""A command-line refusal as users see it: exit status 2 and one line on standard error."""

from __future__ import annotations

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
