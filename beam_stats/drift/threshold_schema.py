"""Drift and skew thresholds kept in a schema, per feature.

Each feature has two sets: ``skew`` (training against serving statistics) and ``drift``
(current against previous statistics). Where they are stored:

==============================  ===============================================================
measure (Python name)           schema field
==============================  ===============================================================
``l_infinity``                  ``Feature.{skew,drift}_comparator.infinity_norm.threshold``
``jensen_shannon``              ``...jensen_shannon_divergence.threshold``
``normalized_abs_difference``   ``...normalized_abs_difference.threshold``
``psi``                         ``beam_stats.FeatureComparators.{skew,drift}``
                                ``.population_stability_index.threshold``
``ks``                          ``... .kolmogorov_smirnov.threshold``
``wasserstein``                 ``... .normalized_wasserstein.threshold``
``hellinger``                   ``... .hellinger.threshold``
``chi_squared``                 ``... .chi_squared.min_p_value`` (an anomaly *below* it)
``missing_fraction``            ``... .missing_fraction.threshold``
``concept_shift``               ``... .concept_shift.threshold``
``group_share``                 ``... .group_share.threshold``
==============================  ===============================================================

A group feature's own thresholds (one dataset, :class:`GroupThresholds`) are in the same
``beam_stats.FeatureComparators`` message, field ``groups``: ``min_share.threshold`` (an
anomaly *below* it) and ``max_label_disparity.threshold``.

The first three are tensorflow-metadata's ``FeatureComparator`` fields, so TFDV reads and
applies them too. The others are in a ``beam_stats.FeatureComparators`` message packed in
the feature's ``annotation.extra_metadata`` (``protos/beam_stats/proto/drift.proto``),
which TFDV loads and keeps without reading. Every threshold is an upper bound on the measure
(an anomaly when the value is above it), except ``chi_squared``, a lower bound on the
p-value.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Mapping
from typing import Literal

from google.protobuf.message import DecodeError
from tensorflow_metadata.proto.v0 import schema_pb2

from beam_stats._types import FeaturePath
from beam_stats.errors import InvalidInputError, SchemaError
from beam_stats.proto import drift_pb2
from beam_stats.schema.features import as_path, get_feature, iter_features

Kind = Literal["drift", "skew"]

#: TFMD ``FeatureComparator`` field of each measure it has.
TFMD_FIELDS = {
    "l_infinity": "infinity_norm",
    "jensen_shannon": "jensen_shannon_divergence",
    "normalized_abs_difference": "normalized_abs_difference",
}
#: ``beam_stats.ComparatorThresholds`` field of each other measure.
OWN_FIELDS = {
    "psi": "population_stability_index",
    "ks": "kolmogorov_smirnov",
    "wasserstein": "normalized_wasserstein",
    "hellinger": "hellinger",
    "chi_squared": "chi_squared",
    "missing_fraction": "missing_fraction",
    "concept_shift": "concept_shift",
    "group_share": "group_share",
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Thresholds:
    """The thresholds of one comparison of one feature; None: not checked.

    Args:
        l_infinity: L-infinity distance of value shares (categorical).
        jensen_shannon: Jensen-Shannon divergence (categorical and numeric).
        normalized_abs_difference: TFDV's normalized absolute difference (categorical).
        psi: population stability index (categorical and numeric).
        ks: Kolmogorov-Smirnov statistic (numeric).
        wasserstein: Wasserstein-1 distance over the base's standard deviation (numeric).
        hellinger: Hellinger distance (categorical and numeric).
        chi_squared: the smallest acceptable p-value of the chi-squared test (categorical).
        missing_fraction: the largest acceptable change of the fraction of examples
            without the feature (every feature).
        concept_shift: the largest acceptable change of P(label | feature)
            (:mod:`beam_stats.drift.concept`; features with label-aware statistics).
        group_share: the largest acceptable change of a group's share of examples
            (:mod:`beam_stats.drift.groups`; group features).
    """

    l_infinity: float | None = None
    jensen_shannon: float | None = None
    normalized_abs_difference: float | None = None
    psi: float | None = None
    ks: float | None = None
    wasserstein: float | None = None
    hellinger: float | None = None
    chi_squared: float | None = None
    missing_fraction: float | None = None
    concept_shift: float | None = None
    group_share: float | None = None

    def __post_init__(self) -> None:
        for name, value in self.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InvalidInputError(f"threshold {name} must be a number, got {value!r}")
            if not math.isfinite(value) or value < 0:
                raise InvalidInputError(f"threshold {name} must be finite and >= 0, got {value}")
            if name == "chi_squared" and not 0 < value <= 1:
                raise InvalidInputError(
                    f"threshold chi_squared is a p-value in (0, 1], got {value}"
                )
            object.__setattr__(self, name, float(value))

    def items(self) -> Iterator[tuple[str, float]]:
        """(measure, threshold) of every threshold that is set."""
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is not None:
                yield field.name, value

    @property
    def empty(self) -> bool:
        return next(self.items(), None) is None

    def overridden_by(self, other: Thresholds) -> Thresholds:
        """These thresholds with those `other` sets replacing them."""
        return Thresholds(**{**dict(self.items()), **dict(other.items())})

    @classmethod
    def from_mapping(cls, values: Mapping[str, float]) -> Thresholds:
        """Thresholds from measure name -> value.

        Raises:
            InvalidInputError: an unknown measure name or a bad value.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InvalidInputError(
                f"unknown measure {unknown[0]!r}; known: {', '.join(sorted(known))}"
            )
        return cls(**values)


