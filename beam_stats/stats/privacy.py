"""What statistics keep of the values: redaction, keyed hashes and folding of rare values.

A :class:`PrivacySpec` (``StatisticsSpec(privacy=...)``) says, per feature, what of its values
may appear in statistics. It is applied to a feature's *state* when its result is written
(:func:`protect_state`), so the finished statistics, the stored sketch state and everything
made from them later (merges, reports, anomalies, drift) hold only what the policy lets
through, and it is recorded in the state's settings, so files made with different policies
refuse to merge. Applying a policy twice changes nothing.

Treatments, the strongest that applies:

* ``REDACT`` (``redact``, or ``redact_pii`` and the feature's values look like personal data
  at :data:`~beam_stats.stats.pii.MIN_FRACTION` or more): no value of the feature is kept.
  Top values, the rank histogram, label pairs and lift are emptied; a number's moments,
  quantiles and histograms are dropped. Presence, valency, lengths, the distinct count and
  the counts of NaN and infinities remain.
* ``HASH`` (``hash``): string values appear only as ``HMAC-SHA256(key, value)`` (32 hex
  digits), so equal values stay equal across files made with the same key: drift, skew,
  merges and schema domains still work. The key is never written: files record its id (an
  HMAC of a fixed text), and merging files with different ids is refused. A hash keeps
  equality, not order, so the numeric part of a hashed feature is redacted.
* ``min_count`` K > 1, on every feature with values counted as such (strings, categorical
  ints): a value is listed (top values, rank histogram, label pairs) only if at least K
  examples have it; rarer ones are folded into the custom statistic ``rare_values`` (the
  values of the feature not listed). Counts stay lower bounds: the sketch's error bound
  (``top_values_max_error``) grows by the largest count folded
  (``FrequentItemsState.folded``). Numeric summaries (min, max, quantiles) are not values by
  example and are kept: redact a number whose extremes are sensitive.

Every protected feature's distinct count is kept as HyperLogLog registers (only the non-zero
ones while few are set, :mod:`beam_stats.sketches.hll`), never as the exact set of 64-bit
value hashes, which a guess could be checked against (a guessed value can still be tested
against a register, with many false positives once the feature has more distinct values than
a few percent of the ``2**precision`` registers). The state of custom
statistics is the user's code and is left as it is.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import hmac
from collections.abc import Iterable, Sequence

from beam_stats._types import FeaturePath, feature_paths, path_str
from beam_stats.errors import InvalidInputError
from beam_stats.proto import sketches_pb2
from beam_stats.sketches import DistinctCountAccumulator
from beam_stats.stats.family import FeatureReport
from beam_stats.stats.labels import split_pair
from beam_stats.stats.pii import suspected

#: The custom statistic that says what the policy did to a feature's values.
PRIVACY_NAME = "privacy"
#: The custom statistic with the values of a feature not listed (folded by ``min_count``,
#: or beyond the frequent-items sketch).
RARE_NAME = "rare_values"
#: A hash key shorter than this is refused (HMAC-SHA256 wants at least 16 random bytes).
MIN_KEY_BYTES = 16
_KEY_ID_TEXT = b"beam-stats hash key id"
_HEX_DIGITS = 32


class Treatment(enum.Enum):
    """What a policy does to one feature's values, weakest first."""

    KEEP = "kept"
    FOLD = "rare values folded"
    HASH = "hashed"
    REDACT = "redacted"


def key_id(key: bytes) -> str:
    """The name of a hash key written in files: an HMAC of a fixed text (reveals nothing
    of the key, and tells two keys apart)."""
    return hmac.new(key, _KEY_ID_TEXT, hashlib.sha256).hexdigest()[:16]


