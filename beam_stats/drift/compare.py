"""Every distance between two datasets' statistics, feature by feature, with thresholds.

Which measures apply (the others are listed as not applicable):

* categorical features (string statistics, including int features summarised as strings):
  ``l_infinity``, ``jensen_shannon``, ``normalized_abs_difference``, ``psi``, ``hellinger``,
  ``chi_squared``;
* numeric features: ``jensen_shannon``, ``psi``, ``ks``, ``wasserstein``, ``hellinger``;
* group features (``StatisticsSpec.groups``): ``group_share``, the largest change of a
  group's share of examples (:mod:`beam_stats.drift.groups`);
* every feature: ``missing_fraction``, ``|m_test - m_base|`` where ``m`` is the fraction of
  examples without the feature (``num_missing / (num_missing + num_non_missing)``; a feature
  absent from a dataset's statistics is missing from all of its examples). Exact.
* features with label-aware statistics (``--label``): ``concept_shift``
  (:mod:`beam_stats.drift.concept`). Listed only when a dataset has them or a threshold asks
  for the measure (then it says which dataset lacks them).

A feature whose statistics are numeric in one dataset and categorical in the other gets no
distribution measure (see :mod:`beam_stats.drift.schema_skew`).

Each dataset's side is read from its sketch state when the feature has one (see
:mod:`beam_stats.drift.categorical` and :mod:`beam_stats.drift.numeric`), else from its
finished statistics, and each :class:`~beam_stats.drift.measure.Distance` says which.

The base is the reference: the previous span for drift, the training data for skew. The
asymmetric measures use it so: PSI's expected shares, Wasserstein's standard deviation.
Values are unweighted (a weight feature's weights are not used).

A measure is over its threshold (:attr:`Measured.breached`) when its value is above it, or
for ``chi_squared`` when the p-value is below it. The point value decides, as in TFDV; the
error bound, where there is one, is reported beside it, not added or subtracted.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Collection
from typing import cast

from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

from beam_stats._types import FeaturePath
from beam_stats.drift import categorical, numeric
from beam_stats.drift.chi_square import chi_squared
from beam_stats.drift.concept import concept_shift
from beam_stats.drift.defaults import applicable
from beam_stats.drift.groups import group_share_shift, group_table
from beam_stats.drift.hellinger import hellinger_categorical, hellinger_numeric
from beam_stats.drift.infinity_norm import l_infinity
from beam_stats.drift.jensen_shannon import jensen_shannon_categorical, jensen_shannon_numeric
from beam_stats.drift.kolmogorov_smirnov import kolmogorov_smirnov
from beam_stats.drift.measure import Distance, DistanceSpec
from beam_stats.drift.normalized_difference import normalized_abs_difference
from beam_stats.drift.psi import psi_categorical, psi_numeric
from beam_stats.drift.threshold_schema import Kind, Thresholds, thresholds
from beam_stats.drift.wasserstein import wasserstein
from beam_stats.errors import IncompatibleMergeError
from beam_stats.schema.features import find_feature
from beam_stats.schema.view import dataset_views, one_dataset
from beam_stats.stats import FeatureAccumulator, accumulator_from_statistics
from beam_stats.stats.stored import check_same_policy

Categorical = categorical.Categorical
Numeric = numeric.Numeric

CATEGORICAL_MEASURES: dict[str, Callable[[Categorical, Categorical, DistanceSpec], Distance | None]]
CATEGORICAL_MEASURES = {
    "l_infinity": lambda a, b, spec: l_infinity(a, b),
    "jensen_shannon": lambda a, b, spec: jensen_shannon_categorical(a, b),
    "normalized_abs_difference": lambda a, b, spec: normalized_abs_difference(a, b),
    "psi": lambda a, b, spec: psi_categorical(a, b, spec.psi_floor),
    "hellinger": lambda a, b, spec: hellinger_categorical(a, b),
    "chi_squared": lambda a, b, spec: chi_squared(a, b),
}
NUMERIC_MEASURES: dict[str, Callable[[Numeric, Numeric, DistanceSpec], Distance | None]]
NUMERIC_MEASURES = {
    "jensen_shannon": lambda a, b, spec: jensen_shannon_numeric(
        a, b, spec.num_bins, spec.grid_size
    ),
    "psi": lambda a, b, spec: psi_numeric(a, b, spec.num_bins, spec.grid_size, spec.psi_floor),
    "ks": lambda a, b, spec: kolmogorov_smirnov(a, b, spec.grid_size),
    "wasserstein": lambda a, b, spec: wasserstein(a, b, spec.grid_size),
    "hellinger": lambda a, b, spec: hellinger_numeric(a, b, spec.num_bins, spec.grid_size),
}
#: Every measure, in display order.
MEASURES = (
    "l_infinity",
    "jensen_shannon",
    "normalized_abs_difference",
    "psi",
    "ks",
    "wasserstein",
    "hellinger",
    "chi_squared",
    "missing_fraction",
    "concept_shift",
    "group_share",
)


_UNREAD = object()  # a FeatureData's distribution not read yet


class FeatureData:
    """One feature of one dataset: its finished statistics, and its sketch state if any."""

    def __init__(
        self,
        path: FeaturePath,
        stats: statistics_pb2.FeatureNameStatistics,
        dataset: statistics_pb2.DatasetFeatureStatistics,
    ) -> None:
        self.path = path
        self.stats = stats
        self._dataset = dataset
        self._loaded = False
        self._accumulator: FeatureAccumulator | None = None
        self._categorical: object = _UNREAD
        self._numeric: object = _UNREAD

    @property
    def accumulator(self) -> FeatureAccumulator | None:
        """The feature's sketch state; None when the statistics carry none.

        Raises:
            DeserializationError: the state is corrupt or of an unknown format.
        """
        if not self._loaded:
            self._loaded = True
            alone = statistics_pb2.DatasetFeatureStatistics(
                name=self._dataset.name,
                num_examples=self._dataset.num_examples,
                features=[self.stats],
            )
            try:
                self._accumulator = next(
                    iter(accumulator_from_statistics(alone, drop_custom=True).features.values())
                )
            except IncompatibleMergeError:  # no state: fall back to the finished statistics
                self._accumulator = None
        return self._accumulator

    @property
    def num_examples(self) -> int:
        """The examples of the feature's dataset."""
        return int(self._dataset.num_examples)

    @property
    def kind(self) -> str:
        """``categorical``, ``numeric`` or ``other`` (bytes and struct statistics)."""
        which = self.stats.WhichOneof("stats")
        return {"string_stats": "categorical", "num_stats": "numeric"}.get(which or "", "other")

    def categorical(self) -> Categorical | None:
        """The value counts (from the sketch state, else the finished statistics); read once,
        as every categorical measure of the feature takes them."""
        if self._categorical is _UNREAD:
            acc = self.accumulator
            found = categorical.from_state(acc) if acc is not None else None
            self._categorical = found or categorical.from_statistics(self.stats)
        return cast(Categorical | None, self._categorical)

    def numeric(self) -> Numeric | None:
        """The numeric distribution, read once (see :meth:`categorical`)."""
        if self._numeric is _UNREAD:
            acc = self.accumulator
            if acc is not None and acc.numeric is not None and acc.numeric.moments.count:
                self._numeric = numeric.from_state(acc)
            else:
                self._numeric = numeric.from_statistics(self.stats)
        return cast(Numeric | None, self._numeric)

    @property
    def missing_fraction(self) -> float | None:
        which = self.stats.WhichOneof("stats")
        if which is None:
            return None
        common = getattr(self.stats, which).common_stats
        seen = common.num_missing + common.num_non_missing
        return float(common.num_missing / seen) if seen else None


