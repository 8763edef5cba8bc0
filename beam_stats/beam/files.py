"""Reading and writing statistics files on any Beam file system.

Written as one binary or text ``DatasetFeatureStatisticsList``. Read also in the TFRecord form
that TFDV and TFX write (``tfdv.generate_statistics_from_tfrecord(output_path=...)``, TFX's
``stats_tfrecord``, sharded statistics): a TFRecord file of serialized
``DatasetFeatureStatisticsList`` records, recognised by its checksummed framing whatever the
file is called. Several records are shards of one list: datasets of the same name are joined
(each feature in one shard only), others appended.
"""

from __future__ import annotations

import io
import struct
from typing import TypeVar

from apache_beam.io.filesystems import FileSystems
from google.protobuf import descriptor_pool, message, text_format
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.beam import tfrecord
from beam_stats.beam.writing import write_file
from beam_stats.errors import DeserializationError, InvalidInputError
from beam_stats.stats import wire
from beam_stats.stats.composite import is_composite_entry

_TEXT_SUFFIXES = (".pbtxt", ".textproto", ".txt")


def write_statistics(
    statistics: statistics_pb2.DatasetFeatureStatisticsList, path: str, text: bool | None = None
) -> str:
    """Writes `statistics` to `path` and returns the path.

    Args:
        statistics: the message to write.
        path: destination; its parent folder is created when missing. Written atomically
            (:func:`beam_stats.beam.writing.write_file`).
        text: text format; by default chosen by the suffix (.pbtxt, .textproto, .txt).

    Raises:
        OutputError: `path` cannot be written.
    """
    if text is None:
        text = path.endswith(_TEXT_SUFFIXES)
    # Text: the sketch state (CustomStatistic.any) stays packed, not expanded with our
    # descriptors, so that readers without beam-stats' protos can parse the file.
    data = (
        text_format.MessageToString(
            statistics, descriptor_pool=descriptor_pool.DescriptorPool()
        ).encode("utf-8")
        if text
        else wire.statistics_chunks(statistics)  # SerializeToString's bytes, a bit at a time
    )
    return write_file(path, data)


def summarize_statistics(path: str) -> wire.Summary:
    """How many datasets, examples and features a statistics file holds, read without
    holding every feature's statistics at once when the file is binary.

    Raises:
        InvalidInputError: the file does not exist, or is a directory or unreadable.
        DeserializationError: the file is not a statistics list; the message names it.
    """
    data = read_file(path, "statistics")
    if path.endswith(_TEXT_SUFFIXES) or _is_tfrecord(data):
        statistics = load_statistics(path)
        features = statistics.datasets[0].features
        composites = sum(is_composite_entry(f) for f in features)
        return wire.Summary(
            len(statistics.datasets),
            statistics.datasets[0].num_examples,
            len(features) - composites,
            composites,
        )
    try:
        return wire.summary(data)
    except DeserializationError as e:
        raise DeserializationError(f"{path}: {e}") from e


def load_statistics(path: str) -> statistics_pb2.DatasetFeatureStatisticsList:
    """Loads a statistics file: binary, text, or TFRecord (as TFDV and TFX write it).

    A file is statistics only if it holds at least one dataset, and not only datasets
    with nothing in them but a name that is not text: that is what other protobuf data
    (a TFRecord of ``tf.Example``, say) parses into.

    Raises:
        InvalidInputError: the file does not exist, or is a directory or unreadable.
        DeserializationError: the file is none of those forms of a statistics list, or a
            corrupt one; the message names the file.
    """
    data = read_file(path, "statistics")
    if not path.endswith(_TEXT_SUFFIXES) and _is_tfrecord(data):
        statistics = _parse_tfrecord(data, path)
    else:
        statistics = _parse(data, path, statistics_pb2.DatasetFeatureStatisticsList())
    _check_statistics(statistics, data, path)
    return statistics


def _check_statistics(
    statistics: statistics_pb2.DatasetFeatureStatisticsList, data: bytes, path: str
) -> None:
    if not statistics.datasets:
        raise DeserializationError(f"{path} holds no dataset: it is not a statistics file")
    if all(_not_a_dataset(d) for d in statistics.datasets):
        hint = (
            ": it is a TFRecord of tf.Example (data: compute its statistics with "
            "`beam-stats stats`)"
            if _holds_examples(data)
            else ""
        )
        raise DeserializationError(f"{path} is not a statistics file{hint}")


def _not_a_dataset(dataset: statistics_pb2.DatasetFeatureStatistics) -> bool:
    empty = statistics_pb2.DatasetFeatureStatistics(name=dataset.name)
    return dataset == empty and not dataset.name.isprintable()


def _holds_examples(data: bytes) -> bool:
    from beam_stats.proto import example_pb2

    if not _is_tfrecord(data):
        return False
    first = next(tfrecord.read_records(io.BytesIO(data)), None)
    if not isinstance(first, bytes):
        return False
    example = example_pb2.Example()
    try:
        example.ParseFromString(first)
    except message.DecodeError:
        return False
    return len(example.features.feature) > 0


