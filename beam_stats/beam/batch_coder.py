"""Beam coders for ``pyarrow.RecordBatch`` elements: Arrow IPC, and a size estimate that
does not encode.

Beam samples the size of the elements of every PCollection, fused or not, with the
PCollection's coder (``get_estimated_size_and_observables``). A ``RecordBatch`` typed as
``Any`` gets the pickle fallback, which copies the whole batch to count its bytes: 0.4 s
and a batch-sized copy per sampled batch of 1,000 columns x 50,000 rows (issue 16).

* :class:`RecordBatchCoder` encodes a batch as an Arrow IPC stream (its schema, then the
  batch) and estimates its size as ``batch.nbytes``, without encoding.
* :class:`BatchesOrAnyCoder` encodes any value: a batch as above, a tuple item by item,
  anything else with Beam's ``FastPrimitivesCoder``; its estimate is cheap for the batches
  inside. It is the coder of the :class:`BatchesOrAny` type hint, for PCollections that mix
  batches with other values (:class:`~beam_stats.beam._outputs.ParDoWithTaggedOutput`).

:func:`register_coders` registers both with Beam's coder registry, so that a PCollection
typed ``pa.RecordBatch`` (or ``tuple[str, pa.RecordBatch]``, ...) uses them. The transforms
that make such PCollections call it when they are applied (importing beam-stats changes
nothing in Beam). Neither is deterministic: they never encode keys.
"""

from __future__ import annotations

import struct
from typing import Any

import apache_beam as beam
import pyarrow as pa
from apache_beam.coders.typecoders import registry

__all__ = ["BatchesOrAny", "BatchesOrAnyCoder", "RecordBatchCoder", "register_coders"]

# Bytes added to ``nbytes`` in an estimate: the IPC schema and framing, roughly.
_OVERHEAD = 64
_BATCH, _TUPLE, _OTHER = b"B", b"T", b"O"
_LENGTH = struct.Struct("<Q")


def _batch_bytes(batch: pa.RecordBatch) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return bytes(sink.getvalue().to_pybytes())


def _batch_from(data: bytes | memoryview) -> pa.RecordBatch:
    with pa.ipc.open_stream(pa.py_buffer(data)) as reader:
        return reader.read_next_batch()


class RecordBatchCoder(beam.coders.Coder):
    """A ``pyarrow.RecordBatch`` as an Arrow IPC stream; its size estimate is ``nbytes``."""

    def encode(self, value: pa.RecordBatch) -> bytes:
        return _batch_bytes(value)

    def decode(self, encoded: bytes) -> pa.RecordBatch:
        return _batch_from(encoded)

    def estimate_size(self, value: pa.RecordBatch) -> int:
        return int(value.nbytes) + _OVERHEAD

    def is_deterministic(self) -> bool:
        return False

    def to_type_hint(self) -> Any:
        return pa.RecordBatch


class BatchesOrAny:
    """The type hint of elements that are record batches, tuples holding some, or anything
    else (never instantiated): its coder is :class:`BatchesOrAnyCoder`."""


class BatchesOrAnyCoder(beam.coders.Coder):
    """Any value; record batches (also inside tuples) in Arrow IPC and estimated cheaply."""

    def __init__(self) -> None:
        self._other = beam.coders.FastPrimitivesCoder()

    def encode(self, value: Any) -> bytes:
        parts: list[bytes] = []
        self._encode(value, parts)
        return b"".join(parts)

    def _encode(self, value: Any, parts: list[bytes]) -> None:
        if isinstance(value, pa.RecordBatch):
            data = _batch_bytes(value)
            parts += [_BATCH, _LENGTH.pack(len(data)), data]
        elif type(value) is tuple:
            parts += [_TUPLE, _LENGTH.pack(len(value))]
            for item in value:
                self._encode(item, parts)
        else:
            data = self._other.encode(value)
            parts += [_OTHER, _LENGTH.pack(len(data)), data]

    def decode(self, encoded: bytes) -> Any:
        value, end = self._decode(memoryview(encoded), 0)
        if end != len(encoded):
            raise ValueError(f"{len(encoded) - end} bytes left after decoding a value")
        return value

    def _decode(self, data: memoryview, at: int) -> tuple[Any, int]:
        kind = bytes(data[at : at + 1])
        (length,) = _LENGTH.unpack_from(data, at + 1)
        at += 1 + _LENGTH.size
        if kind == _TUPLE:
            items = []
            for _ in range(length):
                item, at = self._decode(data, at)
                items.append(item)
            return tuple(items), at
        chunk = data[at : at + length]
        if kind == _BATCH:
            return _batch_from(chunk), at + length
        if kind == _OTHER:
            return self._other.decode(bytes(chunk)), at + length
        raise ValueError(f"unknown element kind {kind!r}")

    def estimate_size(self, value: Any) -> int:
        if isinstance(value, pa.RecordBatch):
            return int(value.nbytes) + _OVERHEAD
        if type(value) is tuple:
            return 1 + _LENGTH.size + sum(self.estimate_size(item) for item in value)
        return 1 + _LENGTH.size + int(self._other.estimate_size(value))

    def is_deterministic(self) -> bool:
        return False

    def to_type_hint(self) -> Any:
        return BatchesOrAny

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))


def register_coders() -> None:
    """Registers :class:`RecordBatchCoder` for ``pa.RecordBatch`` and
    :class:`BatchesOrAnyCoder` for :class:`BatchesOrAny` with Beam's coder registry (again
    is harmless)."""
    registry.register_coder(pa.RecordBatch, RecordBatchCoder)
    registry.register_coder(BatchesOrAny, BatchesOrAnyCoder)
