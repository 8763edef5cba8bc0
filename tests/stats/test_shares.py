"""A share of many slices finished apart (stats/shares.py, SlicedAccumulators.share): which
slices go, each slice the bytes it has without sharing, and the whole dataset the
statistics of every row (against numpy and the unshared run)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from beam.test_pipeline import check_against_numpy, exact_part
from proto_compare import assert_close
from stats.test_feature import make_table
from stats.test_whole_from_slices import sliced
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats import SlicingSpec, StatisticsSpec
from beam_stats.stats import wire
from beam_stats.stats.coalesce import RAMP_ROWS
from beam_stats.stats.shares import ShareResult, SliceShare, finish_share, worth_sharing
from beam_stats.stats.sliced import SlicedAccumulators

WHOLE = "All Examples"
BY_KEY = SlicingSpec(features=("key",))


def keyed(n: int, keys: int, seed: int = 3, big: int = 0) -> pa.Table:
    """make_table's columns and "key": `keys` keys drawn at random for the rows after the
    first `big` ones, which go to three keys "big-0".."big-2" in turn; and "tags", a list of
    one or two of "a", "b", "c" (a row with two is in two slices)."""
    rng = np.random.default_rng(seed)
    small = np.char.add("k", rng.integers(0, keys, n - big).astype(str))
    large = np.char.add("big-", (np.arange(big) % 3).astype(str))
    first = rng.choice(["a", "b", "c"], n)
    tags = [[f] if rng.random() < 0.7 else [f, "c" if f != "c" else "a"] for f in first]
    table = make_table(seed=seed, n=n)
    table = table.append_column("key", pa.array(np.concatenate((large, small))))
    return table.append_column("tags", pa.array(tags, pa.list_(pa.string())))


def shared_here(share: SliceShare) -> ShareResult:
    whole, datasets = finish_share(share)
    return ShareResult(datasets, whole)


def datasets(accumulators: SlicedAccumulators, share: SliceShare | None = None) -> dict[str, bytes]:
    shared = None if share is None else (lambda: shared_here(share))
    return {key: d.data for key, d in accumulators.results(WHOLE, True, shared)}


def as_list(found: dict[str, bytes]) -> statistics_pb2.DatasetFeatureStatisticsList:
    pairs = [(key, wire.DatasetBytes(data)) for key, data in found.items()]
    data = b"".join(wire.datasets_chunks(WHOLE, pairs))
    return statistics_pb2.DatasetFeatureStatisticsList.FromString(data)


def share_keys(share: SliceShare) -> tuple[list[str], list[str]]:
    """The keys of the share's merged and apart groups, in order (the groups are spent)."""
    return (
        [key for keys, _, _ in share.merged for key in keys],
        [key for keys, _, _ in share.apart for key in keys],
    )


@pytest.mark.parametrize(
    ("slicing", "merged"),
    [
        (BY_KEY, True),  # the slices partition the rows: the whole merges them
        (SlicingSpec(features=("tags",), max_slices=10), False),  # too few to share
        (SlicingSpec(features=("key", "tags")), False),  # two slicings: the whole adds rows
    ],
)
def test_a_share_changes_no_slice_and_the_whole_counts_every_row(
    slicing: SlicingSpec, merged: bool
) -> None:
    # 30,000 rows of 250 keys (x 10 columns: worth sharing), over WHOLE_FROM_SLICES_ROWS a
    # slice in the first batch cut.
    table = keyed(30_000, keys=250)
    alone = datasets(sliced(table, slicing))
    accumulators = sliced(table, slicing)
    share = accumulators.share()
    if slicing.max_slices == 10:
        assert share is None
        return
    assert share is not None
    assert bool(accumulators.whole.num_examples) is not merged  # no row added twice
    together = datasets(accumulators, share)
    assert together.keys() == alone.keys()
    for key in alone.keys() - {WHOLE}:
        assert together[key] == alone[key], key
    statistics = as_list(together)
    whole = statistics.datasets[0]
    assert whole.name == WHOLE
    check_against_numpy(whole, table.drop_columns(["key", "tags"]))
    assert_close(exact_part(statistics), exact_part(as_list(alone)))  # sums: to rounding


def test_the_share_is_every_other_slice_that_has_no_accumulator_yet() -> None:
    # Three keys' first parts are large (>= RAMP_ROWS rows): their accumulators start at
    # once; the others only hold rows.
    big = 3 * (RAMP_ROWS + 500)
    table = keyed(big + 4_000, keys=250, big=big)
    accumulators = sliced(table, BY_KEY, rows=big + 4_000)
    share = accumulators.share()  # the batch cut first
    assert share is not None
    started = set(accumulators.merged) | set(accumulators.apart)
    assert started == {"key=big-0", "key=big-1", "key=big-2"}
    merged, apart = share_keys(share)
    held = sorted({f"key={key}" for key in table["key"].to_pylist()} - started)
    assert sorted(merged) == held[1::2]
    assert apart == []
    # What stays here: the others, and the started slices.
    rest = datasets(accumulators, SliceShare(StatisticsSpec(), [], []))
    assert rest.keys() == set(held[0::2]) | started | {WHOLE}


def test_too_few_held_slices_share_nothing() -> None:
    # Two columns: worth sharing from SHARE_PAIRS / 2 slices.
    enough = next(n for n in range(2, 5000) if worth_sharing(n, 2))
    few = enough - 1
    table = pa.table({"key": [f"k{i}" for i in range(few)] * 3, "x": list(range(3 * few))})
    assert sliced(table, BY_KEY).share() is None
    table = pa.table({"key": [f"k{i}" for i in range(enough)] * 3, "x": list(range(3 * enough))})
    share = sliced(table, BY_KEY).share()
    assert share is not None
    merged, apart = share_keys(share)  # 3 rows a slice: the whole adds the rows itself
    assert (len(merged), len(apart)) == (0, enough // 2)


def test_a_share_of_slices_in_two_slicings_keeps_both_parts_of_a_slice() -> None:
    # With "key" and "tags" slicings no batch is partitioned: every slice is apart, and a
    # slice of the share is finished from its rows there.
    table = keyed(6_000, keys=250)
    slicing = SlicingSpec(features=("key", "tags"))
    accumulators = sliced(table, slicing)
    share = accumulators.share()
    assert share is not None
    whole, finished = finish_share(share)
    assert whole is None  # the whole dataset merges none of them
    keys = [key for key, _ in finished]
    assert len(keys) == len(set(keys)) > 100
    assert not set(keys) & set(accumulators.apart)  # none finished here too
    both = [key for key in keys if key.startswith("tags=")]
    assert both  # slices of a row in two slices: their rows added once each
    alone = datasets(sliced(table, slicing))
    for key, dataset in finished:
        assert dataset.data == alone[key], key
