"""What to compute: the options of a statistics run, as small frozen dataclasses.

``StatisticsSpec.families`` is the registry of statistic families a run computes for every
feature (:mod:`beam_stats.stats.family`): the built-ins of :data:`BUILTIN_STATISTICS`,
configured from the spec, then the spec's custom ``statistics`` by name.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from typing import Any

from beam_stats._types import FeaturePath, feature_paths
from beam_stats.errors import InvalidInputError
from beam_stats.proto import sketches_pb2
from beam_stats.sketches import (
    DistinctCountSpec,
    FrequentItemsSpec,
    QuantilesSpec,
    WeightedQuantilesSpec,
)
from beam_stats.stats.composite import CompositeFeatureSpec
from beam_stats.stats.counts import PresenceFamily
from beam_stats.stats.custom import CustomStatisticSpec, check_statistics
from beam_stats.stats.family import StatisticFamily
from beam_stats.stats.kinds import ValueKindsFamily
from beam_stats.stats.label_spec import LabelSpec
from beam_stats.stats.label_tables import LabelFamily
from beam_stats.stats.numeric import NumericFamily
from beam_stats.stats.pii import PiiFamily
from beam_stats.stats.privacy import PrivacySpec
from beam_stats.stats.strings import StringFamily

#: The built-in statistic families, in the order they report (the order of their
#: ``custom_stats``): presence first, since the others embed its ``common_stats``. Each is
#: configured from the spec by its ``from_spec``. A new built-in family is a module with its
#: accumulator and its entry (see :class:`~beam_stats.stats.family.StatisticFamily`), a
#: field of ``FeatureState`` for its state, and a line here.
BUILTIN_STATISTICS = (PresenceFamily, NumericFamily, StringFamily, ValueKindsFamily, PiiFamily)


@dataclasses.dataclass(frozen=True, kw_only=True)
class StatisticsSpec:
    """Options of a statistics run; every field has the TFDV default.

    Args:
        quantiles: the sketch behind medians and histograms (exact up to a limit).
        frequent_items: the Misra-Gries sketch behind top values and rank histograms.
        distinct: the distinct-count sketch (exact, then HyperLogLog) behind ``unique``.
        weighted_quantiles: the sketch behind weighted medians and histograms.
        num_histogram_buckets: buckets of the equi-width ("standard") histogram.
        num_quantiles_histogram_buckets: buckets of the quantiles histogram.
        num_values_histogram_buckets: buckets of the values-per-example histogram.
        num_top_values: top values listed per string feature.
        num_rank_histogram_buckets: buckets of the rank histogram.
        categorical_features: int features summarised like strings (dotted names or tuples).
        bytes_features: binary features always reported as BYTES (others are BYTES only when
            most of their values are not valid UTF-8).
        weight_feature: a numeric feature with one value per example that weighs it; adds
            the ``weighted_*`` statistics. Missing, negative or non-finite weights count as
            0 and are reported (``num_invalid_weights`` on the weight feature).
        composites: sparse and weighted features whose TFDV statistics (``missing_value``,
            ``missing_index``, length differences, ...) are computed at their own paths;
            :func:`beam_stats.schema.composite_specs` builds them from a schema. States
            merge only when they count the same composites.
        statistics: custom statistics computed beside the built-ins
            (:mod:`beam_stats.stats.custom`); states merge only when made with the same.
        detect_pii: count the values of string features that look like personal data
            (e-mail, phone, card, IP, IBAN, US SSN; :mod:`beam_stats.stats.pii`), written as
            the custom statistics ``pii_<kind>``.
        label: the label, for what each feature says about it (lift, mutual information,
            covariance with a numeric label; :mod:`beam_stats.stats.labels`); states merge
            only when made with the same label spec.
        groups: group features (dotted names or tuples), for the table of each group's
            share of examples, label distribution and disparity
            (:mod:`beam_stats.drift.groups`). A group feature is summarised like a
            categorical feature (its ints as strings, so its values are counted exactly up
            to the frequent-items ``capacity``); the list is written with the results
            (``ResultOptions.groups``) so reports and validation find it.
        privacy: what the statistics keep of the values (redaction, keyed hashes, folding
            of rare values; :mod:`beam_stats.stats.privacy`); recorded in the state, and
            states merge only when made with the same policy. The label and the group
            features cannot be redacted or hashed: their values name the label and group
            statistics.
    """

    quantiles: QuantilesSpec = dataclasses.field(default_factory=QuantilesSpec)
    frequent_items: FrequentItemsSpec = dataclasses.field(default_factory=FrequentItemsSpec)
    distinct: DistinctCountSpec = dataclasses.field(default_factory=DistinctCountSpec)
    weighted_quantiles: WeightedQuantilesSpec = dataclasses.field(
        default_factory=WeightedQuantilesSpec
    )
    num_histogram_buckets: int = 10
    num_quantiles_histogram_buckets: int = 10
    num_values_histogram_buckets: int = 10
    num_top_values: int = 20
    num_rank_histogram_buckets: int = 1000
    categorical_features: frozenset[FeaturePath] = frozenset()
    bytes_features: frozenset[FeaturePath] = frozenset()
    weight_feature: FeaturePath | None = None
    composites: tuple[CompositeFeatureSpec, ...] = ()
    statistics: tuple[CustomStatisticSpec, ...] = ()
    label: LabelSpec | None = None
    groups: tuple[FeaturePath, ...] = ()
    detect_pii: bool = True
    privacy: PrivacySpec = dataclasses.field(default_factory=PrivacySpec)

    def __post_init__(self) -> None:
        for name in (
            "num_histogram_buckets",
            "num_quantiles_histogram_buckets",
            "num_values_histogram_buckets",
            "num_top_values",
            "num_rank_histogram_buckets",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise InvalidInputError(f"{name} must be a positive int, got {value!r}")
        capacity = self.frequent_items.capacity
        for name in ("num_top_values", "num_rank_histogram_buckets"):
            if getattr(self, name) > capacity:
                raise InvalidInputError(
                    f"{name} ({getattr(self, name)}) cannot exceed the frequent-items "
                    f"capacity ({capacity})"
                )
        if isinstance(self.groups, str):
            raise InvalidInputError(f"groups must be a sequence of features, got {self.groups!r}")
        groups = tuple(sorted(feature_paths(self.groups)))
        object.__setattr__(self, "groups", groups)
        categorical = feature_paths(self.categorical_features) | frozenset(groups)
        object.__setattr__(self, "categorical_features", categorical)
        object.__setattr__(self, "bytes_features", feature_paths(self.bytes_features))
        if self.weight_feature is not None:
            (weight,) = feature_paths([self.weight_feature])
            object.__setattr__(self, "weight_feature", weight)
        composites = tuple(self.composites)
        for composite in composites:
            if not isinstance(composite, CompositeFeatureSpec):
                raise InvalidInputError(
                    f"composites must be CompositeFeatureSpecs, got {composite!r}"
                )
        paths = [c.path for c in composites]
        if len(set(paths)) != len(paths):
            raise InvalidInputError(f"two composites share a path among {paths}")
        object.__setattr__(self, "composites", composites)
        object.__setattr__(self, "statistics", check_statistics(self.statistics))
        if isinstance(self.label, str):
            object.__setattr__(self, "label", LabelSpec(feature=self.label))
        if self.label is not None and not isinstance(self.label, LabelSpec):
            raise InvalidInputError(
                f"label must be a LabelSpec or a feature name, got {self.label!r}"
            )
        self._check_privacy()

    def _check_privacy(self) -> None:
        if not isinstance(self.privacy, PrivacySpec):
            raise InvalidInputError(f"privacy must be a PrivacySpec, got {self.privacy!r}")
        hidden = self.privacy.redact | self.privacy.hash
        named = [("the label", self.label.path)] if self.label is not None else []
        named += [("the group feature", path) for path in self.groups]
        for what, path in named:
            if path in hidden:
                raise InvalidInputError(
                    f"{what} {'.'.join(path)!r} cannot be redacted or hashed: its values name "
                    "the label and group statistics"
                )

    @functools.cached_property
    def families(self) -> tuple[StatisticFamily[Any], ...]:
        """The registry of this run (see the module docstring); the custom statistics by
        name, the order their results have always been written in."""
        builtins: tuple[StatisticFamily[Any], ...] = tuple(
            family.from_spec(self) for family in BUILTIN_STATISTICS
        )
        label: tuple[StatisticFamily[Any], ...] = (
            (LabelFamily(self.label),) if self.label is not None else ()
        )
        return builtins + label + tuple(sorted(self.statistics, key=lambda s: s.name))

    @property
    def needs_label_pass(self) -> bool:
        """Whether the label's bins come from a first pass over it
        (``LabelSpec.quantile_bins``; :mod:`beam_stats.stats.label_bins`)."""
        return self.label is not None and self.label.quantile_bins > 0

    def with_label_bins(self, edges: Sequence[float]) -> StatisticsSpec:
        """This spec with `edges` as the label's bins, in place of its ``quantile_bins``.

        Raises:
            InvalidInputError: the spec has no label, or the edges do not increase.
        """
        if self.label is None:
            raise InvalidInputError("with_label_bins needs a spec with a label")
        return dataclasses.replace(self, label=self.label.with_bins(edges))

    def stored_head(self, format_version: int) -> bytes:
        """The deterministic bytes of a ``StoredFeatureState`` of this spec holding only
        `format_version`, :meth:`settings` and :meth:`options` (the fields before the
        state's): the same for every feature but the version, so made once."""
        version = sketches_pb2.StoredFeatureState(format_version=format_version)
        return version.SerializeToString(deterministic=True) + self._settings_and_options

    @functools.cached_property
    def _settings_and_options(self) -> bytes:
        head = sketches_pb2.StoredFeatureState(settings=self.settings(), options=self.options())
        return head.SerializeToString(deterministic=True)

    def options(self) -> sketches_pb2.ResultOptions:
        """How finished statistics are written (may differ between files that merge)."""
        return sketches_pb2.ResultOptions(
            num_histogram_buckets=self.num_histogram_buckets,
            num_quantiles_histogram_buckets=self.num_quantiles_histogram_buckets,
            num_values_histogram_buckets=self.num_values_histogram_buckets,
            num_top_values=self.num_top_values,
            num_rank_histogram_buckets=self.num_rank_histogram_buckets,
            groups=[".".join(path) for path in self.groups],
        )

    @classmethod
    def from_protos(
        cls, settings: sketches_pb2.SketchSettings, options: sketches_pb2.ResultOptions
    ) -> StatisticsSpec:
        """The spec a stored state was made with (see :meth:`settings`, :meth:`options`)."""
        return cls(
            quantiles=QuantilesSpec(
                capacity=settings.quantiles_capacity, exact_limit=settings.quantiles_exact_limit
            ),
            frequent_items=FrequentItemsSpec(capacity=settings.top_k_capacity),
            distinct=DistinctCountSpec(
                precision=settings.distinct_precision, exact_limit=settings.distinct_exact_limit
            ),
            weight_feature=(
                tuple(settings.weight_feature.split(".")) if settings.weight_feature else None
            ),
            weighted_quantiles=WeightedQuantilesSpec(
                capacity=settings.weighted_quantiles_capacity or WeightedQuantilesSpec.capacity
            ),
            num_histogram_buckets=options.num_histogram_buckets,
            num_quantiles_histogram_buckets=options.num_quantiles_histogram_buckets,
            num_values_histogram_buckets=options.num_values_histogram_buckets,
            num_top_values=options.num_top_values,
            num_rank_histogram_buckets=options.num_rank_histogram_buckets,
            composites=tuple(CompositeFeatureSpec.from_proto(c) for c in settings.composites),
            label=LabelSpec.from_proto(settings.label) if settings.HasField("label") else None,
            groups=tuple(tuple(g.split(".")) for g in options.groups),
            privacy=PrivacySpec.from_proto(settings.privacy),
        )

    def settings(self) -> sketches_pb2.SketchSettings:
        """The sketch parameters that two states must share to merge."""
        return sketches_pb2.SketchSettings(
            quantiles_capacity=self.quantiles.capacity,
            quantiles_exact_limit=self.quantiles.exact_limit,
            top_k_capacity=self.frequent_items.capacity,
            distinct_precision=self.distinct.precision,
            distinct_exact_limit=self.distinct.exact_limit,
            weight_feature=".".join(self.weight_feature) if self.weight_feature else "",
            weighted_quantiles_capacity=(
                self.weighted_quantiles.capacity if self.weight_feature else 0
            ),
            composites=[c.to_proto() for c in self.composites],
            custom_statistics=[s.fingerprint() for s in self.statistics],
            label=self.label.to_proto() if self.label is not None else None,
            privacy=self.privacy.to_proto() if self.privacy.active else None,
        )