def _own(feature: schema_pb2.Feature) -> tuple[int | None, drift_pb2.FeatureComparators]:
    """The index of the feature's FeatureComparators in extra_metadata, and the message."""
    message = drift_pb2.FeatureComparators()
    for i, extra in enumerate(feature.annotation.extra_metadata):
        if extra.Is(drift_pb2.FeatureComparators.DESCRIPTOR):
            try:
                extra.Unpack(message)
            except DecodeError as e:
                raise SchemaError(
                    f"unreadable FeatureComparators annotation on feature {feature.name}: {e}"
                ) from e
            return i, message
    return None, message


def thresholds(feature: schema_pb2.Feature, kind: Kind) -> Thresholds:
    """The `kind` (``"drift"`` or ``"skew"``) thresholds a schema feature sets.

    Raises:
        SchemaError: the feature's FeatureComparators annotation is unreadable.
    """
    tfmd = feature.drift_comparator if kind == "drift" else feature.skew_comparator
    values: dict[str, float] = {}
    for name, field in TFMD_FIELDS.items():
        comparator = getattr(tfmd, field)
        if comparator.HasField("threshold"):
            values[name] = comparator.threshold
    own = getattr(_own(feature)[1], kind)
    for name, field in OWN_FIELDS.items():
        if own.HasField(field):
            message = getattr(own, field)
            values[name] = message.min_p_value if name == "chi_squared" else message.threshold
    try:
        return Thresholds(**values)
    except InvalidInputError as e:
        raise SchemaError(f"feature {feature.name}: {kind} comparator: {e}") from e


def set_thresholds(feature: schema_pb2.Feature, kind: Kind, values: Thresholds) -> None:
    """Sets `values` as `feature`'s `kind` thresholds, in place; others are kept."""
    tfmd = feature.drift_comparator if kind == "drift" else feature.skew_comparator
    index, message = _own(feature)
    own = getattr(message, kind)
    for name, value in values.items():
        if name in TFMD_FIELDS:
            getattr(tfmd, TFMD_FIELDS[name]).threshold = value
        elif name == "chi_squared":
            own.chi_squared.min_p_value = value
        else:
            getattr(own, OWN_FIELDS[name]).threshold = value
    if message.ByteSize() == 0:
        return
    if index is None:
        feature.annotation.extra_metadata.add().Pack(message)
    else:
        feature.annotation.extra_metadata[index].Pack(message)


