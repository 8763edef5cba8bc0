"""Read-only views of finished statistics: what schema inference and validation ask of them.

A :class:`FeatureView` answers in terms of what the statistics *prove*. The distinct values
of a string feature are known only when its listed values (rank histogram, else top values)
are exact and account for every value (``top_values_max_error`` 0 and their counts add up to
``tot_num_values``); otherwise the listed values are a subset. Statistics written by other
tools (TFDV) lack beam-stats' custom statistics: their top-k counts are exact, NaN counts
are read from the histograms and infinities from min/max.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

from beam_stats._types import FeaturePath
from beam_stats.errors import InvalidInputError
from beam_stats.stats.composite import is_composite_entry
from beam_stats.stats.privacy import PRIVACY_NAME, Treatment
from beam_stats.stats.slicing import WHOLE_DATASET as DEFAULT_SLICE

StatsType = statistics_pb2.FeatureNameStatistics.Type
HistogramType = statistics_pb2.Histogram.HistogramType

#: The schema type of each statistics type (STRING is BYTES in a schema, as in TFDV).
SCHEMA_TYPE = {
    StatsType.INT: schema_pb2.INT,
    StatsType.FLOAT: schema_pb2.FLOAT,
    StatsType.STRING: schema_pb2.BYTES,
    StatsType.BYTES: schema_pb2.BYTES,
    StatsType.STRUCT: schema_pb2.STRUCT,
}


def parse_int(text: str) -> int | None:
    """The int64 a string spells in decimal (sign allowed, no spaces), else None."""
    body = text[1:] if text[:1] in "+-" else text
    if not body.isascii() or not body.isdigit():
        return None
    value = int(text)
    return value if -(2**63) <= value < 2**63 else None


def parse_float(text: str) -> float | None:
    """The float a string spells (``nan`` and ``inf`` included), else None."""
    try:
        return float(text) if text.strip() == text and text else None
    except ValueError:
        return None


def float32(value: float) -> float:
    """`value` rounded to the float32 a schema stores (``FloatDomain`` bounds are float32).

    Observed values are compared with the bounds after the same rounding, as TFDV does; as
    rounding is monotonic, a bound inferred from an observed value never excludes it.
    """
    with np.errstate(over="ignore"):
        return float(np.float32(value))


class FeatureView:
    """One feature of one dataset's statistics."""

    def __init__(
        self,
        stats: statistics_pb2.FeatureNameStatistics,
        num_examples: int,
        path: FeaturePath | None = None,
    ) -> None:
        self.stats = stats
        self.num_examples = num_examples
        self.path: FeaturePath = path or tuple(stats.path.step) or (stats.name,)
        self.stats_type: int = stats.type
        self.schema_type: int = SCHEMA_TYPE.get(stats.type, schema_pb2.TYPE_UNKNOWN)
        which = stats.WhichOneof("stats")
        self._kind = which
        self.common = statistics_pb2.CommonStatistics()
        if which is not None:
            self.common = getattr(stats, which).common_stats
        self._custom = {c.name: c for c in stats.custom_stats}
        #: Only a sparse or weighted feature's statistics (TFDV's checks), not a column.
        self.composite_only = is_composite_entry(stats)

    # --- presence and valency -------------------------------------------------------------
    @property
    def num_present(self) -> int:
        return int(self.common.num_non_missing)

    @property
    def num_missing(self) -> int:
        return int(self.common.num_missing)

    @property
    def fraction_present(self) -> float | None:
        return self.num_present / self.num_examples if self.num_examples else None

    def num_values_by_level(self) -> list[tuple[int, int]] | None:
        """(min, max) values per example at each nesting level, when the statistics say."""
        levels = self.common.presence_and_valency_stats
        if not levels:
            return None
        return [(max(int(s.min_num_values), 0), int(s.max_num_values)) for s in levels]

    # --- custom statistics ----------------------------------------------------------------
    def custom_num(self, name: str) -> float | None:
        custom = self._custom.get(name)
        return custom.num if custom is not None and custom.HasField("num") else None

    def custom_str(self, name: str) -> str | None:
        custom = self._custom.get(name)
        return custom.str if custom is not None and custom.HasField("str") else None

    # --- numbers --------------------------------------------------------------------------
    @property
    def has_numbers(self) -> bool:
        return bool(self._kind == "num_stats" and self.common.tot_num_values > 0)

    @property
    def has_finite(self) -> bool:
        """Whether some value is finite, so that min and max are set (they are not when a
        privacy policy removed the numbers)."""
        return (
            self.has_numbers
            and self.common.tot_num_values > self.num_nan + self.num_inf
            and not self.values_hidden
        )

    @property
    def values_hidden(self) -> bool:
        """Whether a privacy policy redacted or hashed the feature's values
        (:mod:`beam_stats.stats.privacy`): no number of it is shown."""
        privacy = self.custom_str(PRIVACY_NAME) or ""
        return privacy.startswith((Treatment.REDACT.value, Treatment.HASH.value))

    @property
    def min(self) -> float:
        return float(self.stats.num_stats.min)

    @property
    def max(self) -> float:
        return float(self.stats.num_stats.max)

    @property
    def num_nan(self) -> int:
        counted = self.custom_num("num_nan")
        if counted is not None:
            return int(counted)
        return max((int(h.num_nan) for h in self.stats.num_stats.histograms), default=0)

    @property
    def num_inf(self) -> int:
        pos, neg = self.custom_num("num_pos_inf"), self.custom_num("num_neg_inf")
        if pos is not None or neg is not None:
            return int((pos or 0) + (neg or 0))
        return int(math.isinf(self.min)) + int(math.isinf(self.max)) if self.has_numbers else 0

    def quantile(self, q: float) -> float | None:
        """The q-quantile of the values: exact min/max at 0 and 1, else read from the
        quantiles histogram by linear interpolation between its boundaries."""
        if not self.has_finite:
            return None
        if q <= 0.0:
            return self.min
        if q >= 1.0:
            return self.max
        histogram = next(
            (h for h in self.stats.num_stats.histograms if h.type == HistogramType.QUANTILES),
            None,
        )
        if histogram is None or not histogram.buckets:
            return None
        bounds = [histogram.buckets[0].low_value] + [b.high_value for b in histogram.buckets]
        position = q * (len(bounds) - 1)
        i = min(int(position), len(bounds) - 2)
        return float(bounds[i] + (bounds[i + 1] - bounds[i]) * (position - i))

    # --- strings --------------------------------------------------------------------------
    @property
    def has_strings(self) -> bool:
        return bool(self._kind == "string_stats")

    @property
    def unique(self) -> int | None:
        """The distinct count, when the statistics counted distinct values."""
        if self._kind == "string_stats":
            return int(self.stats.string_stats.unique)
        if self._kind == "bytes_stats":
            return int(self.stats.bytes_stats.unique)
        return None

    @property
    def unique_relative_error(self) -> float:
        """The distinct count's relative standard error (0: exact)."""
        return self.custom_num("distinct_relative_standard_error") or 0.0

    @property
    def invalid_utf8_count(self) -> int:
        return int(self.stats.string_stats.invalid_utf8_count) if self.has_strings else 0

    def values(self) -> dict[str, float]:
        """Listed values and their counts (lower bounds unless :attr:`counts_exact`)."""
        string_stats = self.stats.string_stats
        if string_stats.rank_histogram.buckets:
            return {b.label: b.sample_count for b in string_stats.rank_histogram.buckets}
        return {v.value: v.frequency for v in string_stats.top_values}

    @property
    def counts_exact(self) -> bool:
        return (self.custom_num("top_values_max_error") or 0.0) == 0.0

    @property
    def values_complete(self) -> bool:
        """Whether :meth:`values` provably lists every distinct value."""
        if not self.has_strings or not self.counts_exact:
            return False
        total = self.common.tot_num_values
        return bool(total > 0 and sum(self.values().values()) >= total)

    def all_values(self) -> list[str] | None:
        """Every distinct value, or None when the statistics cannot prove the list whole."""
        return sorted(self.values()) if self.values_complete else None


