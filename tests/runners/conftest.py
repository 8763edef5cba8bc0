import sys
from pathlib import Path

import pytest

# tests/beam holds helpers this suite reuses (test_pipeline.exact_part).
sys.path.insert(0, str(Path(__file__).parent.parent / "beam"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from test_equivalence import TIMES

    if TIMES:
        terminalreporter.section("seconds each runner took (its commands, end to end)")
        for name, seconds in TIMES.items():
            terminalreporter.write_line(f"{name:>20}: {seconds:6.1f} s")
