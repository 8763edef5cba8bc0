"""Local patterns are matched without Beam (`beam_stats.beam.matching`), and find exactly the
files Beam's own `FileSystems.match` finds, in a tree with folders, links (to a file, to a
folder, dangling), hidden files, an empty folder and names with brackets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from apache_beam.io.filesystems import FileSystems

from beam_stats.beam.matching import match

PATTERNS = [
    "*.csv",
    "**.csv",
    "**/*.csv",
    "*",
    "**",
    "?.csv",
    "??.parquet",
    "[ab].csv",
    "[!a].csv",
    "[a-b]*",
    "[]]*",
    "[.csv",
    "x[1].csv",
    "x[[]1].csv",
    "sub/",
    "sub/*",
    "sub/**",
    "sub/*/d.csv",
    "sub*/*.csv",
    "sub",
    "empty/",
    "empty/*",
    "a.csv",
    "linked.csv",
    "dangling",
    "missing.csv",
    "nowhere/*.csv",
    "*.CSV",
]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tree")
    for name in ["a.csv", "b.csv", "ab.parquet", ".hidden.csv", "x[1].csv", "]odd.csv"]:
        (root / name).write_text("x\n1\n")
    (root / "sub" / "deep").mkdir(parents=True)
    (root / "sub" / "c.csv").write_text("x\n")
    (root / "sub" / "deep" / "d.csv").write_text("x\n")
    (root / "empty").mkdir()
    os.symlink(root / "a.csv", root / "linked.csv")
    os.symlink(root / "sub", root / "sub2")
    os.symlink(root / "gone.csv", root / "dangling")
    return root


def _beam(pattern: str) -> list[str]:
    return sorted(m.path for m in FileSystems.match([pattern])[0].metadata_list)


@pytest.mark.parametrize("pattern", PATTERNS)
def test_an_absolute_pattern_matches_what_beam_matches(tree: Path, pattern: str) -> None:
    given = f"{tree}/{pattern}"
    assert sorted(match(given)) == _beam(given)


@pytest.mark.parametrize(
    "pattern", ["*.csv", "sub/*", "./*.csv", "./sub/**", "../*/a.csv", "a.csv"]
)
def test_a_relative_pattern_matches_what_beam_matches(
    tree: Path, pattern: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tree)
    assert sorted(match(pattern)) == _beam(pattern)


def test_the_tree_is_not_trivial(tree: Path) -> None:
    # The comparisons above would pass on empty answers: these are not.
    assert sorted(match(f"{tree}/**/*.csv")) == [
        f"{tree}/sub/c.csv",
        f"{tree}/sub/deep/d.csv",
    ]
    assert sorted(Path(p).name for p in match(f"{tree}/*.csv")) == [
        ".hidden.csv",
        "]odd.csv",
        "a.csv",
        "b.csv",
        "linked.csv",
        "x[1].csv",
    ]
    assert match(f"{tree}/x[[]1].csv") == [f"{tree}/x[1].csv"]
    assert match(f"{tree}/dangling") == []
    assert match(f"{tree}/sub") == [f"{tree}/sub"]  # a folder named whole: reported on read
