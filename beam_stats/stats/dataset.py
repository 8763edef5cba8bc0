"""The accumulator of a dataset: every feature's (:mod:`beam_stats.stats.feature`) and every
sparse or weighted feature's, over Arrow record batches.

:class:`DatasetAccumulator` is what the Beam ``CombineFn`` holds: ``add`` takes an Arrow
record batch, ``merge`` combines partitions, ``to_proto``/``from_proto`` are its lossless wire
format, and ``result`` writes a tensorflow-metadata ``DatasetFeatureStatistics``, one feature
at a time if asked (``feature_results``).

Features are reported in the data's column order (TFDV's too): by the smallest position a
feature had among a batch's flattened columns, ties by path, so the order does not depend on
how batches or states were merged.
"""

from __future__ import annotations

import collections
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pyarrow as pa
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats._types import FeaturePath
from beam_stats.arrow import FeatureColumn, Kind, flatten_batch, flatten_field
from beam_stats.errors import IncompatibleMergeError, InvalidInputError
from beam_stats.proto import sketches_pb2
from beam_stats.stats.composite import CompositeAccumulator, add_composite
from beam_stats.stats.feature import (
    COMPOSITE_FORMAT_VERSION,
    FORMAT_VERSION,
    STATE_NAME,
    FeatureAccumulator,
)
from beam_stats.stats.label_tables import LabelContext, LabelFamily
from beam_stats.stats.labels import LabelAccumulator, label_batch
from beam_stats.stats.spec import StatisticsSpec
from beam_stats.stats.weights import weight_values

#: The most threads that add or merge one dataset's features at a time
#: (:attr:`DatasetAccumulator.threads`): measured on 2 cores only; a cap, so that a large
#: machine's in-process run does not start dozens of threads per batch for work that also
#: holds the GIL part of the time.
MAX_FEATURE_THREADS = 4

#: Rows from which :meth:`DatasetAccumulator.add` spreads a batch's features over its threads
#: (and a merge or a group of slices, over all their rows): 4,096 instead made 10 and 80
#: slices of 1M rows no faster (2.76 -> 2.73 s, 3.29 -> 3.18 s, within the noise).
THREADED_ROWS = 16_384


