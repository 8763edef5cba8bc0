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

import tempfile
from collections.abc import Callable, Iterator
from typing import NamedTuple, TypeVar

from google.protobuf.message import Message
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.errors import DeserializationError, OutputError
from beam_stats.proto import sketches_pb2
from beam_stats.stats.composite import is_composite_entry
from beam_stats.stats.dataset import DatasetAccumulator
from beam_stats.stats.feature import FORMAT_VERSION, STATE_NAME, FeatureAccumulator
from beam_stats.stats.spec import StatisticsSpec

_FEATURES = sketches_pb2.DatasetState.DESCRIPTOR.fields_by_name["features"].number
_LENGTH_DELIMITED = 2
_WHAT = "accumulator state"


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
            raise DeserializationError(f"corrupt {_WHAT}: bad varint at byte {pos}")
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
        tag, value = _read_varint(data, pos)
        wire_type = tag & 7
        if wire_type == 0:
            end = _read_varint(data, value)[1]
        elif wire_type == 1:
            end = value + 8
        elif wire_type == _LENGTH_DELIMITED:
            length, value = _read_varint(data, value)
            end = value + length
        elif wire_type == 5:
            end = value + 4
        else:
            raise DeserializationError(f"corrupt {what}: wire type {wire_type} at byte {pos}")
        if end > len(data) or tag >> 3 == 0:
            raise DeserializationError(f"corrupt {what}: truncated at byte {pos}")
        yield Field(tag >> 3, pos, value, end, wire_type == _LENGTH_DELIMITED)
        pos = end


def _header(accumulator: DatasetAccumulator) -> sketches_pb2.DatasetState:
    return sketches_pb2.DatasetState(
        format_version=FORMAT_VERSION,
        num_examples=accumulator.num_examples,
        weighted_num_examples=accumulator.weighted_num_examples,
        settings=accumulator.spec.settings(),
        composites=[composite.to_proto() for composite in accumulator.composites],
    )


def to_bytes(accumulator: DatasetAccumulator) -> bytes:
    """The serialized ``DatasetState`` of `accumulator`, one feature at a time."""
    parts = [_header(accumulator).SerializeToString()]
    for feature in accumulator.ordered_features():
        data = feature.to_proto().SerializeToString()
        parts.extend((_FEATURE_TAG, _varint(len(data)), data))
    return b"".join(parts)


