"""Value kinds: how many values of each kind a feature had, and how many were invalid.

Exact counts, merged by adding: the values of each kind (``INT``, ``FLOAT``, ``STRING``,
``BYTES``, ``STRUCT``, ``NULL``, ``UNSUPPORTED``; a kind seen without values is kept with 0,
so an all-null column still says what it was declared as), the values a reader could not
convert and left missing, and, on the weight feature, the examples whose weight was
missing, negative or not finite. The feature's reported type is decided from these counts
when the result is written, so it does not depend on how states were merged.

:class:`ValueKindsFamily` is its registry entry (:mod:`beam_stats.stats.family`): every
feature has this state (it is eager), stored in ``FeatureState.kind_counts``,
``num_invalid_values`` and ``num_invalid_weights``; it reports the custom statistics
``type_conflict`` (values of both numbers and strings, or of structs and others),
``num_invalid_values``, ``unsupported_values`` (values of an Arrow type without statistics:
union, interval, map ...) and ``num_invalid_weights``, each only when non-zero.
"""

from __future__ import annotations

import collections
import dataclasses
from typing import TYPE_CHECKING, ClassVar

from beam_stats.arrow import Kind
from beam_stats.proto import sketches_pb2
from beam_stats.stats.family import NUMBERS, STRINGS, FeatureBatch, FeatureReport

if TYPE_CHECKING:
    from beam_stats.stats.spec import StatisticsSpec


_INT, _FLOAT, _STRING, _BYTES, _STRUCT = (
    Kind.INT.value,
    Kind.FLOAT.value,
    Kind.STRING.value,
    Kind.BYTES.value,
    Kind.STRUCT.value,
)


class ValueKindsAccumulator:
    """Values of each kind and invalid ones, of one feature (see the module docstring)."""

    __slots__ = ("kind_counts", "num_invalid_values", "num_invalid_weights")

    def __init__(self) -> None:
        self.kind_counts: collections.Counter[str] = collections.Counter()
        self.num_invalid_values = 0
        self.num_invalid_weights = 0  # only on the weight feature

    def reported_kind(
        self, has_float: bool, declared_bytes: bool, mostly_invalid_utf8: bool
    ) -> Kind:
        """The kind a feature is reported as: the group (numbers, strings, structs) with the
        most values (without values, the one seen), then FLOAT if a float was seen, and
        BYTES if declared so or if BYTES values were seen and most values are not UTF-8."""
        counts = self.kind_counts
        groups = {  # (Enum members' .value is slow: the names are plain strings here)
            Kind.FLOAT: counts[_INT] + counts[_FLOAT],
            Kind.STRING: counts[_STRING] + counts[_BYTES],
            Kind.STRUCT: counts[_STRUCT],
        }
        seen = [kind for kind, n in groups.items() if n > 0]
        if not seen:  # no values: the declared type of the (all-null) column, if any
            seen = [
                group
                for group, kinds in (
                    (Kind.FLOAT, (_INT, _FLOAT)),
                    (Kind.STRING, (_STRING, _BYTES)),
                    (Kind.STRUCT, (_STRUCT,)),
                )
                if any(kind in counts for kind in kinds)
            ]
        group = max(seen, key=groups.__getitem__, default=Kind.NULL)
        if group is Kind.FLOAT:
            return Kind.FLOAT if has_float or _FLOAT in counts else Kind.INT
        if group is Kind.STRING and (declared_bytes or (_BYTES in counts and mostly_invalid_utf8)):
            return Kind.BYTES
        return group

    def merge(self, other: ValueKindsAccumulator) -> None:
        self.kind_counts.update(other.kind_counts)
        self.num_invalid_values += other.num_invalid_values
        self.num_invalid_weights += other.num_invalid_weights


@dataclasses.dataclass(frozen=True)
class ValueKindsFamily:
    """The registry entry of :class:`ValueKindsAccumulator` (see the module docstring)."""

    name: ClassVar[str] = "value_kinds"

    @classmethod
    def from_spec(cls, spec: StatisticsSpec) -> ValueKindsFamily:
        return cls()

    @property
    def eager(self) -> bool:
        return True

    def takes(self, batch: FeatureBatch) -> bool:
        return True

    def create(self) -> ValueKindsAccumulator:
        return ValueKindsAccumulator()

    def add(self, state: ValueKindsAccumulator, batch: FeatureBatch) -> None:
        column = batch.column
        state.kind_counts[column.kind.value] += len(column.values)
        state.num_invalid_values += column.num_invalid

    def load(self, msg: sketches_pb2.FeatureState) -> ValueKindsAccumulator:
        state = ValueKindsAccumulator()
        state.kind_counts.update(dict(msg.kind_counts))
        state.num_invalid_values = msg.num_invalid_values
        state.num_invalid_weights = msg.num_invalid_weights
        return state

    def write(self, state: ValueKindsAccumulator, msg: sketches_pb2.FeatureState) -> None:
        msg.kind_counts.update(state.kind_counts)
        msg.num_invalid_values = state.num_invalid_values
        msg.num_invalid_weights = state.num_invalid_weights

    def report(self, state: ValueKindsAccumulator | None, out: FeatureReport) -> None:
        if state is None:
            return
        with_values = {name: n for name, n in state.kind_counts.items() if n}
        numbers = {kind.value for kind in NUMBERS}
        strings = {kind.value for kind in STRINGS}
        if not (len(with_values) < 2 or set(with_values) <= numbers or set(with_values) <= strings):
            seen = ", ".join(f"{name}: {n} values" for name, n in sorted(with_values.items()))
            out.note("type_conflict", f"{seen}; reported as {out.kind.value}")
        if state.num_invalid_values:
            out.note("num_invalid_values", state.num_invalid_values)
        if unsupported := state.kind_counts[Kind.UNSUPPORTED.value]:
            out.note("unsupported_values", unsupported)
        if state.num_invalid_weights:
            out.note("num_invalid_weights", state.num_invalid_weights)
