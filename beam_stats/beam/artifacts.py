"""Every artifact beam-stats reads or writes, on any Beam file system.

Statistics, schemas, anomalies, feature-skew results, reports, JSON summaries and input-error
files are read and written here, and only here: a local path or ``file://`` directly, and
``gs://``, ``s3://``, ``hdfs://`` or any registered scheme (or a compressed file) through
Beam's ``FileSystems``, which alone imports apache_beam (about 1.4 s), so a command that
only reads and writes local statistics and schemas does not.
The layers below parse and serialise nothing from files; the commands name paths only.

One rule each:

- Format: a path ending in ``.pbtxt``, ``.textproto`` or ``.txt`` is the protobuf text
  format (:func:`is_text_path`); any other is binary when it parses as binary, else text.
  Writers take ``text=None`` to follow the suffix, or force one format.
- Foreign files: binary data holding fields the expected message does not have is another
  kind of file and refused (:func:`parse_message`), naming the file.
- Text: ``Any`` fields stay packed (``type_url`` and serialized ``value``), so readers
  without beam-stats' descriptors (TFDV) parse them; a schema's beam-stats annotations are
  shown readably in a comment at its top.
- Writing: atomic, with :func:`beam_stats.beam.writing.write_file` (a temporary name in the
  destination's folder, renamed over it): a killed run leaves the old file or the new one,
  never a partial one under the artifact's name (a temporary ``.NAME.<hex>.tmp`` may stay).
- Input errors: the problems met reading the data behind an output ``X`` are written, one
  JSON object a line, to ``X.errors.jsonl`` (:func:`errors_path`); ``--errors`` overrides it.

Statistics are also read in the TFRecord form that TFDV and TFX write
(``tfdv.generate_statistics_from_tfrecord(output_path=...)``, TFX's ``stats_tfrecord``,
sharded statistics): a TFRecord file of serialized ``DatasetFeatureStatisticsList``
records, recognised by its checksummed framing whatever the file is called. Several records
are shards of one list: datasets of the same name are joined (each feature in one shard
only), others appended.
"""

from __future__ import annotations

import io
import json
import os
import struct
from collections.abc import Iterator
from typing import IO, Any, TypeVar

from google.protobuf import descriptor_pool, message, text_format
from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2, statistics_pb2

from beam_stats.beam import tfrecord
from beam_stats.beam.formats import COMPRESSED, is_local
from beam_stats.beam.writing import filesystems, local_path, write_file
from beam_stats.errors import DeserializationError, InvalidInputError
from beam_stats.proto import schema_pb2 as bs_schema_pb2
from beam_stats.stats import wire
from beam_stats.stats.composite import is_composite_entry
from beam_stats.stats.privacy import MIN_KEY_BYTES, PrivacySpec
from beam_stats.stats.stored import protect_statistics

#: Suffixes of the protobuf text format.
TEXT_SUFFIXES = (".pbtxt", ".textproto", ".txt")
#: Beam-stats' annotations of a schema, shown in a comment of its text form.
_OURS = (
    bs_schema_pb2.AnomalySeverities,
    bs_schema_pb2.InferenceProvenance,
    bs_schema_pb2.HistoryLimits,
)

#: A path: a string (any Beam file system) or a local path object.
PathLike = str | os.PathLike[str]
M = TypeVar("M", bound=message.Message)


def is_text_path(path: PathLike) -> bool:
    """Whether `path` names a protobuf text file (.pbtxt, .textproto, .txt)."""
    return os.fspath(path).endswith(TEXT_SUFFIXES)


def errors_path(output: PathLike) -> str:
    """Where the input problems behind `output` go by default: ``OUTPUT.errors.jsonl``."""
    return f"{os.fspath(output)}.errors.jsonl"


def numbered_path(path: PathLike, index: int | str) -> str:
    """`path` with ``-INDEX`` before its suffix (``a/b.pbtxt`` -> ``a/b-0.pbtxt``), for one
    file per dataset (``*``: a pattern of them all); the scheme's ``//`` is kept."""
    path = os.fspath(path)
    folder, _, name = path.rpartition("/")
    stem, dot, suffix = name.rpartition(".")
    if not stem:  # no suffix, or a dotfile
        stem, dot, suffix = name, "", ""
    return f"{folder}{'/' if folder else ''}{stem}-{index}{dot}{suffix}"


