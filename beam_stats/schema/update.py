"""Relaxing a schema so that it accepts new statistics."""

from __future__ import annotations

from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

from beam_stats.errors import InvalidInputError
from beam_stats.schema.conformance import check_statistics
from beam_stats.schema.view import datasets


def update_schema(
    schema: schema_pb2.Schema,
    statistics: statistics_pb2.DatasetFeatureStatisticsList
    | statistics_pb2.DatasetFeatureStatistics,
    environment: str | None = None,
) -> schema_pb2.Schema:
    """A copy of `schema` relaxed just enough to accept `statistics`, as TFDV's updater does.

    New columns are added, inferred with the options recorded when the schema was inferred
    (TFDV's defaults otherwise); bounds on presence, value counts, ranges and unique counts
    widen to the observed values; unexpected string values join their domain; NaN and
    infinity bans are lifted; a fixed shape the data breaks is dropped; a domain the values
    cannot satisfy is cleared; a feature whose type changed, or that is required but absent,
    is deprecated. Values of mixed types (``type_conflict``) cannot be accepted by any schema
    and still fail validation.

    Args:
        schema: the schema to relax (not modified).
        statistics: the new statistics; with several datasets, the result accepts them all.
        environment: the environment the statistics come from (see validation).

    Raises:
        SchemaError: `environment` is not declared in the schema.
    """
    if not isinstance(schema, schema_pb2.Schema):
        raise InvalidInputError(f"expected a Schema, got {type(schema).__name__}")
    result = schema
    for dataset in datasets(statistics):
        if dataset.num_examples == 0:  # no data, no evidence (validation: data_missing)
            continue
        result = check_statistics(result, dataset, environment).schema
    if result is schema:
        result = schema_pb2.Schema()
        result.CopyFrom(schema)
    return result
