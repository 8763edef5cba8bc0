"""beam_stats.beam.history: a store of one statistics file per span, its manifest, the
checks of each file, and baselines merged from the spans' sketch state."""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import fake_filesystem
import numpy as np
import pyarrow as pa
import pytest
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats import (
    PrivacySpec,
    QuantilesSpec,
    StatisticsSpec,
    generate_statistics_from_table,
    load_statistics,
    merge_statistics,
    write_statistics,
)
from beam_stats.beam.history import MANIFEST, SpanEntry, StatisticsStore, check_span
from beam_stats.errors import (
    DeserializationError,
    IncompatibleMergeError,
    InvalidInputError,
    OutputError,
)


def _table(seed: int, rows: int = 200) -> pa.Table:
    rng = np.random.default_rng(seed)
    x = rng.normal(10 + seed, 3, rows)
    n = rng.integers(0, 50, rows)
    present = rng.random(rows) > 0.1
    return pa.table(
        {
            "x": x,
            "n": pa.array(n, mask=~present),
            "s": rng.choice(["a", "b", "c", "d"], rows, p=[0.4, 0.3, 0.2, 0.1]),
        }
    )


def _stats(
    seed: int, spec: StatisticsSpec | None = None
) -> statistics_pb2.DatasetFeatureStatisticsList:
    return generate_statistics_from_table(_table(seed), spec)


def _feature(
    stats: statistics_pb2.DatasetFeatureStatisticsList, name: str
) -> statistics_pb2.FeatureNameStatistics:
    return next(f for f in stats.datasets[0].features if f.path.step == [name])


def _stored_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != MANIFEST)


@pytest.fixture
def fakefs(tmp_path: Path) -> Iterator[Path]:
    """The folder behind ``fakefs://``, fresh for the test."""
    folder = tmp_path / "objects"
    folder.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(fake_filesystem.ROOT_VARIABLE, str(folder))
        yield folder


def test_a_store_that_does_not_exist_is_empty(tmp_path: Path) -> None:
    store = StatisticsStore(tmp_path / "none")
    assert store.spans() == []
    assert store.damaged() == {}
    assert "2026-01-01" not in store
    assert not (tmp_path / "none").exists()  # reading creates nothing
    with pytest.raises(InvalidInputError, match=r"no span '2026-01-01' in .* \(it is empty\)"):
        store.load("2026-01-01")
    with pytest.raises(InvalidInputError, match="no span in the statistics store"):
        store.rolling_baseline(7)


def test_spans_are_listed_in_key_order_with_what_the_manifest_records(tmp_path: Path) -> None:
    store = StatisticsStore(tmp_path / "store")
    keys = ["2026-01-03", "2026-01-01", "2026-01-10", "2026-01-02"]
    started = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    for i, key in enumerate(keys):
        store.add(_stats(i), key)
    entries = store.spans()
    assert [e.span for e in entries] == sorted(keys)
    for entry in entries:
        data = (tmp_path / "store" / entry.file).read_bytes()
        assert entry.size == len(data)
        assert entry.sha256 == hashlib.sha256(data).hexdigest()
        assert entry.num_examples == 200 and entry.num_features == 3
        added = datetime.datetime.strptime(entry.added, "%Y-%m-%dT%H:%M:%SZ")
        assert added.replace(tzinfo=datetime.timezone.utc) >= started
        assert store.file_path(entry.span) == f"{tmp_path}/store/{entry.file}"
    assert _stored_files(tmp_path / "store") == sorted(e.file for e in entries)
    manifest = json.loads((tmp_path / "store" / MANIFEST).read_text())
    assert [s["span"] for s in manifest["spans"]] == sorted(keys)
    assert store.entry("2026-01-10") == entries[-1]


def test_load_gives_back_the_statistics_added(tmp_path: Path) -> None:
    store = StatisticsStore(tmp_path / "store")
    stats = _stats(1)
    store.add(stats, "2026-01-01")
    assert store.load("2026-01-01") == stats
    # From a file, text or binary: stored in binary, loaded as the file loads.
    text = tmp_path / "day.pbtxt"
    write_statistics(_stats(2), text)
    entry = store.add(text, "2026-01-02")
    assert entry.file.endswith(".pb")
    assert store.load("2026-01-02") == load_statistics(text)
    assert (tmp_path / "store" / entry.file).read_bytes() == load_statistics(
        text
    ).SerializeToString(deterministic=True)


