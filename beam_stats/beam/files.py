"""Reading and writing statistics files, binary or text, on any Beam file system."""

from __future__ import annotations

from apache_beam.io.filesystems import FileSystems
from google.protobuf import descriptor_pool, message, text_format
from tensorflow_metadata.proto.v0 import statistics_pb2

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
    """Loads a statistics file written in binary or text format.

    Raises:
        InvalidInputError: the file does not exist.
        DeserializationError: the file is neither a binary nor a text statistics message.
    """
    if not FileSystems.exists(path):
        raise InvalidInputError(f"no statistics file at {path}")
    with FileSystems.open(path) as f:
        data = f.read()
    if not data:
        raise DeserializationError(f"{path} is empty, not a statistics file")
    statistics = statistics_pb2.DatasetFeatureStatisticsList()
    if path.endswith(_TEXT_SUFFIXES):
        return _parse_text(data, path, statistics)
    try:
        statistics.ParseFromString(data)
    except message.DecodeError:
        return _parse_text(data, path, statistics)
    # Another message parses "successfully" into unknown fields: reject it.
    size = statistics.ByteSize()
    statistics.DiscardUnknownFields()
    if statistics.ByteSize() != size:
        raise DeserializationError(
            f"{path} holds fields a DatasetFeatureStatisticsList does not have: "
            "is it another kind of file?"
        )
    return statistics


def _parse_text(
    data: bytes, path: str, statistics: statistics_pb2.DatasetFeatureStatisticsList
) -> statistics_pb2.DatasetFeatureStatisticsList:
    try:
        return text_format.Parse(data.decode("utf-8"), statistics)
    except (text_format.ParseError, UnicodeDecodeError) as e:
        raise DeserializationError(
            f"{path} is not a DatasetFeatureStatisticsList (binary or text): {e}"
        ) from e
