"""Validation of statistics against a schema: tensorflow-metadata ``Anomalies``.

One ``Anomalies`` message per dataset, as TFDV writes it: ``anomaly_info`` maps each
feature's dotted path (``anomaly_name_format: SERIALIZED_PATH``; the exact path is in
``AnomalyInfo.path``) to its reasons, each with the TFDV anomaly type and a short and a long
description; ``dataset_anomaly_info`` holds dataset-level reasons; ``baseline`` is the schema.
A dataset with no examples gets ``data_missing: true`` and nothing else, as in TFDV.

Severity: every anomaly type is ERROR unless overridden, first by :class:`ValidationSpec`,
then by the schema's own ``AnomalySeverities`` annotation. An ``AnomalyInfo`` has the highest
severity of its reasons. With one reason its descriptions are the reason's; with several, the
short one is "Multiple errors" and the long one joins them (TFDV's convention).

Sliced statistics (several datasets in one list) are validated with :func:`validate_slices`,
which returns one ``Anomalies`` per dataset, keyed by dataset name.

Comparisons with other statistics, drift against ``previous_statistics`` and skew against
``serving_statistics``, add their reasons to the same messages and record the measured
distances in ``drift_skew_info``: :mod:`beam_stats.validation.comparators` lists the
anomaly types and names, :mod:`beam_stats.drift` the measures. Group features' shares and
label disparities are checked by :mod:`beam_stats.validation.groups`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import NamedTuple, TypeAlias

from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2, statistics_pb2

from beam_stats._types import FeaturePath, path_str
from beam_stats.drift import DistanceSpec
from beam_stats.errors import InvalidInputError
from beam_stats.schema.conformance import check_statistics
from beam_stats.schema.extras import anomaly_type, severity, severity_overrides
from beam_stats.schema.features import SERVING, check_environment, environment_if_declared
from beam_stats.schema.view import datasets, one_dataset
from beam_stats.schema.violations import Violation
from beam_stats.stats.stored import check_same_policy
from beam_stats.validation import comparators
from beam_stats.validation.groups import check_groups
from beam_stats.validation.pii import check_pii

AnomalyInfo = anomalies_pb2.AnomalyInfo
Statistics: TypeAlias = (
    statistics_pb2.DatasetFeatureStatisticsList | statistics_pb2.DatasetFeatureStatistics
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ValidationSpec:
    """Options of :func:`validate_statistics`.

    Args:
        severity_overrides: anomaly type name (such as ``"SCHEMA_NEW_COLUMN"``) ->
            ``"WARNING"`` or ``"ERROR"``; wins over the schema's own overrides.
        distances: how drift and skew distances bin and read the statistics.
    """

    severity_overrides: Mapping[str, str] = dataclasses.field(default_factory=dict)
    distances: DistanceSpec = dataclasses.field(default_factory=DistanceSpec)

    def __post_init__(self) -> None:
        if not isinstance(self.severity_overrides, Mapping):
            raise InvalidInputError(
                f"severity_overrides must be a mapping, got {self.severity_overrides!r}"
            )
        normalised = {
            AnomalyInfo.Type.Name(anomaly_type(t)): AnomalyInfo.Severity.Name(severity(s))
            for t, s in self.severity_overrides.items()
        }
        object.__setattr__(self, "severity_overrides", normalised)

    def severities(self, schema: schema_pb2.Schema) -> dict[int, int]:
        """Anomaly type -> severity for the types not at the default (ERROR)."""
        result = severity_overrides(schema)
        result.update({anomaly_type(t): severity(s) for t, s in self.severity_overrides.items()})
        return result


def validate_statistics(
    statistics: Statistics,
    schema: schema_pb2.Schema,
    environment: str | None = None,
    previous_statistics: Statistics | None = None,
    serving_statistics: Statistics | None = None,
    *,
    serving_environment: str | None = None,
    spec: ValidationSpec | None = None,
) -> anomalies_pb2.Anomalies:
    """The anomalies of one dataset's statistics against `schema`.

    Args:
        statistics: statistics of one dataset (a list holding exactly one, or the dataset);
            sliced statistics go to :func:`validate_slices`.
        schema: the expectations.
        environment: the environment the data comes from (e.g. ``"SERVING"``); features
            not expected there may be absent. None expects every feature.
        previous_statistics: the previous span's statistics (one dataset): checks the
            schema's drift comparators and ``num_examples_drift_comparator``.
        serving_statistics: serving statistics (one dataset) when `statistics` are
            training's: checks the skew comparators and schema skew.
        serving_environment: the environment of `serving_statistics`, for what the schema
            expects there; by default ``"SERVING"`` when the schema declares it, else none
            (every feature expected).
        spec: severity overrides, distance options.

    Returns:
        A tensorflow-metadata ``Anomalies`` message (see the module docstring).

    Raises:
        InvalidInputError: a statistics argument holds no dataset or several, or `schema`
            is no Schema.
        SchemaError: `environment` or `serving_environment` is not declared in the schema,
            or one of the schema's annotations is invalid.
        DeserializationError: corrupt sketch state in compared statistics.
    """
    if not isinstance(schema, schema_pb2.Schema):
        raise InvalidInputError(f"expected a Schema, got {type(schema).__name__}")
    controls = _Controls(
        None if previous_statistics is None else one_dataset(previous_statistics),
        None if serving_statistics is None else one_dataset(serving_statistics),
        _serving_environment(schema, serving_environment),
    )
    others = {"previous": controls.previous, "serving": controls.serving}
    named = {name: d for name, d in others.items() if d is not None}
    if named:
        datasets = [one_dataset(statistics), *named.values()]
        check_same_policy(datasets, ["statistics", *named])
    return _validate(
        one_dataset(statistics), schema, environment, spec or ValidationSpec(), controls
    )


def validate_slices(
    statistics: Statistics,
    schema: schema_pb2.Schema,
    environment: str | None = None,
    previous_statistics: Statistics | None = None,
    serving_statistics: Statistics | None = None,
    *,
    serving_environment: str | None = None,
    spec: ValidationSpec | None = None,
) -> dict[str, anomalies_pb2.Anomalies]:
    """The anomalies of every dataset (slice) of `statistics`, each against `schema`.

    Each dataset is compared with the dataset of the same name in `previous_statistics`
    and `serving_statistics`; when both sides hold a single dataset, those two are compared
    whatever their names. A dataset without counterpart is not compared.

    Returns:
        Dataset name -> its ``Anomalies``, in the order of the statistics.

    Raises:
        InvalidInputError: two datasets have the same name, or as :func:`validate_statistics`.
    """
    if not isinstance(schema, schema_pb2.Schema):
        raise InvalidInputError(f"expected a Schema, got {type(schema).__name__}")
    spec = spec or ValidationSpec()
    serving_environment = _serving_environment(schema, serving_environment)
    own = list(datasets(statistics))
    result: dict[str, anomalies_pb2.Anomalies] = {}
    for dataset in own:
        if dataset.name in result:
            raise InvalidInputError(
                f"two datasets are named {dataset.name!r}: slices need distinct names"
            )
        controls = _Controls(
            _counterpart(dataset, own, previous_statistics),
            _counterpart(dataset, own, serving_statistics),
            serving_environment,
        )
        result[dataset.name] = _validate(dataset, schema, environment, spec, controls)
    return result


class _Controls(NamedTuple):
    previous: statistics_pb2.DatasetFeatureStatistics | None
    serving: statistics_pb2.DatasetFeatureStatistics | None
    serving_environment: str | None


_NO_CONTROLS = _Controls(None, None, None)


def _serving_environment(schema: schema_pb2.Schema, given: str | None) -> str | None:
    if given is not None:
        check_environment(schema, given)
        return given
    return environment_if_declared(schema, SERVING)


def _counterpart(
    dataset: statistics_pb2.DatasetFeatureStatistics,
    own: list[statistics_pb2.DatasetFeatureStatistics],
    others: Statistics | None,
) -> statistics_pb2.DatasetFeatureStatistics | None:
    if others is None:
        return None
    candidates = list(datasets(others))
    if len(own) == 1 and len(candidates) == 1:
        return candidates[0]
    return next((d for d in candidates if d.name == dataset.name), None)


def _validate(
    dataset: statistics_pb2.DatasetFeatureStatistics,
    schema: schema_pb2.Schema,
    environment: str | None,
    spec: ValidationSpec,
    controls: _Controls = _NO_CONTROLS,
) -> anomalies_pb2.Anomalies:
    severities = spec.severities(schema)
    anomalies = anomalies_pb2.Anomalies(anomaly_name_format=anomalies_pb2.Anomalies.SERIALIZED_PATH)
    anomalies.baseline.CopyFrom(schema)
    check_environment(schema, environment)  # an undeclared one is an error, data or not
    if dataset.num_examples == 0:
        anomalies.data_missing = True
        return anomalies
    found = check_statistics(schema, dataset, environment)
    compared = comparators.compare(
        dataset,
        schema,
        environment,
        controls.previous,
        controls.serving,
        controls.serving_environment,
        spec.distances,
    )
    features: dict[FeaturePath, list[Violation]] = {
        path: list(violations) for path, violations in found.features.items()
    }
    for path, violations in compared.features.items():
        features.setdefault(path, []).extend(violations)
    for path, violations in check_groups(dataset, schema).items():
        features.setdefault(path, []).extend(violations)
    for path, violations in check_pii(dataset).items():
        features.setdefault(path, []).extend(violations)
    for path, violations in sorted(features.items()):
        info = anomalies.anomaly_info[path_str(path)]
        info.path.step.extend(path)
        fill_info(info, violations, severities)
    if found.dataset or compared.dataset:
        fill_info(anomalies.dataset_anomaly_info, found.dataset + compared.dataset, severities)
    for path in sorted(compared.measurements):
        anomalies.drift_skew_info.append(compared.measurements[path])
    return anomalies


def _level(anomaly_type: int, short: str, severities: Mapping[int, int]) -> int:
    """A reason's severity: its type's override, else its default (the catalogue's)."""
    # Imported here: `python -m beam_stats.validation.catalogue` imports this package first.
    from beam_stats.validation.catalogue import default_severity

    if anomaly_type in severities:
        return severities[anomaly_type]
    default = default_severity(AnomalyInfo.Type.Name(anomaly_type), short)
    return int(AnomalyInfo.Severity.Value(default))


def fill_info(
    info: anomalies_pb2.AnomalyInfo, violations: list[Violation], severities: Mapping[int, int]
) -> None:
    """Adds `violations` to `info` as its reasons; its severity is the highest of theirs
    (`severities` by anomaly type), its descriptions the one violation's when it is one."""
    for violation in violations:
        info.reason.add(
            type=violation.type,
            short_description=violation.short,
            description=violation.long,
        )
    info.severity = max(_level(v.type, v.short, severities) for v in violations)
    if len(violations) == 1:
        info.short_description = violations[0].short
        info.description = violations[0].long
    else:
        info.short_description = "Multiple errors"
        info.description = " ".join(v.long for v in violations)


class AnomalyRow(NamedTuple):
    """One reason of an ``Anomalies`` message, flattened for tables and reports."""

    feature: str  # dotted path; "" for a dataset-level reason
    type: str  # the AnomalyInfo.Type name
    severity: str  # WARNING or ERROR
    short_description: str
    description: str


def anomaly_rows(
    anomalies: anomalies_pb2.Anomalies, spec: ValidationSpec | None = None
) -> Iterator[AnomalyRow]:
    """Every reason of `anomalies`: dataset-level first, then features by path.

    Each reason's severity is its type's (the schema in ``baseline``, then `spec`), not its
    feature's highest.
    """
    severities = (spec or ValidationSpec()).severities(anomalies.baseline)

    def rows(feature: str, info: anomalies_pb2.AnomalyInfo) -> Iterator[AnomalyRow]:
        for reason in info.reason:
            level = _level(reason.type, reason.short_description, severities)
            yield AnomalyRow(
                feature,
                AnomalyInfo.Type.Name(reason.type),
                AnomalyInfo.Severity.Name(level),
                reason.short_description,
                reason.description,
            )

    yield from rows("", anomalies.dataset_anomaly_info)
    for name in sorted(anomalies.anomaly_info):
        yield from rows(name, anomalies.anomaly_info[name])
