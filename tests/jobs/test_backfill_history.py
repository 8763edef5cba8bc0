"""backfill_history: every span of day=YYYY-MM-DD/ folders in one pipeline, into a store."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from beam_stats import (
    PrivacySpec,
    SpanFromPath,
    StatisticsSpec,
    backfill_history,
    compute_statistics,
    get_feature_stats,
    merge_statistics,
)
from beam_stats.beam.history import MANIFEST, StatisticsStore
from beam_stats.errors import IncompatibleMergeError, InvalidInputError

# Span -> rows of each of its files: three spans of different sizes.
DAYS = {"2026-03-01": (40, 75), "2026-03-02": (300,), "2026-03-03": (9, 1, 20)}
REGEX = "day=(?P<span>[^/]+)"


def _table(rows: int, rng: np.random.Generator) -> pa.Table:
    x = rng.normal(5, 2, rows)
    x[rng.random(rows) < 0.1] = np.nan
    s = rng.choice(np.array(["a", "b", "c"]), rows).astype(object)
    s[rng.random(rows) < 0.2] = None
    return pa.table(
        {
            "x": pa.array(x, pa.float64(), from_pandas=True),  # NaN is missing
            "n": pa.array(rng.integers(0, 100, rows)),
            "s": pa.array(s.tolist(), pa.string()),
        }
    )


@pytest.fixture
def data(tmp_path: Path) -> tuple[Path, dict[str, pa.Table]]:
    """day=YYYY-MM-DD/part-K.parquet under tmp_path/data, and each span's rows."""
    rng = np.random.default_rng(23)
    tables = {}
    for day, sizes in DAYS.items():
        folder = tmp_path / "data" / f"day={day}"
        folder.mkdir(parents=True)
        parts = [_table(rows, rng) for rows in sizes]
        for k, part in enumerate(parts):
            pq.write_table(part, folder / f"part-{k}.parquet", row_group_size=50)
        tables[day] = pa.concat_tables(parts)
    return tmp_path / "data", tables


def _features(statistics: object) -> dict[str, object]:
    dataset = statistics.datasets[0]  # type: ignore[attr-defined]
    return {name: get_feature_stats(dataset, name) for name in ("x", "n", "s")}


def test_each_span_is_its_files_alone(
    tmp_path: Path, data: tuple[Path, dict[str, pa.Table]]
) -> None:
    root, tables = data
    store = StatisticsStore(tmp_path / "store")
    result = backfill_history(f"{root}/day=*/*.parquet", store, span_from_path=REGEX)
    assert [e.span for e in result.entries] == sorted(DAYS)
    assert [e.num_examples for e in store.spans()] == [len(tables[d]) for d in sorted(DAYS)]
    assert [e.num_features for e in store.spans()] == [3, 3, 3]
    assert result.num_examples == sum(len(t) for t in tables.values())
    assert result.replaced == () and result.input_problems == 0
    assert result.errors == f"{store.path}.errors.jsonl"
    for day, table in tables.items():
        stored = store.load(day)
        # The same statistics as `stats` over the span's files alone, state included (as
        # a pipeline: in process, the files' order changes the last bits of sums).
        alone = compute_statistics(
            str(root / f"day={day}" / "*.parquet"), str(tmp_path / f"{day}.pb"), engine="beam"
        ).statistics
        assert stored == alone, day
        # And numbers computed here, from the rows.
        x = table.column("x").to_numpy(zero_copy_only=False)
        present = x[~np.isnan(x)]
        features = _features(stored)
        assert stored.datasets[0].num_examples == len(table)
        assert features["x"].num_stats.common_stats.num_missing == len(x) - len(present)
        assert features["x"].num_stats.mean == pytest.approx(present.mean(), rel=1e-12)
        assert features["x"].num_stats.max == present.max()
        n = table.column("n").to_numpy()
        assert features["n"].num_stats.mean == pytest.approx(n.mean(), rel=1e-12)
        assert features["n"].num_stats.std_dev == pytest.approx(n.std(), rel=1e-9)
        s = table.column("s")
        assert features["s"].string_stats.common_stats.num_missing == s.null_count
        assert features["s"].string_stats.unique == len(pc.unique(s.drop_null()))


def test_the_spans_merge_into_the_whole(
    tmp_path: Path, data: tuple[Path, dict[str, pa.Table]]
) -> None:
    root, tables = data
    store = StatisticsStore(tmp_path / "store")
    backfill_history([str(root / "day=*" / "*.parquet")], store, span_from_path=REGEX)
    merged = store.baseline(sorted(DAYS))
    whole = pa.concat_tables(tables.values())
    assert merged.datasets[0].num_examples == len(whole)
    n = whole.column("n").to_numpy()
    assert _features(merged)["n"].num_stats.mean == pytest.approx(n.mean(), rel=1e-12)
    assert store.rolling_baseline(2).datasets[0].num_examples == sum(
        len(tables[d]) for d in sorted(DAYS)[1:]
    )


