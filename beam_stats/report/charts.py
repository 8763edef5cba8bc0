"""The data of each feature's chart; the page's script draws it as SVG when the feature opens.

Numeric features: the equi-width (``STANDARD``) histogram, as fractions of the feature's
values (NaN excluded, as in the histogram), so datasets of different sizes compare. One
dataset keeps its own buckets. Two datasets rarely share bucket edges (each spans its own
min..max), so both are re-binned onto common equal-width bins over the union of their
ranges (as many bins as either has), assuming values spread evenly inside each original
bucket (a bucket of zero width, e.g. a constant feature, stays a point).

String features (and integers treated as categorical): the most frequent values of either
dataset (the union of their top values, the largest share in either first), each as its
share of the dataset's values; a value absent from one dataset's list (top values, then rank
histogram) is ``null`` there: it may occur, but below what was listed.

Chart dicts are compact JSON: ``{"k": "h", "e": edges, "s": [fractions per dataset]}`` or
``{"k": "b", "l": labels, "s": [fractions per dataset], "more": values left out}``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.report.model import FeatureStats, common_stats

STANDARD = statistics_pb2.Histogram.STANDARD
#: Values shown in a top-values chart.
MAX_LABELS = 20
#: Characters of a value kept in the page (the chart shows fewer, the tooltip these).
MAX_LABEL_CHARS = 200


def chart(features: Sequence[FeatureStats | None]) -> dict[str, Any] | None:
    """The chart of one feature in each dataset (None where a dataset lacks it)."""
    kinds = {f.WhichOneof("stats") for f in features if f is not None}
    if "num_stats" in kinds:
        return histogram_chart(features)
    if "string_stats" in kinds:
        return top_values_chart(features)
    return None


def _buckets(feature: FeatureStats | None) -> list[tuple[float, float, float]]:
    if feature is None or feature.WhichOneof("stats") != "num_stats":
        return []
    for histogram in feature.num_stats.histograms:
        if histogram.type == STANDARD:
            buckets = []
            for b in histogram.buckets:
                low, high = b.low_value, b.high_value
                # Files of other tools may bound the outer buckets by infinities.
                low = low if math.isfinite(low) else high
                high = high if math.isfinite(high) else low
                if math.isfinite(low) and math.isfinite(b.sample_count) and b.sample_count > 0:
                    buckets.append((low, high, float(b.sample_count)))
            return buckets
    return []


def rebin(buckets: Sequence[tuple[float, float, float]], edges: np.ndarray) -> np.ndarray:
    """Counts of `buckets` (low, high, count) in the bins between `edges`, spread evenly."""
    counts = np.zeros(len(edges) - 1)
    for low, high, count in buckets:
        if high > low:
            # In halves: a span of -1.7e308 .. 1.7e308 (other tools' files) overflows.
            overlap = np.minimum(edges[1:], high) / 2 - np.maximum(edges[:-1], low) / 2
            counts += count * (np.clip(overlap, 0.0, None) / (high / 2 - low / 2))
        else:
            index = int(np.searchsorted(edges, low, side="right")) - 1
            counts[min(max(index, 0), len(counts) - 1)] += count
    return counts


def _linspace(low: float, high: float, count: int) -> np.ndarray:
    """``np.linspace`` that does not overflow when ``high - low`` exceeds the float range."""
    t = np.linspace(0.0, 1.0, count)
    edges = (1 - t) * low + t * high
    edges[0], edges[-1] = low, high
    return edges


def _round(values: Sequence[float] | np.ndarray, digits: int) -> list[float]:
    return [round(float(v), digits) for v in values]


def _edge(value: float) -> float:
    return float(f"{value:.6g}")


def histogram_chart(features: Sequence[FeatureStats | None]) -> dict[str, Any] | None:
    per_dataset = [_buckets(f) for f in features]
    filled = [b for b in per_dataset if b]
    if not filled:
        return None
    if len(filled) == 1 and len(features) == 1:
        buckets = filled[0]
        edges = np.array([b[0] for b in buckets] + [buckets[-1][1]])
        contiguous = all(buckets[i][1] == buckets[i + 1][0] for i in range(len(buckets) - 1))
        if not contiguous or np.any(np.diff(edges) <= 0):  # e.g. infinite outer buckets
            low, high = edges.min(), edges.max()
            edges = _linspace(low, high, len(buckets) + 1 if high > low else 2)
    else:
        low = min(b[0] for buckets in filled for b in buckets)
        high = max(b[1] for buckets in filled for b in buckets)
        # As many bins as either histogram has: finer ones would only show the even spread.
        bins = max(len(b) for b in filled) if high > low else 1
        edges = _linspace(low, high, bins + 1)
    series: list[list[float] | None] = []
    for buckets in per_dataset:
        if not buckets:
            series.append(None)
            continue
        counts = rebin(buckets, edges)
        total = counts.sum()
        series.append(_round(counts / total, 5) if total > 0 else None)
    return {"k": "h", "e": [_edge(e) for e in edges], "s": series}


def _value_counts(feature: FeatureStats | None) -> tuple[dict[str, float], float]:
    """Listed values -> counts, and the number of values, of a string feature."""
    if feature is None or feature.WhichOneof("stats") != "string_stats":
        return {}, 0.0
    string = feature.string_stats
    # Other tools' files may hold NaN or negative counts: such values are left out.
    counts = {str(v.value): float(v.frequency) for v in string.top_values if v.frequency >= 0}
    for bucket in string.rank_histogram.buckets:
        if bucket.sample_count >= 0:
            counts.setdefault(str(bucket.label), float(bucket.sample_count))
    common = common_stats(feature)
    return counts, float(common.tot_num_values)


def top_values_chart(features: Sequence[FeatureStats | None]) -> dict[str, Any] | None:
    shares: list[dict[str, float] | None] = []
    for feature in features:
        counts, total = _value_counts(feature)
        shares.append({v: c / total for v, c in counts.items()} if total > 0 else None)
    union: dict[str, float] = {}
    for share in shares:
        for value, fraction in (share or {}).items():
            union[value] = max(union.get(value, 0.0), fraction)
    if not union:
        return None
    ranked = sorted(union, key=lambda v: (-union[v], v))
    shown = ranked[:MAX_LABELS]
    series = [None if share is None else [_share(share.get(v)) for v in shown] for share in shares]
    return {
        "k": "b",
        "l": [v[:MAX_LABEL_CHARS] for v in shown],
        "s": series,
        "more": len(ranked) - len(shown),
    }


def _share(fraction: float | None) -> float | None:
    return None if fraction is None else round(fraction, 5)
