"""TFDV's names, where the meaning is the same: ``from beam_stats import tfdv``.

Code written against ``tensorflow_data_validation`` (imported as ``tfdv``) runs on these
for the calls below; every one is re-exported at the top of ``beam_stats`` too. Where
beam-stats has no equivalent of an argument (``StatsOptions(sample_rate=...)``, a CSV
``delimiter``), the call fails with :class:`~beam_stats.errors.InvalidInputError` naming
it, rather than computing something else. ``update_schema``, ``validate_statistics``,
``load_statistics``, ``get_feature`` and ``GenerateStatistics`` here are beam-stats' own
(same names and arguments as TFDV's); ``infer_schema`` takes TFDV's keyword arguments here
and a :class:`~beam_stats.SchemaInferenceSpec` at the top of ``beam_stats``. docs/API.md
lists them all.

Files are read and written on any Beam file system; loading accepts binary and text
whatever the function's name says (``load_stats_text`` reads a binary file too).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from typing import Any, TypeAlias

from apache_beam.options.pipeline_options import PipelineOptions
from google.protobuf import message
from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2, statistics_pb2

from beam_stats._types import FeaturePath
from beam_stats.beam import GenerateStatistics
from beam_stats.beam.artifacts import (
    load_anomalies,
    load_schema,
    load_statistics,
    write_anomalies,
    write_schema,
    write_statistics,
)
from beam_stats.errors import InvalidInputError, SchemaError
from beam_stats.jobs.statistics import compute_statistics, with_schema
from beam_stats.report import render_report
from beam_stats.schema import (
    SchemaInferenceSpec,
    get_feature,
    update_schema,
)
from beam_stats.schema import infer_schema as _infer_schema
from beam_stats.schema.features import as_path
from beam_stats.stats import StatisticsSpec, generate_statistics_from_table
from beam_stats.stats.custom import CustomStatisticSpec
from beam_stats.validation import validate_statistics

Statistics: TypeAlias = statistics_pb2.DatasetFeatureStatisticsList

# StatsOptions arguments of TFDV that beam-stats has no equivalent for, and why.
_UNSUPPORTED_OPTIONS = {
    "generators": "TFDV's generators do not run here: give CustomStatisticSpecs "
    "(beam_stats.stats.custom) as generators or as StatisticsSpec(statistics=...)",
    "label_feature": "label-aware statistics are not supported yet",
    "slice_functions": "give a SlicingSpec to GenerateStatistics or compute_statistics",
    "experimental_slice_functions": "give a SlicingSpec to GenerateStatistics",
    "sample_rate": "statistics are computed from every example",
    "epsilon": "quantiles are exact up to 100,000 distinct values (QuantilesSpec)",
    "desired_batch_size": "batches are sized by the readers",
    "feature_allowlist": "every feature is summarised",
    "enable_semantic_domain_stats": "semantic domains come from the schema",
}


def StatsOptions(  # noqa: N802 (TFDV's name)
    *,
    schema: schema_pb2.Schema | None = None,
    weight_feature: str | None = None,
    num_top_values: int = 20,
    num_rank_histogram_buckets: int = 1000,
    num_values_histogram_buckets: int = 10,
    num_histogram_buckets: int = 10,
    num_quantiles_histogram_buckets: int = 10,
    generators: Sequence[CustomStatisticSpec] | None = None,
    **unsupported: Any,
) -> StatisticsSpec:
    """A :class:`~beam_stats.StatisticsSpec` from TFDV's ``StatsOptions`` arguments; the
    defaults are TFDV's. A schema adds what TFDV takes from it (categorical INT features,
    sparse and weighted features: :func:`~beam_stats.jobs.with_schema`). `generators` are
    beam-stats custom statistics (:mod:`beam_stats.stats.custom`), not TFDV's classes.

    Raises:
        InvalidInputError: an argument beam-stats has no equivalent for, or a bad value.
    """
    for name in sorted(unsupported):
        reason = _UNSUPPORTED_OPTIONS.get(name, "no such option")
        raise InvalidInputError(f"StatsOptions({name}=...) is not supported: {reason}")
    if generators is not None and not all(isinstance(g, CustomStatisticSpec) for g in generators):
        raise InvalidInputError(
            f"StatsOptions(generators=...): {_UNSUPPORTED_OPTIONS['generators']}"
        )
    spec = StatisticsSpec(
        statistics=tuple(generators or ()),
        num_top_values=num_top_values,
        num_rank_histogram_buckets=num_rank_histogram_buckets,
        num_values_histogram_buckets=num_values_histogram_buckets,
        num_histogram_buckets=num_histogram_buckets,
        num_quantiles_histogram_buckets=num_quantiles_histogram_buckets,
        weight_feature=as_path(weight_feature) if weight_feature else None,
    )
    return spec if schema is None else with_schema(spec, schema)


def generate_statistics_from_dataframe(
    dataframe: Any, stats_options: StatisticsSpec | None = None
) -> Statistics:
    """Statistics of a pandas ``DataFrame``, in this process (no pipeline)."""
    return generate_statistics_from_table(dataframe, stats_options)


def _generate(
    data_location: str,
    input_format: str,
    output_path: str | None,
    stats_options: StatisticsSpec | None,
    pipeline_options: PipelineOptions | Sequence[str] | None,
) -> Statistics:
    if output_path is not None:
        return compute_statistics(
            data_location,
            output_path,
            spec=stats_options,
            input_format=input_format,
            pipeline_options=pipeline_options,
        ).statistics
    with tempfile.TemporaryDirectory(prefix="beam-stats-") as folder:
        return compute_statistics(
            data_location,
            f"{folder}/stats.pb",
            spec=stats_options,
            input_format=input_format,
            pipeline_options=pipeline_options,
        ).statistics


def generate_statistics_from_csv(
    data_location: str,
    output_path: str | None = None,
    stats_options: StatisticsSpec | None = None,
    pipeline_options: PipelineOptions | Sequence[str] | None = None,
    **unsupported: Any,
) -> Statistics:
    """Statistics of CSV files (a path or glob with a header line) on Beam. Rows that
    cannot be read are listed in ``<output_path>.errors.jsonl``.

    Raises:
        InvalidInputError: an argument of TFDV's beam-stats has no equivalent for
            (``column_names``, ``delimiter``: a header line names the columns).
    """
    for name in sorted(unsupported):
        raise InvalidInputError(
            f"generate_statistics_from_csv({name}=...) is not supported: files need a "
            "header line and commas"
        )
    return _generate(data_location, "csv", output_path, stats_options, pipeline_options)


def generate_statistics_from_tfrecord(
    data_location: str,
    output_path: str | None = None,
    stats_options: StatisticsSpec | None = None,
    pipeline_options: PipelineOptions | Sequence[str] | None = None,
) -> Statistics:
    """Statistics of TFRecord files of ``tf.Example`` (a path or glob) on Beam."""
    return _generate(data_location, "tfrecord", output_path, stats_options, pipeline_options)


def infer_schema(
    statistics: Statistics,
    infer_feature_shape: bool = True,
    max_string_domain_size: int = 100,
    **unsupported: Any,
) -> schema_pb2.Schema:
    """A schema inferred from statistics, with TFDV's arguments (see
    :func:`beam_stats.infer_schema` for the rest of beam-stats' inference options).

    Raises:
        InvalidInputError: ``schema_transformations`` (not supported) or a bad value.
    """
    for name in sorted(unsupported):
        raise InvalidInputError(f"infer_schema({name}=...) is not supported")
    spec = SchemaInferenceSpec(
        infer_shape=infer_feature_shape, max_string_domain_size=max_string_domain_size
    )
    return _infer_schema(statistics, spec)


def load_stats_binary(input_path: str) -> Statistics:
    """Statistics from a file (binary, text or TFRecord)."""
    return load_statistics(input_path)


def load_stats_text(input_path: str) -> Statistics:
    """Statistics from a file (text, binary or TFRecord)."""
    return load_statistics(input_path)


def write_stats_text(stats: Statistics, output_path: str) -> None:
    """Writes statistics in the text format."""
    write_statistics(stats, output_path, text=True)


def load_schema_text(input_path: str) -> schema_pb2.Schema:
    """A schema from a file (text or binary)."""
    return load_schema(input_path)


def write_schema_text(schema: schema_pb2.Schema, output_path: str) -> None:
    """Writes a schema in the text format TFDV reads."""
    write_schema(schema, output_path, text=True)


def load_anomalies_text(input_path: str) -> anomalies_pb2.Anomalies:
    """Anomalies from a file (text or binary)."""
    return load_anomalies(input_path)


def write_anomalies_text(anomalies: anomalies_pb2.Anomalies, output_path: str) -> None:
    """Writes anomalies in the text format."""
    write_anomalies(anomalies, output_path, text=True)


# The domain fields of a schema Feature (its ``domain_info`` oneof) by message type.
_DOMAIN_FIELDS = {
    field.message_type.full_name: field.name
    for field in schema_pb2.Feature.DESCRIPTOR.oneofs_by_name["domain_info"].fields
    if field.message_type is not None
}


def get_domain(schema: schema_pb2.Schema, feature_path: str | FeaturePath) -> message.Message:
    """The domain of a feature (dotted name or path): its own (``int_domain``,
    ``string_domain``, ...) or the schema's string domain it names.

    Raises:
        InvalidInputError: no such feature, or it has no domain.
        SchemaError: it names a string domain the schema does not have.
    """
    feature = get_feature(schema, feature_path)
    kind = feature.WhichOneof("domain_info")
    if kind is None:
        raise InvalidInputError(f"feature {feature.name} has no domain")
    if kind != "domain":
        domain: message.Message = getattr(feature, kind)
        return domain
    for found in schema.string_domain:
        if found.name == feature.domain:
            named: message.Message = found
            return named
    raise SchemaError(f"feature {feature.name} names a missing string domain {feature.domain}")


def set_domain(
    schema: schema_pb2.Schema, feature_path: str | FeaturePath, domain: message.Message | str
) -> None:
    """Sets a feature's domain, in place: a domain message (``IntDomain``, ``StringDomain``,
    ...) replaces the feature's domain; a name refers to one of the schema's string domains.

    Raises:
        InvalidInputError: no such feature, no such string domain, or not a domain.
    """
    feature = get_feature(schema, feature_path)
    if isinstance(domain, str):
        if all(d.name != domain for d in schema.string_domain):
            raise InvalidInputError(f"the schema has no string domain {domain!r}")
        feature.domain = domain
        return
    name = domain.DESCRIPTOR.full_name if isinstance(domain, message.Message) else None
    field = _DOMAIN_FIELDS.get(name or "")
    if field is None:
        raise InvalidInputError(f"not a feature domain: {type(domain).__name__}")
    getattr(feature, field).CopyFrom(domain)


def get_feature_stats(
    stats: statistics_pb2.DatasetFeatureStatistics, feature_path: str | FeaturePath | Any
) -> statistics_pb2.FeatureNameStatistics:
    """One feature's statistics in one dataset (a dotted name, a path, or TFDV's
    ``FeaturePath``).

    Raises:
        InvalidInputError: the dataset has no such feature.
    """
    path = as_path(feature_path)
    for feature in stats.features:
        if tuple(feature.path.step) == path or (
            not feature.path.step and feature.name == ".".join(path)
        ):
            return feature
    raise InvalidInputError(f"no statistics of feature {'.'.join(path)}")


def get_slice_stats(stats: Statistics, slice_key: str) -> Statistics:
    """The statistics of the dataset (slice) named `slice_key`, as a list of one.

    Raises:
        InvalidInputError: no dataset has that name.
    """
    for dataset in stats.datasets:
        if dataset.name == slice_key:
            return Statistics(datasets=[dataset])
    names = ", ".join(repr(d.name) for d in stats.datasets) or "none"
    raise InvalidInputError(f"no slice named {slice_key!r} (slices: {names})")


def _only(stats: Statistics, allow: Iterable[Any] | None, deny: Iterable[Any] | None) -> Statistics:
    if allow is None and deny is None:
        return stats
    allowed = None if allow is None else {_path(p) for p in allow}
    denied = {_path(p) for p in deny or ()}
    result = Statistics()
    result.CopyFrom(stats)
    for dataset in result.datasets:
        kept = [
            f
            for f in dataset.features
            if (path := tuple(f.path.step) or (f.name,)) not in denied
            and (allowed is None or path in allowed)
        ]
        del dataset.features[:]
        dataset.features.extend(kept)
    return result


def _path(feature: Any) -> FeaturePath:
    steps = getattr(feature, "steps", None)  # TFDV's types.FeaturePath
    return tuple(steps()) if callable(steps) else as_path(feature)


def get_statistics_html(
    lhs_statistics: Statistics,
    rhs_statistics: Statistics | None = None,
    lhs_name: str = "lhs_statistics",
    rhs_name: str = "rhs_statistics",
    allowlist_features: Iterable[Any] | None = None,
    denylist_features: Iterable[Any] | None = None,
) -> str:
    """A self-contained HTML page of one dataset's statistics, or two side by side (the
    beam-stats report); features filtered by `allowlist_features`/`denylist_features`."""
    lhs = _only(lhs_statistics, allowlist_features, denylist_features)
    rhs = (
        None
        if rhs_statistics is None
        else _only(rhs_statistics, allowlist_features, denylist_features)
    )
    title = lhs_name if rhs is None else f"{lhs_name} vs {rhs_name}"
    return render_report(lhs, rhs, title=title)


__all__ = [
    "GenerateStatistics",
    "StatsOptions",
    "generate_statistics_from_csv",
    "generate_statistics_from_dataframe",
    "generate_statistics_from_tfrecord",
    "get_domain",
    "get_feature_stats",
    "get_slice_stats",
    "get_feature",
    "get_statistics_html",
    "infer_schema",
    "load_anomalies_text",
    "load_schema_text",
    "load_stats_binary",
    "load_statistics",
    "load_stats_text",
    "set_domain",
    "update_schema",
    "validate_statistics",
    "write_anomalies_text",
    "write_schema_text",
    "write_stats_text",
]
