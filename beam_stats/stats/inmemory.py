"""Statistics of in-memory data, without Beam, by the same accumulators."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.errors import InvalidInputError
from beam_stats.stats.coalesce import KeyedCoalescer
from beam_stats.stats.dataset import DatasetAccumulator
from beam_stats.stats.label_bins import label_bins
from beam_stats.stats.slicing import WHOLE_DATASET, SliceCounter, SlicingSpec
from beam_stats.stats.spec import StatisticsSpec


def generate_statistics_from_table(
    data: pa.Table | pa.RecordBatch | Any,
    spec: StatisticsSpec | None = None,
    name: str = "",
    batch_size: int = 131072,
    include_state: bool = True,
    slicing: SlicingSpec | None = None,
) -> statistics_pb2.DatasetFeatureStatisticsList:
    """Statistics of a ``pyarrow.Table``, ``RecordBatch`` or pandas ``DataFrame``.

    Args:
        data: the examples, one per row; list-valued columns are multivalent features.
        spec: what to compute; TFDV's defaults when omitted. A label with
            ``quantile_bins`` gets its edges from a first pass over the table's label
            column (:mod:`beam_stats.stats.label_bins`).
        name: the dataset name written in the output.
        batch_size: rows added at a time (bounds the working memory, not the result).
        include_state: keep each feature's sketch state, so the result merges later.
        slicing: also compute the statistics of each slice (see
            :mod:`beam_stats.stats.slicing`); the whole dataset comes first, named `name`
            or "All Examples", then the slices in key order.

    Raises:
        InvalidInputError: `data` is none of the accepted types, a DataFrame column Arrow
            cannot convert (mixed Python types), or the slicing makes more than its
            ``max_slices`` slices.
    """
    if isinstance(data, pa.RecordBatch):
        table = pa.Table.from_batches([data])
    elif isinstance(data, pa.Table):
        table = data
    elif type(data).__name__ == "DataFrame" and hasattr(data, "columns"):
        try:
            table = pa.Table.from_pandas(data, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as e:
            # Arrow's message names the column; say what to do about it.
            raise InvalidInputError(
                f"the DataFrame has a column Arrow cannot convert ({e}); a column of mixed "
                "Python types (an object column of numbers and strings) must be given one "
                "type first, e.g. df[column].astype(str)"
            ) from e
    else:
        raise InvalidInputError(
            f"expected a pyarrow Table or RecordBatch or a pandas DataFrame, got {type(data)}"
        )
    spec = spec or StatisticsSpec()
    if slicing is not None:
        slicing.check_privacy(spec.privacy)
    batches = table.to_batches(max_chunksize=batch_size)
    if spec.label is not None and spec.label.quantile_bins:
        edges = label_bins(batches, spec.label.path, spec.label.quantile_bins)
        spec = spec.with_label_bins(edges)
    accumulator = DatasetAccumulator(spec)
    if not batches:  # no rows: the columns still appear, with zero counts
        batches = [pa.RecordBatch.from_pylist([], schema=table.schema)]
    slices: dict[str, DatasetAccumulator] = {}
    counter = None if slicing is None else SliceCounter(slicing)
    # A slice's rows of many batches are added as one (a batch has a fixed cost).
    parts = KeyedCoalescer()
    for batch in batches:
        accumulator.add(batch)
        if counter is not None:
            for key, part in counter.slice(batch):
                for ready_key, ready in parts.add(key, part):
                    slices.setdefault(ready_key, DatasetAccumulator(spec)).add(ready)
    for key, ready in parts.flush():
        slices.setdefault(key, DatasetAccumulator(spec)).add(ready)
    if slicing is not None:
        name = name or WHOLE_DATASET
    return statistics_pb2.DatasetFeatureStatisticsList(
        datasets=[accumulator.result(name, include_state)]
        + [slices[key].result(key, include_state) for key in sorted(slices)]
    )