def feature_threads() -> int:
    """Threads for :attr:`DatasetAccumulator.threads` on this machine: the cores this process
    may run on, at most :data:`MAX_FEATURE_THREADS` (the in-process engine's choice; the
    pipeline's workers are the runner's to spread)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, MAX_FEATURE_THREADS))


def each_feature(
    threads: int, jobs: list[tuple[Callable[..., None], Any]], rows: int, *args: Any
) -> None:
    """``work(item, *args)`` of each (work, item) of `jobs`, each touching one feature's
    states only, on `threads` threads where that pays (`rows`: the rows they cover, at
    least :data:`THREADED_ROWS`); the first error, in the jobs' order, is raised once all
    are done."""
    if threads > 1 and len(jobs) > 1 and rows >= THREADED_ROWS:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            done = [pool.submit(work, item, *args) for work, item in jobs]
        for future in done:
            future.result()
    else:
        for work, item in jobs:
            work(item, *args)


class DatasetAccumulator:
    """Every feature of one dataset: the state a statistics run combines.

    `threads` > 1: a batch of at least :data:`THREADED_ROWS` rows (:meth:`add`: its columns
    flattened, then its features added) and a merge (:meth:`merge_all`) are worked that many
    columns or features at a time. Each touches its own state only, and most of the work is
    numpy's and Arrow's (sorts, hashes, encodings), which run beside Python: on 2 cores, 1M
    rows of 20 features 1.96 -> 1.58 s and weighted 2.88 -> 1.87 s with the features on
    threads, then 1.73 -> 1.43 s with the columns too (benchmarks/RESULTS.md, session 31,
    each against the code before it in the same minutes). The statistics are the same
    bytes whatever the threads; the threads are not part of the state (:meth:`to_proto`).
    A spec with custom statistics (user code) keeps one thread."""

    def __init__(self, spec: StatisticsSpec, threads: int = 1) -> None:
        """Raises InvalidInputError for a spec whose label bins are still to be found
        (``LabelSpec.quantile_bins``: see :mod:`beam_stats.stats.label_bins`)."""
        if spec.label is not None and spec.label.quantile_bins:
            raise InvalidInputError(
                f"the label's quantile_bins={spec.label.quantile_bins} need a first pass over "
                "the label before the statistics: compute_statistics, check and "
                "generate_statistics_from_table make it; else give "
                "spec.with_label_bins(LabelBinsAccumulator(...).result(...))"
            )
        self.spec = spec
        # A custom statistic is the user's code, not written to be called for two features
        # at once: its dataset keeps one thread.
        self.threads = threads if not spec.statistics else 1
        self.num_examples = 0
        self.weighted_num_examples = 0.0
        self.features: dict[FeaturePath, FeatureAccumulator] = {}
        self.composites: list[CompositeAccumulator] = [c.create() for c in spec.composites]
        self.released = False  # spent by result(release=True)
        # The label's cross statistics, made with the features' results (feature_results).
        self.cross_features: list[statistics_pb2.CrossFeatureStatistics] = []
        # The batch being added in parts (add_part): the rows of its slices, and the
        # positions of the first feature of the current group of columns and past its last.
        self._part_slices: list[int] | None = None
        self._part_start = self._part_end = 0

    def _feature(self, path: FeaturePath) -> FeatureAccumulator:
        feature = self.features.get(path)
        if feature is None:
            feature = self.features[path] = FeatureAccumulator(path, self.spec)
        return feature

    def add(self, batch: pa.RecordBatch) -> None:
        """Adds one record batch (one example per row).

        Raises:
            InvalidInputError: two columns of `batch` have the same name (their values would
                fold into one feature).
        """
        _check_names(batch)
        self.num_examples += batch.num_rows
        weights = self._weights(batch)
        columns = self._flattened(batch)
        label = None
        if self.spec.label is not None:
            path = self.spec.label.path
            found = next((c for c in columns if c.path == path), None)
            label = label_batch(found, self.spec.label, batch.num_rows)
        jobs = []
        for position, column in enumerate(columns):
            feature = self._feature(column.path)
            feature.note_position(position)
            jobs.append((feature.add, column))
        each_feature(self.threads, jobs, batch.num_rows, weights, label)
        for composite in self.composites:
            composite.add(batch)

    @property
    def takes_parts(self) -> bool:
        """Whether :meth:`add_part` can take a batch a few columns at a time: no statistic
        needs whole rows (no weight feature, label or composite feature)."""
        spec = self.spec
        return spec.weight_feature is None and spec.label is None and not self.composites

    def _flattened(self, batch: pa.RecordBatch) -> list[FeatureColumn]:
        """:func:`~beam_stats.arrow.flatten_batch` of `batch`, its columns flattened on
        :attr:`threads` threads where that pays (each column's own work, mostly Arrow's)."""
        fields = list(zip(batch.schema, batch.columns, strict=True))
        if not (self.threads > 1 and len(fields) > 1 and batch.num_rows >= THREADED_ROWS):
            return list(flatten_batch(batch))
        rows = batch.num_rows
        with ThreadPoolExecutor(max_workers=self.threads) as pool:
            parts = pool.map(lambda fc: flatten_field(fc[0], fc[1], rows), fields)
            return [feature for features in parts for feature in features]

    def add_part(self, part: pa.RecordBatch, columns: int, rows: int) -> None:
        """Adds some columns of some rows of a batch (a wide Parquet row group,
        :mod:`beam_stats.beam.reading`): the batch is cut into groups of columns, numbered
        `columns` from 0 in column order, each cut into the same slices of rows, numbered
        `rows` from 0 in row order; the parts come group after group, slice after slice.
        The statistics are those of :meth:`add` of each slice of rows whole (positions
        included), while only a part is held in memory.

        Raises:
            InvalidInputError: :attr:`takes_parts` is false, a part comes out of that order
                or has other rows than the first group's slice of that number, or two
                columns of a part have the same name (the reader checks names over the whole
                batch).
        """
        if not self.takes_parts:
            raise InvalidInputError(
                "add_part needs a spec without weight feature, label or composite features "
                "(they need whole rows): add whole batches"
            )
        _check_names(part)
        slices = self._part_slices
        if columns == 0 and rows == 0:  # a new batch
            slices = self._part_slices = []
            self._part_start = self._part_end = 0
        if slices is None or columns < 0 or rows < 0:
            raise InvalidInputError(f"column part ({columns}, {rows}) before part (0, 0)")
        if columns == 0:
            if rows != len(slices):
                raise InvalidInputError(f"column part (0, {rows}) after {len(slices)} slices")
            slices.append(part.num_rows)
            self.num_examples += part.num_rows
        elif rows >= len(slices) or slices[rows] != part.num_rows:
            raise InvalidInputError(
                f"column part ({columns}, {rows}) of {part.num_rows} rows; the first group's "
                f"slices have {slices} rows: the parts of a batch have the same rows"
            )
        elif rows == 0:  # the next group of columns
            self._part_start = self._part_end
        position = self._part_start
        jobs = []
        for column in flatten_batch(part):
            feature = self._feature(column.path)
            feature.note_position(position)
            jobs.append((feature.add, column))
            position += 1
        self._part_end = position
        each_feature(self.threads, jobs, part.num_rows)

    def _weights(self, batch: pa.RecordBatch) -> np.ndarray | None:
        """The examples' weights (invalid ones as 0, counted), or None if unweighted."""
        path = self.spec.weight_feature
        if path is None:
            return None
        index = batch.schema.get_field_index(path[0]) if len(path) == 1 else -1
        if index < 0:
            weights = np.zeros(batch.num_rows)
        else:
            weights = weight_values(batch.column(index), path)
        invalid = ~(np.isfinite(weights) & (weights >= 0))
        if invalid.any():
            weights[invalid] = 0.0
            self._feature(path).value_kinds.num_invalid_weights += int(np.count_nonzero(invalid))
        self.weighted_num_examples += float(weights.sum())
        return weights

    def add_all(self, batches: Iterable[pa.RecordBatch]) -> None:
        for batch in batches:
            self.add(batch)

    def merge(self, other: DatasetAccumulator) -> None:
        self.merge_all([other])

    def merge_all(self, others: list[DatasetAccumulator]) -> None:
        """Merges every accumulator of `others` (each unchanged) into this one, each
        feature's states of them all at once (a sketch that can merge many in one pass:
        1,000 slices' top values in one hash rather than 1,000).

        With :attr:`threads` > 1, that many features are merged at a time (most of a large
        merge is numpy's sorts: the whole dataset of 10 slices of 1M rows, 0.78 s -> 0.39-0.60
        s on 2 threads).

        Raises:
            IncompatibleMergeError: other sketch settings, or as
                :meth:`~beam_stats.stats.feature.FeatureAccumulator.merge`.
        """
        for other in others:
            if other.spec.settings() != self.spec.settings():
                raise IncompatibleMergeError(
                    f"sketch settings differ: {self.spec.settings()} vs {other.spec.settings()}"
                )
        by_path: dict[FeaturePath, list[FeatureAccumulator]] = {}
        for other in others:
            self.num_examples += other.num_examples
            self.weighted_num_examples += other.weighted_num_examples
            for path, feature in other.features.items():
                by_path.setdefault(path, []).append(feature)
        merges = []
        for path, features in by_path.items():
            mine = self.features.get(path)
            if mine is None:  # takes the other's values as they are, hashed or not
                mine = self._feature(path)
                mine.values_hashed = features[0].values_hashed
            merges.append((mine.merge_all, features))
        each_feature(self.threads, merges, sum(other.num_examples for other in others))
        for other in others:
            for composite, theirs in zip(self.composites, other.composites, strict=True):
                composite.merge(theirs)

    def to_proto(self) -> sketches_pb2.DatasetState:
        return sketches_pb2.DatasetState(
            format_version=FORMAT_VERSION,
            num_examples=self.num_examples,
            weighted_num_examples=self.weighted_num_examples,
            features=[feature.to_proto() for feature in self.ordered_features()],
            settings=self.spec.settings(),
            composites=[composite.to_proto() for composite in self.composites],
        )

    @classmethod
    def from_proto(cls, msg: sketches_pb2.DatasetState, spec: StatisticsSpec) -> DatasetAccumulator:
        if msg.settings != spec.settings():
            raise IncompatibleMergeError(
                f"state made with sketch settings {msg.settings}, expected {spec.settings()}"
            )
        acc = cls(spec)
        acc.num_examples = msg.num_examples
        acc.weighted_num_examples = msg.weighted_num_examples
        for feature in msg.features:
            acc.features[tuple(feature.path)] = FeatureAccumulator.from_proto(feature, spec)
        acc.composites = [
            CompositeAccumulator.from_proto(state, composite)
            for state, composite in zip(msg.composites, spec.composites, strict=True)
        ]
        return acc

    def result(
        self,
        name: str = "",
        include_state: bool = True,
        release: bool = False,
        into: statistics_pb2.DatasetFeatureStatistics | None = None,
    ) -> statistics_pb2.DatasetFeatureStatistics:
        """The finished statistics of every feature (with their state, see FeatureAccumulator).

        With `release` each feature's accumulator is dropped once its statistics are
        written, so the two are not held at once (the accumulator is spent: its features
        are gone, and a later ``result`` raises). With `into` (an empty message, e.g.
        ``statistics_list.datasets.add()``) the statistics are written there and it is
        returned: putting a finished message in a list would copy it.

        Raises:
            ValueError: the accumulator was spent by an earlier ``result(release=True)``.
        """
        stats = statistics_pb2.DatasetFeatureStatistics() if into is None else into
        results = self.feature_results(include_state, release)  # raises if spent
        stats.name, stats.num_examples = name, self.num_examples
        if self.spec.weight_feature is not None:
            stats.weighted_num_examples = self.weighted_num_examples
        for feature in results:
            stats.features.append(feature)
        stats.cross_features.extend(self.cross_features)
        return stats

    def feature_results(
        self, include_state: bool = True, release: bool = False
    ) -> Iterator[statistics_pb2.FeatureNameStatistics]:
        """Each entry of :meth:`result`'s ``features``, in order, made one at a time: the
        features' statistics (with those of a sparse or weighted feature at the same path),
        then the sparse and weighted features' own entries. `release` as in ``result``.

        Raises:
            ValueError: the accumulator was spent by an earlier ``result(release=True)``.
        """
        if self.released:
            raise ValueError("this DatasetAccumulator was spent by result(release=True)")
        label = self._label_context()
        # Filled in as the features' results are made: complete once they all are.
        self.cross_features = label.cross_features if label is not None else []
        features = collections.deque(self.ordered_features())
        if release:
            self.features, self.released = {}, True
        return self._feature_results(features, include_state, label)

    def _feature_results(
        self,
        features: collections.deque[FeatureAccumulator],
        include_state: bool,
        label: LabelContext | None,
    ) -> Iterator[statistics_pb2.FeatureNameStatistics]:
        weighted = self.weighted_num_examples if self.spec.weight_feature is not None else None
        stored = sketches_pb2.StoredFeatureState(
            format_version=COMPOSITE_FORMAT_VERSION,
            settings=self.spec.settings(),
            options=self.spec.options(),
        )
        stored_or_none = stored if include_state else None
        by_path: dict[FeaturePath, list[CompositeAccumulator]] = {}
        for composite in self.composites:  # applied in this order
            by_path.setdefault(composite.spec.path, []).append(composite)
        while features:
            feature = features.popleft()
            entry = feature.result(self.num_examples, include_state, weighted, label)
            for composite in by_path.pop(feature.path, ()):
                add_composite(entry, composite, stored_or_none, STATE_NAME)
            yield entry
        for path, composites in by_path.items():
            entry = statistics_pb2.FeatureNameStatistics()
            entry.path.step.extend(path)
            for composite in composites:
                add_composite(entry, composite, stored_or_none, STATE_NAME)
            yield entry

    def _label_context(self) -> LabelContext | None:
        """The label's path, kind and examples per class, for every feature's report."""
        spec = self.spec.label
        if spec is None:
            return None
        feature = self.features.get(spec.path)
        state: LabelAccumulator | None = None
        if feature is not None:
            state = feature.states[feature.families.index(LabelFamily(spec))]
        if feature is None or state is None:
            return LabelContext(spec.path, Kind.NULL, {})
        return LabelContext(spec.path, feature.reported_kind(), dict(state.class_counts), state.off)

    def ordered_features(self) -> list[FeatureAccumulator]:
        """The features in the data's column order: by smallest column position over every
        batch (a feature's position in the flattened columns of a batch), ties by path. Unlike
        first appearance this does not depend on the order batches and states are merged."""
        return sorted(self.features.values(), key=FeatureAccumulator.order_key)


def _check_names(batch: pa.RecordBatch) -> None:
    names = batch.schema.names
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise InvalidInputError(
            f"column names {twice} appear more than once in a record batch; each column "
            "needs its own name (their values would fold into one feature)"
        )