# --- reading ---------------------------------------------------------------------------------


def _exists(path: str) -> bool:
    if is_local(path):
        return os.path.exists(local_path(path))
    return bool(filesystems().exists(path))


def _open(path: str) -> IO[bytes]:
    """`path` opened to read: a local file directly, unless its suffix names a compression,
    which Beam's file systems undo (as any file on another file system)."""
    if is_local(path) and not path.lower().endswith(COMPRESSED):
        return open(local_path(path), "rb")
    opened: IO[bytes] = filesystems().open(path)
    return opened


def read_file(path: PathLike, what: str) -> bytes:
    """The bytes of a non-empty `what` (e.g. "schema") file on any Beam file system.

    Raises:
        InvalidInputError: no such file, a directory, unreadable.
        DeserializationError: the file is empty.
    """
    path = os.fspath(path)
    if not _exists(path):
        raise InvalidInputError(f"no {what} file at {path}")
    try:
        with _open(path) as f:
            data: bytes = f.read()
    except IsADirectoryError as e:
        raise InvalidInputError(f"{path} is a directory, not a {what} file") from e
    except OSError as e:
        raise InvalidInputError(f"cannot read the {what} file {path}: {e.strerror or e}") from e
    if not data:
        raise DeserializationError(f"{path} is empty, not a {what} file")
    return data


def read_hash_key(path: PathLike) -> bytes:
    """The key in a hash key file (any Beam file system), trailing whitespace dropped (a key
    made with ``openssl rand -hex 32 > key`` ends with a newline).

    Raises:
        InvalidInputError: no such file, unreadable, or a key too short
            (``beam_stats.stats.privacy.MIN_KEY_BYTES``).
        DeserializationError: the file is empty.
    """
    key = read_file(path, "hash key").rstrip()
    if len(key) < MIN_KEY_BYTES:
        raise InvalidInputError(
            f"the hash key in {os.fspath(path)} has {len(key)} bytes; at least "
            f"{MIN_KEY_BYTES} are needed (e.g. openssl rand -hex 32)"
        )
    return key


def parse_message(data: bytes, msg: M, source: str, *, limit: int = wire.PROTOBUF_LIMIT) -> M:
    """Parses `data`, read from `source`, into `msg` (e.g. an empty ``Schema``).

    Text when `source` has a text suffix; otherwise binary, and text when that fails.

    Raises:
        DeserializationError: `data` is not such a message (binary data with fields the
            message does not have included), or is binary and longer than `limit`
            (protobuf parses no message over 2 GiB; beam-stats never writes one, another
            tool may); the message names `source`.
    """
    name = msg.DESCRIPTOR.name
    if not is_text_path(source) and len(data) > limit:
        raise DeserializationError(
            f"{source} is {len(data):,} bytes, over protobuf's limit of {limit:,} bytes for "
            f"one message: no protobuf reader can parse it as a {name}; write it in parts "
            "(fewer slices or features per file, or a TFRecord of one message per record)"
        )
    if not is_text_path(source):
        try:
            msg.ParseFromString(data)
        except (message.DecodeError, RecursionError):
            msg.Clear()  # a failed parse can leave fields behind; text does not clear them
        else:
            _reject_unknown_fields(msg, source)
            return msg
    try:
        return text_format.Parse(data.decode("utf-8"), msg)
    except (text_format.ParseError, UnicodeDecodeError) as e:
        raise DeserializationError(f"{source} is not a {name} (binary or text): {e}") from e
    except RecursionError as e:  # the text parser recurses once per nested message
        raise DeserializationError(f"{source} is nested too deeply to be a {name}") from e


def _reject_unknown_fields(msg: message.Message, where: str) -> None:
    # Another message parses "successfully" into unknown fields: reject it.
    size = msg.ByteSize()
    msg.DiscardUnknownFields()
    if msg.ByteSize() != size:
        raise DeserializationError(
            f"{where} holds fields a {msg.DESCRIPTOR.name} does not have: "
            "is it another kind of file?"
        )