def features_of(
    statistics: statistics_pb2.DatasetFeatureStatisticsList
    | statistics_pb2.DatasetFeatureStatistics,
) -> dict[FeaturePath, FeatureData]:
    """The features of one dataset's statistics by path."""
    dataset = one_dataset(statistics)
    views = dataset_views(dataset)
    return {
        path: FeatureData(path, view.stats, dataset)
        for path, view in views.items()
        if not view.composite_only  # a sparse or weighted feature's checks: nothing to compare
    }


@dataclasses.dataclass(frozen=True)
class Measured:
    """One measure of one feature, with its threshold.

    Attributes:
        measure: the measure's name (see :data:`MEASURES`).
        distance: the result; None when it could not be computed (see `note`).
        threshold: the threshold, None when none is set.
        note: why there is no result, or "".
    """

    measure: str
    distance: Distance | None
    threshold: float | None
    note: str = ""

    @property
    def ratio(self) -> float:
        """How far the value is along its threshold: ``value / threshold`` (for
        ``chi_squared``, ``threshold / p_value``); above 1 is a breach; NaN without both."""
        d, t = self.distance, self.threshold
        if d is None or t is None:
            return math.nan
        if self.measure == "chi_squared":
            if d.p_value is None:
                return math.nan
            return t / d.p_value if d.p_value > 0 else math.inf
        if t > 0:
            return d.value / t
        return math.inf if d.value > 0 else 0.0

    @property
    def breached(self) -> bool:
        """Whether the value is beyond its threshold (chi-squared: the p-value below)."""
        d, t = self.distance, self.threshold
        if d is None or t is None:
            return False
        if self.measure == "chi_squared":
            return d.p_value is not None and d.p_value < t
        return d.value > t


