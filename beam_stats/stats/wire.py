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
from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.errors import DeserializationError, OutputError
from beam_stats.proto import sketches_pb2
from beam_stats.sketches.wirebytes import varint
from beam_stats.stats.composite import is_composite_entry
from beam_stats.stats.dataset import DatasetAccumulator
from beam_stats.stats.feature import FORMAT_VERSION, STATE_NAME, FeatureAccumulator
from beam_stats.stats.protowire import M, fields, parse, tag
from beam_stats.stats.spec import StatisticsSpec

_FEATURES = sketches_pb2.DatasetState.DESCRIPTOR.fields_by_name["features"].number
_WHAT = "accumulator state"


_FEATURE_TAG = tag(_FEATURES)


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
        parts.extend((_FEATURE_TAG, varint(len(data)), data))
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
    framed = sum(len(_FEATURE_TAG) + len(varint(n)) + n for n in sizes)
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


def _parse(msg: M, data: bytes, what: str = _WHAT) -> M:
    return parse(msg, data, what)


_DATASETS = statistics_pb2.DatasetFeatureStatisticsList.DESCRIPTOR.fields_by_name["datasets"]
_DATASET_FEATURES = statistics_pb2.DatasetFeatureStatistics.DESCRIPTOR.fields_by_name["features"]
_DATASET_TAG = tag(_DATASETS.number)
_DATASET_FEATURE_TAG = tag(_DATASET_FEATURES.number)
_DATASET_NAME = statistics_pb2.DatasetFeatureStatistics.DESCRIPTOR.fields_by_name["name"].number


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
    """The bytes of `feature`'s sketch states: its last custom statistics (a feature's
    result adds its state after its other custom statistics, and a sparse or weighted
    feature's after it), read from the end rather than every entry made an object."""
    stats, size = feature.custom_stats, 0
    for i in range(len(stats) - 1, -1, -1):
        entry = stats[i]
        if entry.name != STATE_NAME:
            break
        size += entry.ByteSize()
    return size


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
        size += sum(len(_DATASET_FEATURE_TAG) + len(varint(n)) + n for n in sizes)
        parts.append((low, high, sizes, size))
    total = sum(len(_DATASET_TAG) + len(varint(size)) + size for *_, size in parts)
    if total > limit:
        _within_limit(
            total,
            len(parts),
            max((len(d.features) for d in statistics.datasets), default=0),
            sum(_state_size(f) for d in statistics.datasets for f in d.features),
            limit,
        )
    for dataset, (low, high, sizes, size) in zip(statistics.datasets, parts, strict=True):
        chunk = [_DATASET_TAG, varint(size), low]
        buffered = 0
        for feature, n in zip(dataset.features, sizes, strict=True):
            chunk += (_DATASET_FEATURE_TAG, varint(n), feature.SerializeToString())
            buffered += n
            if buffered >= chunk_size:
                yield b"".join(chunk)
                chunk, buffered = [], 0
        chunk.append(high)
        yield b"".join(chunk)


_SPOOL_IN_MEMORY = 16 << 20  # bytes of serialized features kept in memory before a file


class _Finishing:
    """The parts of the serialized ``accumulator.result(name, include_state)``, made a
    feature at a time: `low` (the fields before ``features``), each feature framed
    (:meth:`features`, which spends the accumulator as ``result(release=True)``), then
    :meth:`high` (the fields after it, complete once every feature is made)."""

    def __init__(self, accumulator: DatasetAccumulator, name: str, include_state: bool) -> None:
        self._accumulator, self._include_state = accumulator, include_state
        self._results = accumulator.feature_results(include_state, release=True)
        header = statistics_pb2.DatasetFeatureStatistics(
            name=name, num_examples=accumulator.num_examples
        )
        if accumulator.spec.weight_feature is not None:
            header.weighted_num_examples = accumulator.weighted_num_examples
        number = _DATASET_FEATURES.number
        self.low = _only(header, lambda n: n < number).SerializeToString()
        self._high: bytes = _only(header, lambda n: n > number).SerializeToString()
        self.count = self.state = 0  # features made, and bytes of sketch state in them

    def features(self) -> Iterator[bytes]:
        for feature in self._results:
            data = feature.SerializeToString()
            self.count += 1
            self.state += _state_size(feature) if self._include_state else 0
            yield b"".join((_DATASET_FEATURE_TAG, varint(len(data)), data))

    def high(self) -> bytes:
        # The label's cross statistics are made with the features' results; their field
        # comes after every other one.
        cross: bytes = statistics_pb2.DatasetFeatureStatistics(
            cross_features=self._accumulator.cross_features
        ).SerializeToString()
        return self._high + cross


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
    finishing = _Finishing(accumulator, name, include_state)
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY) as spool:
        size = len(finishing.low)
        for framed in finishing.features():
            size += spool.write(framed)
        high = finishing.high()
        size += len(high)
        total = len(_DATASET_TAG) + len(varint(size)) + size
        _within_limit(total, 1, finishing.count, finishing.state, limit)
        spool.seek(0)
        yield b"".join((_DATASET_TAG, varint(size), finishing.low))
        while chunk := spool.read(chunk_size):
            yield chunk
    yield high