def load_message(path: PathLike, msg: M, what: str) -> M:
    """Loads `msg` (e.g. an empty ``Anomalies``) from a binary or text `what` file.

    Raises:
        InvalidInputError: the file does not exist, or is a directory or unreadable.
        DeserializationError: the file holds no such message; the error names the file.
    """
    path = os.fspath(path)
    return parse_message(read_file(path, what), msg, path)


def load_schema(path: PathLike) -> schema_pb2.Schema:
    """Loads a schema file: text (``.pbtxt``, ``.textproto``, ``.txt``; TFDV's) or binary.

    Raises:
        InvalidInputError: there is no such file.
        DeserializationError: the file is not a Schema message.
    """
    return load_message(path, schema_pb2.Schema(), "schema")


def load_anomalies(path: PathLike) -> anomalies_pb2.Anomalies:
    """Loads an ``Anomalies`` file, text or binary (as ``beam-stats validate`` writes it)."""
    return load_message(path, anomalies_pb2.Anomalies(), "anomalies")


def load_statistics(
    path: PathLike, privacy: PrivacySpec | None = None
) -> statistics_pb2.DatasetFeatureStatisticsList:
    """Loads a statistics file: binary, text, or TFRecord (as TFDV and TFX write it), with
    `privacy` applied on top of the policy it records
    (:func:`~beam_stats.stats.stored.protect_statistics`), so nothing made from it shows
    what the policy removes.

    A file is statistics only if it holds at least one dataset, and not only datasets
    with nothing in them but a name that is not text: that is what other protobuf data
    (a TFRecord of ``tf.Example``, say) parses into.

    Raises:
        InvalidInputError: the file does not exist, or is a directory or unreadable.
        DeserializationError: the file is none of those forms of a statistics list, or a
            corrupt one; the message names the file.
    """
    path = os.fspath(path)
    data = read_file(path, "statistics")
    if not is_text_path(path) and _is_tfrecord(data):
        statistics = _parse_tfrecord(data, path)
    else:
        statistics = parse_message(data, statistics_pb2.DatasetFeatureStatisticsList(), path)
    _check_statistics(statistics, data, path)
    if privacy is not None and privacy.active:
        statistics = protect_statistics(statistics, privacy, source=path)
    return statistics


def load_json(path: PathLike, what: str) -> Any:
    """The JSON value of a `what` file (e.g. a ``summary.json``).

    Raises:
        InvalidInputError: no such file. DeserializationError: not JSON.
    """
    path = os.fspath(path)
    try:
        return json.loads(read_file(path, what))
    except ValueError as e:
        raise DeserializationError(f"{path} is not a {what} file (JSON): {e}") from e


def read_json_lines(path: PathLike) -> Iterator[Any]:
    """The values of a JSON-lines file (an errors file, say; may be empty), one a line,
    read as they are needed.

    Raises:
        InvalidInputError: no such file. DeserializationError: a line is not JSON.
    """
    path = os.fspath(path)
    if not _exists(path):
        raise InvalidInputError(f"no file at {path}")
    with _open(path) as f:
        for number, line in enumerate(f, 1):
            try:
                yield json.loads(line)
            except ValueError as e:
                raise DeserializationError(f"{path}:{number} is not JSON: {e}") from e


# --- writing ---------------------------------------------------------------------------------


def message_to_text(msg: message.Message, as_utf8: bool = False) -> str:
    """The text format with every ``Any`` left packed, so that readers without beam-stats'
    message types (TFDV) parse it.

    Args:
        as_utf8: strings as UTF-8 characters rather than escapes.
    """
    return text_format.MessageToString(
        msg, as_utf8=as_utf8, descriptor_pool=descriptor_pool.DescriptorPool()
    )


