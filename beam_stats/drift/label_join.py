"""The labeling loop: served examples joined with the labels that came back, by identifier.

Rows of the served data (with the model's prediction) and of the feedback data (with the
label) are keyed by their identifier feature(s), encoded as feature skew encodes them
(:func:`beam_stats.drift.feature_skew.identifier_keys`: the int 5, the float 5.0 and the
string "5" are three identifiers; a list of one value is that value).

How rows are joined (nothing is dropped without being counted, see ``LabelJoinSummary``):

* A feedback row is *usable* when its label is a number or a boolean
  (:func:`~beam_stats.drift.label_values.as_numbers`); rows whose label is missing or not a
  number are counted (``feedback_null_labels``, ``feedback_bad_labels``) and label nothing.
* Duplicates in the feedback: of the usable rows of an identifier, the **earliest** (by
  feedback time; rows without a time after those with one; at equal or no times, the
  largest label) is the label of the identifier; the other rows are counted in
  ``feedback_unused_rows`` (and the identifier in ``feedback_duplicate_ids``). The choice
  depends on the values only, never on the order the runner reads rows in.
* Duplicates in the served data: **all kept**. Each served row of an identifier that got a
  label is written with that label and its own delay (``served_duplicate_ids`` and
  ``served_duplicate_rows`` count them).
* Served rows whose identifier is missing (``served_null_ids``) cannot be labeled: they
  count as served and unlabeled (in coverage, rates and groups) and are not written.
  Feedback rows whose identifier is missing are counted (``feedback_null_ids``).
* Feedback identifiers never served are *orphans* (``orphan_ids``, ``orphan_rows``).

So ``served_rows = served_null_ids + labeled_rows + unlabeled_rows`` and ``feedback_rows =
feedback_null_ids + orphan_rows + labeled_ids + feedback_unused_rows``. Coverage is
``labeled_rows / served_rows`` (``id_coverage``: of distinct identifiers). The delay of a
labeled row is ``feedback time - served time`` in seconds, when both are valid. The rates,
calibration buckets and groups: :mod:`beam_stats.drift.label_summary`.

The joined rows are the served rows of labeled identifiers, with every served column as
read, then the label (its own type when numeric or boolean in every file, else float64)
under the label's name and, with times, the delay (float64 seconds, null when a time is
missing) under ``delay_column``; a served column of either name is kept as ``NAME (served)``.

How, vectorised: :func:`split_served` and :func:`split_feedback` hash the keys into
``num_shards`` shards (all rows of an identifier, from both sides, meet in one shard) and
count what needs no join; :func:`join_shard` joins one shard with Arrow (group by key,
sort, ``index_in``). Memory: one shard, ``rows / num_shards`` of each side.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from beam_stats.drift.feature_skew import identifier_keys
from beam_stats.drift.label_summary import LabelJoinAccumulator, LabelJoinSpec, column
from beam_stats.drift.label_values import as_numbers, as_seconds, scalars
from beam_stats.proto import label_join_pb2
from beam_stats.sketches.hashing import hash_array

#: The key of the counts that need no join (rows without an identifier).
NULL_SHARD = -1
#: Served rows of one shard: their keys and the rows.
ServedPart: TypeAlias = tuple[pa.Array, pa.RecordBatch]
#: Feedback rows of one shard: columns k (key), label, value (float64), time (seconds).
FeedbackPart: TypeAlias = pa.RecordBatch


def _filled(mask: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(mask, False), dtype=bool)


def _shards(keys: pa.Array, rows: pa.RecordBatch, num_shards: int) -> list[tuple[int, ServedPart]]:
    shards = (hash_array(keys) % np.uint64(num_shards)).astype(np.int64)
    order = np.argsort(shards, kind="stable")
    bounds = [0, *(np.flatnonzero(np.diff(shards[order])) + 1).tolist(), len(order)]
    parts = []
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        if stop > start:
            take = pa.array(order[start:stop])
            parts.append((int(shards[order[start]]), (keys.take(take), rows.take(take))))
    return parts


def split_served(
    batch: pa.RecordBatch, spec: LabelJoinSpec
) -> tuple[LabelJoinAccumulator | None, list[tuple[int, ServedPart]]]:
    """The figures of the rows without an identifier (None: every row has one), and
    ``(shard, (keys, rows))`` for the others."""
    keys = identifier_keys(batch, spec.identifier_features)
    found = None
    if keys.null_count:
        missing = keys.is_null()
        rows = batch.filter(missing)
        found = LabelJoinAccumulator(spec)
        found.counts["served_null_ids"] += rows.num_rows
        found.add_served(rows, np.zeros(rows.num_rows, bool), np.full(rows.num_rows, np.nan), None)
        keys, batch = keys.filter(pc.invert(missing)), batch.filter(pc.invert(missing))
    return found, _shards(keys, batch, spec.num_shards)


def split_feedback(
    batch: pa.RecordBatch, spec: LabelJoinSpec
) -> tuple[LabelJoinAccumulator, list[tuple[int, FeedbackPart]]]:
    """The counts of the feedback rows that need no join (rows, labels and times that are
    missing or bad, identifiers missing), and ``(shard, part)`` for the rows with one."""
    found = LabelJoinAccumulator(spec)
    c = found.counts
    c["feedback_rows"] += batch.num_rows
    label, _ = scalars(column(batch, spec.label_feature))
    value, null, bad = as_numbers(label)
    c["feedback_null_labels"] += int(null.sum())
    c["feedback_bad_labels"] += int(bad.sum())
    time = np.full(batch.num_rows, np.nan)
    if spec.timed:
        time, null, bad = as_seconds(column(batch, spec.feedback_time_feature))
        c["feedback_null_times"] += int(null.sum())
        c["feedback_bad_times"] += int(bad.sum())
    keys = identifier_keys(batch, spec.identifier_features)
    c["feedback_null_ids"] += keys.null_count
    rows = pa.RecordBatch.from_arrays(
        [keys, label, pa.array(value), pa.array(time, mask=np.isnan(time))],
        names=["k", "label", "value", "time"],
    )
    if keys.null_count:
        rows = rows.filter(keys.is_valid())
    return found, [(shard, part) for shard, (_, part) in _shards(rows["k"], rows, spec.num_shards)]


def _counts(keys: pa.Array) -> pa.Table:
    """Per distinct key, its number of rows (columns k, n)."""
    rows = pa.table({"k": keys, "i": pa.array(np.zeros(len(keys), dtype=np.int8))})
    groups = rows.group_by("k", use_threads=False).aggregate([("i", "count")])
    return groups.rename_columns(["k", "n"])


def _labels(parts: Sequence[FeedbackPart]) -> pa.Array:
    """The label columns of the parts as one array: their own type when numeric or boolean
    and the same in every part (nulls aside), else the numbers (float64)."""
    chunks = [p.column(1) for p in parts]
    types = {c.type for c in chunks if not pa.types.is_null(c.type)}
    if len(types) == 1:
        (t,) = types
        if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t):
            return pa.concat_arrays([c.cast(t) for c in chunks])
    return pa.concat_arrays([p.column(2) for p in parts])


def _with_columns(rows: pa.RecordBatch, new: dict[str, pa.Array]) -> pa.RecordBatch:
    names = [f"{n} (served)" if n in new else n for n in rows.schema.names]
    return pa.RecordBatch.from_arrays([*rows.columns, *new.values()], names=[*names, *new])


def join_shard(
    served: Sequence[ServedPart], feedback: Sequence[FeedbackPart], spec: LabelJoinSpec
) -> tuple[LabelJoinAccumulator, list[pa.RecordBatch]]:
    """Joins one shard (every row of its identifiers, from both sides): its figures and the
    joined rows (one batch per served part that has a labeled row)."""
    found = LabelJoinAccumulator(spec)
    c = found.counts
    none = pa.array([], pa.large_binary())
    served_keys = pa.concat_arrays([k for k, _ in served] or [none])
    feedback_keys = pa.concat_arrays([p.column(0) for p in feedback] or [none])
    served_ids, feedback_ids = _counts(served_keys), _counts(feedback_keys)
    for side, ids in (("served", served_ids), ("feedback", feedback_ids)):
        n = np.asarray(ids.column("n"))
        c[f"{side}_ids"] += ids.num_rows
        c[f"{side}_duplicate_ids"] += int(np.count_nonzero(n > 1))
        c[f"{side}_duplicate_rows"] += int(n[n > 1].sum())
    table = pa.table(
        {
            "k": feedback_keys,
            "v": pa.concat_arrays([p.column(2) for p in feedback] or [pa.array([], pa.float64())]),
            "t": pa.concat_arrays([p.column(3) for p in feedback] or [pa.array([], pa.float64())]),
            "i": pa.array(np.arange(len(feedback_keys), dtype=np.int64)),
        }
    )
    usable = table.filter(pc.invert(pc.is_nan(table["v"])))
    ordered = usable.sort_by([("k", "ascending"), ("t", "ascending"), ("v", "descending")])
    k = ordered["k"].combine_chunks()
    first = np.ones(len(k), dtype=bool)
    if len(k) > 1:
        first[1:] = ~_filled(pc.equal(k[1:], k[:-1]))
    chosen = ordered.filter(pa.array(first))
    chosen_keys = chosen["k"].combine_chunks()
    labeled_ids = int(_filled(pc.is_in(chosen_keys, value_set=served_ids["k"])).sum())
    orphans = ~_filled(pc.is_in(feedback_ids["k"], value_set=served_ids["k"]))
    orphan_rows = int(np.asarray(feedback_ids["n"])[orphans].sum())
    c["labeled_ids"] += labeled_ids
    c["unlabeled_ids"] += served_ids.num_rows - labeled_ids
    c["orphan_ids"] += int(orphans.sum())
    c["orphan_rows"] += orphan_rows
    c["feedback_unused_rows"] += len(feedback_keys) - orphan_rows - labeled_ids
    values = np.append(np.asarray(chosen["v"]), np.nan)  # index -1: no label
    times = np.append(np.asarray(pc.fill_null(chosen["t"], np.nan)), np.nan)
    positions = np.append(np.asarray(chosen["i"]), 0)
    labels = _labels(feedback) if feedback else None
    joined = []
    for keys, rows in served:
        index = np.asarray(pc.fill_null(pc.index_in(keys, value_set=chosen_keys), -1))
        labeled = index >= 0
        delay = found.add_served(rows, labeled, values[index], times[index] if spec.timed else None)
        c["labeled_rows"] += int(labeled.sum())
        c["unlabeled_rows"] += int((~labeled).sum())
        if labels is None or not labeled.any():
            continue
        take = np.flatnonzero(labeled)
        new = {spec.label_feature: labels.take(pa.array(positions[index[take]]))}
        if delay is not None:
            new[spec.delay_column] = pa.array(delay[take], mask=np.isnan(delay[take]))
        joined.append(_with_columns(rows.take(pa.array(take)), new))
    return found, joined


def join_labels(
    served: Iterable[pa.RecordBatch], feedback: Iterable[pa.RecordBatch], spec: LabelJoinSpec
) -> tuple[label_join_pb2.LabelJoinSummary, list[pa.RecordBatch]]:
    """The label join of in-memory batches: what ``JoinLabels`` computes on Beam."""
    total = LabelJoinAccumulator(spec)
    shards: dict[int, tuple[list[ServedPart], list[FeedbackPart]]] = {}
    for batch in served:
        found, parts = split_served(batch, spec)
        if found is not None:
            total.merge(found)
        for shard, part in parts:
            shards.setdefault(shard, ([], []))[0].append(part)
    for batch in feedback:
        found, feedback_parts = split_feedback(batch, spec)
        total.merge(found)
        for shard, feedback_part in feedback_parts:
            shards.setdefault(shard, ([], []))[1].append(feedback_part)
    rows: list[pa.RecordBatch] = []
    for served_parts, feedback_parts_of_shard in shards.values():
        found, joined = join_shard(served_parts, feedback_parts_of_shard, spec)
        total.merge(found)
        rows += joined
    return total.to_proto(), rows
