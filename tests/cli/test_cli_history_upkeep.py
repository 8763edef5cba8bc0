"""Keeping a statistics store: removing spans, deleting the files no span names
(``history remove``, ``history clean``; ``StatisticsStore.remove``, ``orphans``, ``clean``),
and refusing a span made with other sketch settings when it is added."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats import (
    FrequentItemsSpec,
    StatisticsSpec,
    backfill_history,
    generate_statistics_from_table,
)
from beam_stats.beam.history import MANIFEST, StatisticsStore
from beam_stats.cli import main
from beam_stats.errors import IncompatibleMergeError, InvalidInputError

SPANS = ["2026-02-01", "2026-02-02", "2026-02-03"]


def _store(folder: Path) -> StatisticsStore:
    store = StatisticsStore(folder / "store")
    for i, span in enumerate(SPANS):
        rng = np.random.default_rng(i)
        table = pa.table({"x": rng.normal(0, 1, 50 + 10 * i)})
        store.add(generate_statistics_from_table(table), span)
    return store


def _files(store: StatisticsStore) -> set[str]:
    return {p.name for p in Path(store.path).iterdir()}


def test_remove_takes_the_spans_out_of_the_manifest_and_deletes_their_files(
    tmp_path: Path,
) -> None:
    store = _store(tmp_path)
    before = {e.span: e.file for e in store.spans()}
    removed = store.remove(["2026-02-02"])
    assert [e.span for e in removed] == ["2026-02-02"]
    assert [e.span for e in store.spans()] == ["2026-02-01", "2026-02-03"]
    assert _files(store) == {MANIFEST, before["2026-02-01"], before["2026-02-03"]}
    # The baseline of what is left counts only the spans left.
    assert store.baseline(["2026-02-01", "2026-02-03"]).datasets[0].num_examples == 50 + 70
    with pytest.raises(InvalidInputError, match="no span '2026-02-02'"):
        store.remove(["2026-02-02"])
    with pytest.raises(InvalidInputError, match="once"):
        store.remove(["2026-02-01", "2026-02-01"])
    with pytest.raises(InvalidInputError, match="once"):
        store.remove([])
    assert [e.span for e in store.spans()] == ["2026-02-01", "2026-02-03"]


def test_orphans_are_the_store_files_no_span_names_and_clean_deletes_only_them(
    tmp_path: Path,
) -> None:
    store = _store(tmp_path)
    folder = Path(store.path)
    # What a run killed between writing a span's file and the manifest leaves behind.
    written = store.write_span(store.load("2026-02-01"), "2026-02-04")
    # Files that are not the store's own are never touched.
    (folder / "notes.pb").write_bytes(b"mine")
    (folder / "README.txt").write_text("mine")
    listed = {e.file for e in store.spans()}
    assert store.orphans() == [str(folder / written.file)]
    assert store.clean() == [str(folder / written.file)]
    assert _files(store) == {MANIFEST, "notes.pb", "README.txt", *listed}
    assert store.orphans() == [] and store.clean() == []
    assert [e.span for e in store.spans()] == SPANS
    assert StatisticsStore(tmp_path / "nothing").orphans() == []


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = _store(tmp_path)
    orphan = store.write_span(store.load("2026-02-01"), "2026-02-09").file
    assert main(["history", "list", store.path]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == (
        f"1 file no span names (left by an interrupted add): `beam-stats history clean "
        f"{store.path}` deletes them"
    )
    assert main(["history", "clean", store.path]) == 0
    assert capsys.readouterr().out == f"deleted 1 file no span names from {store.path}\n"
    assert orphan not in _files(store)
    argv = ["history", "remove", store.path, "--span", "2026-02-03", "--span", "2026-02-01"]
    assert main(argv) == 0
    assert capsys.readouterr().out == (
        f"removed 2 spans (2026-02-03, 2026-02-01) from {store.path}\n"
    )
    manifest = json.loads((Path(store.path) / MANIFEST).read_text())
    assert [e["span"] for e in manifest["spans"]] == ["2026-02-02"]
    assert main(["history", "remove", store.path, "--span", "2026-02-07"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("beam-stats: error: ") and "no span '2026-02-07'" in err
    assert len(err.splitlines()) == 1


def _other_settings(rows: int) -> statistics_pb2.DatasetFeatureStatisticsList:
    table = pa.table({"x": np.random.default_rng(9).normal(0, 1, rows)})
    return generate_statistics_from_table(
        table, StatisticsSpec(frequent_items=FrequentItemsSpec(capacity=4096))
    )


def test_a_span_made_with_other_settings_is_refused_when_added(tmp_path: Path) -> None:
    store = _store(tmp_path)
    files = _files(store)
    with pytest.raises(IncompatibleMergeError, match=r"span '2026-02-03'.*never merge") as e:
        store.add(_other_settings(40), "2026-02-04")
    assert "top_k_capacity" in str(e.value) or "4096" in str(e.value)
    assert [x.span for x in store.spans()] == SPANS and _files(store) == files
    # Replacing the only span (nothing left to merge with) is allowed.
    alone = StatisticsStore(tmp_path / "alone")
    alone.add(store.load("2026-02-01"), "2026-02-01")
    assert alone.add(_other_settings(40), "2026-02-01").num_examples == 40


def test_a_backfill_with_other_settings_is_refused_before_it_runs(tmp_path: Path) -> None:
    store = _store(tmp_path)
    day = tmp_path / "data" / "day=2026-02-05"
    day.mkdir(parents=True)
    pq.write_table(pa.table({"x": [1.0, 2.0]}), day / "part.parquet")
    pattern = str(tmp_path / "data" / "day=*" / "*.parquet")
    with pytest.raises(IncompatibleMergeError, match="backfilled statistics"):
        backfill_history(
            pattern,
            store,
            span_from_path=r"day=(?P<span>[^/]+)",
            spec=StatisticsSpec(frequent_items=FrequentItemsSpec(capacity=4096)),
        )
    assert [x.span for x in store.spans()] == SPANS
    assert backfill_history(pattern, store, span_from_path=r"day=(?P<span>[^/]+)").entries
    assert [x.span for x in store.spans()] == [*SPANS, "2026-02-05"]
