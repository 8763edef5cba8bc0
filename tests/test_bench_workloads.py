"""The issue-16 workload benchmark (benchmarks/workloads.py): its data generators, and one
smoke run on tiny sizes. Nothing here is timed: the figures are only checked to be printed."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_many_files_hold_the_source_rows_in_order(tmp_path: Path) -> None:
    make_dataset, data = _load("make_dataset"), _load("workload_data")
    source = make_dataset.generate(1_234, tmp_path, formats=("parquet",))["parquet"]
    where = data.many_files(source, 500, tmp_path)
    files = sorted(where.glob("*.parquet"))
    assert [pq.ParquetFile(f).metadata.num_rows for f in files] == [500, 500, 234]
    joined = pa.concat_tables(pq.read_table(f) for f in files)
    # Compared as text: f_uniform holds NaN, which Table.equals takes as unequal to itself.
    assert str(joined.to_pydict()) == str(pq.read_table(source).to_pydict())
    stamp = (where / "STAMP").read_text()
    assert data.many_files(source, 500, tmp_path) == where  # reused: the stamp is unchanged
    assert (where / "STAMP").read_text() == stamp
    assert len(list(data.many_files(source, 1_000, tmp_path).glob("*.parquet"))) == 2


def test_wide_table_repeats_the_twenty_columns(tmp_path: Path) -> None:
    data = _load("workload_data")
    table = data.wide_table(45, 100)
    assert table.shape == (100, 45)
    assert len(set(table.column_names)) == 45
    assert table.column_names[:2] == ["f_normal_0", "f_lognormal_0"]
    assert table.column_names[20] == "f_normal_1" and table.column_names[44] == "f_price_2"
    assert table.column("s_medium_1").equals(table.column("s_medium_0"))
    path = data.wide_file(45, 100, tmp_path)
    assert str(pq.read_table(path).to_pydict()) == str(table.to_pydict())


def test_the_sliced_feature_has_a_thousand_values() -> None:
    vocab = _load("make_dataset")._Vocabularies(_load("make_dataset").DEFAULT_SEED)
    assert pc.count_distinct(vocab.medium).as_py() == 1_000
    assert '"--slice", "s_medium"' in (BENCH / "workloads.py").read_text()


def test_quick_run_prints_a_row_per_workload(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / "workloads.py"), "--quick", "--only", "tiny,floor",
         "--repeat", "1", "--data-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {line.split(" | ")[0][2:]: line for line in done.stdout.splitlines() if line[:2] == "| "}
    floor = rows["floor"].split(" | ")
    # subject s, reference s, ratio, its spread, target, verdict
    assert re.fullmatch(r"\d+\.\d\d", floor[3]) and re.fullmatch(r"\d+\.\d\d", floor[4])
    subject, reference = float(floor[3]), float(floor[4])
    ratio = subject / reference  # of the rounded seconds: about the printed one
    assert re.fullmatch(r"\d+\.\d\dx", floor[5])
    # Seconds rounded to +-0.005 move the ratio by up to 0.005 (1 + ratio) / (reference -
    # 0.005) (a quick run's reference is a fraction of a second), the printed ratio by 0.005.
    bound = 0.005 * (1 + ratio) / (reference - 0.005) + 0.005
    assert abs(float(floor[5][:-1]) - ratio) <= bound, (floor[5], ratio, bound)
    assert floor[9] == "<= 1.5x" and re.fullmatch(r"(met|NOT met) \(\d+\.\d\dx\) \|", floor[10])
    tiny = rows["tiny"].split(" | ")
    assert tiny[2] == "-" and re.fullmatch(r"\d+\.\d\d", tiny[3])
    assert tiny[9] == "<= 0.8 s" and re.fullmatch(r"(met|NOT met) \(\d+\.\d\d s\) \|", tiny[10])
    assert re.search(r"tiny: imports \d+\.\d\d s of a", done.stdout)