def test_a_second_backfill_replaces_its_spans(
    tmp_path: Path, data: tuple[Path, dict[str, pa.Table]]
) -> None:
    root, tables = data
    store = StatisticsStore(tmp_path / "store")
    earlier = compute_statistics(str(root / "day=2026-03-02/*.parquet"), str(tmp_path / "a.pb"))
    store.add(earlier.statistics, "2026-02-28")
    backfill_history(f"{root}/day=*/*.parquet", store, span_from_path=REGEX)
    # The day's data changes, and a fourth day comes: backfilled again.
    pq.write_table(_table(11, np.random.default_rng(1)), root / "day=2026-03-03/part-0.parquet")
    (root / "day=2026-03-04").mkdir()
    pq.write_table(_table(5, np.random.default_rng(2)), root / "day=2026-03-04/part-0.parquet")
    result = backfill_history(
        f"{root}/day=*/*.parquet", store.path, span_from_path=SpanFromPath(REGEX)
    )
    assert result.replaced == tuple(sorted(DAYS))
    assert [(e.span, e.num_examples) for e in store.spans()] == [
        ("2026-02-28", 300),
        ("2026-03-01", 115),
        ("2026-03-02", 300),
        ("2026-03-03", 11 + 1 + 20),
        ("2026-03-04", 5),
    ]
    # Only the manifest and the five spans' files are left: the replaced ones went.
    assert sorted(p.name for p in store_files(store)) == sorted(
        [MANIFEST, *(e.file for e in store.spans())]
    )


def store_files(store: StatisticsStore) -> list[Path]:
    return list(Path(store.path).iterdir())


def test_one_span_for_all_files_and_a_group_without_a_name(
    tmp_path: Path, data: tuple[Path, dict[str, pa.Table]]
) -> None:
    root, tables = data
    store = StatisticsStore(tmp_path / "store")
    result = backfill_history(f"{root}/day=*/*.parquet", store, span="all")
    assert [(e.span, e.num_examples) for e in result.entries] == [
        ("all", sum(len(t) for t in tables.values()))
    ]
    # The only group of an expression without a group named span: the month.
    backfill_history(f"{root}/day=*/*.parquet", store, span_from_path=r"day=(\d{4}-\d\d)-")
    assert [(e.span, e.num_examples) for e in store.spans()] == [
        ("2026-03", sum(len(t) for t in tables.values())),
        ("all", sum(len(t) for t in tables.values())),
    ]


def test_privacy_policy_goes_into_every_span(
    tmp_path: Path, data: tuple[Path, dict[str, pa.Table]]
) -> None:
    root, _ = data
    spec = StatisticsSpec(privacy=PrivacySpec(redact=frozenset({"s"})))
    store = StatisticsStore(tmp_path / "store")
    backfill_history(f"{root}/day=*/*.parquet", store, span_from_path=REGEX, spec=spec)
    for day in DAYS:
        stored = store.load(day)
        assert not _features(stored)["s"].string_stats.top_values, day
        alone = compute_statistics(
            str(root / f"day={day}" / "*.parquet"),
            str(tmp_path / f"{day}.pb"),
            spec=spec,
            engine="beam",
        ).statistics
        assert stored == alone, day
    # Spans under a policy do not merge with spans without one.
    plain = compute_statistics(str(root / "day=2026-03-01/*.parquet"), str(tmp_path / "p.pb"))
    with pytest.raises(IncompatibleMergeError):
        merge_statistics(store.load("2026-03-01"), plain.statistics)


def test_a_span_without_rows_is_added_empty(
    tmp_path: Path, data: tuple[Path, dict[str, pa.Table]]
) -> None:
    root, _ = data
    (root / "day=2026-03-09").mkdir()
    (root / "day=2026-03-09" / "part-0.parquet").write_bytes(b"not parquet at all")
    store = StatisticsStore(tmp_path / "store")
    result = backfill_history(f"{root}/day=*/*.parquet", store, span_from_path=REGEX)
    assert result.input_problems == 1
    assert [(e.span, e.num_examples) for e in store.spans()][-1] == ("2026-03-09", 0)
    assert len(store.spans()) == 4


def _refused(tmp_path: Path, match: str, **kwargs: object) -> None:
    store = tmp_path / "store"
    with pytest.raises(InvalidInputError, match=match):
        backfill_history(f"{tmp_path}/data/*/*.parquet", store, **kwargs)  # type: ignore[arg-type]
    assert not store.exists() and not Path(f"{store}.errors.jsonl").exists()  # nothing ran


def test_a_file_outside_every_span_fails_before_reading(
    tmp_path: Path, data: tuple[Path, dict[str, pa.Table]]
) -> None:
    root, _ = data
    (root / "other").mkdir()
    pq.write_table(_table(3, np.random.default_rng(0)), root / "other" / "x.parquet")
    bad = str(root / "other" / "x.parquet")
    where = f"does not match the path of the input file {re.escape(repr(bad))}"
    _refused(tmp_path, where, span_from_path=REGEX)
    _refused(tmp_path, re.escape(repr(REGEX)), span_from_path=REGEX)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"span_from_path": "day=(?P<span>[^/]+"}, "is invalid: missing \\)"),
        ({"span_from_path": "day=([^/]+)-(\\d+)"}, "has no group named 'span' and 2 groups"),
        ({"span_from_path": "day=[^/]+"}, "has no group named 'span' and 0 groups"),
        ({"span_from_path": "(?P<span>day=.*)"}, "reads no valid span .* contains '/'"),
        ({"span_from_path": "day=(?P<span>x)?2026"}, "matches without its span group"),
        ({"span_from_path": ""}, "must be non-empty"),
        ({}, "give the spans of the files"),
        ({"span_from_path": REGEX, "span": "d"}, "not both"),
        ({"span": "a/b"}, "contains '/'"),
    ],
)
def test_bad_spans_are_refused(
    tmp_path: Path,
    data: tuple[Path, dict[str, pa.Table]],
    kwargs: dict[str, object],
    match: str,
) -> None:
    _refused(tmp_path, match, **kwargs)
