"""A privacy policy kept in the schema, as annotation tags anyone can read and edit.

The policy of :mod:`beam_stats.stats.privacy` lives beside the data's other rules in the
schema file under version control, as ``annotation { tag: ... }`` entries (plain strings:
TFDV and every tensorflow-metadata reader keep them untouched):

* on a feature: ``beam_stats.privacy: redact`` or ``beam_stats.privacy: hash``;
* on the schema: ``beam_stats.privacy: redact_pii``, ``beam_stats.privacy: min_count=5`` and,
  with hashed features, ``beam_stats.privacy: hash_key_id=<id>`` (the id of the key, never
  the key: ``read_hash_key`` gives the key itself).

:func:`infer_schema` writes the policy its statistics were made with, and every command given
a schema applies its policy on top of its flags (:func:`effective_privacy`).
"""

from __future__ import annotations

from collections.abc import Collection

from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

from beam_stats._types import FeaturePath, path_str
from beam_stats.errors import SchemaError
from beam_stats.schema.features import iter_features
from beam_stats.stats.privacy import PRIVACY_NAME, PrivacySpec, Treatment

#: The prefix of every privacy tag.
TAG = "beam_stats.privacy: "
_FEATURE_VALUES = ("redact", "hash")


def _values(tags: list[str], where: str) -> list[str]:
    found = [t[len(TAG) :].strip() for t in tags if t.startswith(TAG)]
    for value in found:
        name = value.partition("=")[0]
        allowed = _FEATURE_VALUES if where != "the schema" else ("redact_pii", "min_count")
        if name not in allowed and not (where == "the schema" and name == "hash_key_id"):
            raise SchemaError(
                f"unknown privacy tag {TAG + value!r} on {where}; expected one of "
                f"{', '.join(repr(TAG + a) for a in allowed)}"
            )
    return found


def schema_privacy(schema: schema_pb2.Schema, hash_key: bytes | None = None) -> PrivacySpec:
    """The policy `schema` records (with `hash_key`, if it hashes a feature).

    Raises:
        SchemaError: an unknown privacy tag, or a bad ``min_count``.
        InvalidInputError: the schema hashes a feature, but gives no key id and no key.
    """
    redact: set[FeaturePath] = set()
    hashed: set[FeaturePath] = set()
    for path, feature in iter_features(schema):
        for value in _values(list(feature.annotation.tag), f"feature {path_str(path)!r}"):
            (redact if value == "redact" else hashed).add(path)
    settings = dict(
        value.partition("=")[::2] for value in _values(list(schema.annotation.tag), "the schema")
    )
    text = settings.get("min_count", "1")
    if not text.isdigit() or int(text) < 1:
        raise SchemaError(f"the schema's privacy min_count must be an int >= 1, got {text!r}")
    return PrivacySpec(
        redact=frozenset(redact),
        redact_pii="redact_pii" in settings,
        hash=frozenset(hashed),
        hash_key=hash_key if hashed else None,
        hash_key_id=settings.get("hash_key_id", "") if hashed else "",
        min_count=int(text),
    )


def with_privacy(schema: schema_pb2.Schema, privacy: PrivacySpec) -> schema_pb2.Schema:
    """A copy of `schema` whose tags record `privacy` (replacing the privacy tags it had).
    Features the policy names that the schema lacks are not added."""
    result = schema_pb2.Schema()
    result.CopyFrom(schema)
    for path, feature in iter_features(result):
        kept = [t for t in feature.annotation.tag if not t.startswith(TAG)]
        del feature.annotation.tag[:]
        feature.annotation.tag.extend(kept)
        if path in privacy.redact:
            feature.annotation.tag.append(TAG + "redact")
        elif path in privacy.hash:
            feature.annotation.tag.append(TAG + "hash")
    kept = [t for t in result.annotation.tag if not t.startswith(TAG)]
    del result.annotation.tag[:]
    result.annotation.tag.extend(kept)
    if privacy.redact_pii:
        result.annotation.tag.append(TAG + "redact_pii")
    if privacy.min_count > 1:
        result.annotation.tag.append(f"{TAG}min_count={privacy.min_count}")
    if privacy.hash:
        result.annotation.tag.append(f"{TAG}hash_key_id={privacy.hash_key_id}")
    return result


def effective_privacy(privacy: PrivacySpec, schema: schema_pb2.Schema | None) -> PrivacySpec:
    """The policy a command applies: its own (flags) and the schema's together, the key of
    `privacy` hashing what either names.

    Raises:
        SchemaError: the schema's privacy tags are unreadable.
        InvalidInputError: the two hash with different keys, or the schema hashes without a
            key id and `privacy` has no key.
    """
    if schema is None:
        return privacy
    return privacy.union(schema_privacy(schema, privacy.hash_key))


def treated_paths(
    *datasets: statistics_pb2.DatasetFeatureStatistics, folded: bool = True
) -> set[FeaturePath]:
    """The features a privacy policy redacts or hashes in one of `datasets` (the custom
    statistic ``privacy``), and those whose rare values it folds if `folded`."""
    treatments = (Treatment.REDACT.value, Treatment.HASH.value) + (
        (Treatment.FOLD.value,) if folded else ()
    )
    return {
        tuple(f.path.step) or (f.name,)
        for dataset in datasets
        for f in dataset.features
        if any(c.name == PRIVACY_NAME and c.str.startswith(treatments) for c in f.custom_stats)
    }


def without_values(schema: schema_pb2.Schema, paths: Collection[FeaturePath]) -> schema_pb2.Schema:
    """A copy of `schema` that keeps no value of the features at `paths`: they lose their
    string domains (a named one goes too when no other feature uses it; an empty domain
    would refuse every value) and their int and float bounds."""
    result = schema_pb2.Schema()
    result.CopyFrom(schema)
    dropped = set()
    for path, feature in iter_features(result):
        if path not in paths:
            continue
        which = feature.WhichOneof("domain_info")  # touch only the domain that is set
        if which == "domain":
            dropped.add(feature.domain)
        if which in ("domain", "string_domain"):
            feature.ClearField(which)
        elif which in ("int_domain", "float_domain"):
            bounded = getattr(feature, which)
            bounded.ClearField("min")
            bounded.ClearField("max")
    used = {f.domain for _, f in iter_features(result) if f.WhichOneof("domain_info") == "domain"}
    kept = [d for d in result.string_domain if d.name in used or d.name not in dropped]
    if len(kept) < len(result.string_domain):
        del result.string_domain[:]
        result.string_domain.extend(kept)
    return result
