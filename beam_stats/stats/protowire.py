"""Protobuf's wire format by hand: varints, tags and the top-level fields of serialized bytes.

A message is its fields in any order, each ``tag, value``; a length-delimited field (a string,
bytes or a message) is ``tag, length, payload``, and a repeated message field is one such
field per element. So serialized messages can be cut into fields without parsing them, and
built from parts serialized one at a time (:mod:`beam_stats.stats.wire`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple, TypeVar

from google.protobuf.message import Message

from beam_stats.errors import DeserializationError
from beam_stats.sketches.wirebytes import varint

LENGTH_DELIMITED = 2


def tag(number: int) -> bytes:
    """The tag of the length-delimited field `number`."""
    return varint(number << 3 | LENGTH_DELIMITED)


def framed(number: int, payload: bytes) -> bytes:
    """The length-delimited field `number` holding `payload`: ``tag, length, payload``."""
    return b"".join((tag(number), varint(len(payload)), payload))


def read_varint(data: memoryview, pos: int, what: str = "data") -> tuple[int, int]:
    """The varint at `pos` and the position after it."""
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise DeserializationError(f"corrupt {what}: bad varint at byte {pos}")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


class Field(NamedTuple):
    """One top-level field of serialized bytes: its number, and where it and its value are
    (for a length-delimited field the value is the payload, without its length)."""

    number: int
    start: int
    value: int
    end: int
    length_delimited: bool


def fields(data: memoryview, what: str = "data") -> Iterator[Field]:
    """The top-level fields of a serialized message, in the order they are written.

    Raises:
        DeserializationError: the bytes are not a protobuf message (`what` names them).
    """
    pos = 0
    while pos < len(data):
        number, value = read_varint(data, pos, what)
        wire_type = number & 7
        if wire_type == 0:
            end = read_varint(data, value, what)[1]
        elif wire_type == 1:
            end = value + 8
        elif wire_type == LENGTH_DELIMITED:
            length, value = read_varint(data, value, what)
            end = value + length
        elif wire_type == 5:
            end = value + 4
        else:
            raise DeserializationError(f"corrupt {what}: wire type {wire_type} at byte {pos}")
        if end > len(data) or number >> 3 == 0:
            raise DeserializationError(f"corrupt {what}: truncated at byte {pos}")
        yield Field(number >> 3, pos, value, end, wire_type == LENGTH_DELIMITED)
        pos = end


M = TypeVar("M", bound=Message)


def parse(msg: M, data: bytes, what: str) -> M:
    """`msg` parsed from `data`.

    Raises:
        DeserializationError: `data` is not such a message (`what` names it).
    """
    try:
        msg.ParseFromString(data)
    except Exception as e:  # protobuf raises its own DecodeError
        raise DeserializationError(f"corrupt {what}: {e}") from e
    return msg