class DatasetBytes(NamedTuple):
    """One finished dataset, serialized (:func:`dataset_bytes`), and what the 2 GiB guard of
    :func:`datasets_chunks` names: its features, and the bytes of sketch state in them."""

    data: bytes
    features: int = 0
    state: int = 0


def dataset_bytes(
    accumulator: DatasetAccumulator, name: str = "", include_state: bool = True
) -> DatasetBytes:
    """``accumulator.result(name, include_state).SerializeToString()``, made a feature at
    a time (the message never exists; the accumulator is spent, as by
    ``result(release=True)``). Made without a name, the bytes take one later
    (:func:`datasets_chunks`): the name is field 1, which protobuf writes first."""
    finishing = _Finishing(accumulator, name, include_state)
    parts = [finishing.low, *finishing.features()]
    parts.append(finishing.high())
    return DatasetBytes(b"".join(parts), finishing.count, finishing.state)


def _named(name: str, dataset: DatasetBytes) -> tuple[bytes, int]:
    """The start of `dataset`'s entry in a list named `name` (the list's tag, the length and
    the name field) and the entry's whole size."""
    encoded = name.encode("utf-8")
    name_field = b"".join((tag(_DATASET_NAME), varint(len(encoded)), encoded)) if name else b""
    size = len(name_field) + len(dataset.data)
    head = b"".join((_DATASET_TAG, varint(size), name_field))
    return head, len(head) + len(dataset.data)


def datasets_in_order(
    whole: str, datasets: Iterable[tuple[str, DatasetBytes]]
) -> list[tuple[str, DatasetBytes]]:
    """The (name, dataset) pairs in the order of a statistics list: the one named `whole`
    first (empty if it is not given: a run of no data), then the others by name."""
    by_name = dict(datasets)
    names = [whole, *sorted(name for name in by_name if name != whole)]
    return [(name, by_name.get(name, DatasetBytes(b""))) for name in names]


def datasets_chunks(
    whole: str,
    datasets: Iterable[tuple[str, DatasetBytes]],
    *,
    limit: int = PROTOBUF_LIMIT,
) -> Iterator[bytes]:
    """The serialized ``DatasetFeatureStatisticsList`` of finished datasets, each
    (name, :func:`dataset_bytes` made without a name): the one named `whole` first (empty
    if it is not given), then the others by name, as :func:`statistics_chunks` writes the
    whole data and its slices. Each dataset's bytes are a chunk of their own.

    Raises:
        OutputError: the serialization would exceed `limit` (protobuf's 2 GiB), before any
            chunk is made; the message names the datasets, features and state behind it.
    """
    ordered = datasets_in_order(whole, datasets)
    heads = [_named(name, dataset) for name, dataset in ordered]
    total = sum(size for _, size in heads)
    if total > limit:
        _within_limit(
            total,
            len(ordered),
            max(dataset.features for _, dataset in ordered),
            sum(dataset.state for _, dataset in ordered),
            limit,
        )
    for (head, _), (_, dataset) in zip(heads, ordered, strict=True):
        yield head
        if dataset.data:
            yield dataset.data


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
