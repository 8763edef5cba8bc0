"""The joint tables of a feature with the label, and what is read from them.

From a feature's label-conditional state (:mod:`beam_stats.stats.labels`): the table of
examples per (feature value or bucket, label class), TFDV's lift and the mutual information.

Lift (TFDV's definition, ``LiftSeries`` per class y):
    ``lift(x=v, y) = P(y | x=v) / P(y) = (n(v, y) / n(v)) / (n(y) / N)`` over labeled
    examples: ``n(v, y)`` examples with value v and class y, ``n(v)`` examples with value v,
    ``n(y)`` examples of class y and ``N`` labeled examples (the label feature's counts).
    For categorical features the ``top_values`` values with the most examples; for numeric
    features the ``feature_bins`` quantile buckets of the pooled values, named
    ``[low, high)`` in ``x_string``.

Mutual information (custom statistic ``mutual_information``, in bits):
    The plug-in estimate ``sum p(v, y) log2(p(v, y) / (p(v) p(y)))`` on the joint table of
    the feature's buckets (categorical: the values listed in the pair summary, the rest of
    each class in one "other" bucket; numeric: the quantile buckets) and the classes,
    minus the Miller-Madow bias ``(R - 1)(C - 1) / (2 N ln 2)`` (R, C: non-empty rows and
    columns; N: the table's total), clamped at 0. Merging values into buckets can only lose
    information (data processing inequality), so the plug-in part is a lower bound of the
    feature's information at that resolution; the correction removes the upward bias the
    plug-in estimate has on small samples, so that features with no signal rank near 0.
    Multivalent features count each (example, distinct value) pair once.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.arrow import Kind
from beam_stats.proto import sketches_pb2
from beam_stats.stats.family import FeatureBatch, FeatureReport
from beam_stats.stats.label_spec import LabelSpec
from beam_stats.stats.labels import CLASS_QUANTILES, LabelAccumulator, bucket_name, split_pair


@dataclasses.dataclass(frozen=True)
class JointTable:
    """Counts of examples per (feature bucket, label class): rows are the feature's values
    or buckets (``rows``; the last one may be the "other" bucket of unlisted values), the
    columns the classes (``classes``)."""

    rows: tuple[str, ...]
    classes: tuple[str, ...]
    counts: np.ndarray  # float64, len(rows) x len(classes)
    other: bool  # the last row gathers the values the pair summary does not list
    bounds: tuple[tuple[float, float], ...] = ()  # numeric buckets: (low, high) per row


def pooled_edges(accs: Sequence[LabelAccumulator], bins: int) -> np.ndarray | None:
    """Edges of `bins` equal-mass buckets of the numeric values of every class of `accs`
    pooled (None: no value); repeated edges are merged, so fewer buckets may result."""
    pooled = CLASS_QUANTILES.create()
    for acc in accs:
        for sketch in acc.quantiles.values():
            pooled.merge(sketch)
    if pooled.is_empty:
        return None
    edges = np.unique(pooled.quantiles(np.linspace(0.0, 1.0, bins + 1)))
    return np.array([edges[0], edges[0]]) if edges.size == 1 else edges


def joint_table(
    acc: LabelAccumulator,
    classes: Sequence[str],
    *,
    numeric: bool,
    edges: np.ndarray | None = None,
) -> JointTable | None:
    """The feature's joint table with the label (None: no labeled value, or statistics
    off). Numeric features are bucketed at `edges` (default: :func:`pooled_edges` of the
    feature itself; the first and last edge must hold every value)."""
    if acc.off or not classes:
        return None
    column = {name: j for j, name in enumerate(classes)}
    if numeric:
        edges = pooled_edges([acc], acc.spec.feature_bins) if edges is None else edges
        if edges is None:
            return None
        counts = np.zeros((edges.size - 1, len(classes)))
        for name, sketch in acc.quantiles.items():
            if name in column:
                counts[:, column[name]] = sketch.bucket_counts(edges)[0]
        bounds = tuple((float(a), float(b)) for a, b in itertools.pairwise(edges))
        last = len(bounds) - 1
        rows = tuple(f"[{a:g}, {b:g}{']' if i == last else ')'}" for i, (a, b) in enumerate(bounds))
        return JointTable(rows, tuple(classes), counts, False, bounds)
    if acc.pairs is None:
        return None
    found: dict[bytes, np.ndarray] = {}
    for key, count, _ in acc.pairs.result(acc.spec.pair_capacity):
        name, value = split_pair(key)
        if name in column and count > 0:
            found.setdefault(value, np.zeros(len(classes)))[column[name]] += count
    values = sorted(found, key=lambda v: (-found[v].sum(), v))
    listed = np.array([found[v] for v in values]).reshape(len(values), len(classes))
    present = np.array([acc.class_counts.get(c, 0) for c in classes], dtype=np.float64)
    rest = np.maximum(present - listed.sum(axis=0), 0.0)
    other = bool(rest.sum() > 0)
    counts = np.vstack([listed, rest]) if other else listed
    rows = tuple(v.decode("utf-8", "backslashreplace") for v in values) + (("",) if other else ())
    return JointTable(rows, tuple(classes), counts, other)


def aligned_tables(
    base: LabelAccumulator, test: LabelAccumulator, classes: Sequence[str], *, numeric: bool
) -> tuple[JointTable, JointTable] | None:
    """The joint tables of one feature in two datasets on the same rows and classes:
    numeric buckets from both datasets' values pooled, categorical values the union of
    both lists (a value one side does not list counts 0 there), "other" last."""
    if numeric:
        edges = pooled_edges([base, test], base.spec.feature_bins)
        if edges is None:
            return None
        a = joint_table(base, classes, numeric=True, edges=edges)
        b = joint_table(test, classes, numeric=True, edges=edges)
        return None if a is None or b is None else (a, b)
    a = joint_table(base, classes, numeric=False)
    b = joint_table(test, classes, numeric=False)
    if a is None or b is None:
        return None
    listed = {r for t in (a, b) for r in t.rows[: len(t.rows) - t.other]}
    total = {r: 0.0 for r in listed}
    for t in (a, b):
        for i, r in enumerate(t.rows[: len(t.rows) - t.other]):
            total[r] += float(t.counts[i].sum())
    rows = sorted(listed, key=lambda r: (-total[r], r))
    other = a.other or b.other

    def on(t: JointTable) -> JointTable:
        index = {r: i for i, r in enumerate(t.rows[: len(t.rows) - t.other])}
        counts = np.zeros((len(rows) + other, len(classes)))
        for i, r in enumerate(rows):
            if r in index:
                counts[i] = t.counts[index[r]]
        if t.other:
            counts[-1] = t.counts[-1]
        return JointTable((*rows, *([""] if other else [])), tuple(classes), counts, other)

    return on(a), on(b)


def mutual_information(table: JointTable) -> float:
    """Mutual information of the table's rows and columns in bits, Miller-Madow corrected
    and clamped at 0 (see the module docstring); NaN for an empty table."""
    n = float(table.counts.sum())
    if n <= 0:
        return math.nan
    p = table.counts / n
    px, py = p.sum(axis=1, keepdims=True), p.sum(axis=0, keepdims=True)
    nonzero = p > 0
    plug_in = float((p[nonzero] * np.log2(p[nonzero] / (px @ py)[nonzero])).sum())
    rows, cols = int((px > 0).sum()), int((py > 0).sum())
    bias = (rows - 1) * (cols - 1) / (2.0 * n * math.log(2.0))
    return max(plug_in - bias, 0.0)


def _set_y(series: statistics_pb2.LiftSeries, name: str, spec: LabelSpec, label_kind: Kind) -> None:
    if spec.bins:
        j = next(i for i in range(len(spec.bins) + 1) if bucket_name(spec.bins, i) == name)
        series.y_bucket.low_value = spec.bins[j - 1] if j > 0 else -math.inf
        series.y_bucket.high_value = spec.bins[j] if j < len(spec.bins) else math.inf
    elif label_kind == Kind.INT:
        series.y_int = int(name)
    else:
        series.y_string = name


def cross_statistics(
    acc: LabelAccumulator,
    table: JointTable | None,
    label_counts: dict[str, int],
    *,
    label_kind: Kind,
    x_int: bool,
) -> list[statistics_pb2.CrossFeatureStatistics]:
    """The feature's ``CrossFeatureStatistics`` with the label, as TFDV writes them: one
    with ``num_cross_stats`` for a numeric feature and label (population covariance and
    Pearson correlation of the univalent pairs; ``count``: those pairs), and one with
    ``categorical_cross_stats`` (lift per class from `table`, module docstring; ``count``:
    labeled examples with the feature). The two are a ``oneof`` in TFMD, hence two
    entries for one pair of paths. The caller sets ``path_x`` and ``path_y``."""
    entries: list[statistics_pb2.CrossFeatureStatistics] = []
    moments = acc.moments.result() if acc.moments is not None else None
    if acc.moments is not None and moments is not None:
        numeric = statistics_pb2.CrossFeatureStatistics(count=acc.moments.n)
        numeric.num_cross_stats.covariance = moments[0]
        if math.isfinite(moments[1]):
            numeric.num_cross_stats.correlation = moments[1]
        entries.append(numeric)
    if table is None:
        return entries
    cross = statistics_pb2.CrossFeatureStatistics(count=sum(acc.class_counts.values()))
    entries.append(cross)
    spec = acc.spec
    total = float(sum(label_counts.values()))
    rows = len(table.rows) - (1 if table.other else 0)
    shown = range(min(rows, spec.top_values) if table.bounds == () else rows)
    per_row = table.counts.sum(axis=1)
    lift = cross.categorical_cross_stats.lift
    for j, name in enumerate(table.classes):
        y_count = label_counts.get(name, 0)
        series = lift.lift_series.add(y_count=y_count)
        _set_y(series, name, spec, label_kind)
        if not y_count or not total:
            continue
        base = y_count / total
        found = []
        for i in shown:
            if per_row[i] > 0:
                found.append((table.counts[i, j] / per_row[i] / base, i))
        for value, i in sorted(found, key=lambda item: (-item[0], table.rows[item[1]])):
            entry = series.lift_values.add(
                lift=value, x_count=int(per_row[i]), x_and_y_count=int(table.counts[i, j])
            )
            if x_int and not table.bounds:
                entry.x_int = int(table.rows[i])
            else:
                entry.x_string = table.rows[i]
    return entries


@dataclasses.dataclass
class LabelContext:
    """What every feature's report needs to know of the label: its path, the kind it is
    reported as, its examples per class, and the cross statistics written so far."""

    path: tuple[str, ...]
    kind: Kind
    counts: dict[str, int]
    off: str = ""
    cross_features: list[statistics_pb2.CrossFeatureStatistics] = dataclasses.field(
        default_factory=list
    )


@dataclasses.dataclass(frozen=True)
class LabelFamily:
    """The registry entry of :class:`~beam_stats.stats.labels.LabelAccumulator`: every
    feature's label-conditional state, reported as its ``mutual_information`` custom
    statistic and its ``cross_features`` entry with the label (module docstring)."""

    name: ClassVar[str] = "label"
    spec: LabelSpec

    @property
    def eager(self) -> bool:
        return False

    def takes(self, batch: FeatureBatch) -> bool:
        return batch.label is not None

    def create(self) -> LabelAccumulator:
        return LabelAccumulator(self.spec)

    def add(self, state: LabelAccumulator, batch: FeatureBatch) -> None:
        label = batch.label
        assert label is not None  # takes() said so
        column = batch.column
        state.add(column, label, categorical=batch.categorical, encoded=batch.encoded)
        if column.path == self.spec.path:  # the label itself: count what has no class
            valued = (column.num_values > 0) & (label.classes < 0)
            state.unclassified += int(np.count_nonzero(valued))

    def load(self, msg: sketches_pb2.FeatureState) -> LabelAccumulator | None:
        if not msg.HasField("label"):
            return None
        return LabelAccumulator.from_proto(self.spec, msg.label)

    def write(self, state: LabelAccumulator, msg: sketches_pb2.FeatureState) -> None:
        msg.label.CopyFrom(state.to_proto())

    def report(self, state: LabelAccumulator | None, out: FeatureReport) -> None:
        context = out.label
        if context is None or state is None:
            return
        path = tuple(out.stats.path.step)
        if path == context.path:
            out.note("label_unclassified", state.unclassified)
            if context.off:
                out.note("label_statistics_off", context.off)
            return
        numeric = out.section == "num_stats"
        table = None
        if not context.off and context.counts:
            classes = sorted(context.counts, key=lambda c: (-context.counts[c], c))
            table = joint_table(state, classes, numeric=numeric)
        if table is not None:
            information = mutual_information(table)
            if math.isfinite(information):
                out.note("mutual_information", information)
        for cross in cross_statistics(
            state,
            table,
            context.counts,
            label_kind=context.kind,
            x_int=out.kind is Kind.INT and not numeric,
        ):
            cross.path_x.step.extend(path)
            cross.path_y.step.extend(context.path)
            context.cross_features.append(cross)
