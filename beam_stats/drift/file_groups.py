"""The group tables of a statistics file (:mod:`beam_stats.drift.groups` computes them)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeAlias

from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats._types import FeaturePath, path_str
from beam_stats.drift.compare import features_of
from beam_stats.drift.groups import GroupTable, group_table
from beam_stats.schema.view import one_dataset

Statistics: TypeAlias = (
    statistics_pb2.DatasetFeatureStatisticsList | statistics_pb2.DatasetFeatureStatistics
)


def groups_of(statistics: Statistics) -> tuple[FeaturePath, ...]:
    """The group features the statistics were computed with (``StatisticsSpec.groups``,
    stored with the sketch state); () for statistics without state.

    Raises:
        DeserializationError: the stored state is corrupt.
    """
    for data in features_of(statistics).values():
        acc = data.accumulator
        if acc is not None:
            return acc.spec.groups
    return ()


def group_tables(
    statistics: Statistics, features: Iterable[str | FeaturePath] | None = None
) -> list[GroupTable]:
    """The table of each group feature of one dataset's statistics.

    Args:
        statistics: one dataset (a list holding exactly one, or the dataset).
        features: the group features (dotted names or paths); by default those the
            statistics were computed with (:func:`groups_of`).

    Returns:
        One :class:`~beam_stats.drift.groups.GroupTable` per feature, in the given order
        (by path by default); a feature the statistics lack has no rows and a note.

    Raises:
        InvalidInputError: `statistics` holds no dataset or several.
        DeserializationError: the stored state is corrupt.
    """
    dataset = one_dataset(statistics)
    found = features_of(dataset)
    if features is None:
        paths: list[FeaturePath] = list(groups_of(dataset))
    else:
        paths = [tuple(f.split(".")) if isinstance(f, str) else tuple(f) for f in features]
    tables = []
    for path in paths:
        data = found.get(path)
        if data is None:
            note = f"{path_str(path)} is not in the statistics"
            tables.append(GroupTable(path, int(dataset.num_examples), (), note=note))
            continue
        acc = data.accumulator
        label_spec = acc.spec.label if acc is not None else None
        label = found.get(label_spec.path) if label_spec is not None else None
        tables.append(group_table(data, label, int(dataset.num_examples)))
    return tables
