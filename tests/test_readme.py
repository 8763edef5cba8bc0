"""The README's Python example runs as written, so it cannot rot."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_readme_python_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert blocks, "the README has no Python example"
    (tmp_path / "data").mkdir()
    shutil.copy(ROOT / "data/sample/sample.parquet", tmp_path / "data/part-0.parquet")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)  # noqa: S102
    stats = namespace["stats"]
    dataset = stats.datasets[0]  # type: ignore[attr-defined]
    assert dataset.num_examples > 0
    assert os.path.exists(tmp_path / "out/stats.pb")
    top = [f for f in dataset.features if f.HasField("string_stats")]
    assert top and all(len(f.string_stats.top_values) <= 10 for f in top)