@dataclasses.dataclass(frozen=True)
class FeatureComparison:
    """Every measure of one feature (base: the reference; test: the data checked)."""

    path: FeaturePath
    base_kind: str | None  # None: the feature is absent from the base statistics
    test_kind: str | None
    measured: tuple[Measured, ...]

    @property
    def breaches(self) -> list[Measured]:
        return [m for m in self.measured if m.breached]


def compare_feature(
    base: FeatureData | None,
    test: FeatureData | None,
    limits: Thresholds,
    *,
    measures: Collection[str] | None = None,
    spec: DistanceSpec | None = None,
) -> FeatureComparison:
    """The measures of one feature (`measures`, by default all; see the module docstring).

    Args:
        base, test: the feature in each dataset; None when a dataset lacks it.
        limits: the thresholds to check against.
    """
    spec = spec or DistanceSpec()
    wanted = [m for m in MEASURES if measures is None or m in measures]
    threshold = dict(limits.items())
    kinds = (base.kind if base else None, test.kind if test else None)
    measured = []
    for name in wanted:
        if name == "missing_fraction":
            distance, note = _missing(base, test)
        elif name == "concept_shift":
            if threshold.get(name) is None and not (_labeled(base) or _labeled(test)):
                continue  # nothing to say: no labels anywhere, and no threshold asks for one
            distance, note = _concept(base, test)
        elif name == "group_share":
            distance, note = _group_share(base, test)
        else:
            distance, note = _distribution(name, base, test, spec)
        measured.append(Measured(name, distance, threshold.get(name), note))
    either = base or test
    path = either.path if either is not None else ()
    return FeatureComparison(path, kinds[0], kinds[1], tuple(measured))


def _missing(base: FeatureData | None, test: FeatureData | None) -> tuple[Distance | None, str]:
    # A feature absent from a dataset's statistics is missing from all its examples.
    a = base.missing_fraction if base is not None else 1.0
    b = test.missing_fraction if test is not None else 1.0
    if a is None or b is None:
        return None, "no examples to count"
    detail = f"missing in {100 * a:.4g}% of base examples, {100 * b:.4g}% of test examples"
    return Distance(abs(b - a), 0.0, "statistics", detail), ""


def _labeled(feature: FeatureData | None) -> bool:
    return (
        feature is not None
        and feature.accumulator is not None
        and (feature.accumulator.label is not None)
    )


def _concept(base: FeatureData | None, test: FeatureData | None) -> tuple[Distance | None, str]:
    if base is None or test is None:
        return None, f"only in the {'test' if base is None else 'base'} statistics"
    a = base.accumulator.label if base.accumulator is not None else None
    b = test.accumulator.label if test.accumulator is not None else None
    if a is None or b is None:
        return None, "not applicable: no label-aware statistics (--label) in a dataset"
    found = concept_shift(a, b, numeric=base.kind == "numeric")
    return found, "" if found else "no labeled values in a dataset"


