"""The public API and the one-way layering of the package."""

from __future__ import annotations

import ast
from pathlib import Path

import beam_stats

PACKAGE = Path(beam_stats.__file__).parent

# Lowest first; a module may import only from its own layer or layers before it.
LAYERS = [
    {"errors", "_types"},
    {"proto"},
    {"arrow"},
    {"sketches"},
    {"stats"},
    {"beam"},
    {"schema", "validation", "drift"},
    {"pipelines", "report"},  # composite Beam transforms built on validation, drift, ...
    {"jobs"},  # the jobs users run end to end, as Python functions
    {"cli"},  # parses arguments for the jobs and commands, prints
    {"__init__"},
]


def _layer(module: str) -> int:
    return next(i for i, names in enumerate(LAYERS) if module in names)


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("beam_stats")
        ):
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("beam_stats"))
    return names


def test_imports_point_down_the_layers() -> None:
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "proto":
            continue
        own = relative.parts[0].removesuffix(".py")
        for module in _imports(path):
            target = module.split(".")[1] if "." in module else "__init__"
            assert _layer(target) <= _layer(own), f"{relative} imports {module}"


def test_only_the_beam_layer_imports_apache_beam() -> None:
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in ("beam", "pipelines", "jobs", "cli", "proto"):
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom | ast.Import):
                names = (
                    [node.module]
                    if isinstance(node, ast.ImportFrom)
                    else [a.name for a in node.names]
                )
                assert not any(n and n.startswith("apache_beam") for n in names), relative


def test_public_api() -> None:
    assert sorted(beam_stats.__all__) == beam_stats.__all__
    for name in beam_stats.__all__:
        assert getattr(beam_stats, name).__module__.startswith("beam_stats"), name