def estimated_size(accumulator: DatasetAccumulator, sample: int = 16) -> int:
    """About ``len(to_bytes(accumulator))``, from at most `sample` features (evenly spread
    over them, scaled to all): exact with at most `sample` features. Beam samples the sizes
    of accumulators for its metrics; encoding 1,000 features for that took 0.8 s."""
    features = accumulator.ordered_features()
    size = _header(accumulator).ByteSize()
    if not features:
        return size
    # Spread from first to last (not a fixed step, which can fall on one kind of column).
    last = len(features) - 1
    count = min(sample, len(features))
    chosen = [features[(i * last) // max(1, count - 1)] for i in range(count)]
    sizes = [feature.to_proto().ByteSize() for feature in chosen]
    framed = sum(len(_FEATURE_TAG) + len(_varint(n)) + n for n in sizes)
    return size + round(framed * len(features) / len(chosen))


def from_bytes(data: bytes, spec: StatisticsSpec) -> DatasetAccumulator:
    """The accumulator of a serialized ``DatasetState``, one feature at a time.

    Raises:
        DeserializationError: the bytes are not a DatasetState.
        IncompatibleMergeError: the state was made with other sketch settings than `spec`.
    """
    view = memoryview(data)
    rest: list[bytes] = []  # every field but the features
    features: list[FeatureAccumulator] = []
    for field in fields(view, _WHAT):
        if field.number == _FEATURES and field.length_delimited:
            msg = _parse(sketches_pb2.FeatureState(), bytes(view[field.value : field.end]))
            features.append(FeatureAccumulator.from_proto(msg, spec))
        else:
            rest.append(bytes(view[field.start : field.end]))
    header = _parse(sketches_pb2.DatasetState(), b"".join(rest))
    accumulator = DatasetAccumulator.from_proto(header, spec)
    for feature in features:
        accumulator.features[feature.path] = feature
    return accumulator


M = TypeVar("M", bound=Message)


def _parse(msg: M, data: bytes, what: str = _WHAT) -> M:
    try:
        msg.ParseFromString(data)
    except Exception as e:  # protobuf raises its own DecodeError
        raise DeserializationError(f"corrupt {what}: {e}") from e
    return msg


_DATASETS = statistics_pb2.DatasetFeatureStatisticsList.DESCRIPTOR.fields_by_name["datasets"]
_DATASET_FEATURES = statistics_pb2.DatasetFeatureStatistics.DESCRIPTOR.fields_by_name["features"]
_DATASET_TAG = _varint(_DATASETS.number << 3 | _LENGTH_DELIMITED)
_DATASET_FEATURE_TAG = _varint(_DATASET_FEATURES.number << 3 | _LENGTH_DELIMITED)


def _only(
    dataset: statistics_pb2.DatasetFeatureStatistics, keep: Callable[[int], bool]
) -> statistics_pb2.DatasetFeatureStatistics:
    """A copy of `dataset` with only the fields whose number `keep` accepts."""
    out = statistics_pb2.DatasetFeatureStatistics()
    for descriptor, value in dataset.ListFields():
        if not keep(descriptor.number):
            continue
        if descriptor.is_repeated:
            getattr(out, descriptor.name).extend(value)
        elif descriptor.message_type is not None:
            getattr(out, descriptor.name).CopyFrom(value)
        else:
            setattr(out, descriptor.name, value)
    return out


#: The largest message protobuf parses (2 GiB - 1 bytes): a longer statistics file could be
#: written, but no reader could read it back.
PROTOBUF_LIMIT = (1 << 31) - 1


def _within_limit(size: int, datasets: int, features: int, state: int, limit: int) -> None:
    """Refuses a statistics file of `size` bytes over `limit`, naming the cause."""
    if size <= limit:
        return
    share = f"; the sketch state is {100 * state / size:.0f}% of it" if state else ""
    remedies = [
        *(["fewer slices (--max-slices, a coarser --slice)"] if datasets > 1 else []),
        "fewer features",
        *(["no sketch state (--no-sketch-state)"] if state else []),
    ]
    raise OutputError(
        f"the statistics would be {size:,} bytes, over protobuf's limit of {limit:,} bytes "
        f"for one message (no reader could parse them): {datasets:,} "
        f"{'dataset' if datasets == 1 else 'datasets (the whole data and its slices)'} x "
        f"{features:,} features{share}; compute {', '.join(remedies[:-1])} or {remedies[-1]}"
    )


def _state_size(feature: statistics_pb2.FeatureNameStatistics) -> int:
    return sum(c.ByteSize() for c in feature.custom_stats if c.name == STATE_NAME)


def statistics_chunks(
    statistics: statistics_pb2.DatasetFeatureStatisticsList,
    chunk_size: int = 1 << 20,
    *,
    limit: int = PROTOBUF_LIMIT,
) -> Iterator[bytes]:
    """``statistics.SerializeToString()`` in chunks of about `chunk_size` bytes, serialized a
    feature at a time: the whole serialization (and protobuf's copy of it) never exists.

    The bytes are the same: a message's known fields are written in field-number order, so
    a dataset is its fields numbered below ``features``, each feature, then the others.

    Raises:
        OutputError: the serialization would exceed `limit` (protobuf's 2 GiB), before any
            chunk is made; the message names the datasets (slices) and features behind it.
    """
    number = _DATASET_FEATURES.number
    parts = []
    for dataset in statistics.datasets:
        low = _only(dataset, lambda n: n < number).SerializeToString()
        high = _only(dataset, lambda n: n > number).SerializeToString()
        sizes = [feature.ByteSize() for feature in dataset.features]
        size = len(low) + len(high)
        size += sum(len(_DATASET_FEATURE_TAG) + len(_varint(n)) + n for n in sizes)
        parts.append((low, high, sizes, size))
    total = sum(len(_DATASET_TAG) + len(_varint(size)) + size for *_, size in parts)
    if total > limit:
        _within_limit(
            total,
            len(parts),
            max((len(d.features) for d in statistics.datasets), default=0),
            sum(_state_size(f) for d in statistics.datasets for f in d.features),
            limit,
        )
    for dataset, (low, high, sizes, size) in zip(statistics.datasets, parts, strict=True):
        chunk = [_DATASET_TAG, _varint(size), low]
        buffered = 0
        for feature, n in zip(dataset.features, sizes, strict=True):
            chunk += (_DATASET_FEATURE_TAG, _varint(n), feature.SerializeToString())
            buffered += n
            if buffered >= chunk_size:
                yield b"".join(chunk)
                chunk, buffered = [], 0
        chunk.append(high)
        yield b"".join(chunk)


_SPOOL_IN_MEMORY = 16 << 20  # bytes of serialized features kept in memory before a file


def result_chunks(
    accumulator: DatasetAccumulator,
    name: str = "",
    include_state: bool = True,
    chunk_size: int = 1 << 20,
    *,
    limit: int = PROTOBUF_LIMIT,
) -> Iterator[bytes]:
    """The bytes :func:`statistics_chunks` makes of a list of the one dataset
    ``accumulator.result(name, include_state)``, without that message ever existing: each
    feature's statistics are made, serialized to a temporary file and dropped, with its
    accumulator (which is spent, as by ``result(release=True)``). The dataset's length,
    written before its features, is known once they all are; then the file is copied. The
    first 16 MB stay in memory (most outputs), so a small output needs no temporary file.

    Raises:
        OutputError: the file would exceed `limit` (protobuf's 2 GiB), before any chunk is
            made (as :func:`statistics_chunks`).
    """
    features = accumulator.feature_results(include_state, release=True)
    header = statistics_pb2.DatasetFeatureStatistics(
        name=name, num_examples=accumulator.num_examples
    )
    if accumulator.spec.weight_feature is not None:
        header.weighted_num_examples = accumulator.weighted_num_examples
    number = _DATASET_FEATURES.number
    low = _only(header, lambda n: n < number).SerializeToString()
    high = _only(header, lambda n: n > number).SerializeToString()
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY) as spool:
        size = len(low) + len(high)
        count = state = 0
        for feature in features:
            data = feature.SerializeToString()
            size += spool.write(b"".join((_DATASET_FEATURE_TAG, _varint(len(data)), data)))
            count += 1
            state += _state_size(feature) if include_state else 0
        # Made with the features' results; their field comes after every other one.
        cross = statistics_pb2.DatasetFeatureStatistics(
            cross_features=accumulator.cross_features
        ).SerializeToString()
        size += len(cross)
        total = len(_DATASET_TAG) + len(_varint(size)) + size
        _within_limit(total, 1, count, state, limit)
        spool.seek(0)
        yield b"".join((_DATASET_TAG, _varint(size), low))
        while chunk := spool.read(chunk_size):
            yield chunk
    yield high + cross


class Summary(NamedTuple):
    """What the first dataset of a statistics file holds, and how many datasets it has."""

    num_datasets: int
    num_examples: int
    num_features: int  # columns' statistics, without sparse and weighted features'
    num_composites: int  # sparse and weighted features'


def summary(data: bytes) -> Summary:
    """The :class:`Summary` of a binary ``DatasetFeatureStatisticsList``, reading one feature
    at a time (parsing the whole list would hold every feature's message at once).

    Raises:
        DeserializationError: `data` is not such a list, or holds no dataset.
    """
    view = memoryview(data)
    what = "statistics"
    datasets = [f for f in fields(view, what) if f.number == _DATASETS.number]
    if not datasets or not datasets[0].length_delimited:
        raise DeserializationError("the statistics hold no dataset")
    first = view[datasets[0].value : datasets[0].end]
    rest: list[bytes] = []
    features = composites = 0
    for field in fields(first, what):
        if field.number == _DATASET_FEATURES.number and field.length_delimited:
            feature = statistics_pb2.FeatureNameStatistics()
            _parse(feature, bytes(first[field.value : field.end]), what)
            composite = is_composite_entry(feature)
            composites += composite
            features += not composite
        else:
            rest.append(bytes(first[field.start : field.end]))
    header = _parse(statistics_pb2.DatasetFeatureStatistics(), b"".join(rest), what)
    return Summary(len(datasets), header.num_examples, features, composites)
