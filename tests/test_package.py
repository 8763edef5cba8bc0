"""The public API and the one-way layering of the package."""

from __future__ import annotations

import ast
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import beam_stats

PACKAGE = Path(beam_stats.__file__).parent

# Lowest first; a module may import only from its own layer or layers before it.
LAYERS = [
    {"errors", "_types", "_lazy"},
    {"proto"},
    {"arrow", "pandas_free", "_memory"},
    {"sketches"},
    {"stats"},
    {"beam"},
    {"schema", "validation", "drift"},
    {"pipelines", "report"},  # composite Beam transforms built on validation, drift, ...
    {"jobs"},  # the jobs users run end to end, as Python functions
    {"tfdv", "cli"},  # TFDV's names; the command line (parses arguments, prints)
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
        if relative.parts[0] in ("beam", "pipelines", "jobs", "tfdv.py", "cli", "proto"):
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
        if name != "__version__":
            assert getattr(beam_stats, name).__module__.startswith("beam_stats"), name


def test_public_names_are_imported_on_first_use() -> None:
    from beam_stats import beam as beam_layer
    from beam_stats import drift, jobs, report

    errors = {"BeamStatsError", "DeserializationError", "IncompatibleMergeError"}
    errors |= {"InvalidInputError", "OutputError", "SchemaError"}
    expected_eager = [(beam_stats, {"__version__", *errors}), (beam_layer, set()), (jobs, set())]
    expected_eager += [(report, set()), (drift, set())]
    for package, eager in expected_eager:
        assert set(package.__all__) - set(package._PUBLIC) == eager, package.__name__
        # defined on import; __version__ when first asked for (from the package metadata)
        assert all(name in vars(package) for name in eager - {"__version__"})
        assert set(dir(package)) >= set(package.__all__)
        for name in package._PUBLIC:  # each names the module it lives in
            module = package._PUBLIC[name]
            assert getattr(package, name) is getattr(__import__(module, fromlist=[name]), name)
        # A submodule of a public name's name would shadow it once imported (the import
        # system binds it in the package, and __getattr__ is then never asked).
        modules = {found.name for found in pkgutil.iter_modules(package.__path__)}
        assert not modules & set(package._PUBLIC), package.__name__
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = beam_stats.nothing


def test_reading_statistics_and_schemas_does_not_import_beam(tmp_path: Path) -> None:
    """The commands that only read and write local statistics, schemas and reports start
    without apache_beam (1.4 s of imports); the package and its command line import it only
    when a pipeline or another file system needs it."""
    code = """
import sys
import numpy as np
import pyarrow as pa
from beam_stats import generate_statistics_from_table, load_statistics, write_statistics
from beam_stats.cli import main
table = pa.table({"x": np.arange(100.0), "s": ["a", "b"] * 50})
write_statistics(generate_statistics_from_table(table), "a.pb")
write_statistics(generate_statistics_from_table(table.slice(0, 60)), "b.pb")
statuses = [
    main(["infer-schema", "a.pb", "--output", "schema.pbtxt"]),
    main(["validate", "b.pb", "--schema", "schema.pbtxt", "--output", "anomalies.pbtxt"]),
    main(["compare", "a.pb", "b.pb"]),
    main(["merge", "a.pb", "b.pb", "--output", "merged.pb"]),
    main(["report", "a.pb", "b.pb", "--output", "report.html"]),
]
assert load_statistics("merged.pb").datasets[0].num_examples == 160
print(statuses, "apache_beam" in sys.modules)
"""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[0, 0, 1, 0, 0] False", done.stdout
    assert (tmp_path / "report.html").stat().st_size > 0


def test_statistics_of_local_files_do_not_import_beam(tmp_path: Path) -> None:
    """`stats` of local files (one file, a glob, every format but a compressed one) runs in
    this process without apache_beam: a small file's statistics take less time than Beam's
    import (issue 16); a pipeline option brings Beam in."""
    code = """
import struct
import sys
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from beam_stats import load_statistics
from beam_stats.cli import main
from beam_stats.proto import example_pb2
from beam_stats.beam.tfrecord import masked_crc32c
pq.write_table(pa.table({"x": np.arange(10.0)}), "a.parquet")
pq.write_table(pa.table({"x": np.arange(5.0)}), "b.parquet")
open("c.csv", "w").write("x,s\\n1,a\\n2,b\\n")
open("d.jsonl", "w").write('{"x": 1}\\n{"x": "bad"\\n')
example = example_pb2.Example()
example.features.feature["x"].float_list.value.append(3.0)
data = example.SerializeToString()
length = struct.pack("<Q", len(data))
crcs = struct.pack("<I", masked_crc32c(length)), struct.pack("<I", masked_crc32c(data))
open("e.tfrecord", "wb").write(length + crcs[0] + data + crcs[1])
statuses = [
    main(["stats", "a.parquet", "--output", "one.pb"]),
    main(["stats", "*.parquet", "c.csv", "d.jsonl", "e.tfrecord", "--output", "all.pb"]),
    main(["stats", "c.csv", "--slice", "s", "--output", "sliced.pbtxt"]),
]
examples = load_statistics("all.pb").datasets[0].num_examples
# Nor the schema layer when no schema is given, nor the package metadata (__version__).
others = [m for m in ("beam_stats.schema", "importlib.metadata") if m in sys.modules]
print("=", statuses, examples, "apache_beam" in sys.modules, others)
main(["stats", "a.parquet", "--output", "beam.pb", "--runner=DirectRunner"])
print("=", "apache_beam" in sys.modules)
"""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    results = [line for line in done.stdout.splitlines() if line.startswith("= ")]
    assert results == ["= [0, 0, 0] 19 False []", "= True"], done.stdout


def test_importing_the_package_does_not_import_pandas() -> None:
    """pyarrow imports pandas (0.3 s) on its first conversion from Python or numpy values
    (``pa.array``, ``to_numpy``): no module may make one when imported, or every command
    would start that much later (issue 16)."""
    found = pkgutil.walk_packages([str(PACKAGE)], "beam_stats.")
    modules = [module.name for module in found if not module.name.endswith("__main__")]
    # apache_beam imports pandas itself: the modules that import it are left out.
    code = f"""
import importlib, sys
sys.modules["apache_beam"] = None
imported = 0
for name in {modules!r}:
    try:
        importlib.import_module(name)
        imported += 1
    except ImportError as e:
        assert "apache_beam" in str(e), (name, e)
print(imported, "pandas" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    imported, pandas = done.stdout.split()
    assert int(imported) > len(modules) // 2 and pandas == "False"


def _documented_names() -> set[str]:
    text = (PACKAGE.parent / "docs" / "API.md").read_text()
    table_rows = [line for line in text.splitlines() if line.startswith("| `")]
    return {name for row in table_rows for name in re.findall(r"`([^`]+)`", row.split("|")[1])}


def test_the_documented_api_is_the_public_api() -> None:
    assert _documented_names() == set(beam_stats.__all__)


def test_tfdv_names_are_public_and_in_the_tfdv_module() -> None:
    from beam_stats import tfdv

    # The names TFDV users type every day (tensorflow_data_validation's top level).
    tfdv_names = {
        "GenerateStatistics", "StatsOptions", "generate_statistics_from_csv",
        "generate_statistics_from_dataframe", "generate_statistics_from_tfrecord",
        "get_domain", "get_feature", "get_feature_stats", "get_slice_stats",
        "get_statistics_html", "infer_schema", "load_anomalies_text", "load_schema_text",
        "load_statistics", "load_stats_binary", "load_stats_text", "set_domain",
        "update_schema", "validate_statistics", "write_anomalies_text", "write_schema_text",
        "write_stats_text",
    }  # fmt: skip
    assert set(tfdv.__all__) == tfdv_names
    assert tfdv_names <= set(beam_stats.__all__)


def test_version_is_the_installed_one() -> None:
    from importlib.metadata import version

    assert beam_stats.__version__ == version("beam-stats")


def test_moved_names_still_import_with_a_warning() -> None:
    from beam_stats import validation

    with pytest.warns(DeprecationWarning, match="moved to beam_stats.validation.check_batch"):
        moved = beam_stats.check_batch
    assert moved is validation.check_batch
    with pytest.raises(AttributeError):
        _ = beam_stats.no_such_name


def test_the_architecture_page_names_what_exists() -> None:
    """docs/ARCHITECTURE.md: every module or folder it names exists, and it names every
    sub-package and top-level module of the package."""
    text = (PACKAGE.parent / "docs" / "ARCHITECTURE.md").read_text()
    named = set(re.findall(r"`([A-Za-z_/]+(?:\.py|/))`", text))
    for name in named:
        if (PACKAGE.parent / name).exists():  # tests/stats/, protos/, ...
            continue
        found = [p for p in PACKAGE.rglob(name.rstrip("/")) if p.as_posix().endswith(name)]
        found += [p for p in PACKAGE.rglob(name.rstrip("/")) if p.is_dir()]
        assert found, f"docs/ARCHITECTURE.md names {name}, which does not exist"
    for path in PACKAGE.iterdir():
        if path.name.startswith("__") or path.name == "proto":
            continue
        if path.is_dir() or path.suffix == ".py":
            shown = path.name + ("/" if path.is_dir() else "")
            assert shown in named, f"docs/ARCHITECTURE.md does not place {shown}"


def test_test_modules_have_unique_names() -> None:
    # Test folders are not packages: pytest imports each test module by its file name, so two
    # with one name make collection fail on a clean checkout (with no __pycache__ to hide it).
    tests = Path(__file__).parent
    names = [p.name for p in tests.rglob("test_*.py")]
    assert sorted({n for n in names if names.count(n) > 1}) == []
