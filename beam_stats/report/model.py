"""What the report shows of each feature, read off the statistics protos (no HTML here).

A feature is matched across the two datasets by its path (``path.step``, or the legacy
``name`` of older TFDV files), written dotted as in anomalies. Every number the table shows
comes from the finished statistics; the sketch state (the custom statistic
``beam_stats.state``) is never read or shown.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any, TypeAlias

from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats._types import path_str
from beam_stats.errors import InvalidInputError
from beam_stats.stats.composite import is_composite_entry
from beam_stats.stats.feature import STATE_NAME

Statistics: TypeAlias = (
    statistics_pb2.DatasetFeatureStatisticsList | statistics_pb2.DatasetFeatureStatistics
)
FeatureStats: TypeAlias = Any  # statistics_pb2.FeatureNameStatistics (untyped module)
FeatureType = statistics_pb2.FeatureNameStatistics.Type
#: Shown for a value that does not apply or is unknown.
NONE = "\u2014"
#: Custom statistics shown under their own labels, not in the generic list.
_SHOWN_CUSTOM = frozenset({STATE_NAME})


@dataclasses.dataclass(frozen=True)
class Summary:
    """The feature table's values of one feature in one dataset (None: does not apply)."""

    type: str
    missing: float | None  # fraction of the examples (of the parent's, for struct fields)
    distinct: float | None
    mean: float | None
    std: float | None
    min: float | None
    median: float | None
    max: float | None
    top: str | None  # the most frequent value
    top_fraction: float | None  # its share of the values


@dataclasses.dataclass(frozen=True)
class Selection:
    """The dataset of a statistics list that the report shows, and the ones it does not."""

    dataset: Any  # statistics_pb2.DatasetFeatureStatistics
    others: tuple[str, ...]


def select(statistics: Statistics, name: str | None = None) -> Selection:
    """The dataset named `name` (the first one when None) of `statistics`.

    Raises:
        InvalidInputError: `statistics` is not statistics, holds no dataset, or none named
            `name`.
    """
    if isinstance(statistics, statistics_pb2.DatasetFeatureStatistics):
        found = [statistics]
    elif isinstance(statistics, statistics_pb2.DatasetFeatureStatisticsList):
        found = list(statistics.datasets)
    else:
        raise InvalidInputError(
            f"expected DatasetFeatureStatisticsList or DatasetFeatureStatistics, got "
            f"{type(statistics).__name__}"
        )
    if not found:
        raise InvalidInputError("the statistics hold no dataset")
    names = [d.name for d in found]
    index = 0
    if name is not None:
        if name not in names:
            raise InvalidInputError(
                f"no dataset named {name!r} in the statistics; there are "
                + ", ".join(repr(n) for n in names)
            )
        index = names.index(name)
    return Selection(found[index], tuple(n for i, n in enumerate(names) if i != index))


def visible(text: str) -> str:
    """`text` with every character that could hide or reorder what is shown (NUL and other
    controls, bidirectional overrides and isolates such as U+202E, line separators, ...)
    written as its escape (``\\x00``, ``\\u202e``); printable text is unchanged. Used for
    every data string the report shows, and for the terminal's messages and tables."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def feature_name(feature: FeatureStats) -> str:
    """The dotted path of a feature (its legacy ``name`` if it has no path); the name
    anomalies give it."""
    steps = tuple(feature.path.step)
    return path_str(steps) if steps else str(feature.name)


def quoted_name(feature: FeatureStats) -> str:
    """The dotted path with each step that holds a dot in backquotes: a column named ``a.b``
    is ```a.b```, told apart from the struct field ``a`` -> ``b`` (``a.b``)."""
    steps = tuple(feature.path.step)
    if not steps:
        return str(feature.name)
    return ".".join(f"`{s}`" if "." in s or s.startswith("`") else s for s in steps)


def feature_labels(features: Sequence[FeatureStats]) -> dict[tuple[str, ...], str]:
    """Each feature's label, by path: the dotted path, or where two paths share it (a column
    ``a.b`` and a struct field ``a`` -> ``b``) the :func:`quoted_name`."""
    by_path = {tuple(f.path.step) or (str(f.name),): f for f in features}
    dotted: dict[str, int] = {}
    for feature in by_path.values():
        dotted[feature_name(feature)] = dotted.get(feature_name(feature), 0) + 1
    return {
        path: quoted_name(f) if dotted[feature_name(f)] > 1 else feature_name(f)
        for path, f in by_path.items()
    }


def path_key(feature: FeatureStats) -> tuple[str, ...]:
    """The key that tells features apart: the path's steps (the legacy name)."""
    return tuple(feature.path.step) or (str(feature.name),)


