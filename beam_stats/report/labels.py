"""The report's label section, read off label-aware statistics (``--label``).

Shown when a dataset's statistics have TFMD ``cross_features`` with a label (``path_y``):

* the label's distribution: each class's examples and share, per dataset, from the class
  counts of the lift series (``y_count``);
* the features ranked by their mutual information with the label (the custom statistic
  ``mutual_information``, bits, of the first dataset; ties by name), with the Pearson
  correlation of a numeric feature and label (``num_cross_stats``) and the feature's
  strongest lift: the value or bucket ``v`` and class ``y`` with the highest
  ``P(y | x=v) / P(y)`` among values seen in at least :data:`MIN_LIFT_EXAMPLES` examples
  (rarer ones have lifts that mean little);
* concept shift: the ``COMPARATOR_CONCEPT_SHIFT_HIGH`` anomalies of the anomalies given (the
  measure needs both datasets' sketch state, which validation reads and the report does not).

Every string from the data is escaped by :func:`beam_stats.report.page.text`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

from beam_stats._types import path_str
from beam_stats.report.findings import Finding
from beam_stats.report.model import NONE, fmt, percent
from beam_stats.report.page import feature_link, text

#: Least examples of a value for its lift to be the feature's strongest.
MIN_LIFT_EXAMPLES = 30
#: The short description of a concept-shift anomaly.
CONCEPT_SHIFT = "COMPARATOR_CONCEPT_SHIFT_HIGH"
MUTUAL_INFORMATION = "mutual_information"


@dataclasses.dataclass(frozen=True)
class Lift:
    """The strongest lift of a feature: value (or bucket) ``x``, class ``y``."""

    x: str
    y: str
    lift: float
    x_count: int


@dataclasses.dataclass(frozen=True)
class FeatureSignal:
    """What a feature says about the label, in one dataset."""

    mutual_information: float | None = None
    correlation: float | None = None
    strongest: Lift | None = None


def label_path(dataset: Any) -> tuple[str, ...] | None:
    """The label of a dataset's cross statistics (None: not label-aware)."""
    for cross in dataset.cross_features:
        return tuple(cross.path_y.step)
    return None


def _class_name(series: Any) -> str:
    which = series.WhichOneof("y_value")
    if which == "y_bucket":
        b = series.y_bucket
        return f"[{fmt(b.low_value)}, {fmt(b.high_value)})"
    return str(getattr(series, which)) if which else NONE


def _x_name(value: Any) -> str:
    which = value.WhichOneof("x_value")
    return str(getattr(value, which)) if which else NONE


def label_classes(dataset: Any) -> dict[str, int]:
    """Class -> examples of that class, from the first lift of the dataset."""
    for cross in dataset.cross_features:
        if cross.HasField("categorical_cross_stats"):
            series = cross.categorical_cross_stats.lift.lift_series
            return {_class_name(s): int(s.y_count) for s in series}
    return {}


def signals(dataset: Any) -> dict[str, FeatureSignal]:
    """Feature (dotted path) -> its signal, for every feature with label statistics."""
    found: dict[str, dict[str, Any]] = {}
    for cross in dataset.cross_features:
        fields = found.setdefault(path_str(tuple(cross.path_x.step)), {})
        if cross.HasField("num_cross_stats"):
            correlation = cross.num_cross_stats.correlation
            fields["correlation"] = correlation if math.isfinite(correlation) else None
        best: Lift | None = None
        for series in cross.categorical_cross_stats.lift.lift_series:
            for v in series.lift_values:
                if v.x_count >= MIN_LIFT_EXAMPLES and (best is None or v.lift > best.lift):
                    best = Lift(_x_name(v), _class_name(series), v.lift, int(v.x_count))
        if best is not None:
            fields["strongest"] = best
    for feature in dataset.features:
        for stat in feature.custom_stats:
            if stat.name == MUTUAL_INFORMATION:
                name = path_str(tuple(feature.path.step)) or str(feature.name)
                found.setdefault(name, {})["mutual_information"] = stat.num
    return {name: FeatureSignal(**fields) for name, fields in found.items()}


def _lines(values: Sequence[str]) -> str:
    return "".join(f'<span class="v d{i}">{text(v)}</span>' for i, v in enumerate(values))


def _table(heads: Sequence[str], rows: Sequence[str], table_class: str) -> str:
    head = "".join(f'<th scope="col">{text(h)}</th>' for h in heads)
    return (
        f'<table class="{table_class}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _distribution(datasets: Sequence[Any]) -> str:
    counts = [label_classes(d) for d in datasets]
    classes = list(dict.fromkeys(c for per in counts for c in per))
    rows = []
    for name in classes:
        shown = []
        for per in counts:
            total = sum(per.values())
            n = per.get(name)
            shown.append(
                NONE if n is None else f"{fmt(n)} ({percent(n / total if total else None)})"
            )
        rows.append(
            f'<tr><td><code>{text(name)}</code></td><td class="num">{_lines(shown)}</td></tr>'
        )
    return _table(("Class", "Examples (share)"), rows, "label-classes")


def _lift(lift: Lift | None) -> str:
    if lift is None:
        return NONE
    return f"{lift.x} \u2192 {lift.y}: {fmt(lift.lift)} ({fmt(lift.x_count)} examples)"


def _ranking(datasets: Sequence[Any]) -> str:
    per = [signals(d) for d in datasets]
    names = list(dict.fromkeys(n for s in per for n in s))

    def key(name: str) -> tuple[float, str]:
        mi = per[0].get(name, FeatureSignal()).mutual_information
        return (-(mi if mi is not None and math.isfinite(mi) else -math.inf), name)

    rows = []
    for name in sorted(names, key=key):
        got = [s.get(name, FeatureSignal()) for s in per]
        rows.append(
            f"<tr><td>{feature_link(name)}</td>"
            f'<td class="num">{_lines([fmt(g.mutual_information) for g in got])}</td>'
            f'<td class="num">{_lines([fmt(g.correlation) for g in got])}</td>'
            f"<td>{_lines([_lift(g.strongest) for g in got])}</td></tr>"
        )
    heads = ("Feature", "Mutual information (bits)", "Correlation", "Strongest lift")
    return _table(heads, rows, "label-signal")


def _concept_shift(findings: Sequence[Finding]) -> str:
    shifted = [f for f in findings if f.short_description == CONCEPT_SHIFT]
    if not shifted:
        return ""
    rows = [
        f"<tr><td>{feature_link(f.feature)}</td><td>{text(f.description)}</td></tr>"
        for f in shifted
    ]
    return "<h3>Concept shift</h3>" + _table(("Feature", "What moved"), rows, "concept-shift")


def label_section(datasets: Sequence[Any], findings: Sequence[Finding]) -> str:
    """The section (empty when no dataset has label-aware statistics)."""
    label = next((p for p in map(label_path, datasets) if p is not None), None)
    if label is None:
        return ""
    compared = ' class="compared"' if len(datasets) > 1 else ""
    return (
        f'<section id="label"{compared}><h2>Label <code>{text(path_str(label))}</code></h2>'
        + _distribution(datasets)
        + "<h3>What features say about the label</h3>"
        + _ranking(datasets)
        + _concept_shift(findings)
        + "</section>"
    )
