"""The README runs as written: every command and Python block, checked against what it shows.

The README's code blocks run in their order, in one temporary folder prepared like a fresh
clone's working directory (``data/sample/`` copied there), with the running interpreter's
``bin`` folder first on ``PATH`` (so ``beam-stats`` and ``python`` are the ones under test,
as after ``. .venv/bin/activate``). The mini-language of the blocks:

- ```` ```console ````: a line starting with ``$ `` is a command, run by ``bash -c`` in that
  folder (a line ending with ``\\`` continues on the next line; each command is a new shell, so
  only files carry over). The lines after it, up to the next ``$ ``, are what it prints,
  standard output and error together. A last line ``[N]`` is its exit status N; without it
  the status must be 0. An output line ``...`` matches any number of lines (none included),
  a line ending with `` (re)`` is a regular expression for one whole line, any other line
  must be equal (trailing spaces ignored). So a command's output is checked in full, and
  what a command writes is checked by a command that shows it (``ls``, ``cat``, ...).
- ```` ```python ````: run with ``exec`` in one namespace shared by every Python block, in the
  same folder. A comment ``# -> TEXT`` (at the end of a line, or alone on a line) is a line
  the block prints: the printed lines must match those texts, in order, under the rules
  above (``# -> ...`` matches any number of lines).
- ```` ```sh ````: commands that would change the machine (install, build runners); only
  ``make TARGET...`` lines are allowed, and each target must exist (``make -n``), and
  ``. .venv/bin/activate`` must name the virtualenv ``make install`` creates.

Other blocks (```` ``` ```` without a language) are not run.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```$", re.M | re.S)
_STATUS = re.compile(r"\[(\d+)\]")
_EXPECTED_COMMENT = re.compile(r"#\s->\s?(.*)$")


def blocks(text: str) -> list[tuple[str, str, int]]:
    """(language, body, line number of the body's first line) of every fenced block."""
    return [
        (m.group(1), m.group(2), text.count("\n", 0, m.start(2)) + 1) for m in _BLOCK.finditer(text)
    ]


def console_commands(body: str) -> list[tuple[str, list[str], int]]:
    """(command, expected output lines, expected exit status) of a console block."""
    lines = body.splitlines()
    commands = []
    i = 0
    while i < len(lines):
        assert lines[i].startswith("$ "), f"a console block line is not a command: {lines[i]!r}"
        command = lines[i][2:]
        while command.endswith("\\"):
            i += 1
            command += "\n" + lines[i]
        i += 1
        expected = []
        while i < len(lines) and not lines[i].startswith("$ "):
            expected.append(lines[i])
            i += 1
        status = 0
        if expected and (m := _STATUS.fullmatch(expected[-1])):
            status = int(m.group(1))
            expected.pop()
        commands.append((command, expected, status))
    return commands


def _line_matches(expected: str, actual: str) -> bool:
    if expected.endswith(" (re)"):
        return re.fullmatch(expected[: -len(" (re)")], actual) is not None
    return expected.rstrip() == actual.rstrip()


def output_matches(expected: list[str], actual: list[str]) -> bool:
    """Whether `actual` lines match `expected` (``...`` any lines, `` (re)`` a regex)."""
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(output_matches(expected[1:], actual[i:]) for i in range(len(actual) + 1))
    return (
        bool(actual)
        and _line_matches(expected[0], actual[0])
        and output_matches(expected[1:], actual[1:])
    )


def _lines(output: str) -> list[str]:
    lines = [line.rstrip() for line in output.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _show(expected: list[str], actual: list[str]) -> str:
    return "expected:\n" + "\n".join(expected) + "\n--- got:\n" + "\n".join(actual)


def test_output_matching_rules() -> None:
    assert output_matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert output_matches(["a", "...", "b"], ["a", "b"])
    assert output_matches(["x=\\d+ (re)"], ["x=12"])
    assert not output_matches(["x=\\d+ (re)"], ["x=1a"])
    assert not output_matches(["a"], ["a", "b"])
    assert not output_matches(["a", "...", "c"], ["a", "b"])
    assert console_commands("$ a \\\n  b\nout\n[1]\n$ c\n") == [
        ("a \\\n  b", ["out"], 1),
        ("c", [], 0),
    ]


def _fresh_clone(folder: Path) -> None:
    shutil.copytree(ROOT / "data" / "sample", folder / "data" / "sample")


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    # This checkout's code, also when the interpreter has another one installed.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"  # stdout and stderr in the order they were written
    env["LC_ALL"] = "C"  # ls sorts the same everywhere
    env.pop("BEAM_STATS_TRACEBACK", None)
    return env


def _run_console(body: str, line: int, folder: Path, env: dict[str, str]) -> None:
    for command, expected, status in console_commands(body):
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=folder,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=300,
        )
        actual = _lines(done.stdout)
        where = f"README.md:{line}: $ {command}"
        assert done.returncode == status, f"{where}\nexit {done.returncode}\n{done.stdout}"
        assert output_matches(expected, actual), f"{where}\n{_show(expected, actual)}"


def _run_python(
    body: str, line: int, namespace: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = [m.group(1) for text in body.splitlines() if (m := _EXPECTED_COMMENT.search(text))]
    printed = io.StringIO()
    # dont_inherit: the README's code runs without this file's `from __future__` imports,
    # as in a user's script.
    code = compile("\n" * (line - 1) + body, str(README), "exec", dont_inherit=True)
    with contextlib.redirect_stdout(printed):
        exec(code, namespace)  # noqa: S102
    actual = _lines(printed.getvalue())
    assert output_matches(expected, actual), f"README.md:{line}\n{_show(expected, actual)}"


def _check_make(body: str, line: int) -> None:
    for text in body.splitlines():
        command = text.split("#")[0].strip()
        if not command:
            continue
        if command == ". .venv/bin/activate":
            recipe = subprocess.run(
                ["make", "-n", "-B", "install"], cwd=ROOT, capture_output=True, text=True
            )
            assert "-m venv .venv" in recipe.stdout, recipe.stdout + recipe.stderr
            continue
        assert command.startswith("make "), f"README.md:{line}: not a make command: {text}"
        done = subprocess.run(
            ["make", "-n", *command.split()[1:]], cwd=ROOT, capture_output=True, text=True
        )
        assert done.returncode == 0, f"README.md:{line}: {command}\n{done.stderr}"


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_readme_make_targets_exist() -> None:
    sh = [(body, line) for language, body, line in blocks(README.read_text()) if language == "sh"]
    assert sh, "the README shows no make commands"
    for body, line in sh:
        _check_make(body, line)


def test_readme_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    found = blocks(README.read_text())
    runnable = [b for b in found if b[0] in ("console", "python")]
    assert len(runnable) >= 10, "the README lost its walkthrough"
    assert {language for language, _, _ in found} <= {"console", "python", "sh", ""}
    _fresh_clone(tmp_path)
    monkeypatch.chdir(tmp_path)
    env = _environment()
    # A module of its own in sys.modules, as a user's script is (dataclasses look it up).
    module = types.ModuleType("__readme__")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    namespace: dict[str, object] = module.__dict__
    for language, body, line in runnable:
        if language == "console":
            _run_console(body, line, tmp_path, env)
        else:
            _run_python(body, line, namespace, monkeypatch)
