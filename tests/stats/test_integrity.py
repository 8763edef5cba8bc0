"""Damaged sketch state is refused with a clear error, never merged silently."""

from __future__ import annotations

import google_crc32c
import numpy as np
import pyarrow as pa
import pytest
from google.protobuf import any_pb2
from google.protobuf.message import DecodeError
from hypothesis import given, settings
from hypothesis import strategies as st
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats import generate_statistics_from_table, merge_statistics
from beam_stats.errors import DeserializationError, IncompatibleMergeError
from beam_stats.proto import sketches_pb2
from beam_stats.stats.feature import STATE_NAME
from beam_stats.stats.integrity import is_intact, pack_sealed, seal

rng = np.random.default_rng(5)
TABLE = pa.table(
    {
        "x": rng.normal(size=300),
        "n": rng.integers(0, 9, 300),
        "s": rng.choice(["a", "b", "c"], 300),
    }
)
GOOD = generate_statistics_from_table(TABLE)


def state_of(
    stats: statistics_pb2.DatasetFeatureStatisticsList, i: int
) -> statistics_pb2.CustomStatistic:
    return next(c for c in stats.datasets[0].features[i].custom_stats if c.name == STATE_NAME)


@settings(max_examples=300, deadline=None)
@given(
    feature=st.integers(0, 2),
    position=st.integers(0, 10**6),
    bit=st.integers(0, 7),
)
def test_a_flipped_bit_in_the_state_is_refused(feature: int, position: int, bit: int) -> None:
    damaged = statistics_pb2.DatasetFeatureStatisticsList()
    damaged.CopyFrom(GOOD)
    custom = state_of(damaged, feature)
    data = bytearray(custom.any.value)
    data[position % len(data)] ^= 1 << bit
    custom.any.value = bytes(data)
    original, changed = sketches_pb2.StoredFeatureState(), sketches_pb2.StoredFeatureState()
    state_of(GOOD, feature).any.Unpack(original)
    try:
        custom.any.Unpack(changed)
    except DecodeError:
        changed = None
    if changed == original:
        # The flip left the meaning as it was (a bool byte 0x01 read as 0x03 is still
        # true): nothing is damaged, and the merge is the intact one.
        merged = merge_statistics(GOOD, damaged, sources=["good.pb", "s.pb"])
        assert merged == merge_statistics(GOOD, GOOD)
        return
    with pytest.raises((DeserializationError, IncompatibleMergeError), match="s.pb"):
        merge_statistics(GOOD, damaged, sources=["good.pb", "s.pb"])


def test_intact_state_merges_and_a_missing_checksum_is_refused() -> None:
    merged = merge_statistics(GOOD, GOOD)
    assert merged.datasets[0].num_examples == 2 * TABLE.num_rows
    unsealed = statistics_pb2.DatasetFeatureStatisticsList()
    unsealed.CopyFrom(GOOD)
    custom = state_of(unsealed, 0)
    stored = sketches_pb2.StoredFeatureState()
    custom.any.Unpack(stored)
    assert stored.HasField("checksum")
    stored.ClearField("checksum")
    custom.any.Pack(stored)
    with pytest.raises(DeserializationError, match=r"x.pb.*'x'.*damaged \(checksum missing\)"):
        merge_statistics(unsealed, sources=["x.pb"])


def test_the_checksum_is_the_crc32c_of_the_state_without_it() -> None:
    """Computed independently (google_crc32c on the serialization without the field), for
    a state sealed once and for one sealed again after a change (a stale checksum)."""
    stored = sketches_pb2.StoredFeatureState()
    assert state_of(GOOD, 0).any.Unpack(stored)
    assert stored.HasField("checksum")
    stored.ClearField("checksum")
    expected = google_crc32c.value(stored.SerializeToString(deterministic=True))
    assert seal(stored).checksum == expected and is_intact(stored)
    stored.state.common.num_non_missing += 1  # now the checksum is stale
    assert not is_intact(stored)
    unsealed = sketches_pb2.StoredFeatureState()
    unsealed.CopyFrom(stored)
    unsealed.ClearField("checksum")
    changed = google_crc32c.value(unsealed.SerializeToString(deterministic=True))
    assert changed != expected and seal(stored).checksum == changed and is_intact(stored)


@pytest.mark.parametrize("feature", [0, 1, 2])
def test_pack_sealed_is_the_packed_sealed_message(feature: int) -> None:
    """The stored state written from its parts is, byte for byte, the sealed message
    packed (what the state was written as before), and it is intact."""
    stored = sketches_pb2.StoredFeatureState()
    state_of(GOOD, feature).any.Unpack(stored)
    head = sketches_pb2.StoredFeatureState(
        format_version=stored.format_version, settings=stored.settings, options=stored.options
    )
    whole = sketches_pb2.StoredFeatureState()
    whole.CopyFrom(head)
    whole.state.CopyFrom(stored.state)
    expected, packed = any_pb2.Any(), any_pb2.Any()
    expected.Pack(seal(whole), deterministic=True)
    pack_sealed(packed, head, stored.state)
    assert packed.type_url == expected.type_url
    assert packed.value == expected.value
    unpacked = sketches_pb2.StoredFeatureState()
    assert packed.Unpack(unpacked) and is_intact(unpacked)
    # An empty head and an empty state: the fields still written, as the message writes them.
    empty = any_pb2.Any()
    pack_sealed(empty, sketches_pb2.StoredFeatureState(), sketches_pb2.FeatureState())
    message = sketches_pb2.StoredFeatureState(state=sketches_pb2.FeatureState())
    assert empty.value == seal(message).SerializeToString(deterministic=True)