def type_name(feature: FeatureStats) -> str:
    if is_composite_entry(feature):  # TFDV's checks of a sparse or weighted feature
        names = {c.name for c in feature.custom_stats}
        return "WEIGHTED" if "missing_weight" in names else "SPARSE"
    return str(FeatureType.Name(feature.type))


def common_stats(feature: FeatureStats) -> Any:
    """The ``CommonStatistics`` of a feature, or None if it has none."""
    which = feature.WhichOneof("stats")
    if which is None:
        return None
    return getattr(feature, which).common_stats


def finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def summarize(feature: FeatureStats) -> Summary:
    """The table values of one feature."""
    common = common_stats(feature)
    present = int(common.num_non_missing) if common is not None else 0
    total = present + int(common.num_missing) if common is not None else 0
    missing = common.num_missing / total if total else None
    which = feature.WhichOneof("stats")
    mean = std = low = median = high = distinct = top_fraction = None
    top = None
    if which == "num_stats" and present:
        num = feature.num_stats
        mean, std = finite(num.mean), finite(num.std_dev)
        low, median, high = finite(num.min), finite(num.median), finite(num.max)
    elif which == "string_stats":
        distinct = float(feature.string_stats.unique) if present else None
        if feature.string_stats.top_values:
            first = feature.string_stats.top_values[0]
            top = str(first.value)
            values = common.tot_num_values
            top_fraction = finite(first.frequency / values) if values else None
    elif which == "bytes_stats" and present:
        distinct = float(feature.bytes_stats.unique)
    return Summary(
        type_name(feature), missing, distinct, mean, std, low, median, high, top, top_fraction
    )


def fmt(value: float | None) -> str:
    """A number as the report prints it: short, thousands separated, "—" for None."""
    if value is None:
        return NONE
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("\u221e" if value > 0 else "-\u221e")
    magnitude = abs(value)
    if value == int(value) and magnitude < 1e15:
        return f"{int(value):,}"
    if magnitude >= 1e9 or magnitude < 1e-3:
        return f"{value:.3e}"
    if magnitude >= 1000:
        return f"{value:,.1f}"
    return f"{value:.4g}"


def percent(fraction: float | None) -> str:
    if fraction is None or not math.isfinite(fraction):
        return NONE
    if 0 < fraction < 0.001:
        return "<0.1%"
    if 0.999 < fraction < 1:
        return ">99.9%"
    return f"{100 * fraction:.1f}%"


def details(feature: FeatureStats) -> list[tuple[str, str]]:
    """The statistics shown when a feature is opened: (label, formatted value)."""
    rows: list[tuple[str, str]] = []
    common = common_stats(feature)
    if common is not None:
        rows += [
            ("examples with the feature", fmt(common.num_non_missing)),
            ("examples without it", fmt(common.num_missing)),
            (
                "values per example (min / avg / max)",
                f"{fmt(common.min_num_values)} / {fmt(common.avg_num_values)} / "
                f"{fmt(common.max_num_values)}",
            ),
            ("values in all", fmt(common.tot_num_values)),
        ]
    which = feature.WhichOneof("stats")
    if which == "num_stats":
        rows.append(("zeros", fmt(feature.num_stats.num_zeros)))
    elif which == "string_stats":
        string = feature.string_stats
        rows += [
            ("distinct values", fmt(string.unique)),
            ("average length", fmt(string.avg_length)),
        ]
        if string.invalid_utf8_count:
            rows.append(("invalid UTF-8 values", fmt(string.invalid_utf8_count)))
    elif which == "bytes_stats":
        data = feature.bytes_stats
        rows += [
            ("distinct values", fmt(data.unique)),
            (
                "bytes per value (min / avg / max)",
                f"{fmt(data.min_num_bytes)} / {fmt(data.avg_num_bytes)} / "
                f"{fmt(data.max_num_bytes)}",
            ),
        ]
    for custom in feature.custom_stats:
        if custom.name in _SHOWN_CUSTOM:
            continue
        kind = custom.WhichOneof("val")
        if kind == "num":
            rows.append((str(custom.name), fmt(custom.num)))
        elif kind == "str":
            rows.append((str(custom.name), str(custom.str)))
        elif kind == "rank_histogram" and is_composite_entry(feature):  # per index feature
            buckets = custom.rank_histogram.buckets
            rows.append(
                (str(custom.name), ", ".join(f"{b.label}: {fmt(b.sample_count)}" for b in buckets))
            )
    return rows


def merged_details(features: Sequence[FeatureStats | None]) -> list[list[str]]:
    """Rows of (label, value in each dataset) over the labels of every dataset, in order."""
    per_dataset = [dict(details(f)) if f is not None else {} for f in features]
    labels: list[str] = []
    for rows in per_dataset:
        labels += [label for label in rows if label not in labels]
    return [[label, *(rows.get(label, NONE) for rows in per_dataset)] for label in labels]
