"""The registry of statistic families: the one protocol built-in and user statistics share.

A *statistic family* is one kind of statistic computed for every feature: presence and
valency (:mod:`~beam_stats.stats.counts`), moments and quantiles of numbers
(:mod:`~beam_stats.stats.numeric`), top values and distinct counts of strings
(:mod:`~beam_stats.stats.strings`), value kinds (:mod:`~beam_stats.stats.kinds`), or a
user's statistic (:mod:`~beam_stats.stats.custom`). ``StatisticsSpec.families`` lists the
entries of one run: the built-ins (``BUILTIN_STATISTICS`` in :mod:`~beam_stats.stats.spec`,
configured from the spec) then the user's ``statistics`` by name. A
:class:`~beam_stats.stats.feature.FeatureAccumulator` holds one state per entry and does
the same to every entry:

- add: ``takes(batch)`` says whether the entry wants this batch of the feature; the first
  time it does, its state is ``create()``-d (an ``eager`` entry's state is created with the
  feature instead), then ``add(state, batch)``;
- merge: a state the other side has is merged into this side's (created if missing) by the
  state's own ``merge``; many at once (:func:`merge_states`) by its ``merge_all`` when it has
  one (a sketch that merges many states in one pass), else one by one;
- to_proto / from_proto: ``write(state, msg)`` puts the state in its place of the
  ``FeatureState`` message, ``load(msg)`` reads it back (None: the message has none);
- result: ``report(state, out)`` writes the finished statistics, entries in registry order
  (the built-ins' ``custom_stats`` come before the user's, as they always have).

Where a state lives in ``FeatureState`` is the entry's own business (a field of its own for
each built-in, the ``custom`` map for user statistics), so the registry leaves the stored
format as it was.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.arrow import FeatureColumn, Kind
from beam_stats.proto import sketches_pb2

if TYPE_CHECKING:
    from beam_stats.stats.label_tables import LabelContext
    from beam_stats.stats.labels import LabelBatch


def as_text(values: pa.Array) -> pa.Array:
    """Values as the string statistics count them: a categorical feature's numbers as their
    text, fixed-size binaries as binaries, strings and bytes as they are."""
    t = values.type
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t):
        return pc.cast(values, pa.string())
    if pa.types.is_fixed_size_binary(t):
        return values.cast(pa.binary())
    return values


#: The kinds of numbers and of strings (a categorical feature's numbers count as strings).
NUMBERS = frozenset({Kind.INT, Kind.FLOAT})
STRINGS = frozenset({Kind.STRING, Kind.BYTES})


@dataclasses.dataclass(frozen=True, slots=True)
class FeatureBatch:
    """One batch of one feature, as every family is given it.

    Attributes:
        column: the feature's values and presence in the batch.
        weights: each example's weight (None: unweighted statistics).
        value_weights: each value's weight, its example's (None: unweighted); read-only,
            shared by the feature's statistics.
        categorical: the feature's numbers are summarised like strings.
        label: each example's label (``StatisticsSpec.label``; None without one).
        encoded: the values as text, dictionary-encoded, when two families read them (the
            strings statistics and the label state of a string or categorical feature);
            None: each family encodes what it needs.
        distinct: the distinct values of a string or bytes column with what the families
            read of them, worked out for many batches at once
            (:func:`~beam_stats.stats.grouped.add_groups`); only for unweighted batches
            without a label. None: each family reads `column`.
    """

    column: FeatureColumn
    weights: np.ndarray | None
    value_weights: np.ndarray | None
    categorical: bool
    label: LabelBatch | None = None
    encoded: pa.Array | None = None
    distinct: DistinctValues | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class DistinctValues:
    """The distinct values of one batch of a string or bytes feature, and what the string
    statistics and personal-data detection read of each, as they would work it out from
    the batch's values.

    Attributes:
        values: the distinct values (no nulls), in any order.
        counts: how often each occurs in the batch (int64, each > 0).
        hashes: ``hash_array(values)`` (:mod:`beam_stats.sketches.hashing`).
        lengths: each value's length in bytes (int64).
        invalid_utf8: True where the value is not valid UTF-8.
        pii: kind -> which values look like it (None: not checked, no detection).
    """

    values: pa.Array
    counts: np.ndarray
    hashes: np.ndarray
    lengths: np.ndarray
    invalid_utf8: np.ndarray
    pii: dict[str, np.ndarray] | None


@dataclasses.dataclass(slots=True)
class FeatureReport:
    """A feature's finished statistics being written, as every family is given them.

    Attributes:
        stats: the output; its path and type are set.
        section: the field of `stats` with the per-type statistics (``num_stats``,
            ``string_stats``, ``bytes_stats`` or ``struct_stats``).
        kind: the kind the feature is reported as.
        num_examples: the dataset's examples.
        weighted_num_examples: the dataset's total weight (None: unweighted).
        common: presence and valency, filled in by the first entry (presence) for the
            others to embed.
        label: what the dataset's label is (``StatisticsSpec.label``; None without one).
    """

    stats: statistics_pb2.FeatureNameStatistics
    section: str
    kind: Kind
    num_examples: int
    weighted_num_examples: float | None
    common: statistics_pb2.CommonStatistics = dataclasses.field(
        default_factory=statistics_pb2.CommonStatistics
    )
    label: LabelContext | None = None

    def note(self, name: str, value: float | str) -> None:
        """Adds the custom statistic `name` (a number, or a text)."""
        if isinstance(value, str):
            self.stats.custom_stats.add(name=name, str=value)
        else:
            self.stats.custom_stats.add(name=name, num=value)


class Accumulator(Protocol):
    """What the registry needs of a state besides its family's verbs: a merge."""

    def merge(self, other: Any) -> None: ...


A = TypeVar("A", bound=Accumulator)


def merge_states(state: Any, others: list[Any]) -> None:
    """Merges every state of `others` into `state`: with its ``merge_all`` if it has one
    (one pass over them all), else with ``merge``, one after the other."""
    merge_all = getattr(state, "merge_all", None)
    if merge_all is not None:
        merge_all(others)
    else:
        for other in others:
            state.merge(other)


class StatisticFamily(Protocol[A]):
    """An entry of the registry (see the module docstring); `A` is its state's type."""

    @property
    def name(self) -> str:
        """Unique among a spec's families."""
        ...

    @property
    def eager(self) -> bool:
        """Whether every feature has this state (created with the feature), rather than
        only the features that gave it a batch."""
        ...

    def takes(self, batch: FeatureBatch) -> bool:
        """Whether `batch` goes to this family (its state is created the first time)."""
        ...

    def create(self) -> A:
        """The empty state (the identity of merge)."""
        ...

    def add(self, state: A, batch: FeatureBatch) -> None:
        """Adds one batch the family takes to `state`."""
        ...

    def load(self, msg: sketches_pb2.FeatureState) -> A | None:
        """The state stored in `msg` (None if it has none).

        Raises:
            DeserializationError: the stored state is damaged.
        """
        ...

    def write(self, state: A, msg: sketches_pb2.FeatureState) -> None:
        """Stores `state` in `msg`, losslessly (:meth:`load` reads it back)."""
        ...

    def report(self, state: A | None, out: FeatureReport) -> None:
        """Writes the finished statistics of `state` (None: the feature never gave this
        family a batch) into `out`."""
        ...
