"""Reading and writing schema files, text (``schema.pbtxt``, TFDV's format) or binary.

A text file is written with beam-stats' annotations unexpanded (``type_url`` and
serialized ``value``) so that TFDV and other readers without beam-stats' descriptors load it
unchanged; a comment at the top shows them readably. Reading accepts both forms. Local
paths only; written atomically by the Beam layer's :func:`~beam_stats.beam.writing.write_file`.
"""

from __future__ import annotations

from pathlib import Path

from google.protobuf import descriptor_pool, message, text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from beam_stats.errors import DeserializationError, InvalidInputError
from beam_stats.proto import schema_pb2 as bs_schema_pb2

TEXT_SUFFIXES = (".pbtxt", ".textproto", ".txt")
_OURS = (bs_schema_pb2.AnomalySeverities, bs_schema_pb2.InferenceProvenance)


def message_to_text(msg: message.Message) -> str:
    """Text format with every ``Any`` unexpanded, so readers without beam-stats' message
    types (TFDV) parse it; used for schemas and for anomalies, whose baseline is a schema."""
    return text_format.MessageToString(msg, descriptor_pool=descriptor_pool.DescriptorPool())


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


def parse_schema(data: bytes, source: str = "schema") -> schema_pb2.Schema:
    """A schema from the bytes of a text or binary schema file.

    Raises:
        DeserializationError: `data` is not a Schema message.
    """
    if not data:
        raise DeserializationError(f"{source} is empty, not a schema")
    schema = schema_pb2.Schema()
    if source.endswith(TEXT_SUFFIXES):
        return _parse_text(data, source)
    try:
        schema.ParseFromString(data)
    except (message.DecodeError, RecursionError):
        return _parse_text(data, source)
    size = schema.ByteSize()
    schema.DiscardUnknownFields()
    if schema.ByteSize() != size:  # another message that happens to parse
        raise DeserializationError(f"{source} holds fields a Schema does not have")
    return schema


def _parse_text(data: bytes, source: str) -> schema_pb2.Schema:
    try:
        return text_format.Parse(data.decode("utf-8"), schema_pb2.Schema())
    except (text_format.ParseError, UnicodeDecodeError) as e:
        raise DeserializationError(f"{source} is not a Schema (text or binary): {e}") from e
    except RecursionError as e:  # the text parser recurses once per nested message
        raise DeserializationError(
            f"{source} is nested too deeply to be read as a Schema (text or binary)"
        ) from e


def load_schema(path: str | Path) -> schema_pb2.Schema:
    """Loads a schema file: text (``.pbtxt``, ``.textproto``, ``.txt``) or binary.

    Raises:
        InvalidInputError: there is no such file.
        DeserializationError: the file is not a Schema message.
    """
    file = Path(path)
    if file.is_dir():
        raise InvalidInputError(f"{path} is a directory, not a schema file")
    if not file.is_file():
        raise InvalidInputError(f"no schema file at {path}")
    try:
        data = file.read_bytes()
    except OSError as e:
        raise InvalidInputError(f"cannot read the schema file {path}: {e.strerror or e}") from e
    return parse_schema(data, str(path))


def write_anomalies(anomalies: message.Message, path: str | Path, text: bool | None = None) -> str:
    """Writes an ``Anomalies`` message to `path` atomically and returns the path.

    Args:
        anomalies: the message to write.
        path: destination file (parent folders created).
        text: text format (:func:`message_to_text`); by default chosen by the suffix.

    Raises:
        OutputError: `path` cannot be written.
    """
    from beam_stats.beam.writing import write_file  # imports Beam: only when writing

    if text is None:
        text = str(path).endswith(TEXT_SUFFIXES)
    data = (
        message_to_text(anomalies).encode("utf-8")
        if text
        else anomalies.SerializeToString(deterministic=True)
    )
    return write_file(str(path), data)


def write_schema(schema: schema_pb2.Schema, path: str | Path, text: bool | None = None) -> str:
    """Writes `schema` to `path` (parent folders created) and returns the path.

    Args:
        schema: the message to write.
        path: destination file, written atomically (a temporary file renamed over it).
        text: text format; by default chosen by the suffix (.pbtxt, .textproto, .txt).

    Raises:
        OutputError: `path` cannot be written.
    """
    if not isinstance(schema, schema_pb2.Schema):
        raise InvalidInputError(f"expected a Schema, got {type(schema).__name__}")
    file = Path(path)
    if text is None:
        text = file.name.endswith(TEXT_SUFFIXES)
    from beam_stats.beam.writing import write_file  # imports Beam: only when writing

    data = (
        schema_to_text(schema).encode("utf-8")
        if text
        else schema.SerializeToString(deterministic=True)
    )
    return write_file(str(path), data)