def test_adding_a_span_again_replaces_it(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    store = StatisticsStore(folder)
    first = store.add(_stats(1), "2026-01-01")
    store.add(_stats(5), "2026-01-02")
    second = store.add(_stats(2), "2026-01-01")
    assert second.file != first.file and second.sha256 != first.sha256
    assert [e.span for e in store.spans()] == ["2026-01-01", "2026-01-02"]
    assert store.load("2026-01-01") == _stats(2)
    assert not (folder / first.file).exists()  # the old file goes once the manifest is new
    assert _stored_files(folder) == sorted(e.file for e in store.spans())


def test_replace_false_refuses_a_span_the_store_has(tmp_path: Path) -> None:
    store = StatisticsStore(tmp_path / "store")
    store.add(_stats(1), "2026-01-01")
    before = (tmp_path / "store" / MANIFEST).read_bytes()
    with pytest.raises(InvalidInputError, match="has span '2026-01-01' already"):
        store.add(_stats(2), "2026-01-01", replace=False)
    assert (tmp_path / "store" / MANIFEST).read_bytes() == before
    assert store.load("2026-01-01") == _stats(1)
    assert len(_stored_files(tmp_path / "store")) == 1


@pytest.mark.parametrize(
    ("span", "problem"),
    [
        ("", "is empty"),
        ("2026/01/01", "contains '/'"),
        ("2026-01-01\n", "not printable"),
        ("day\x00", "not printable"),
        (" 2026-01-01", "spaces"),
        ("d" * 257, "longer than 256"),
    ],
)
def test_bad_span_keys_are_refused(tmp_path: Path, span: str, problem: str) -> None:
    with pytest.raises(InvalidInputError, match=problem):
        check_span(span)
    with pytest.raises(InvalidInputError, match=problem):
        StatisticsStore(tmp_path / "store").add(_stats(1), span)
    assert not (tmp_path / "store").exists()


def test_any_printable_key_gets_a_file_of_safe_characters(tmp_path: Path) -> None:
    store = StatisticsStore(tmp_path / "store")
    for span in ("day=2026-01-01", "week 3 (ü) *?[", ".."):
        entry = store.add(_stats(1), span)
        assert set(entry.file) <= set(
            "abcdefghijklmnopqrstuvwxyz0123456789._=-ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        )
        assert store.load(span) == _stats(1)
    assert [e.span for e in store.spans()] == sorted(["day=2026-01-01", "week 3 (ü) *?[", ".."])


def test_a_damaged_file_is_reported_with_its_span_and_file(tmp_path: Path) -> None:
    store = StatisticsStore(tmp_path / "store")
    for i in range(3):
        store.add(_stats(i), f"2026-01-0{i + 1}")
    entry = store.entry("2026-01-02")
    path = tmp_path / "store" / entry.file
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, one byte flipped
    path.write_bytes(bytes(data))
    pattern = rf"span '2026-01-02' .* its file .*{entry.file} is damaged \(its SHA-256"
    with pytest.raises(DeserializationError, match=pattern):
        store.load("2026-01-02")
    with pytest.raises(DeserializationError, match=pattern):
        store.verify("2026-01-02")
    with pytest.raises(DeserializationError, match=pattern):  # never skipped
        store.baseline(["2026-01-01", "2026-01-02", "2026-01-03"])
    with pytest.raises(DeserializationError, match=pattern):
        store.rolling_baseline(3)
    assert store.load("2026-01-01") == _stats(0)  # the others still load
    assert store.damaged() == {"2026-01-02": "damaged (its SHA-256 differs from the manifest's)"}
    path.write_bytes(bytes(data[:-5]))  # truncated
    with pytest.raises(DeserializationError, match=rf"{len(data) - 5} bytes, the manifest"):
        store.load("2026-01-02")
    path.write_bytes(b"")
    assert store.damaged() == {"2026-01-02": f"damaged (0 bytes, the manifest records {len(data)})"}


def test_a_missing_file_is_reported_with_its_span_and_file(tmp_path: Path) -> None:
    store = StatisticsStore(tmp_path / "store")
    store.add(_stats(1), "2026-01-01")
    entry = store.add(_stats(2), "2026-01-02")
    (tmp_path / "store" / entry.file).unlink()
    with pytest.raises(InvalidInputError, match=rf"span '2026-01-02' .*{entry.file} is missing"):
        store.load("2026-01-02")
    with pytest.raises(InvalidInputError, match=r"span '2026-01-02' .* is missing"):
        store.rolling_baseline(2)
    assert store.damaged() == {"2026-01-02": "missing"}
    store.add(_stats(2), "2026-01-02")  # adding it again repairs the store
    assert store.damaged() == {}


@pytest.mark.parametrize(
    ("manifest", "problem"),
    [
        (b'{"format": "beam-stats statistics store", "version": 1, "spans": [', "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b'{"spans": []}', "not the manifest of a statistics store"),
        (b'{"format": "beam-stats statistics store", "version": 9, "spans": []}', "version 9"),
        (b'{"format": "beam-stats statistics store", "version": 1}', "no list of spans"),
        (b'{"format": "beam-stats statistics store", "version": 1, "spans": [{}]}', "entry 0"),
    ],
)
def test_a_damaged_manifest_is_refused(tmp_path: Path, manifest: bytes, problem: str) -> None:
    folder = tmp_path / "store"
    folder.mkdir()
    (folder / MANIFEST).write_bytes(manifest)
    store = StatisticsStore(folder)
    with pytest.raises(DeserializationError, match=problem) as caught:
        store.spans()
    assert str(folder / MANIFEST) in str(caught.value)
    with pytest.raises(DeserializationError, match=problem):
        store.add(_stats(1), "2026-01-01")  # nothing is added over a damaged manifest
    assert _stored_files(folder) == []


def test_a_manifest_entry_of_the_wrong_shape_is_refused(tmp_path: Path) -> None:
    store = StatisticsStore(tmp_path / "store")
    store.add(_stats(1), "2026-01-01")
    path = tmp_path / "store" / MANIFEST
    good = json.loads(path.read_text())
    for field, value in (("size", -1), ("num_examples", "7"), ("sha256", "00"), ("file", "a/b")):
        broken = json.loads(json.dumps(good))
        broken["spans"][0][field] = value
        path.write_text(json.dumps(broken))
        with pytest.raises(DeserializationError, match="entry 0 of the manifest"):
            store.spans()
    good["spans"].append(dict(good["spans"][0]))
    path.write_text(json.dumps(good))
    with pytest.raises(DeserializationError, match=r"more than once: \['2026-01-01'\]"):
        store.spans()


def test_statistics_without_sketch_state_are_refused(tmp_path: Path) -> None:
    store = StatisticsStore(tmp_path / "store")
    finished = generate_statistics_from_table(_table(1), include_state=False)
    with pytest.raises(IncompatibleMergeError, match="feature 'x' has no sketch state"):
        store.add(finished, "2026-01-01")
    assert store.spans() == []


def test_the_file_a_span_has_cannot_be_added_as_the_span_again(tmp_path: Path) -> None:
    store = StatisticsStore(tmp_path / "store")
    entry = store.add(_stats(1), "2026-01-01")
    own = tmp_path / "store" / entry.file
    before = own.read_bytes()
    with pytest.raises(OutputError, match="refusing to write"):
        store.add(own, "2026-01-01")
    assert own.read_bytes() == before and store.spans() == [entry]
    copied = store.add(own, "2026-01-02")  # another span may copy it
    assert store.load("2026-01-02") == store.load("2026-01-01") and copied.sha256 == entry.sha256


def _concat_stats(seeds: list[int]) -> statistics_pb2.DatasetFeatureStatisticsList:
    return generate_statistics_from_table(pa.concat_tables([_table(s) for s in seeds]))


def test_the_baseline_is_the_merge_of_the_spans_and_the_statistics_of_their_data(
    tmp_path: Path,
) -> None:
    store = StatisticsStore(tmp_path / "store")
    seeds = list(range(6))
    for seed in seeds:
        write_statistics(_stats(seed), tmp_path / f"day{seed}.pb")
        store.add(tmp_path / f"day{seed}.pb", f"2026-01-{seed + 1:02d}")
    chosen = [1, 2, 4]
    baseline = store.baseline([f"2026-01-{s + 1:02d}" for s in chosen])
    files = [load_statistics(tmp_path / f"day{s}.pb") for s in chosen]
    assert baseline == merge_statistics(*files)
    # Exact statistics equal one pass over the spans' data, and numpy's figures.
    assert baseline == _concat_stats(chosen)
    data = pa.concat_tables([_table(s) for s in chosen])
    x = data.column("x").to_numpy()
    n = data.column("n").drop_null().to_numpy()
    assert baseline.datasets[0].num_examples == data.num_rows == 600
    xs = _feature(baseline, "x").num_stats
    assert xs.mean == pytest.approx(x.mean(), rel=1e-12)
    assert xs.std_dev == pytest.approx(x.std(), rel=1e-9)
    assert (xs.min, xs.max) == (x.min(), x.max())
    ns = _feature(baseline, "n").num_stats
    assert ns.common_stats.num_non_missing == len(n)
    assert ns.common_stats.num_missing == data.num_rows - len(n)
    assert ns.mean == pytest.approx(n.mean(), rel=1e-12)
    values, counts = np.unique(data.column("s").to_numpy(zero_copy_only=False), return_counts=True)
    top = {v.value: v.frequency for v in _feature(baseline, "s").string_stats.top_values}
    assert top == dict(zip(values.tolist(), counts.astype(float).tolist(), strict=True))


def test_the_rolling_baseline_merges_the_last_spans_before_one(tmp_path: Path) -> None:
    store = StatisticsStore(tmp_path / "store")
    for day in range(1, 8):
        store.add(_stats(day), f"2026-01-{day:02d}")
    window = store.window(3, before="2026-01-06")
    assert [e.span for e in window] == ["2026-01-03", "2026-01-04", "2026-01-05"]
    assert store.rolling_baseline(3, before="2026-01-06") == _concat_stats([3, 4, 5])
    assert [e.span for e in store.window(2)] == ["2026-01-06", "2026-01-07"]
    assert store.rolling_baseline(2) == _concat_stats([6, 7])
    # A short history gives what there is; before a key between spans works too.
    assert [e.span for e in store.window(28, before="2026-01-02T12")] == [
        "2026-01-01",
        "2026-01-02",
    ]
    with pytest.raises(InvalidInputError, match="no span before '2026-01-01'"):
        store.rolling_baseline(3, before="2026-01-01")
    for bad in (0, -1, True, 2.5):
        with pytest.raises(InvalidInputError, match="last_n must be a positive integer"):
            store.window(bad)  # type: ignore[arg-type]


def test_a_baseline_of_unknown_repeated_or_no_spans_is_refused(tmp_path: Path) -> None:
    store = StatisticsStore(tmp_path / "store")
    store.add(_stats(1), "2026-01-01")
    store.add(_stats(2), "2026-01-02")
    with pytest.raises(InvalidInputError, match=r"no span '2026-02-01' .* from '2026-01-01' to"):
        store.baseline(["2026-01-01", "2026-02-01"])
    with pytest.raises(InvalidInputError, match="more than once"):
        store.baseline(["2026-01-01", "2026-01-01"])
    with pytest.raises(InvalidInputError, match="no span to merge"):
        store.baseline([])


def test_spans_made_with_other_settings_or_policies_refuse_to_merge(tmp_path: Path) -> None:
    store = StatisticsStore(tmp_path / "store")
    store.add(_stats(1), "2026-01-01")
    wider = _stats(2, StatisticsSpec(quantiles=QuantilesSpec(capacity=4096)))
    redacted = _stats(3, StatisticsSpec(privacy=PrivacySpec(redact=frozenset({"s"}))))
    # add refuses them, naming the span they could never merge with ...
    with pytest.raises(IncompatibleMergeError, match=r"quantiles capacity.*span '2026-01-01'"):
        store.add(wider, "2026-01-02")
    with pytest.raises(IncompatibleMergeError, match=r"privacy policy.*span '2026-01-01'"):
        store.add(redacted, "2026-01-03")
    assert [e.span for e in store.spans()] == ["2026-01-01"]
    # ... and a store that has them anyway (written before that check, or span by span
    # with write_span) refuses to merge them, naming the span.
    store.add_entries(
        [store.write_span(wider, "2026-01-02"), store.write_span(redacted, "2026-01-03")]
    )
    with pytest.raises(IncompatibleMergeError, match=r"span '2026-01-02' .*quantiles capacity"):
        store.baseline(["2026-01-01", "2026-01-02"])
    with pytest.raises(IncompatibleMergeError, match=r"span '2026-01-03' .*privacy policy"):
        store.baseline(["2026-01-01", "2026-01-03"])


def test_a_damaged_newest_span_does_not_stop_adding_others(tmp_path: Path) -> None:
    store = StatisticsStore(tmp_path / "store")
    store.add(_stats(1), "2026-01-01")
    newest = store.add(_stats(2), "2026-01-02")
    (tmp_path / "store" / newest.file).write_bytes(b"damaged")
    store.add(_stats(3), "2026-01-03")  # settings compared with the newest readable span
    assert store.load("2026-01-03") == _stats(3)
    wider = _stats(4, StatisticsSpec(quantiles=QuantilesSpec(capacity=4096)))
    with pytest.raises(IncompatibleMergeError, match=r"quantiles capacity.*span '2026-01-03'"):
        store.add(wider, "2026-01-04")
    (tmp_path / "store" / store.entry("2026-01-03").file).unlink()
    with pytest.raises(IncompatibleMergeError, match=r"quantiles capacity.*span '2026-01-01'"):
        store.add(wider, "2026-01-04")
    assert store.damaged() == {
        "2026-01-02": f"damaged (7 bytes, the manifest records {newest.size})",
        "2026-01-03": "missing",
    }


def test_a_store_on_another_file_system(fakefs: Path) -> None:
    store = StatisticsStore(fake_filesystem.url("bucket/history/"))
    assert store.path == "fakefs://bucket/history"
    first = store.add(_stats(1), "2026-01-01")
    store.add(_stats(2), "2026-01-02")
    store.add(_stats(3), "2026-01-01")  # replaced: rename is a copy and a delete there
    folder = fakefs / "bucket" / "history"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [MANIFEST, *(e.file for e in store.spans())]
    )
    assert not (folder / first.file).exists()
    assert store.rolling_baseline(2) == _concat_stats([3, 2])
    (folder / store.entry("2026-01-02").file).write_bytes(b"junk")
    assert store.damaged() == {
        "2026-01-02": f"damaged (4 bytes, the manifest records {store.entry('2026-01-02').size})"
    }


def test_span_entries_are_values() -> None:
    entry = SpanEntry("2026-01-01", "f.pb", 1, 2, 3, "0" * 64, "2026-01-02T00:00:00Z")
    assert entry == SpanEntry("2026-01-01", "f.pb", 1, 2, 3, "0" * 64, "2026-01-02T00:00:00Z")
    with pytest.raises(AttributeError):
        entry.span = "x"  # type: ignore[misc]


def test_a_file_the_manifest_vouches_for_must_still_be_statistics(tmp_path: Path) -> None:
    store = StatisticsStore(tmp_path / "store")
    entry = store.add(_stats(1), "2026-01-01")
    junk = b"\xff" * 40  # no protobuf: a truncated varint
    (tmp_path / "store" / entry.file).write_bytes(junk)
    manifest = json.loads((tmp_path / "store" / MANIFEST).read_text())
    manifest["spans"][0].update(size=len(junk), sha256=hashlib.sha256(junk).hexdigest())
    (tmp_path / "store" / MANIFEST).write_text(json.dumps(manifest))
    assert store.damaged() == {}
    with pytest.raises(DeserializationError, match=rf"span '2026-01-01': .*{entry.file} is not"):
        store.load("2026-01-01")