def _with_thresholds(
    schema: schema_pb2.Schema,
    feature: str | FeaturePath | None,
    kind: Kind,
    values: Thresholds,
) -> schema_pb2.Schema:
    result = schema_pb2.Schema()
    result.CopyFrom(schema)
    if feature is None:
        targets = [f for _, f in iter_features(result) if f.type != schema_pb2.STRUCT]
    else:
        targets = [get_feature(result, as_path(feature))]
    for target in targets:
        set_thresholds(target, kind, values)
    return result


def set_drift_thresholds(
    schema: schema_pb2.Schema, feature: str | FeaturePath | None = None, **thresholds: float
) -> schema_pb2.Schema:
    """A copy of `schema` whose feature checks these drift thresholds (vs previous data).

    Args:
        feature: a dotted name or path; None sets every non-STRUCT feature.
        thresholds: measure name (``l_infinity``, ``jensen_shannon``,
            ``normalized_abs_difference``, ``psi``, ``ks``, ``wasserstein``, ``hellinger``,
            ``chi_squared``, ``missing_fraction``) -> threshold; others are kept.

    Raises:
        InvalidInputError: an unknown measure, a bad value, or no such feature.
    """
    return _with_thresholds(schema, feature, "drift", Thresholds.from_mapping(thresholds))


def set_skew_thresholds(
    schema: schema_pb2.Schema, feature: str | FeaturePath | None = None, **thresholds: float
) -> schema_pb2.Schema:
    """A copy of `schema` whose feature checks these skew thresholds (training vs serving);
    arguments as :func:`set_drift_thresholds`."""
    return _with_thresholds(schema, feature, "skew", Thresholds.from_mapping(thresholds))


@dataclasses.dataclass(frozen=True, kw_only=True)
class GroupThresholds:
    """What one dataset of a group feature must show (:mod:`beam_stats.drift.groups`);
    None: not checked.

    Args:
        min_share: the smallest acceptable share of examples of a group (GROUP_SHARE_LOW).
        max_label_disparity: the largest acceptable ``max_y |p(y | group) - p(y)|``
            beyond sampling noise (GROUP_LABEL_DISPARITY_HIGH).
    """

    min_share: float | None = None
    max_label_disparity: float | None = None

    def __post_init__(self) -> None:
        for name in ("min_share", "max_label_disparity"):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InvalidInputError(f"group threshold {name} must be a number, got {value!r}")
            if not 0 <= value <= 1:
                raise InvalidInputError(f"group threshold {name} must be in [0, 1], got {value}")
            object.__setattr__(self, name, float(value))

    @property
    def empty(self) -> bool:
        return self.min_share is None and self.max_label_disparity is None


def group_thresholds(feature: schema_pb2.Feature) -> GroupThresholds:
    """The group thresholds a schema feature sets (none: not a checked group feature).

    Raises:
        SchemaError: the feature's FeatureComparators annotation is unreadable or invalid.
    """
    groups = _own(feature)[1].groups
    values = {
        name: getattr(groups, name).threshold
        for name in ("min_share", "max_label_disparity")
        if groups.HasField(name)
    }
    try:
        return GroupThresholds(**values)
    except InvalidInputError as e:
        raise SchemaError(f"feature {feature.name}: group thresholds: {e}") from e


def set_group_thresholds(
    schema: schema_pb2.Schema,
    feature: str | FeaturePath,
    *,
    min_share: float | None = None,
    max_label_disparity: float | None = None,
) -> schema_pb2.Schema:
    """A copy of `schema` whose group feature `feature` checks these thresholds (those left
    None are kept as they were).

    Raises:
        InvalidInputError: a bad value, or no such feature.
    """
    values = GroupThresholds(min_share=min_share, max_label_disparity=max_label_disparity)
    result = schema_pb2.Schema()
    result.CopyFrom(schema)
    target = get_feature(result, as_path(feature))
    index, message = _own(target)
    for name in ("min_share", "max_label_disparity"):
        value = getattr(values, name)
        if value is not None:
            getattr(message.groups, name).threshold = value
    if message.ByteSize() and index is None:
        target.annotation.extra_metadata.add().Pack(message)
    elif message.ByteSize():
        target.annotation.extra_metadata[index].Pack(message)
    return result
