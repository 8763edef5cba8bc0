"""Which feature is the label of label-aware statistics, and how its classes are made
(:class:`LabelSpec`); the state and its algorithms are in :mod:`beam_stats.stats.labels`."""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence

from beam_stats.errors import DeserializationError, InvalidInputError
from beam_stats.proto import sketches_pb2


@dataclasses.dataclass(frozen=True, kw_only=True)
class LabelSpec:
    """Which feature is the label, and how its classes and the per-class state are kept.

    Attributes:
        feature: the label's dotted path (e.g. ``"clicked"``).
        max_classes: the most classes kept; more turn the label statistics off.
        bins: edges (increasing) that make classes of a numeric label.
        quantile_bins: instead of `bins`, that many classes of a numeric label of about
            equal size, from a first pass over the label alone
            (:mod:`beam_stats.stats.label_bins`; 0: off).
        top_values: values of a categorical feature listed in its lift series.
        feature_bins: quantile buckets of a numeric feature for lift and mutual information.
        pair_capacity: distinct (class, value) pairs kept exactly per categorical feature.
    """

    feature: str
    max_classes: int = 20
    bins: tuple[float, ...] = ()
    quantile_bins: int = 0
    top_values: int = 10
    feature_bins: int = 10
    pair_capacity: int = 1024

    def __post_init__(self) -> None:
        if not isinstance(self.feature, str) or not self.feature:
            raise InvalidInputError(
                f"LabelSpec.feature must be a feature name, got {self.feature!r}"
            )
        for name, low in (
            ("max_classes", 2),
            ("top_values", 1),
            ("feature_bins", 2),
            ("pair_capacity", 16),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise InvalidInputError(f"LabelSpec.{name} must be an int >= {low}, got {value!r}")
        edges = tuple(float(e) for e in self.bins)
        if any(not math.isfinite(e) for e in edges) or any(
            b <= a for a, b in itertools.pairwise(edges)
        ):
            raise InvalidInputError(
                f"LabelSpec.bins must be finite and increasing, got {self.bins!r}"
            )
        object.__setattr__(self, "bins", edges)
        q = self.quantile_bins
        if isinstance(q, bool) or not isinstance(q, int) or q < 0 or q == 1:
            raise InvalidInputError(
                f"LabelSpec.quantile_bins must be 0 (off) or an int >= 2, got {q!r}"
            )
        if q and edges:
            raise InvalidInputError(
                f"LabelSpec takes bins or quantile_bins, not both: got bins={edges!r} and "
                f"quantile_bins={q}"
            )

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.feature.split("."))

    @classmethod
    def from_text(
        cls,
        feature: str,
        bins: str | None = None,
        max_classes: int | None = None,
        quantile_bins: int | None = None,
    ) -> LabelSpec:
        """A spec from command-line text: `bins` as comma-separated numbers.

        Raises:
            InvalidInputError: a bin edge is not a number, or the spec is invalid.
        """
        edges: tuple[float, ...] = ()
        if bins:
            try:
                edges = tuple(float(edge) for edge in bins.split(","))
            except ValueError as e:
                raise InvalidInputError(
                    f"label bins are numbers separated by commas, got {bins!r}"
                ) from e
        return cls(
            feature=feature,
            bins=edges,
            max_classes=cls.max_classes if max_classes is None else max_classes,
            quantile_bins=quantile_bins or 0,
        )

    def with_bins(self, edges: Sequence[float]) -> LabelSpec:
        """This spec with `edges` as its bins (those a first pass found for `quantile_bins`)."""
        return dataclasses.replace(self, bins=tuple(edges), quantile_bins=0)

    def to_proto(self) -> sketches_pb2.LabelSettings:
        """The spec as stored in the sketch settings (states merge only when it agrees)."""
        return sketches_pb2.LabelSettings(
            feature=self.feature,
            max_classes=self.max_classes,
            bins=self.bins,
            top_values=self.top_values,
            feature_bins=self.feature_bins,
            pair_capacity=self.pair_capacity,
        )

    @classmethod
    def from_proto(cls, msg: sketches_pb2.LabelSettings) -> LabelSpec:
        """The spec :meth:`to_proto` stored.

        Raises:
            DeserializationError: the stored settings are not a valid spec.
        """
        try:
            return cls(
                feature=msg.feature,
                max_classes=msg.max_classes,
                bins=tuple(msg.bins),
                top_values=msg.top_values,
                feature_bins=msg.feature_bins,
                pair_capacity=msg.pair_capacity,
            )
        except InvalidInputError as e:
            raise DeserializationError(f"bad stored label settings: {e}") from e
