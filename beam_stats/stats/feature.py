"""The fused accumulator of one feature: every statistic of it (the dataset's, which holds
one per feature, is :mod:`beam_stats.stats.dataset`).

A :class:`FeatureAccumulator` holds one state per entry of the spec's registry of statistic
families (``StatisticsSpec.families``, :mod:`beam_stats.stats.family`): the built-ins
(presence, numbers, strings, value kinds) and the user's statistics alike go through the
same loops of ``add``, ``merge``, ``to_proto``, ``from_proto`` and ``result``. The feature
itself keeps only what decides routing and order: whether it is categorical or declared
bytes, its column position, and the type it is reported as.

Each feature's finished statistics carry its lossless state (a ``StoredFeatureState`` in the
custom statistic ``beam_stats.state``), so statistics files merge later without the data
(:mod:`beam_stats.stats.stored`).

A feature's type is decided when the result is written, from the number of values of each
kind seen (merge-safe, since those counts add up). When a feature's type changed between
batches or files (an INT column that is STRING in one file), each kind is summarised by its
own accumulator, the majority kind is reported, and the custom statistic ``type_conflict``
says how many values of each kind were seen: nothing is dropped silently.

A privacy policy (``StatisticsSpec.privacy``, :mod:`beam_stats.stats.privacy`) is applied to
the feature's state when its result is written: the statistics are reported from the
protected state, which is the one stored.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow.compute as pc
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats._types import FeaturePath
from beam_stats.arrow import FeatureColumn, Kind
from beam_stats.errors import IncompatibleMergeError
from beam_stats.proto import sketches_pb2
from beam_stats.stats.counts import CommonAccumulator, PresenceFamily
from beam_stats.stats.custom import check_stored
from beam_stats.stats.family import (
    NUMBERS,
    STRINGS,
    DistinctValues,
    FeatureBatch,
    FeatureReport,
    as_text,
    merge_states,
)
from beam_stats.stats.integrity import pack_sealed
from beam_stats.stats.kinds import ValueKindsAccumulator, ValueKindsFamily
from beam_stats.stats.label_tables import LabelContext, LabelFamily
from beam_stats.stats.labels import LabelAccumulator, LabelBatch
from beam_stats.stats.numeric import NumericAccumulator, NumericFamily
from beam_stats.stats.privacy import Treatment, note_privacy, protect_state
from beam_stats.stats.spec import BUILTIN_STATISTICS, StatisticsSpec
from beam_stats.stats.strings import StringAccumulator, StringFamily

#: 2: deterministic quantiles (QuantilesState fields 3-8), distinct counts with exact hashes
#: (DistinctCountState.hashes), features with a position.
FORMAT_VERSION = 2
#: 3: entries with the state of sparse and weighted features (StoredFeatureState.composites);
#: only those entries are written as format 3, so files without composites read as before.
COMPOSITE_FORMAT_VERSION = 3
#: 4: distinct counts with sparse HyperLogLog registers (DistinctCountState.sparse_registers);
#: only entries holding them are written as format 4, which older readers refuse instead of
#: reading the count as empty.
SPARSE_REGISTERS_FORMAT_VERSION = 4
#: The newest format this beam-stats reads and writes.
LATEST_FORMAT_VERSION = SPARSE_REGISTERS_FORMAT_VERSION
#: The custom statistic that carries a feature's StoredFeatureState.
STATE_NAME = "beam_stats.state"
FeatureType = statistics_pb2.FeatureNameStatistics.Type


def state_format_version(state: sketches_pb2.FeatureState | None) -> int:
    """The oldest state format that holds `state`: 4 with sparse registers, else 2."""
    if state is not None and state.string.distinct.sparse_registers:
        return SPARSE_REGISTERS_FORMAT_VERSION
    return FORMAT_VERSION


# Where the built-ins' states are among a feature's (the registry starts with them); the
# feature reads them to decide its type.
_PRESENCE = BUILTIN_STATISTICS.index(PresenceFamily)
_NUMERIC = BUILTIN_STATISTICS.index(NumericFamily)
_STRING = BUILTIN_STATISTICS.index(StringFamily)
_VALUE_KINDS = BUILTIN_STATISTICS.index(ValueKindsFamily)


def _value_weights(weights: np.ndarray, num_values: np.ndarray) -> np.ndarray:
    """Each value's weight, its example's (values are in example order): what
    ``np.repeat(weights, num_values)`` gives, read-only. When no example has several
    values (most columns) that is a selection of `weights`, or `weights` itself (a view,
    no copy) when every example has one."""
    most = int(num_values.max()) if num_values.size else 0
    if most > 1:
        repeated: np.ndarray = np.repeat(weights, num_values)
    elif most == 1 and num_values.min() == 1:
        repeated = weights.view()
    else:
        repeated = weights[num_values.astype(bool)]
    repeated.flags.writeable = False  # shared by the feature's statistics
    return repeated


class FeatureAccumulator:
    """Every statistic of one feature (see the module docstring): one state per entry of
    the spec's registry of statistic families (:mod:`beam_stats.stats.family`), and the
    feature's own flags."""

    __slots__ = (
        "categorical",
        "declared_bytes",
        "families",
        "path",
        "position",
        "spec",
        "states",
        "values_hashed",
    )

    def __init__(self, path: FeaturePath, spec: StatisticsSpec) -> None:
        self.path = path
        self.spec = spec
        self.families = spec.families
        # One state per family, None until the family takes a batch of the feature.
        self.states: list[Any] = [f.create() if f.eager else None for f in self.families]
        self.categorical = path in spec.categorical_features
        self.declared_bytes = path in spec.bytes_features
        # Smallest column position over the batches the feature was in (None: never a
        # column); the canonical, merge-order-free version of "the data's column order".
        self.position: int | None = None
        # The values in the state are keyed hashes already (a privacy policy's).
        self.values_hashed = False

    @property
    def common(self) -> CommonAccumulator:
        """Presence and valency (always there)."""
        state: CommonAccumulator = self.states[_PRESENCE]
        return state

    @property
    def numeric(self) -> NumericAccumulator | None:
        """Moments and quantiles, if the feature had numbers (not categorical)."""
        state: NumericAccumulator | None = self.states[_NUMERIC]
        return state

    @property
    def string(self) -> StringAccumulator | None:
        """Top values and distinct count, if the feature had strings (or was categorical)."""
        state: StringAccumulator | None = self.states[_STRING]
        return state

    @property
    def label(self) -> LabelAccumulator | None:
        """The label-conditional state, if the spec has a label and the feature had one."""
        for family, state in zip(self.families, self.states, strict=True):
            if isinstance(family, LabelFamily):
                found: LabelAccumulator | None = state
                return found
        return None

    @property
    def value_kinds(self) -> ValueKindsAccumulator:
        """Values of each kind and invalid ones (always there)."""
        state: ValueKindsAccumulator = self.states[_VALUE_KINDS]
        return state

    def add(
        self,
        column: FeatureColumn,
        weights: np.ndarray | None = None,
        label: LabelBatch | None = None,
        distinct: DistinctValues | None = None,
    ) -> None:
        """Adds one batch of the feature, with the examples' weights if weighted and their
        labels if the spec has one; `distinct`: the string values' distinct values worked
        out already (unweighted without a label only, else ignored)."""
        value_weights = None if weights is None else _value_weights(weights, column.num_values)
        if weights is not None or label is not None:
            distinct = None
        encoded = None
        # Encoded once when several families read the text: strings and personal-data
        # detection, or strings and the label state.
        strings = column.kind in STRINGS and (label is not None or self.spec.detect_pii)
        categorical = label is not None and self.categorical and column.kind in NUMBERS
        if len(column.values) and (strings or categorical) and distinct is None:
            encoded = pc.dictionary_encode(as_text(column.values))
        batch = FeatureBatch(
            column, weights, value_weights, self.categorical, label, encoded, distinct
        )
        states = self.states
        for i, family in enumerate(self.families):
            if family.takes(batch):
                state = states[i]
                if state is None:
                    state = states[i] = family.create()
                family.add(state, batch)

    def merge(self, other: FeatureAccumulator) -> None:
        """Merges `other` (same feature) into this one.

        Raises:
            IncompatibleMergeError: one state holds keyed hashes of the values, the other
                the values (a privacy policy applied to one of them only).
        """
        self.merge_all([other])

    def merge_all(self, others: list[FeatureAccumulator]) -> None:
        """Merges every accumulator of `others` (same feature) into this one, each family's
        states at once (:func:`~beam_stats.stats.family.merge_states`).

        Raises:
            IncompatibleMergeError: as :meth:`merge`.
        """
        for other in others:
            if self.values_hashed != other.values_hashed:
                raise IncompatibleMergeError(
                    f"feature {'.'.join(self.path)!r}: one state holds keyed hashes of its "
                    "values, the other the values themselves"
                )
        states = self.states
        for i, family in enumerate(self.families):
            theirs = [other.states[i] for other in others if other.states[i] is not None]
            if theirs:
                mine = states[i]
                if mine is None:
                    mine = states[i] = family.create()
                merge_states(mine, theirs)
        for other in others:
            self.categorical = self.categorical or other.categorical
            self.declared_bytes = self.declared_bytes or other.declared_bytes
            self.note_position(other.position)

    def note_position(self, position: int | None) -> None:
        """Records that the feature was seen at column `position` (keeps the smallest)."""
        if position is not None and (self.position is None or position < self.position):
            self.position = position

    def order_key(self) -> tuple[int, int, FeaturePath]:
        """Where the feature goes in the output: column position, then path."""
        return (0, self.position, self.path) if self.position is not None else (1, 0, self.path)

    def to_proto(self) -> sketches_pb2.FeatureState:
        msg = sketches_pb2.FeatureState(path=self.path)
        for family, state in zip(self.families, self.states, strict=True):
            if state is not None:
                family.write(state, msg)
        msg.categorical = self.categorical
        msg.declared_bytes = self.declared_bytes
        msg.values_hashed = self.values_hashed
        if self.position is not None:
            msg.position = self.position
        return msg

    @classmethod
    def from_proto(cls, msg: sketches_pb2.FeatureState, spec: StatisticsSpec) -> FeatureAccumulator:
        """The accumulator `msg` stores.

        Raises:
            DeserializationError: `msg` holds the state of a custom statistic `spec` does
                not have, or a damaged one.
        """
        check_stored(msg.custom, spec.statistics)
        acc = cls(tuple(msg.path), spec)
        states = acc.states
        for i, family in enumerate(acc.families):
            state = family.load(msg)
            if state is not None:
                states[i] = state
        acc.categorical = msg.categorical
        acc.declared_bytes = msg.declared_bytes
        acc.values_hashed = msg.values_hashed
        acc.position = msg.position if msg.HasField("position") else None
        return acc

    def reported_kind(self) -> Kind:
        numeric, string = self.numeric, self.string
        return self.value_kinds.reported_kind(
            has_float=numeric is not None and numeric.has_float,
            declared_bytes=self.declared_bytes,
            mostly_invalid_utf8=string is not None
            and string.invalid_utf8_count * 2 > string.num_values,
        )

    def result(
        self,
        num_examples: int,
        include_state: bool = True,
        weighted_num_examples: float | None = None,
        label: LabelContext | None = None,
    ) -> statistics_pb2.FeatureNameStatistics:
        """The finished statistics, with the lossless state unless `include_state` is off,
        the weighted ones given the dataset's total weight, and what the feature says about
        the label given its `label` context (which collects the cross statistics).

        The feature decides its type; then each family of the registry writes its part, in
        registry order."""
        stats = statistics_pb2.FeatureNameStatistics()
        stats.path.step.extend(self.path)
        privacy = self.spec.privacy
        state = self.to_proto() if include_state or privacy.active else None
        source, treatment = self, Treatment.KEEP
        if state is not None and privacy.active:
            treatment = protect_state(state, privacy)
            if treatment is not Treatment.KEEP:  # reported from the protected state
                source = FeatureAccumulator.from_proto(state, self.spec)
        return source._result(
            stats, state, treatment, num_examples, include_state, weighted_num_examples, label
        )

    def _result(
        self,
        stats: statistics_pb2.FeatureNameStatistics,
        state: sketches_pb2.FeatureState | None,
        treatment: Treatment,
        num_examples: int,
        include_state: bool,
        weighted_num_examples: float | None,
        label: LabelContext | None,
    ) -> statistics_pb2.FeatureNameStatistics:
        kind = self.reported_kind()
        if kind is Kind.STRUCT:
            stats.type, section = FeatureType.STRUCT, "struct_stats"
        elif kind in NUMBERS and not self.categorical:
            stats.type = FeatureType.FLOAT if kind is Kind.FLOAT else FeatureType.INT
            section = "num_stats"
        elif kind is Kind.BYTES:
            stats.type, section = FeatureType.BYTES, "bytes_stats"
        else:  # strings, categorical numbers, and features without values
            stats.type = FeatureType.INT if kind in NUMBERS else FeatureType.STRING
            section = "string_stats"
        out = FeatureReport(stats, section, kind, num_examples, weighted_num_examples, label=label)
        for family, family_state in zip(self.families, self.states, strict=True):
            family.report(family_state, out)
        if state is not None and treatment is not Treatment.KEEP:
            note_privacy(out, treatment, self.spec.privacy, state)
        if include_state:
            assert state is not None  # made above when include_state
            head = self.spec.stored_head(state_format_version(state))
            pack_sealed(stats.custom_stats.add(name=STATE_NAME).any, head, state)
        return stats
