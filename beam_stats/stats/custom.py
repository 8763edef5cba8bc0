"""Statistics users add: registered in :class:`~beam_stats.StatisticsSpec`, run inside the one
fused ``CombineFn`` with the built-ins, merged, stored in the sketch state and written as
``custom_stats``.

A custom statistic's spec is itself an entry of the registry of statistic families that the
built-ins are entries of (:mod:`beam_stats.stats.family`): the fused accumulator runs it in
the same loop as presence, numbers and strings. The base class supplies the registry verbs
(``takes``: batches with values of one of its ``kinds``; ``add``; ``load``/``write``: its
state in ``FeatureState.custom`` under its name; ``report``), so a user writes only the
ones below.

A statistic is two classes, with the verbs of the built-ins:

- a *spec*, an immutable, picklable configuration (a frozen dataclass subclassing
  :class:`CustomStatisticSpec`): its ``name`` (unique in a spec, written in every output),
  the ``kinds`` of feature it applies to, ``create()`` (the empty accumulator, the identity
  of merge) and ``from_proto(data)`` (an accumulator back from its stored bytes);
- an *accumulator* (subclassing :class:`CustomAccumulator`): ``add(values, weights)`` with
  one Arrow array of a feature's values from one batch (vectorise it: no Python loop over
  values), ``merge(other)`` (mutates self only; must be associative and commutative),
  ``to_proto()`` (lossless bytes: the coder of the state between Beam stages and in files)
  and ``result()`` (name -> number or text, the finished statistics).

``StatisticsSpec(statistics=(MatchRate("email", r"^[^@\\s]+@[^@\\s]+$"),))`` adds one. Each
result entry is written on the feature as the custom statistic ``<name>.<key>``. The state
of each statistic is stored under its name, and the specs' :meth:`~CustomStatisticSpec.fingerprint`
are part of the sketch settings, so states made with other statistics, or the same
statistic configured differently, refuse to merge (:class:`IncompatibleMergeError`) instead
of mixing. Merging stored files that carry a custom statistic needs its spec again
(``merge_statistics(..., spec=StatisticsSpec(statistics=...))``): its code is not in the file.

:class:`MatchRate` is one, shipped as an example to copy and as a statistic of its own.
"""

from __future__ import annotations

import abc
import dataclasses
import re
from collections.abc import Iterable, Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from beam_stats.errors import DeserializationError, InvalidInputError
from beam_stats.proto import sketches_pb2
from beam_stats.stats.family import FeatureBatch, FeatureReport

#: The kinds of feature values a statistic can ask for (``beam_stats.arrow.Kind`` values).
KINDS = frozenset({"INT", "FLOAT", "STRING", "BYTES"})
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class CustomAccumulator(abc.ABC):
    """The mergeable state of a custom statistic for one feature (see the module docstring)."""

    @abc.abstractmethod
    def add(self, values: pa.Array, weights: np.ndarray | None) -> None:
        """Adds one batch of the feature's values (nulls removed), with each value's example
        weight when the statistics are weighted (a read-only array the feature's other
        statistics share: copy it to change it)."""

    @abc.abstractmethod
    def merge(self, other: CustomAccumulator) -> None:
        """Adds the state of `other` (the same statistic) to this one."""

    @abc.abstractmethod
    def to_proto(self) -> bytes:
        """The lossless state, as bytes that :meth:`CustomStatisticSpec.from_proto` reads."""

    @abc.abstractmethod
    def result(self) -> Mapping[str, float | str]:
        """The finished statistics: name -> number or text."""


@dataclasses.dataclass(frozen=True)
class CustomStatisticSpec(abc.ABC):
    """The configuration of a custom statistic; subclass it as a frozen dataclass.

    Attributes:
        name: an identifier, unique among the spec's statistics.
        kinds: the kinds of values it is given (``INT``, ``FLOAT``, ``STRING``, ``BYTES``);
            a feature with values of other kinds gets no accumulator. Keyword-only, so that a
            subclass's own fields follow `name` positionally; a subclass that changes the
            default keeps it keyword-only
            (``kinds: frozenset[str] = dataclasses.field(default=..., kw_only=True)``).
    """

    name: str
    kinds: frozenset[str] = dataclasses.field(default=KINDS, kw_only=True)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise InvalidInputError(f"a statistic's name is an identifier, got {self.name!r}")
        kinds = frozenset(self.kinds)
        if not kinds or not kinds <= KINDS:
            raise InvalidInputError(f"kinds must be a non-empty subset of {sorted(KINDS)}")
        object.__setattr__(self, "kinds", kinds)

    @abc.abstractmethod
    def create(self) -> CustomAccumulator:
        """The empty accumulator (the identity of merge)."""

    @abc.abstractmethod
    def from_proto(self, data: bytes) -> CustomAccumulator:
        """The accumulator whose :meth:`~CustomAccumulator.to_proto` gave `data`.

        Raises:
            DeserializationError: `data` is not such a state.
        """

    # The registry verbs (beam_stats.stats.family): a custom statistic is an entry of the
    # registry as it is, next to the built-ins.

    @property
    def eager(self) -> bool:
        return False

    def takes(self, batch: FeatureBatch) -> bool:
        """Whether `batch` goes to this statistic: it has values of one of its kinds."""
        column = batch.column
        return column.kind.value in self.kinds and len(column.values) > 0

    def add(self, state: CustomAccumulator, batch: FeatureBatch) -> None:
        state.add(batch.column.values, batch.value_weights)

    def load(self, msg: sketches_pb2.FeatureState) -> CustomAccumulator | None:
        data = msg.custom.get(self.name)
        return None if data is None else self.from_proto(data)

    def write(self, state: CustomAccumulator, msg: sketches_pb2.FeatureState) -> None:
        msg.custom[self.name] = state.to_proto()

    def report(self, state: CustomAccumulator | None, out: FeatureReport) -> None:
        """Writes each entry of the state's ``result()`` as ``<name>.<key>``."""
        if state is not None:
            for key, value in state.result().items():
                out.note(f"{self.name}.{key}", value)

    def fingerprint(self) -> str:
        """What must agree for two states of this statistic to merge: by default the class
        and every field (sets sorted, so that every process writes the same text)."""
        fields = ", ".join(
            f"{f.name}={_stable(getattr(self, f.name))!r}" for f in dataclasses.fields(self)
        )
        return f"{type(self).__module__}.{type(self).__qualname__}({fields})"