def schema_to_text(schema: schema_pb2.Schema) -> str:
    """The text format TFDV reads, with a readable comment for beam-stats' annotations."""
    header = []
    for extra in schema.annotation.extra_metadata:
        for kind in _OURS:
            unpacked = kind()
            if extra.Is(kind.DESCRIPTOR) and extra.Unpack(unpacked):
                body = text_format.MessageToString(unpacked, as_one_line=True)
                header.append(f"# {kind.DESCRIPTOR.full_name} {{ {body} }}\n")
    if header:
        header.insert(0, "# beam-stats annotations (stored in annotation.extra_metadata):\n")
    return "".join(header) + message_to_text(schema)


def write_message(
    msg: message.Message, path: PathLike, text: bool | None = None, *, as_utf8: bool = False
) -> str:
    """Writes `msg` to `path` atomically and returns the path.

    Args:
        msg: the message to write.
        path: destination on any Beam file system; a local parent folder is created.
        text: text format (:func:`message_to_text`); by default chosen by the suffix.
        as_utf8: in text, strings as UTF-8 characters rather than escapes.

    Raises:
        OutputError: `path` cannot be written.
    """
    path = os.fspath(path)
    if text is None:
        text = is_text_path(path)
    if not text:
        return write_file(path, msg.SerializeToString(deterministic=True))
    if isinstance(msg, schema_pb2.Schema):
        return write_file(path, schema_to_text(msg).encode("utf-8"))
    return write_file(path, message_to_text(msg, as_utf8).encode("utf-8"))


def _write_checked(
    msg: message.Message, kind: type[message.Message], path: PathLike, text: bool | None
) -> str:
    if not isinstance(msg, kind):
        raise InvalidInputError(f"expected a {kind.DESCRIPTOR.name}, got {type(msg).__name__}")
    return write_message(msg, path, text)


def write_statistics(
    statistics: statistics_pb2.DatasetFeatureStatisticsList,
    path: PathLike,
    text: bool | None = None,
) -> str:
    """Writes a statistics list to `path` (atomically; text by suffix unless `text`
    says) and returns the path. Binary is written a feature at a time, so its whole
    serialization never exists in memory. Raises OutputError when `path` cannot be written."""
    path = os.fspath(path)
    if text or (text is None and is_text_path(path)):
        return _write_checked(statistics, statistics_pb2.DatasetFeatureStatisticsList, path, True)
    if not isinstance(statistics, statistics_pb2.DatasetFeatureStatisticsList):
        raise InvalidInputError(
            f"expected a DatasetFeatureStatisticsList, got {type(statistics).__name__}"
        )
    return write_file(path, wire.statistics_chunks(statistics))


def summarize_statistics(path: PathLike) -> wire.Summary:
    """How many datasets, examples and features a statistics file holds, read without
    holding every feature's statistics at once when the file is binary.

    Raises:
        InvalidInputError: the file does not exist, or is a directory or unreadable.
        DeserializationError: the file is not a statistics list; the message names it.
    """
    path = os.fspath(path)
    data = read_file(path, "statistics")
    if is_text_path(path) or _is_tfrecord(data):
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


def write_schema(schema: schema_pb2.Schema, path: PathLike, text: bool | None = None) -> str:
    """Writes `schema` to `path` (atomically; text by suffix unless `text` says; TFDV reads
    the text) and returns the path. Raises OutputError when `path` cannot be written."""
    return _write_checked(schema, schema_pb2.Schema, path, text)


def write_anomalies(
    anomalies: anomalies_pb2.Anomalies, path: PathLike, text: bool | None = None
) -> str:
    """Writes `anomalies` to `path` (atomically; text by suffix unless `text` says) and
    returns the path. Raises OutputError when `path` cannot be written."""
    return _write_checked(anomalies, anomalies_pb2.Anomalies, path, text)


def write_report(html: str, path: PathLike) -> str:
    """Writes an HTML report (UTF-8) to `path`, atomically, and returns the path. Raises
    OutputError when `path` cannot be written."""
    return write_file(os.fspath(path), html.encode("utf-8"))


def write_json(value: Any, path: PathLike) -> str:
    """Writes `value` as one JSON document (UTF-8) to `path`, atomically, and returns the
    path. Raises OutputError when `path` cannot be written."""
    return write_file(os.fspath(path), json.dumps(value, ensure_ascii=False).encode("utf-8"))


# --- statistics ------------------------------------------------------------------------------


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