@dataclasses.dataclass(frozen=True, kw_only=True)
class PrivacySpec:
    """The privacy policy of a statistics run (see the module docstring).

    Args:
        redact: features (dotted names or tuples) whose values are removed.
        redact_pii: also redact every string feature detected as personal data.
        hash: features whose values appear only as keyed hashes.
        hash_key: the HMAC key (at least 16 bytes; e.g. ``read_hash_key``); never written.
        hash_key_id: the key's id, for a policy read back from a file (no key there); must
            match the key's when both are given.
        min_count: list a value only if at least this many examples have it (1: all).
    """

    redact: frozenset[FeaturePath] = frozenset()
    redact_pii: bool = False
    hash: frozenset[FeaturePath] = frozenset()
    hash_key: bytes | None = dataclasses.field(default=None, repr=False, compare=False)
    hash_key_id: str = ""
    min_count: int = 1

    def __post_init__(self) -> None:
        for name in ("redact", "hash"):
            value = getattr(self, name)
            if isinstance(value, str):
                raise InvalidInputError(f"{name} must be a collection of features, got {value!r}")
            object.__setattr__(self, name, feature_paths(value))
        if not isinstance(self.min_count, int) or self.min_count < 1:
            raise InvalidInputError(f"min_count must be an int >= 1, got {self.min_count!r}")
        if self.hash_key is not None:
            if not isinstance(self.hash_key, bytes) or len(self.hash_key) < MIN_KEY_BYTES:
                size = len(self.hash_key) if isinstance(self.hash_key, bytes) else "not bytes"
                raise InvalidInputError(
                    f"the hash key must be at least {MIN_KEY_BYTES} bytes, got {size}"
                )
            derived = key_id(self.hash_key)
            if self.hash_key_id and self.hash_key_id != derived:
                raise InvalidInputError(
                    f"the hash key's id is {derived}, not {self.hash_key_id}: another key"
                )
            object.__setattr__(self, "hash_key_id", derived)
        if not self.hash:  # a key that hashes nothing is not part of the policy
            object.__setattr__(self, "hash_key_id", "")
        if self.hash and not self.hash_key_id:
            names = ", ".join(sorted(path_str(p) for p in self.hash))
            raise InvalidInputError(f"hashing {names} needs a hash key (--hash-key-file)")

    @property
    def active(self) -> bool:
        """Whether the policy changes anything."""
        return bool(self.redact or self.redact_pii or self.hash or self.min_count > 1)

    def treatment(self, path: FeaturePath, pii: sketches_pb2.PiiState | None) -> Treatment:
        """What the policy does to the feature at `path`, given its personal-data counts."""
        if path in self.redact or (self.redact_pii and pii is not None and suspected(pii)):
            return Treatment.REDACT
        if path in self.hash:
            return Treatment.HASH
        return Treatment.FOLD if self.min_count > 1 else Treatment.KEEP

    def describe(self, treatment: Treatment) -> str:
        """The ``privacy`` custom statistic of a feature so treated."""
        text = treatment.value
        if treatment is Treatment.HASH:
            text = f"hashed (HMAC-SHA256, key {self.hash_key_id})"
        folded = f"{Treatment.FOLD.value} (in fewer than {self.min_count} examples)"
        if treatment is Treatment.FOLD:
            return folded
        return f"{text}; {folded}" if treatment is Treatment.HASH and self.min_count > 1 else text

    def hash_values(self, values: Iterable[bytes]) -> list[bytes]:
        """Each value's keyed hash (32 hex digits, as ASCII bytes).

        Raises:
            InvalidInputError: the policy has only the key's id (read back from a file).
        """
        if self.hash_key is None:
            raise InvalidInputError(
                f"values to hash, but no hash key (the policy names key {self.hash_key_id}): "
                "give the key file"
            )
        key = self.hash_key
        return [hmac.new(key, v, hashlib.sha256).hexdigest()[:_HEX_DIGITS].encode() for v in values]

    def to_proto(self) -> sketches_pb2.PrivacyPolicy:
        return sketches_pb2.PrivacyPolicy(
            redact=sorted(path_str(p) for p in self.redact),
            redact_pii=self.redact_pii,
            hash=sorted(path_str(p) for p in self.hash),
            hash_key_id=self.hash_key_id,
            min_count=self.min_count if self.min_count > 1 else 0,
        )

    @classmethod
    def from_proto(cls, msg: sketches_pb2.PrivacyPolicy) -> PrivacySpec:
        """The policy a file records (without its key)."""
        return cls(
            redact=frozenset(tuple(p.split(".")) for p in msg.redact),
            redact_pii=msg.redact_pii,
            hash=frozenset(tuple(p.split(".")) for p in msg.hash),
            hash_key_id=msg.hash_key_id,
            min_count=max(1, msg.min_count),
        )

    def union(self, other: PrivacySpec) -> PrivacySpec:
        """A policy that protects everything either protects (``redact`` of a file made
        before); the key and id of whichever has one."""
        if self.hash_key_id and other.hash_key_id and self.hash_key_id != other.hash_key_id:
            raise InvalidInputError(
                f"the policies hash with different keys ({self.hash_key_id}, {other.hash_key_id})"
            )
        return PrivacySpec(
            redact=self.redact | other.redact,
            redact_pii=self.redact_pii or other.redact_pii,
            hash=self.hash | other.hash,
            hash_key=self.hash_key or other.hash_key,
            hash_key_id=self.hash_key_id or other.hash_key_id,
            min_count=max(self.min_count, other.min_count),
        )


def describe_policy(policy: sketches_pb2.PrivacyPolicy) -> str:
    """One line for a recorded policy, for error messages ("none" when it keeps all)."""
    parts = []
    if policy.redact:
        parts.append(f"redact {', '.join(policy.redact)}")
    if policy.redact_pii:
        parts.append("redact personal data")
    if policy.hash:
        parts.append(f"hash {', '.join(policy.hash)} with key {policy.hash_key_id}")
    if policy.min_count > 1:
        parts.append(f"min count {policy.min_count}")
    return "; ".join(parts) or "none"


def _listed(
    parent: sketches_pb2.StringState | sketches_pb2.LabelState, *names: str
) -> list[sketches_pb2.FrequentItemsState]:
    """The frequent-items sketches of `parent` by name that are set (a sketch read but not
    set must stay unset)."""
    return [getattr(parent, name) for name in names if parent.HasField(name)]


