"""beam-stats' own messages in a schema, carried in ``Schema.annotation.extra_metadata``.

Two messages of ``protos/beam_stats/proto/schema.proto`` live there, packed in
``google.protobuf.Any``: :class:`AnomalySeverities` (severity per anomaly type, read by
validation) and :class:`InferenceProvenance` (how the schema was inferred, read by
``update_schema`` to infer the features it adds the same way). Other ``extra_metadata``
entries are kept as they are.
"""

from __future__ import annotations

from collections.abc import Mapping

from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2

from beam_stats.errors import SchemaError
from beam_stats.proto import schema_pb2 as bs_schema_pb2
from beam_stats.schema.spec import RangeInferenceSpec, SchemaInferenceSpec, UniqueInferenceSpec

AnomalyType = anomalies_pb2.AnomalyInfo.Type
Severity = anomalies_pb2.AnomalyInfo.Severity


def anomaly_type(name_or_number: str | int) -> int:
    """An ``AnomalyInfo.Type`` from its name (``"SCHEMA_NEW_COLUMN"``) or number.

    Raises:
        SchemaError: no such anomaly type.
    """
    try:
        if isinstance(name_or_number, str):
            return int(AnomalyType.Value(name_or_number))
        AnomalyType.Name(name_or_number)
        return int(name_or_number)
    except (ValueError, TypeError) as e:
        raise SchemaError(f"unknown anomaly type {name_or_number!r}") from e


def severity(name_or_number: str | int) -> int:
    """``WARNING`` or ``ERROR`` from its name or number.

    Raises:
        SchemaError: anything else.
    """
    allowed = {"WARNING": Severity.WARNING, "ERROR": Severity.ERROR}
    if isinstance(name_or_number, str) and name_or_number.upper() in allowed:
        return int(allowed[name_or_number.upper()])
    if not isinstance(name_or_number, str) and name_or_number in allowed.values():
        return int(name_or_number)
    raise SchemaError(f"a severity is WARNING or ERROR, got {name_or_number!r}")


def _find(
    schema: schema_pb2.Schema,
    message: type[bs_schema_pb2.AnomalySeverities] | type[bs_schema_pb2.InferenceProvenance],
) -> int | None:
    for i, extra in enumerate(schema.annotation.extra_metadata):
        if extra.Is(message.DESCRIPTOR):
            return i
    return None


def severity_overrides(schema: schema_pb2.Schema) -> dict[int, int]:
    """Anomaly type -> severity, as the schema's annotation sets them.

    Raises:
        SchemaError: the annotation names an unknown anomaly type or severity.
    """
    index = _find(schema, bs_schema_pb2.AnomalySeverities)
    if index is None:
        return {}
    message = bs_schema_pb2.AnomalySeverities()
    if not schema.annotation.extra_metadata[index].Unpack(message):
        raise SchemaError("unreadable AnomalySeverities annotation in the schema")
    return {anomaly_type(o.anomaly_type): severity(int(o.severity)) for o in message.overrides}


def with_severity_overrides(
    schema: schema_pb2.Schema, overrides: Mapping[str, str]
) -> schema_pb2.Schema:
    """A copy of `schema` whose annotation sets these severities (replacing earlier ones).

    Args:
        overrides: anomaly type name (e.g. ``"SCHEMA_NEW_COLUMN"``) -> ``"WARNING"`` or
            ``"ERROR"``.
    """
    message = bs_schema_pb2.AnomalySeverities()
    for name, level in sorted(
        (AnomalyType.Name(anomaly_type(t)), severity(s)) for t, s in overrides.items()
    ):
        message.overrides.add(anomaly_type=name, severity=level)
    return _with_extra(schema, message)


def provenance(schema: schema_pb2.Schema) -> bs_schema_pb2.InferenceProvenance | None:
    index = _find(schema, bs_schema_pb2.InferenceProvenance)
    if index is None:
        return None
    message = bs_schema_pb2.InferenceProvenance()
    schema.annotation.extra_metadata[index].Unpack(message)
    return message


def provenance_of(
    spec: SchemaInferenceSpec, dataset_name: str, num_examples: int
) -> bs_schema_pb2.InferenceProvenance:
    ranges, unique = spec.ranges, spec.unique
    return bs_schema_pb2.InferenceProvenance(
        tool="beam-stats",
        dataset_name=dataset_name,
        num_examples=num_examples,
        infer_shape=spec.infer_shape,
        max_string_domain_size=spec.max_string_domain_size,
        infer_ranges=ranges is not None,
        range_margin=ranges.margin if ranges else 0.0,
        range_lower_quantile=ranges.lower_quantile if ranges else 0.0,
        range_upper_quantile=ranges.upper_quantile if ranges else 0.0,
        infer_unique=unique is not None,
        unique_margin=unique.margin if unique else 0.0,
        disallow_nan=spec.disallow_nan,
        disallow_inf=spec.disallow_inf,
    )


def spec_of(message: bs_schema_pb2.InferenceProvenance | None) -> SchemaInferenceSpec:
    """The inference options a provenance records (the defaults when there is none)."""
    if message is None:
        return SchemaInferenceSpec()
    return SchemaInferenceSpec(
        infer_shape=message.infer_shape,
        max_string_domain_size=message.max_string_domain_size,
        ranges=RangeInferenceSpec(
            margin=message.range_margin,
            lower_quantile=message.range_lower_quantile,
            upper_quantile=message.range_upper_quantile,
        )
        if message.infer_ranges
        else None,
        unique=UniqueInferenceSpec(margin=message.unique_margin) if message.infer_unique else None,
        disallow_nan=message.disallow_nan,
        disallow_inf=message.disallow_inf,
    )


def set_provenance(schema: schema_pb2.Schema, message: bs_schema_pb2.InferenceProvenance) -> None:
    schema.CopyFrom(_with_extra(schema, message))


def _with_extra(
    schema: schema_pb2.Schema,
    message: bs_schema_pb2.AnomalySeverities | bs_schema_pb2.InferenceProvenance,
) -> schema_pb2.Schema:
    result = schema_pb2.Schema()
    result.CopyFrom(schema)
    index = _find(result, type(message))
    if index is None:
        result.annotation.extra_metadata.add().Pack(message)
    else:
        result.annotation.extra_metadata[index].Pack(message)
    return result
