"""Personal data in string features: how many values look like each kind of it.

On by default (``StatisticsSpec(detect_pii=False)`` turns it off): every value of a string or
bytes feature is checked by the detectors of :mod:`beam_stats.stats.pii_patterns` (e-mail
addresses, phone numbers, payment cards, IPv4/IPv6 addresses, IBANs, US social security
numbers). The state is two exact counts - values checked, and values that matched, per kind -
merged by adding, so merges are exact in any order. A batch is checked on its distinct
values (the dictionary the string statistics use too), each weighted by its count.

Each kind with a match is reported as the custom statistic ``pii_<kind>``: the fraction of
the feature's checked values that look like it (a value may look like two kinds: a US SSN is
also shaped like a phone number). Nothing of a value is kept: only counts.
"""

from __future__ import annotations

import collections
import dataclasses
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from beam_stats.proto import sketches_pb2
from beam_stats.stats.family import STRINGS, FeatureBatch, FeatureReport
from beam_stats.stats.pii_patterns import DETECTORS, positions

if TYPE_CHECKING:
    from beam_stats.stats.spec import StatisticsSpec

#: The custom statistic of a kind is this prefix and the kind's name.
PREFIX = "pii_"
KINDS = tuple(DETECTORS)
#: The least fraction of a feature's values of one kind that makes it personal data: the
#: ``PII_SUSPECTED`` warning, and what ``PrivacySpec(redact_pii=True)`` redacts. It keeps the
#: rare look-alike (an id that happens to pass a card checksum) quiet.
MIN_FRACTION = 0.01


def suspected(state: sketches_pb2.PiiState, min_fraction: float = MIN_FRACTION) -> bool:
    """Whether at least `min_fraction` of the checked values of a state look like one kind."""
    threshold = state.checked * min_fraction
    return state.checked > 0 and any(n >= threshold for n in state.matches.values())


class PiiAccumulator:
    """Values checked and values that look like each kind of personal data."""

    __slots__ = ("checked", "matches")

    def __init__(self) -> None:
        self.checked = 0
        self.matches: collections.Counter[str] = collections.Counter()

    def add(self, values: pa.Array) -> None:
        """Adds string or binary values (plain or dictionary-encoded; nulls ignored)."""
        if not pa.types.is_dictionary(values.type):
            values = pc.dictionary_encode(values)
        indices = values.indices.drop_null().to_numpy(zero_copy_only=False)
        if indices.size == 0:
            return
        counts = np.bincount(indices, minlength=len(values.dictionary))
        used = np.flatnonzero(counts)
        distinct = (
            values.dictionary.take(pa.array(used))
            if used.size < len(counts)
            else (values.dictionary)
        )
        self.add_distinct(counts[used], positions(distinct))

    def add_distinct(self, counts: np.ndarray, kinds: dict[str, np.ndarray]) -> None:
        """Adds distinct values given as how often each occurs and, for each kind, which of
        them look like it (a mask, or their positions; what :meth:`add` works out from the
        values)."""
        self.checked += int(counts.sum())
        for kind, mask in kinds.items():
            matched = int(counts[mask].sum())
            if matched:
                self.matches[kind] += matched

    def merge(self, other: PiiAccumulator) -> None:
        self.checked += other.checked
        self.matches.update(other.matches)

    def to_proto(self) -> sketches_pb2.PiiState:
        state = sketches_pb2.PiiState(checked=self.checked)
        state.matches.update({k: n for k, n in self.matches.items() if n})
        return state

    @classmethod
    def from_proto(cls, msg: sketches_pb2.PiiState) -> PiiAccumulator:
        acc = cls()
        acc.checked = msg.checked
        acc.matches.update(dict(msg.matches))
        return acc

    def result(self) -> dict[str, float]:
        """Kind -> the fraction of checked values that look like it (kinds with a match)."""
        if not self.checked:
            return {}
        return {k: self.matches[k] / self.checked for k in KINDS if self.matches[k]}


@dataclasses.dataclass(frozen=True)
class PiiFamily:
    """The registry entry of :class:`PiiAccumulator` (see the module docstring)."""

    name: ClassVar[str] = "pii"
    enabled: bool = True

    @classmethod
    def from_spec(cls, spec: StatisticsSpec) -> PiiFamily:
        return cls(spec.detect_pii)

    @property
    def eager(self) -> bool:
        return False

    def takes(self, batch: FeatureBatch) -> bool:
        return self.enabled and batch.column.kind in STRINGS and len(batch.column.values) > 0

    def create(self) -> PiiAccumulator:
        return PiiAccumulator()

    def add(self, state: PiiAccumulator, batch: FeatureBatch) -> None:
        distinct = batch.distinct
        if distinct is not None and distinct.pii is not None:  # worked out at once
            state.add_distinct(distinct.counts, distinct.pii)
            return
        state.add(batch.encoded if batch.encoded is not None else batch.column.values)

    def load(self, msg: sketches_pb2.FeatureState) -> PiiAccumulator | None:
        return PiiAccumulator.from_proto(msg.pii) if msg.HasField("pii") else None

    def write(self, state: PiiAccumulator, msg: sketches_pb2.FeatureState) -> None:
        msg.pii.CopyFrom(state.to_proto())

    def report(self, state: PiiAccumulator | None, out: FeatureReport) -> None:
        if state is None:
            return
        for kind, fraction in state.result().items():
            out.note(PREFIX + kind, fraction)
