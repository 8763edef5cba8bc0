"""A DatasetAccumulator as the bytes of its DatasetState, written and read one feature at a time.

What travels between Beam stages (:mod:`beam_stats.beam.combine`) is a serialized
``DatasetState``. Building the whole message first would hold the accumulator, the message
and its bytes at once, and reading it back the bytes, the message and the new accumulator:
with 100,000 sparse features the messages alone are hundreds of MB. Here each
``FeatureState`` is serialized (or parsed) on its own, so only one feature's message exists
at a time.

Protobuf's wire format makes this exact: a message is its fields in any order, and a
repeated message field is the concatenation of ``tag, length, bytes`` of each element. So
:func:`to_bytes` writes the other fields of the ``DatasetState`` (as ``to_proto`` would,
with no features) followed by one ``features`` entry per feature, which any protobuf reader
parses to a message equal to ``DatasetAccumulator.to_proto()``; and :func:`from_bytes` walks
the top-level fields, rebuilding each feature from its slice of the bytes and parsing the rest
as a ``DatasetState`` without features, so it also reads bytes any writer made.
"""

from __future__ import annotations

from typing import TypeVar

from beam_stats.errors import DeserializationError
from beam_stats.proto import sketches_pb2
from beam_stats.stats.feature import FORMAT_VERSION, DatasetAccumulator, FeatureAccumulator
from beam_stats.stats.spec import StatisticsSpec

_FEATURES = sketches_pb2.DatasetState.DESCRIPTOR.fields_by_name["features"].number
_LENGTH_DELIMITED = 2


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


_FEATURE_TAG = _varint(_FEATURES << 3 | _LENGTH_DELIMITED)


def _read_varint(data: memoryview, pos: int) -> tuple[int, int]:
    """The varint at `pos` and the position after it."""
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise DeserializationError(f"corrupt accumulator state: bad varint at byte {pos}")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _skip(data: memoryview, pos: int, wire_type: int) -> int:
    """The position after a field's value of `wire_type` starting at `pos`."""
    if wire_type == 0:
        return _read_varint(data, pos)[1]
    if wire_type == 1:
        end = pos + 8
    elif wire_type == _LENGTH_DELIMITED:
        length, pos = _read_varint(data, pos)
        end = pos + length
    elif wire_type == 5:
        end = pos + 4
    else:
        raise DeserializationError(f"corrupt accumulator state: wire type {wire_type}")
    if end > len(data):
        raise DeserializationError(f"corrupt accumulator state: truncated at byte {pos}")
    return end


def to_bytes(accumulator: DatasetAccumulator) -> bytes:
    """The serialized ``DatasetState`` of `accumulator`, one feature at a time."""
    header = sketches_pb2.DatasetState(
        format_version=FORMAT_VERSION,
        num_examples=accumulator.num_examples,
        weighted_num_examples=accumulator.weighted_num_examples,
        settings=accumulator.spec.settings(),
        composites=[composite.to_proto() for composite in accumulator.composites],
    )
    parts = [header.SerializeToString()]
    for feature in accumulator.ordered_features():
        data = feature.to_proto().SerializeToString()
        parts.extend((_FEATURE_TAG, _varint(len(data)), data))
    return b"".join(parts)


def from_bytes(data: bytes, spec: StatisticsSpec) -> DatasetAccumulator:
    """The accumulator of a serialized ``DatasetState``, one feature at a time.

    Raises:
        DeserializationError: the bytes are not a DatasetState.
        IncompatibleMergeError: the state was made with other sketch settings than `spec`.
    """
    view = memoryview(data)
    rest: list[bytes] = []  # every field but the features
    features: list[FeatureAccumulator] = []
    pos = 0
    while pos < len(view):
        tag, start = _read_varint(view, pos)
        if tag >> 3 == _FEATURES and tag & 7 == _LENGTH_DELIMITED:
            length, begin = _read_varint(view, start)
            pos = begin + length
            if pos > len(view):
                raise DeserializationError(f"corrupt accumulator state: truncated at byte {begin}")
            msg = _parse(sketches_pb2.FeatureState(), bytes(view[begin:pos]))
            features.append(FeatureAccumulator.from_proto(msg, spec))
        else:
            end = _skip(view, start, tag & 7)
            rest.append(bytes(view[pos:end]))
            pos = end
    header = _parse(sketches_pb2.DatasetState(), b"".join(rest))
    accumulator = DatasetAccumulator.from_proto(header, spec)
    for feature in features:
        accumulator.features[feature.path] = feature
    return accumulator


M = TypeVar("M", sketches_pb2.FeatureState, sketches_pb2.DatasetState)


def _parse(msg: M, data: bytes) -> M:
    try:
        msg.ParseFromString(data)
    except Exception as e:  # protobuf raises its own DecodeError
        raise DeserializationError(f"corrupt accumulator state: {e}") from e
    return msg
