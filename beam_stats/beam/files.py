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
from beam_stats.errors import DeserializationError, InvalidInputError

_TEXT_SUFFIXES = (".pbtxt", ".textproto", ".txt")


def write_statistics(
    statistics: statistics_pb2.DatasetFeatureStatisticsList, path: str, text: bool | None = None
) -> str:
    """Writes `statistics` to `path` and returns the path.

    Args:
        statistics: the message to write.
        path: destination; its parent folder is created when missing.
        text: text format; by default chosen by the suffix (.pbtxt, .textproto, .txt).
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
        else statistics.SerializeToString()
    )
    parent = path.rsplit("/", 1)[0] if "/" in path else ""
    if parent and not FileSystems.exists(parent):
        FileSystems.mkdirs(parent)
    with FileSystems.create(path) as f:
        f.write(data)
    return path


def load_statistics(path: str) -> statistics_pb2.DatasetFeatureStatisticsList:
    """Loads a statistics file: binary, text, or TFRecord (as TFDV and TFX write it).

    Raises:
        InvalidInputError: the file does not exist.
        DeserializationError: the file is none of those forms of a statistics list, or a
            corrupt one; the message names the file.
    """
    data = _read(path, "statistics")
    if not path.endswith(_TEXT_SUFFIXES) and _is_tfrecord(data):
        return _parse_tfrecord(data, path)
    return _parse(data, path, statistics_pb2.DatasetFeatureStatisticsList())


M = TypeVar("M", bound=message.Message)


def load_message(path: str, msg: M, what: str) -> M:
    """Loads `msg` (e.g. an empty ``Anomalies``) from a binary or text file on any file system.

    Text is read when the suffix says so (.pbtxt, .textproto, .txt) or the data is not
    binary; binary data with fields the message does not have is refused.

    Raises:
        InvalidInputError: the file does not exist.
        DeserializationError: the file holds no such message; the error names the file.
    """
    return _parse(_read(path, what), path, msg)


def _read(path: str, what: str) -> bytes:
    if not FileSystems.exists(path):
        raise InvalidInputError(f"no {what} file at {path}")
    with FileSystems.open(path) as f:
        data: bytes = f.read()
    if not data:
        raise DeserializationError(f"{path} is empty, not a {what} file")
    return data


def _parse(data: bytes, path: str, msg: M) -> M:
    if not path.endswith(_TEXT_SUFFIXES):
        try:
            msg.ParseFromString(data)
        except message.DecodeError:
            msg.Clear()  # a failed parse can leave fields behind; text does not clear them
        else:
            _reject_unknown_fields(msg, path)
            return msg
    try:
        return text_format.Parse(data.decode("utf-8"), msg)
    except (text_format.ParseError, UnicodeDecodeError) as e:
        name = msg.DESCRIPTOR.name
        raise DeserializationError(f"{path} is not a {name} (binary or text): {e}") from e


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
