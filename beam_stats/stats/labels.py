"""What each feature says about the label: label-conditional state, lift and mutual information.

With ``StatisticsSpec(label=LabelSpec(feature="y"))`` every feature ``x`` keeps, beside its own
statistics, a mergeable summary of its values *per label class*, from which the result writes
TFMD's ``cross_features`` entry (``path_x`` = x, ``path_y`` = the label) with lift, and the
feature's custom statistic ``mutual_information``.

Label classes:
    An example's class is its label's single value: the value's text for strings, bytes,
    ints and booleans (``0``/``1``), or for numbers with ``LabelSpec.bins`` the bucket
    ``[edge_i, edge_i+1)`` it falls in (below the first or from the last edge: the open
    buckets). An example without a label, with several label values, or with a float
    label and no bins has no class and is left out of every label statistic (counted in
    the label feature's ``label_unclassified`` custom statistic). ``LabelSpec.quantile_bins``
    gives a numeric label bins of about equal size, found by a first pass over the label
    (:mod:`beam_stats.stats.label_bins`); the statistics are then made with those bins. More than
    ``max_classes`` classes over the whole data (not per partition) turn the label
    statistics off, with the reason written, rather than keeping an unbounded state.

State per feature (:class:`LabelAccumulator`):
    - ``class_counts``: examples with the feature present, per class (exact);
    - for categorical features (strings, bytes, categorical ints): the joint counts of
      (class, value), each example counting once per distinct value it has, in a
      Misra-Gries summary of the pairs (:mod:`beam_stats.sketches.frequent`; exact while at
      most ``pair_capacity`` distinct pairs were seen, else each count is low by at most
      ``offset <= pairs / (pair_capacity + 1)``);
    - for numeric features: a quantiles sketch of the finite values of each class
      (:mod:`beam_stats.sketches.quantiles`), so the buckets are chosen when the result is
      written, from the merged data, not fixed in advance (NaN and +-inf are left out, as
      the feature's ``num_nan``, ``num_pos_inf`` and ``num_neg_inf`` count them).
    Merging adds the class counts and merges the sketches: associative and commutative, and
    while the sketches are exact, any split of the data gives the same state.

Lift, mutual information and the joint tables they read: :mod:`beam_stats.stats.label_tables`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from beam_stats.arrow import FeatureColumn, Kind
from beam_stats.errors import DeserializationError, IncompatibleMergeError
from beam_stats.proto import sketches_pb2
from beam_stats.sketches.frequent import FrequentItemsAccumulator, FrequentItemsSpec
from beam_stats.sketches.quantiles import QuantilesAccumulator, QuantilesSpec
from beam_stats.stats.label_spec import LabelSpec

#: Quantiles of a feature per class: small (about 16 KB per class while exact).
CLASS_QUANTILES = QuantilesSpec(exact_limit=1_000, capacity=256)


def bucket_name(edges: Sequence[float], index: int) -> str:
    """The class text of bucket `index` of `edges` (0: below the first edge)."""
    low = f"{edges[index - 1]:g}" if index > 0 else "-inf"
    high = f"{edges[index]:g}" if index < len(edges) else "inf"
    return f"[{low}, {high})"


class LabelBatch(NamedTuple):
    """The label of each example of one batch (:func:`label_batch`)."""

    names: list[str]  # the class texts of this batch
    classes: np.ndarray  # int64 per example: index into names, -1 for no class
    numbers: np.ndarray  # float64 per example: a numeric label's value, NaN for none


def label_batch(column: FeatureColumn | None, spec: LabelSpec, num_examples: int) -> LabelBatch:
    """The class (and numeric value) of each example of a batch. `column` is the label's
    column (None: not in the batch)."""
    classes = np.full(num_examples, -1, dtype=np.int64)
    numbers = np.full(num_examples, np.nan)
    if column is None or not len(column.values):
        return LabelBatch([], classes, numbers)
    first = np.concatenate(([0], np.cumsum(column.num_values)[:-1]))
    owners = np.flatnonzero(column.num_values == 1)
    values = column.values.take(pa.array(first[owners]))
    if column.kind in (Kind.INT, Kind.FLOAT):
        numbers[owners] = values.to_numpy(zero_copy_only=False).astype(np.float64)
    if column.kind == Kind.FLOAT or (spec.bins and column.kind == Kind.INT):
        if not spec.bins:
            return LabelBatch([], classes, numbers)
        finite = np.isfinite(numbers[owners])
        index = np.searchsorted(np.asarray(spec.bins), numbers[owners], side="right")
        names = [bucket_name(spec.bins, i) for i in range(len(spec.bins) + 1)]
        classes[owners[finite]] = index[finite]
        return LabelBatch(names, classes, numbers)
    if column.kind == Kind.INT:
        values = pc.cast(pc.cast(values, pa.int64()), pa.string())
    elif column.kind not in (Kind.STRING, Kind.BYTES):
        return LabelBatch([], classes, numbers)
    encoded = pc.dictionary_encode(
        values.cast(pa.binary()) if column.kind == Kind.BYTES else values
    )
    names = [
        v if isinstance(v, str) else v.decode("utf-8", "backslashreplace")
        for v in encoded.dictionary.to_pylist()
    ]
    classes[owners] = encoded.indices.to_numpy(zero_copy_only=False)
    return LabelBatch(names, classes, numbers)


class CoMoments:
    """Count, means and centred sums of squares and products of (feature, label) pairs:
    exact covariance and correlation, merged by Chan et al.'s pairwise formulas."""

    __slots__ = ("cxy", "m2x", "m2y", "mx", "my", "n")

    def __init__(self) -> None:
        self.n, self.mx, self.my, self.m2x, self.m2y, self.cxy = 0, 0.0, 0.0, 0.0, 0.0, 0.0

    def add(self, x: np.ndarray, y: np.ndarray) -> None:
        if not x.size:
            return
        other = CoMoments()
        other.n, other.mx, other.my = int(x.size), float(x.mean()), float(y.mean())
        dx, dy = x - other.mx, y - other.my
        # Sums, not dot products: BLAS wakes its threads for each (~6 ms a call on a busy
        # machine, 20x the work) and its result depends on the thread count.
        other.m2x, other.m2y = float(np.square(dx).sum()), float(np.square(dy).sum())
        other.cxy = float((dx * dy).sum())
        self.merge(other)

    def merge(self, other: CoMoments) -> None:
        if not other.n:
            return
        if not self.n:
            self.n, self.mx, self.my = other.n, other.mx, other.my
            self.m2x, self.m2y, self.cxy = other.m2x, other.m2y, other.cxy
            return
        n = self.n + other.n
        dx, dy = other.mx - self.mx, other.my - self.my
        share = self.n * other.n / n
        self.m2x += other.m2x + dx * dx * share
        self.m2y += other.m2y + dy * dy * share
        self.cxy += other.cxy + dx * dy * share
        self.mx += dx * other.n / n
        self.my += dy * other.n / n
        self.n = n

    def to_list(self) -> list[float]:
        return [float(self.n), self.mx, self.my, self.m2x, self.m2y, self.cxy]

    @classmethod
    def from_list(cls, values: Sequence[float]) -> CoMoments:
        if len(values) != 6 or not all(math.isfinite(v) for v in values) or values[0] < 0:
            raise DeserializationError(f"bad co-moments {list(values)!r}")
        acc = cls()
        acc.n = int(values[0])
        acc.mx, acc.my, acc.m2x, acc.m2y, acc.cxy = values[1:]
        return acc

    def result(self) -> tuple[float, float] | None:
        """(covariance, Pearson correlation) as TFDV defines them (population
        covariance); None without pairs; correlation NaN when either side is constant."""
        if not self.n:
            return None
        spread = math.sqrt(self.m2x * self.m2y)
        return self.cxy / self.n, (self.cxy / spread if spread > 0 else math.nan)