def _emptied(state: sketches_pb2.FrequentItemsState) -> None:
    """Lists nothing; ``folded`` grows by the largest count removed."""
    if state.counts:
        state.folded += max(state.counts)
    del state.values[:], state.counts[:]


def _filtered(state: sketches_pb2.FrequentItemsState, keep: Sequence[bool]) -> None:
    """Keeps the entries where `keep` holds; ``folded`` grows by the largest dropped."""
    dropped = [c for c, k in zip(state.counts, keep, strict=True) if not k]
    if not dropped:
        return
    values = [v for v, k in zip(state.values, keep, strict=True) if k]
    counts = [c for c, k in zip(state.counts, keep, strict=True) if k]
    state.folded += max(dropped)
    del state.values[:], state.counts[:]
    state.values.extend(values)
    state.counts.extend(counts)


def _fold(state: sketches_pb2.FeatureState, min_count: int) -> None:
    """Drops the values fewer than `min_count` examples are known to have, from the top
    values and from the weighted top values and label pairs (by the unweighted count)."""
    top = state.string.top_values
    _filtered(top, [c >= min_count for c in top.counts])
    kept = set(top.values)
    weighted = state.string.weighted_top_values
    _filtered(weighted, [v in kept for v in weighted.values])
    if state.label.HasField("pairs"):
        pairs = state.label.pairs
        _filtered(pairs, [split_pair(key)[1] in kept for key in pairs.values])


def _hash(state: sketches_pb2.FeatureState, spec: PrivacySpec) -> None:
    for sketch in _listed(state.string, "top_values", "weighted_top_values"):
        hashed = spec.hash_values(sketch.values)
        del sketch.values[:]
        sketch.values.extend(hashed)
    if not state.label.HasField("pairs"):
        state.values_hashed = True
        return
    pairs = state.label.pairs
    splits = [split_pair(key) for key in pairs.values]
    hashed = spec.hash_values(value for _, value in splits)
    del pairs.values[:]
    for (name, _), value in zip(splits, hashed, strict=True):
        encoded = name.encode()
        pairs.values.append(f"{len(encoded)}:".encode() + encoded + value)
    state.values_hashed = True


def _redact_numbers(state: sketches_pb2.FeatureState) -> None:
    """Keeps of the numbers only whether one was a float and the NaN and infinity counts."""
    if state.HasField("numeric"):
        old = state.numeric
        numeric = sketches_pb2.NumericState(has_float=old.has_float)
        moments = numeric.moments
        moments.num_nan = old.moments.num_nan
        moments.num_pos_inf = old.moments.num_pos_inf
        moments.num_neg_inf = old.moments.num_neg_inf
        numeric.quantiles.capacity = old.quantiles.capacity
        numeric.quantiles.exact_limit = old.quantiles.exact_limit
        if old.HasField("weighted_moments"):
            numeric.weighted_moments.SetInParent()
            numeric.weighted_quantiles.capacity = old.weighted_quantiles.capacity
        state.numeric.CopyFrom(numeric)
    if state.HasField("label"):
        state.label.quantiles.clear()
        del state.label.moments[:]


def _dense_distinct(state: sketches_pb2.FeatureState) -> None:
    if state.string.HasField("distinct") and state.string.distinct.hashes:
        distinct = DistinctCountAccumulator.from_proto(state.string.distinct)
        distinct.densify()
        state.string.distinct.CopyFrom(distinct.to_proto())


def protect_state(state: sketches_pb2.FeatureState, spec: PrivacySpec) -> Treatment:
    """Applies `spec` to one feature's state in place (see the module docstring).

    Returns:
        What was done to the feature.

    Raises:
        InvalidInputError: values to hash, and the policy has no key.
    """
    treatment = spec.treatment(tuple(state.path), state.pii if state.HasField("pii") else None)
    has_strings = state.HasField("string")
    if treatment is Treatment.KEEP or (treatment is Treatment.FOLD and not has_strings):
        return Treatment.KEEP
    if treatment is Treatment.REDACT:
        for sketch in _listed(state.string, "top_values", "weighted_top_values"):
            _emptied(sketch)
        for sketch in _listed(state.label, "pairs"):
            _emptied(sketch)
        _redact_numbers(state)
    else:
        if spec.min_count > 1 and has_strings:
            _fold(state, spec.min_count)
        if treatment is Treatment.HASH:
            if not state.values_hashed:
                _hash(state, spec)
            _redact_numbers(state)
    if has_strings:
        _dense_distinct(state)
    return treatment


def note_privacy(
    out: FeatureReport, treatment: Treatment, spec: PrivacySpec, state: sketches_pb2.FeatureState
) -> None:
    """Writes what `treatment` did (``privacy``) and, when values are folded, how many
    values of the feature its top values do not list (``rare_values``, at most)."""
    out.note(PRIVACY_NAME, spec.describe(treatment))
    top = state.string.top_values
    if spec.min_count > 1 and treatment is not Treatment.REDACT and state.HasField("string"):
        out.note(RARE_NAME, max(0.0, top.total - sum(top.counts)))