def _stable(value: object) -> object:
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    return value


def check_statistics(statistics: Iterable[object]) -> tuple[CustomStatisticSpec, ...]:
    """`statistics` as a tuple of specs with distinct names.

    Raises:
        InvalidInputError: not specs, or two share a name.
    """
    found = []
    for spec in statistics:
        if not isinstance(spec, CustomStatisticSpec):
            raise InvalidInputError(f"statistics must be CustomStatisticSpecs, got {spec!r}")
        found.append(spec)
    names = [spec.name for spec in found]
    if len(set(names)) != len(names):
        raise InvalidInputError(f"two custom statistics share a name among {names}")
    return tuple(found)


def check_stored(stored: Mapping[str, bytes], specs: tuple[CustomStatisticSpec, ...]) -> None:
    """Checks that a FeatureState's ``custom`` map holds only states of `specs`.

    Raises:
        DeserializationError: the state of a statistic `specs` does not have.
    """
    if stored and not specs:
        raise DeserializationError(
            f"state of custom statistics {sorted(stored)} in a spec without them"
        )
    names = {spec.name for spec in specs}
    for name in stored:
        if name not in names:
            raise DeserializationError(f"state of an unknown custom statistic {name!r}")


@dataclasses.dataclass(frozen=True)
class MatchRate(CustomStatisticSpec):
    """The share of a string feature's values that match a regular expression (RE2 syntax,
    as ``pyarrow.compute.match_substring_regex``; anchor it with ``^...$`` for a whole-value
    match). Exact: two counts, merged by adding.

    Results: ``<name>.matches`` (values that match), ``<name>.rate`` (their share of the
    values; 0 without values).
    """

    pattern: str = ""
    kinds: frozenset[str] = dataclasses.field(default=frozenset({"STRING"}), kw_only=True)

    def __post_init__(self) -> None:
        super().__post_init__()
        try:
            pc.match_substring_regex(pa.array([""]), self.pattern)
        except (pa.ArrowInvalid, TypeError) as e:
            raise InvalidInputError(f"{self.name}: bad pattern {self.pattern!r}: {e}") from e

    def create(self) -> MatchRateAccumulator:
        return MatchRateAccumulator(self.pattern)

    def from_proto(self, data: bytes) -> MatchRateAccumulator:
        acc = MatchRateAccumulator(self.pattern)
        if len(data) != 16:
            raise DeserializationError(
                f"{self.name}: a MatchRate state is 16 bytes, got {len(data)}"
            )
        acc.matches, acc.values = (int(n) for n in np.frombuffer(data, dtype="<u8"))
        return acc


class MatchRateAccumulator(CustomAccumulator):
    """Counts of values and of matching values (see :class:`MatchRate`)."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.matches = 0
        self.values = 0

    def add(self, values: pa.Array, weights: np.ndarray | None) -> None:
        found = pc.match_substring_regex(values.cast(pa.large_string()), self.pattern)
        self.matches += int(pc.sum(found).as_py() or 0)
        self.values += len(values) - values.null_count

    def merge(self, other: CustomAccumulator) -> None:
        if not isinstance(other, MatchRateAccumulator) or other.pattern != self.pattern:
            raise InvalidInputError("a MatchRate merges only with the same pattern's")
        self.matches += other.matches
        self.values += other.values

    def to_proto(self) -> bytes:
        return np.array([self.matches, self.values], dtype="<u8").tobytes()

    def result(self) -> Mapping[str, float | str]:
        return {"matches": self.matches, "rate": self.matches / self.values if self.values else 0.0}