def _pair_prefixes(names: Sequence[str]) -> pa.Array:
    """The key prefix of each class: its UTF-8 length, a colon and its text, so that a pair
    key ``prefix + value`` splits back unambiguously whatever bytes the texts hold."""
    encoded = [n.encode() for n in names]
    return pa.array([f"{len(e)}:".encode() + e for e in encoded], type=pa.binary())


def split_pair(key: bytes) -> tuple[str, bytes]:
    size, _, rest = key.partition(b":")
    n = int(size)
    return rest[:n].decode(), rest[n:]


class LabelAccumulator:
    """The label-conditional state of one feature (see the module docstring)."""

    __slots__ = ("class_counts", "moments", "off", "pairs", "quantiles", "spec", "unclassified")

    def __init__(self, spec: LabelSpec) -> None:
        self.spec = spec
        self.class_counts: dict[str, int] = {}
        self.pairs: FrequentItemsAccumulator | None = None
        self.quantiles: dict[str, QuantilesAccumulator] = {}
        self.unclassified = 0  # on the label feature: examples with a label but no class
        self.off = ""  # why the label statistics are off (too many classes); "" while on
        # Numeric feature and numeric label: co-moments of the univalent pairs.
        self.moments: CoMoments | None = None

    def add(
        self,
        column: FeatureColumn,
        label: LabelBatch,
        *,
        categorical: bool,
        encoded: pa.Array | None = None,
    ) -> None:
        """Adds one batch of the feature, given each example's label (:func:`label_batch`)
        and, if made already, the values as text dictionary-encoded (one per value)."""
        names, classes = label.names, label.classes
        # One value per example (most columns): value i is example i's.
        univalent = len(column.values) == column.num_examples and bool(
            (column.num_values == 1).all()
        )
        if column.kind in (Kind.INT, Kind.FLOAT) and not categorical:
            one = (column.num_values == 1) & np.isfinite(label.numbers)
            if one.any():
                if univalent:
                    x = column.values.to_numpy(zero_copy_only=False).astype(np.float64)[one]
                else:
                    first = np.concatenate(([0], np.cumsum(column.num_values)[:-1]))[one]
                    x = column.values.take(pa.array(first)).to_numpy(zero_copy_only=False)
                    x = x.astype(np.float64)
                finite = np.isfinite(x)
                if self.moments is None:
                    self.moments = CoMoments()
                self.moments.add(x[finite], label.numbers[one][finite])
        if self.off:
            return
        counted = column.present & (classes >= 0)
        per_class = np.bincount(classes[counted], minlength=len(names))
        for j in np.flatnonzero(per_class).tolist():
            self.class_counts[names[j]] = self.class_counts.get(names[j], 0) + int(per_class[j])
        if self._too_many():
            return
        if not len(column.values) or column.kind not in (
            Kind.INT,
            Kind.FLOAT,
            Kind.STRING,
            Kind.BYTES,
        ):
            return
        if univalent:
            owner = np.arange(column.num_examples)
        else:
            owner = np.repeat(np.arange(column.num_examples), column.num_values)
        value_class = classes[owner]
        keep = value_class >= 0
        if not keep.any():
            return
        values = column.values if encoded is None else encoded
        values = values.filter(pa.array(keep)) if not keep.all() else values
        owner, value_class = owner[keep], value_class[keep]
        if column.kind in (Kind.STRING, Kind.BYTES) or categorical:
            self._add_pairs(values, owner, classes, names)
        else:
            numbers = values.to_numpy(zero_copy_only=False).astype(np.float64)
            finite = np.isfinite(numbers)  # NaN and +-inf: the feature's own counts
            if not finite.all():
                numbers, value_class = numbers[finite], value_class[finite]
            for j in np.flatnonzero(np.bincount(value_class)).tolist():
                sketch = self.quantiles.setdefault(names[j], CLASS_QUANTILES.create())
                sketch.add(numbers[value_class == j])

    def _add_pairs(
        self,
        values: pa.Array,
        owner: np.ndarray,
        classes: np.ndarray,
        names: Sequence[str],
    ) -> None:
        """Adds the (class, value) pairs of `values`, each value's example in `owner` (in
        order); `classes`: every example's class."""
        if pa.types.is_dictionary(values.type):
            encoded = values
        else:
            if pa.types.is_integer(values.type) or pa.types.is_boolean(values.type):
                values = pc.cast(pc.cast(values, pa.int64()), pa.string())
            encoded = pc.dictionary_encode(values)
        size = len(encoded.dictionary)
        index = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        if len(owner) > 1 and (owner[1:] == owner[:-1]).any():
            # Each example counts once per distinct value it has (TFDV's lift does the same).
            codes = np.sort(owner * size + index)  # (a sort: faster than a hash here)
            codes = codes[np.concatenate(([True], codes[1:] != codes[:-1]))]
            owner, index = codes // size, codes % size
        # Counted per (class, value) first: the keys are made once per distinct pair.
        pair_counts = np.bincount(classes[owner] * size + index, minlength=len(names) * size)
        pairs = np.flatnonzero(pair_counts)
        prefixes = _pair_prefixes(names).take(pa.array(pairs // size))
        distinct = encoded.dictionary.take(pa.array(pairs % size)).cast(pa.binary())
        if self.pairs is None:
            self.pairs = FrequentItemsSpec(capacity=self.spec.pair_capacity).create()
        keys = pc.binary_join_element_wise(prefixes, distinct, b"")
        self.pairs.add_counts(keys, pair_counts[pairs])

    def _too_many(self) -> bool:
        if len(self.class_counts) <= self.spec.max_classes:
            return False
        self.off = (
            f"the label has more than {self.spec.max_classes} classes "
            "(LabelSpec.max_classes; give a numeric label bins)"
        )
        self.class_counts, self.pairs, self.quantiles = {}, None, {}
        return True

    def merge(self, other: LabelAccumulator) -> None:
        """Adds `other`'s state (the same LabelSpec) to this one."""
        if other.spec != self.spec:
            raise IncompatibleMergeError(
                f"cannot merge label states of {self.spec} and {other.spec}"
            )
        self.unclassified += other.unclassified
        if other.moments is not None:
            if self.moments is None:
                self.moments = CoMoments()
            self.moments.merge(other.moments)
        if self.off or other.off:
            self.off = self.off or other.off
            self.class_counts, self.pairs, self.quantiles = {}, None, {}
            return
        for name, count in other.class_counts.items():
            self.class_counts[name] = self.class_counts.get(name, 0) + count
        if self._too_many():
            return
        if other.pairs is not None:
            if self.pairs is None:
                self.pairs = FrequentItemsSpec(capacity=self.spec.pair_capacity).create()
            self.pairs.merge(other.pairs)
        for name, sketch in other.quantiles.items():
            self.quantiles.setdefault(name, CLASS_QUANTILES.create()).merge(sketch)

    def to_proto(self) -> sketches_pb2.LabelState:
        """The lossless state."""
        state = sketches_pb2.LabelState(off=self.off, unclassified=self.unclassified)
        if self.moments is not None:
            state.moments.extend(self.moments.to_list())
        for name in sorted(self.class_counts):
            state.class_counts[name] = self.class_counts[name]
        if self.pairs is not None:
            state.pairs.CopyFrom(self.pairs.to_proto())
        for name in sorted(self.quantiles):
            state.quantiles[name].CopyFrom(self.quantiles[name].to_proto())
        return state

    @classmethod
    def from_proto(cls, spec: LabelSpec, state: sketches_pb2.LabelState) -> LabelAccumulator:
        """The accumulator :meth:`to_proto` wrote.

        Raises:
            DeserializationError: a state of another pair capacity, or too many classes.
        """
        acc = cls(spec)
        acc.off, acc.unclassified = state.off, state.unclassified
        acc.class_counts = dict(state.class_counts)
        if state.moments:
            acc.moments = CoMoments.from_list(list(state.moments))
        if len(acc.class_counts) > spec.max_classes:
            raise DeserializationError(
                f"a label state with {len(acc.class_counts)} classes, above {spec.max_classes}"
            )
        if state.HasField("pairs"):
            acc.pairs = FrequentItemsAccumulator.from_proto(state.pairs)
            if acc.pairs.spec.capacity != spec.pair_capacity:
                raise DeserializationError(
                    f"a label state of pair capacity {acc.pairs.spec.capacity}, "
                    f"not {spec.pair_capacity}"
                )
        acc.quantiles = {n: QuantilesAccumulator.from_proto(q) for n, q in state.quantiles.items()}
        return acc
