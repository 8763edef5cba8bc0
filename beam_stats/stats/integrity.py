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
from google.protobuf import any_pb2

from beam_stats.proto import sketches_pb2
from beam_stats.sketches.wirebytes import varint


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


_CHECKSUM_TAG = b"\x35"  # field 6, fixed32
_STATE_TAG = b"\x22"  # field 4, length-delimited
_TYPE_URL = "type.googleapis.com/" + sketches_pb2.StoredFeatureState.DESCRIPTOR.full_name


def pack_sealed(
    into: any_pb2.Any,
    head: sketches_pb2.StoredFeatureState | bytes,
    state: sketches_pb2.FeatureState,
) -> None:
    """``into.Pack(seal(stored), deterministic=True)`` of `head` with `state` as its state,
    the state serialized once and never copied into `head` (``head`` holds fields below
    the state's only: format version, settings, options; or is their deterministic bytes,
    e.g. :meth:`~beam_stats.stats.spec.StatisticsSpec.stored_head`).

    The sealed message's bytes are its fields in number order, so they are `head`'s, the
    state's field, then the checksum of those bytes."""
    state_bytes = state.SerializeToString(deterministic=True)
    if not isinstance(head, bytes):
        head = head.SerializeToString(deterministic=True)
    unsealed = b"".join(
        (
            head,
            _STATE_TAG,
            varint(len(state_bytes)),
            state_bytes,
        )
    )
    checksum = int(google_crc32c.value(unsealed))
    into.type_url = _TYPE_URL
    into.value = unsealed + _CHECKSUM_TAG + checksum.to_bytes(4, "little")


def is_intact(stored: sketches_pb2.StoredFeatureState) -> bool:
    """Whether `stored` carries a checksum and it matches its content."""
    return stored.HasField("checksum") and stored.checksum == _crc(stored)
