"""A checksum on stored sketch state, so that damaged state is refused instead of merged.

A statistics file can be damaged in storage or transit (a flipped bit, a bad copy) and still
parse: protobuf accepts most changed bytes as other values. Every ``StoredFeatureState`` is
sealed with the CRC-32C of its deterministic serialization (the checksum field left out) when
it is written, and checked when it is read (:mod:`beam_stats.stats.stored`). CRC-32C detects
every burst of up to 32 changed bits and all but one in 2**32 other changes of that
serialization. The check is over what the bytes *mean* (they are parsed, then serialized
again): a change that parses to the same content, such as a bool's byte ``0x01`` read as
``0x03`` (still true), is not damage and passes.
"""

from __future__ import annotations

import google_crc32c

from beam_stats.proto import sketches_pb2


def _crc(stored: sketches_pb2.StoredFeatureState) -> int:
    unsealed = stored
    if stored.HasField("checksum"):  # else the message is its own unsealed form: no copy
        unsealed = sketches_pb2.StoredFeatureState()
        unsealed.CopyFrom(stored)
        unsealed.ClearField("checksum")
    return int(google_crc32c.value(unsealed.SerializeToString(deterministic=True)))


def seal(stored: sketches_pb2.StoredFeatureState) -> sketches_pb2.StoredFeatureState:
    """Sets `stored`'s checksum (in place) and returns it."""
    stored.checksum = _crc(stored)
    return stored


def is_intact(stored: sketches_pb2.StoredFeatureState) -> bool:
    """Whether `stored` carries a checksum and it matches its content."""
    return stored.HasField("checksum") and stored.checksum == _crc(stored)