def _group_share(base: FeatureData | None, test: FeatureData | None) -> tuple[Distance | None, str]:
    if base is None or test is None:
        return None, f"only in the {'test' if base is None else 'base'} statistics"
    accs = (base.accumulator, test.accumulator)
    if not any(acc is not None and base.path in acc.spec.groups for acc in accs):
        return None, "not applicable: not a group feature (--group) in either dataset"
    a = group_table(base, None, base.num_examples)
    b = group_table(test, None, test.num_examples)
    found = group_share_shift(a, b)
    return found, "" if found else (a.note or b.note or "no groups in a dataset")


def _distribution(
    name: str, base: FeatureData | None, test: FeatureData | None, spec: DistanceSpec
) -> tuple[Distance | None, str]:
    if base is None or test is None:
        return None, f"only in the {'test' if base is None else 'base'} statistics"
    if base.kind != test.kind:
        return None, f"{base.kind} in base, {test.kind} in test"
    if base.kind == "categorical" and name in CATEGORICAL_MEASURES:
        a, b = base.categorical(), test.categorical()
        if a is None or b is None:
            return None, "no value counts"
        found = CATEGORICAL_MEASURES[name](a, b, spec)
        return found, "" if found else "no counted values in a dataset"
    if base.kind == "numeric" and name in NUMERIC_MEASURES:
        x, y = base.numeric(), test.numeric()
        if x is None or y is None:
            return None, "no finite values in a dataset"
        found = NUMERIC_MEASURES[name](x, y, spec)
        return found, "" if found else "no finite values in a dataset"
    return None, f"not applicable to {base.kind} features"


@dataclasses.dataclass(frozen=True)
class DatasetComparison:
    """Every feature's measures, and the example counts of both datasets."""

    base_examples: int
    test_examples: int
    features: tuple[FeatureComparison, ...]


def compare_statistics(
    base: statistics_pb2.DatasetFeatureStatisticsList | statistics_pb2.DatasetFeatureStatistics,
    test: statistics_pb2.DatasetFeatureStatisticsList | statistics_pb2.DatasetFeatureStatistics,
    schema: schema_pb2.Schema | None = None,
    *,
    kind: Kind = "drift",
    limits: Thresholds | None = None,
    defaults: Thresholds | None = None,
    spec: DistanceSpec | None = None,
) -> DatasetComparison:
    """Every applicable measure for every feature of either dataset.

    Args:
        base: the reference statistics (previous span, or training), one dataset.
        test: the statistics compared with it, one dataset.
        schema: where thresholds come from (its `kind` comparators), feature by feature.
        kind: ``"drift"`` or ``"skew"``: which of the schema's thresholds apply.
        limits: thresholds for every feature, over the schema's.
        defaults: thresholds for every feature the schema sets none for (e.g.
            :data:`~beam_stats.drift.defaults.DEFAULT_THRESHOLDS`). `limits` and
            `defaults` apply to a feature as :func:`~beam_stats.drift.defaults.applicable`
            says: not to STRUCTs, only ``missing_fraction`` to id-like features.
        spec: binning and reading options.

    Raises:
        InvalidInputError: a statistics argument holds no dataset or several.
        IncompatibleMergeError: the two were made with different privacy policies.
        SchemaError: a feature's comparator annotation is unreadable.
        DeserializationError: corrupt sketch state.
    """
    check_same_policy([one_dataset(base), one_dataset(test)], ["base", "test"])
    base_features, test_features = features_of(base), features_of(test)
    features = []
    for path in sorted(set(base_features) | set(test_features)):
        feature = find_feature(schema, path) if schema is not None else None
        own = thresholds(feature, kind) if feature is not None else Thresholds()
        base_feature, test_feature = base_features.get(path), test_features.get(path)
        stats = (base_feature if base_feature is not None else test_features[path]).stats
        if defaults is not None and own.empty:
            own = applicable(stats, defaults)
        if limits is not None:
            own = own.overridden_by(applicable(stats, limits))
        features.append(compare_feature(base_feature, test_feature, own, spec=spec))
    return DatasetComparison(
        int(one_dataset(base).num_examples), int(one_dataset(test).num_examples), tuple(features)
    )
