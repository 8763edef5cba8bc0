"""Statistics files whose protected distinct counts hold every register (format 2, written
before issue 16) merge with files holding sparse registers (format 4), in either order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
from make_testdata import DENSE_POLICY, dense_registers_table
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats import StatisticsSpec, generate_statistics_from_table, merge_statistics
from beam_stats.beam.artifacts import load_statistics
from beam_stats.proto import sketches_pb2
from beam_stats.sketches import DistinctCountAccumulator, hash_array
from beam_stats.stats.feature import FORMAT_VERSION, STATE_NAME

FIXTURE = Path(__file__).parent.parent / "testdata" / "stats_dense_registers_v2.pb"
PROTECTED = ("country", "city")


def _states(
    stats: statistics_pb2.DatasetFeatureStatisticsList,
) -> dict[str, sketches_pb2.StoredFeatureState]:
    found = {}
    for feature in stats.datasets[0].features:
        custom = next(c for c in feature.custom_stats if c.name == STATE_NAME)
        stored = sketches_pb2.StoredFeatureState()
        assert custom.any.Unpack(stored)
        found[feature.path.step[0]] = stored
    return found


def _unique(stats: statistics_pb2.DatasetFeatureStatisticsList) -> dict[str, int]:
    return {f.path.step[0]: f.string_stats.unique for f in stats.datasets[0].features}


def _new(table: pa.Table) -> statistics_pb2.DatasetFeatureStatisticsList:
    return generate_statistics_from_table(table, StatisticsSpec(privacy=DENSE_POLICY), name="old")


def test_fixture_holds_dense_registers_and_new_files_sparse_ones() -> None:
    old = _states(load_statistics(str(FIXTURE)))
    new = _states(_new(dense_registers_table(offset=100)))
    for name in PROTECTED:
        assert old[name].format_version == FORMAT_VERSION
        assert len(old[name].state.string.distinct.registers) == 2**14
        assert new[name].format_version == 4
        distinct = new[name].state.string.distinct
        assert not distinct.registers and not distinct.hashes
        assert 0 < len(distinct.sparse_registers) <= 4 * 60  # at most one per value
        assert new[name].ByteSize() < 1024 < 16_384 < old[name].ByteSize()
    for name in ("plan", "ids"):  # not protected: exact hashes, format 2, as before
        assert new[name].format_version == FORMAT_VERSION
        assert new[name].state.string.distinct.hashes


def test_old_dense_and_new_sparse_files_merge_in_either_order() -> None:
    old = load_statistics(str(FIXTURE))
    new = _new(dense_registers_table(offset=100))
    union = pa.concat_tables([dense_registers_table(), dense_registers_table(offset=100)])
    single = _new(union)
    old_first = merge_statistics(old, new, sources=["old.pb", "new.pb"])
    new_first = merge_statistics(new, old, sources=["new.pb", "old.pb"])
    assert _unique(old_first) == _unique(new_first) == _unique(single)
    assert _unique(single)["ids"] == 500  # exact: 400 ids, 100 of them in both
    merged, reversed_, expected = _states(old_first), _states(new_first), _states(single)
    for name in ("country", "city", "plan", "ids"):
        got = merged[name].state.string.distinct
        assert got == reversed_[name].state.string.distinct
        assert DistinctCountAccumulator.from_proto(got) == DistinctCountAccumulator.from_proto(
            expected[name].state.string.distinct
        )
    for name in PROTECTED:  # written sparse again, whatever the inputs held
        assert merged[name].format_version == 4
        assert merged[name].state.string.distinct.sparse_registers
        assert not merged[name].state.string.distinct.hashes


def test_protected_outputs_hold_no_value_hash() -> None:
    table = pa.concat_tables([dense_registers_table(), dense_registers_table(offset=100)])
    outputs = [
        _new(table).SerializeToString(),
        merge_statistics(load_statistics(str(FIXTURE)), _new(table)).SerializeToString(),
    ]
    for name in PROTECTED:
        values = pa.array(sorted(set(table.column(name).to_pylist())))
        hashes = np.unique(hash_array(values)).astype("<u8")
        assert hashes.size == len(values)
        for data in outputs:
            assert [h for h in hashes if h.tobytes() in data] == []
    # the unprotected feature's hashes are there: the search can find them
    plan = np.unique(hash_array(table.column("plan").combine_chunks())).astype("<u8")
    assert all(h.tobytes() in outputs[0] for h in plan)