M = TypeVar("M", bound=message.Message)


def load_message(path: str, msg: M, what: str) -> M:
    """Loads `msg` (e.g. an empty ``Anomalies``) from a binary or text file on any file system.

    Text is read when the suffix says so (.pbtxt, .textproto, .txt) or the data is not
    binary; binary data with fields the message does not have is refused.

    Raises:
        InvalidInputError: the file does not exist.
        DeserializationError: the file holds no such message; the error names the file.
    """
    return _parse(read_file(path, what), path, msg)


def read_file(path: str, what: str) -> bytes:
    """The bytes of a non-empty `what` (e.g. "schema") file on any Beam file system.

    Raises:
        InvalidInputError: no such file, a directory, unreadable.
        DeserializationError: the file is empty.
    """
    if not FileSystems.exists(path):
        raise InvalidInputError(f"no {what} file at {path}")
    try:
        with FileSystems.open(path) as f:
            data: bytes = f.read()
    except IsADirectoryError as e:
        raise InvalidInputError(f"{path} is a directory, not a {what} file") from e
    except OSError as e:
        raise InvalidInputError(f"cannot read the {what} file {path}: {e.strerror or e}") from e
    if not data:
        raise DeserializationError(f"{path} is empty, not a {what} file")
    return data


def _parse(data: bytes, path: str, msg: M) -> M:
    if not path.endswith(_TEXT_SUFFIXES):
        try:
            msg.ParseFromString(data)
        except (message.DecodeError, RecursionError):
            msg.Clear()  # a failed parse can leave fields behind; text does not clear them
        else:
            _reject_unknown_fields(msg, path)
            return msg
    try:
        return text_format.Parse(data.decode("utf-8"), msg)
    except (text_format.ParseError, UnicodeDecodeError) as e:
        name = msg.DESCRIPTOR.name
        raise DeserializationError(f"{path} is not a {name} (binary or text): {e}") from e
    except RecursionError as e:  # the text parser recurses once per nested message
        name = msg.DESCRIPTOR.name
        raise DeserializationError(f"{path} is nested too deeply to be a {name}") from e


def _reject_unknown_fields(msg: message.Message, where: str) -> None:
    # Another message parses "successfully" into unknown fields: reject it.
    size = msg.ByteSize()
    msg.DiscardUnknownFields()
    if msg.ByteSize() != size:
        raise DeserializationError(
            f"{where} holds fields a {msg.DESCRIPTOR.name} does not have: "
            "is it another kind of file?"
        )


def _is_tfrecord(data: bytes) -> bool:
    """Whether `data` starts with a TFRecord header: a length and its masked CRC-32C.

    A binary or text statistics message passes by chance with odds of 2**-32.
    """
    if len(data) < 16:
        return False
    return tfrecord.masked_crc32c(data[:8]) == struct.unpack_from("<I", data, 8)[0]


def _parse_tfrecord(data: bytes, path: str) -> statistics_pb2.DatasetFeatureStatisticsList:
    result = statistics_pb2.DatasetFeatureStatisticsList()
    datasets: dict[str, statistics_pb2.DatasetFeatureStatistics] = {}
    for index, item in enumerate(tfrecord.read_records(io.BytesIO(data))):
        if isinstance(item, tfrecord.Problem):
            raise DeserializationError(f"{path} is a corrupt TFRecord file: {item.message}")
        where = f"record {index} of {path}"
        record = statistics_pb2.DatasetFeatureStatisticsList()
        try:
            record.ParseFromString(item)
        except message.DecodeError as e:
            raise DeserializationError(f"{where} is not a DatasetFeatureStatisticsList") from e
        _reject_unknown_fields(record, where)
        for dataset in record.datasets:
            if dataset.name in datasets:
                _join_shard(datasets[dataset.name], dataset, where)
            else:
                datasets[dataset.name] = result.datasets.add()
                datasets[dataset.name].CopyFrom(dataset)
    return result


def _join_shard(
    into: statistics_pb2.DatasetFeatureStatistics,
    shard: statistics_pb2.DatasetFeatureStatistics,
    where: str,
) -> None:
    """Adds the features of `shard` to those of the same dataset `into`."""
    for field in ("num_examples", "weighted_num_examples"):
        ours, theirs = getattr(into, field), getattr(shard, field)
        if ours and theirs and ours != theirs:
            raise DeserializationError(
                f"{where}: dataset {into.name!r} has {field} {theirs} here and {ours} in an "
                "earlier record; these are not shards of one statistics list"
            )
        setattr(into, field, ours or theirs)
    seen = {_feature_key(feature) for feature in into.features}
    for feature in shard.features:
        if _feature_key(feature) in seen:
            raise DeserializationError(
                f"{where}: feature {_feature_key(feature)!r} of dataset {into.name!r} is also in "
                "an earlier record; finished statistics cannot be merged"
            )
        into.features.add().CopyFrom(feature)
    into.cross_features.extend(shard.cross_features)


def _feature_key(feature: statistics_pb2.FeatureNameStatistics) -> str:
    return ".".join(feature.path.step) if feature.HasField("path") else feature.name
