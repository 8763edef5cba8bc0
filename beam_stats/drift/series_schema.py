"""Limits of the metric series kept in a schema (:class:`~beam_stats.drift.series_limits.
HistoryLimits`), versioned with the data's other rules.

Where: a ``beam_stats.HistoryLimits`` message (``protos/beam_stats/proto/schema.proto``)
packed in ``Schema.annotation.extra_metadata``, beside the other settings of
:mod:`beam_stats.schema.extras`, so TFDV and every tensorflow-metadata reader load the schema
unchanged and keep it. :func:`with_history_limits` writes it, and ``write_schema`` adds a
readable comment of it to a text schema. By hand, in a text schema, write it expanded
(``load_schema`` reads it; beam-stats writes it back packed)::

    annotation { extra_metadata { [type.googleapis.com/beam_stats.HistoryLimits] {
      limits { metric: "missing_fraction" strategy: "absolute" threshold: 0.02 }
      limits { metric: "drift_previous" floor: 0.02 }
      features { path: "price" limits { metric: "mean" z: 5 floor: 0.5 } }
    } } }

A ``limits`` entry without ``metric`` (or with ``"*"``) is for every metric; ``features``
entries name a feature by its path, one step a ``path`` field (a struct's child:
``path: "user" path: "age"``). What each field means, and which setting wins, is in
:mod:`beam_stats.drift.series_limits`.
"""

from __future__ import annotations

from collections.abc import Mapping

from google.protobuf.message import DecodeError
from tensorflow_metadata.proto.v0 import schema_pb2

from beam_stats._types import FeaturePath, path_str
from beam_stats.drift.series_limits import EVERY_METRIC, METRICS, HistoryLimits, MetricLimits
from beam_stats.errors import InvalidInputError, SchemaError
from beam_stats.proto import schema_pb2 as bs_schema_pb2
from beam_stats.schema.features import iter_features


def _find(schema: schema_pb2.Schema) -> int | None:
    for i, extra in enumerate(schema.annotation.extra_metadata):
        if extra.Is(bs_schema_pb2.HistoryLimits.DESCRIPTOR):
            return i
    return None


def _from_proto(
    entries: list[bs_schema_pb2.HistoryLimits.Limits], where: str
) -> dict[str, MetricLimits]:
    found: dict[str, MetricLimits] = {}
    for entry in entries:
        metric = entry.metric or EVERY_METRIC
        if metric in found:
            raise SchemaError(f"the schema's history limits set {metric!r} twice for {where}")
        try:
            found[metric] = MetricLimits(
                strategy=entry.strategy or None,  # type: ignore[arg-type]  # checked there
                z=entry.z if entry.HasField("z") else None,
                floor=entry.floor if entry.HasField("floor") else None,
                min_history=entry.min_history if entry.HasField("min_history") else None,
                threshold=entry.threshold if entry.HasField("threshold") else None,
            )
        except InvalidInputError as e:
            raise SchemaError(f"the schema's history limits of {metric!r} for {where}: {e}") from e
    return found


def history_limits(schema: schema_pb2.Schema) -> HistoryLimits | None:
    """The limits `schema` keeps, or None when it keeps none.

    Raises:
        SchemaError: unreadable limits, a value out of range, an unknown metric or strategy,
            a metric set twice at one level, or limits of a feature the schema lacks.
    """
    index = _find(schema)
    if index is None:
        return None
    message = bs_schema_pb2.HistoryLimits()
    try:
        if not schema.annotation.extra_metadata[index].Unpack(message):
            raise SchemaError("unreadable HistoryLimits annotation in the schema")
    except DecodeError as e:
        raise SchemaError(f"unreadable HistoryLimits annotation in the schema: {e}") from e
    known = {path for path, _ in iter_features(schema)}
    features: dict[FeaturePath, dict[str, MetricLimits]] = {}
    for entry in message.features:
        path = tuple(entry.path)
        if path not in known:
            raise SchemaError(
                f"the schema's history limits name feature {path_str(path)!r}, which the "
                "schema does not have"
            )
        if path in features:
            raise SchemaError(f"the schema's history limits name {path_str(path)!r} twice")
        features[path] = _from_proto(list(entry.limits), f"feature {path_str(path)!r}")
    try:
        return HistoryLimits(
            metrics=_from_proto(list(message.limits), "every feature"), features=features
        )
    except InvalidInputError as e:
        raise SchemaError(f"the schema's history limits: {e}") from e


def _to_proto(
    limits: Mapping[str, MetricLimits], out: list[bs_schema_pb2.HistoryLimits.Limits]
) -> None:
    order = (EVERY_METRIC, *METRICS)
    for metric in sorted(limits, key=order.index):
        value = limits[metric]
        entry = bs_schema_pb2.HistoryLimits.Limits(metric=metric, strategy=value.strategy or "")
        for name in ("z", "floor", "min_history", "threshold"):
            if getattr(value, name) is not None:
                setattr(entry, name, getattr(value, name))
        out.append(entry)


def with_history_limits(schema: schema_pb2.Schema, limits: HistoryLimits) -> schema_pb2.Schema:
    """A copy of `schema` that keeps `limits` (replacing the limits it kept; empty limits
    remove them).

    Raises:
        InvalidInputError: `limits` names a feature the schema does not have.
    """
    known = {path for path, _ in iter_features(schema)}
    unknown = sorted(path_str(p) for p in limits.features if p not in known)
    if unknown:
        raise InvalidInputError(f"history limits for features the schema lacks: {unknown}")
    message = bs_schema_pb2.HistoryLimits()
    entries: list[bs_schema_pb2.HistoryLimits.Limits] = []
    _to_proto(limits.metrics, entries)
    message.limits.extend(entries)
    for path in sorted(limits.features):
        feature = message.features.add(path=list(path))
        entries = []
        _to_proto(limits.features[path], entries)
        feature.limits.extend(entries)
    result = schema_pb2.Schema()
    result.CopyFrom(schema)
    index = _find(result)
    if limits.empty:
        if index is not None:
            del result.annotation.extra_metadata[index]
    elif index is None:
        result.annotation.extra_metadata.add().Pack(message)
    else:
        result.annotation.extra_metadata[index].Pack(message)
    return result