def dataset_views(
    dataset: statistics_pb2.DatasetFeatureStatistics,
) -> dict[FeaturePath, FeatureView]:
    """The features of one dataset by path, parents before their children.

    Features named the old way (``name`` rather than ``path``) resolve as TFDV resolves them:
    ``"parent.child"`` is field ``child`` of ``parent`` when ``parent`` is a STRUCT feature
    of the dataset, else a top-level feature whose name holds a dot.
    """
    views: dict[FeaturePath, FeatureView] = {}
    paths = _old_style_paths(dataset)
    for stats in dataset.features:
        path = None if stats.HasField("path") else paths.get(stats.name)
        view = FeatureView(stats, int(dataset.num_examples), path)
        if view.path in views:
            raise InvalidInputError(f"statistics list feature {'.'.join(view.path)} twice")
        views[view.path] = view
    return dict(sorted(views.items()))


def _old_style_paths(dataset: statistics_pb2.DatasetFeatureStatistics) -> dict[str, FeaturePath]:
    named = [f for f in dataset.features if not f.HasField("path")]
    structs = {f.name for f in named if f.type == StatsType.STRUCT}
    paths: dict[str, FeaturePath] = {}

    def resolve(name: str) -> FeaturePath:
        if name not in paths:
            cut = name.rfind(".")
            while cut > 0 and name[:cut] not in structs:
                cut = name.rfind(".", 0, cut)
            paths[name] = (*resolve(name[:cut]), name[cut + 1 :]) if cut > 0 else (name,)
        return paths[name]

    for feature in named:
        resolve(feature.name)
    return paths


