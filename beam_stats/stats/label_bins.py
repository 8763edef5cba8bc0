"""Classes of a numeric label from its quantiles: the first pass of ``LabelSpec.quantile_bins``.

A float label has no classes of its own (:mod:`beam_stats.stats.labels`). With
``LabelSpec(feature="y", quantile_bins=q)`` the statistics are made in two passes over the data:

1. this module's :class:`LabelBinsAccumulator` reads the label column alone (no other
   feature is flattened) and keeps its finite values in a quantiles sketch
   (:mod:`beam_stats.sketches.quantiles`); its :meth:`~LabelBinsAccumulator.result` gives
   the interior edges, the quantiles at ranks ``i / q`` for ``i = 1 .. q - 1``;
2. the statistics run with ``LabelSpec(bins=those edges)``
   (:meth:`~beam_stats.stats.StatisticsSpec.with_label_bins`), so the file records the
   edges actually used: files made with other edges (other data) refuse to merge, as any
   files made with other label settings do.

Edges:
    ``quantiles(i / q)`` is the smallest value whose inclusive rank is at least ``i n / q``;
    while the sketch is exact (at most ``exact_limit`` distinct label values, 100,000 by
    default) that is ``numpy.quantile(values, i / q, method="inverted_cdf")``, and beyond it
    each edge's rank is within the sketch's certified ``rank_error`` (about 0.1 % at 1M
    values). A class is ``[edge_i, edge_i+1)``, so an edge value falls in the class above
    it. Equal quantiles (ties: a label with few distinct values) give one edge, so there
    can be fewer than ``q`` classes: a constant label has one edge and one class (the
    class below it is empty). A label with no finite value gives no edge; a float label
    then has no class, as without bins.

What is left out:
    Examples without the label, with several label values, and NaN or +-inf labels: the
    same examples the statistics leave without a class. Counted in ``left_out``. String
    and bytes labels have no quantiles: their values are left out (and counted), and they
    keep their own classes since no edge is found.

Merge:
    Merging merges the sketches (exactly commutative; the same bound as one sketch of all
    the values) and adds the counts. Memory: the sketch's, bounded by ``exact_limit`` and
    ``capacity``, whatever the number of rows.

Cost: on files, one extra read of the inputs (:mod:`beam_stats.jobs.label_bins`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pyarrow as pa

from beam_stats.arrow import FeatureColumn, Kind, flatten_batch
from beam_stats.errors import IncompatibleMergeError, InvalidInputError
from beam_stats.sketches.quantiles import QuantilesSpec


def label_column(batch: pa.RecordBatch, path: Sequence[str]) -> FeatureColumn | None:
    """The label's column of `batch` (None: not in it), flattening only its top-level column."""
    index = batch.schema.get_field_index(path[0])
    if index < 0:
        return None
    field = batch.schema.field(index)
    single = pa.RecordBatch.from_arrays([batch.column(index)], schema=pa.schema([field]))
    return next((c for c in flatten_batch(single) if c.path == tuple(path)), None)


class LabelBinsAccumulator:
    """The finite values of a numeric label, for its quantile edges (module docstring).

    Attributes:
        path: the label's path.
        quantiles: the sketch of its finite single values.
        left_out: examples with the label present but not a single finite number.
    """

    __slots__ = ("left_out", "path", "quantiles")

    def __init__(self, path: Sequence[str], spec: QuantilesSpec | None = None) -> None:
        self.path = tuple(path)
        self.quantiles = (spec or QuantilesSpec()).create()
        self.left_out = 0

    def add(self, batch: pa.RecordBatch) -> None:
        """Adds the label values of one record batch."""
        column = label_column(batch, self.path)
        if column is None:
            return
        present = int(np.count_nonzero(column.present))
        if column.kind not in (Kind.INT, Kind.FLOAT) or not len(column.values):
            self.left_out += present
            return
        first = np.concatenate(([0], np.cumsum(column.num_values)[:-1]))
        owners = np.flatnonzero(column.num_values == 1)
        values = column.values.take(pa.array(first[owners])).to_numpy(zero_copy_only=False)
        values = values.astype(np.float64)
        finite = values[np.isfinite(values)]
        self.quantiles.add(finite)
        self.left_out += present - finite.size

    def merge(self, other: LabelBinsAccumulator) -> None:
        """Adds `other`'s values (the same label) to this accumulator.

        Raises:
            IncompatibleMergeError: `other` is of another label or sketch settings.
        """
        if other.path != self.path:
            raise IncompatibleMergeError(
                f"cannot merge the label values of {'.'.join(self.path)!r} and "
                f"{'.'.join(other.path)!r}"
            )
        self.quantiles.merge(other.quantiles)
        self.left_out += other.left_out

    def result(self, quantile_bins: int) -> tuple[float, ...]:
        """The interior edges at ranks ``i / quantile_bins``, strictly increasing (ties
        merged); () without a finite value.

        Raises:
            InvalidInputError: `quantile_bins` is below 2.
        """
        if isinstance(quantile_bins, bool) or not isinstance(quantile_bins, int):
            raise InvalidInputError(f"quantile_bins must be an int >= 2, got {quantile_bins!r}")
        if quantile_bins < 2:
            raise InvalidInputError(f"quantile_bins must be an int >= 2, got {quantile_bins!r}")
        if self.quantiles.is_empty:
            return ()
        ranks = np.arange(1, quantile_bins) / quantile_bins
        return tuple(float(e) for e in np.unique(self.quantiles.quantiles(ranks)))


def label_bins(
    batches: Iterable[pa.RecordBatch], path: Sequence[str], quantile_bins: int
) -> tuple[float, ...]:
    """The edges :class:`LabelBinsAccumulator` finds in `batches` (in memory)."""
    accumulator = LabelBinsAccumulator(path)
    for batch in batches:
        accumulator.add(batch)
    return accumulator.result(quantile_bins)