def one_dataset(
    statistics: statistics_pb2.DatasetFeatureStatisticsList
    | statistics_pb2.DatasetFeatureStatistics,
    name: str | None = None,
    source: str = "",
) -> statistics_pb2.DatasetFeatureStatistics:
    """The dataset of `statistics` named `name`; without a name, the single one, or of
    several the one named "All Examples" (the whole dataset of a sliced run, as TFDV picks
    it). `source` names the statistics in errors (e.g. their file).

    Raises:
        InvalidInputError: no dataset fits: none or several of that name, or several and
            none named "All Examples".
    """
    where = f"{source}: " if source else ""
    if isinstance(statistics, statistics_pb2.DatasetFeatureStatistics):
        if name is not None and statistics.name != name:
            raise InvalidInputError(f"{where}dataset {statistics.name!r}, not {name!r}")
        return statistics
    if not isinstance(statistics, statistics_pb2.DatasetFeatureStatisticsList):
        raise InvalidInputError(
            f"expected a DatasetFeatureStatisticsList or DatasetFeatureStatistics, "
            f"got {type(statistics).__name__}"
        )
    names = ", ".join(repr(d.name) for d in statistics.datasets) or "none"
    if name is not None:
        found = [d for d in statistics.datasets if d.name == name]
        if len(found) != 1:
            raise InvalidInputError(f"{where}{len(found)} datasets named {name!r} (of {names})")
        return found[0]
    if len(statistics.datasets) > 1:
        default = [d for d in statistics.datasets if d.name == DEFAULT_SLICE]
        if len(default) == 1:
            return default[0]
    if len(statistics.datasets) != 1:
        raise InvalidInputError(
            f"{where}expected statistics of one dataset, got {len(statistics.datasets)} "
            f"({names}), none named "
            f"{DEFAULT_SLICE!r}: choose one by name"
        )
    return statistics.datasets[0]


def datasets(
    statistics: statistics_pb2.DatasetFeatureStatisticsList
    | statistics_pb2.DatasetFeatureStatistics,
) -> Iterable[statistics_pb2.DatasetFeatureStatistics]:
    """Every dataset of `statistics`."""
    if isinstance(statistics, statistics_pb2.DatasetFeatureStatistics):
        return [statistics]
    if not isinstance(statistics, statistics_pb2.DatasetFeatureStatisticsList):
        raise InvalidInputError(
            f"expected a DatasetFeatureStatisticsList or DatasetFeatureStatistics, "
            f"got {type(statistics).__name__}"
        )
    return list(statistics.datasets)
