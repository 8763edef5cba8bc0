"""protect_batch on every layout a column can take: nested fields, lists, maps, dictionaries,
slices; the expected rows computed in Python from the rows as read."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from privacy_reference import KEY, hashed

from beam_stats.errors import InvalidInputError
from beam_stats.stats.privacy import PrivacySpec
from beam_stats.stats.row_privacy import REDACTED, covers, protect_batch, row_policy

EMAIL, PHONE = "ann.lee@example.com", "+1 415 555 0100"


def batch() -> pa.RecordBatch:
    return pa.record_batch(
        {
            "id": pa.array([1, 2, 3, 4], pa.int64()),
            "user": [
                {"mail": EMAIL, "nick": "ann", "age": 31},
                None,
                {"mail": "x", "nick": PHONE, "age": None},
                {"mail": EMAIL, "nick": "bo", "age": 7},
            ],
            "tags": [["a", EMAIL], None, [], ["b"]],
            "attrs": pa.array(
                [[(EMAIL, "v")], [("k", PHONE)], None, [("k", "w")]],
                pa.map_(pa.string(), pa.string()),
            ),
            "plan": pa.array(["pro", EMAIL, None, "pro"]).dictionary_encode(),
            "blob": pa.array([EMAIL.encode(), b"\xff", None, b"ok"], pa.binary()),
        }
    )


def rows_where(rows: list[dict[str, Any]], personal: set[str]) -> list[dict[str, Any]]:
    """`rows` with each string (or bytes) that is in `personal` made null; map keys
    made ``REDACTED``."""

    def clean(value: Any, key: bool = False) -> Any:
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        if isinstance(text, str) and text in personal:
            return REDACTED if key else None
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [
                (clean(v[0], key=True), clean(v[1])) if isinstance(v, tuple) else clean(v)
                for v in value
            ]
        return value

    return [clean(row) for row in rows]


@pytest.mark.parametrize("start", [0, 1, 2])
def test_redact_pii_nulls_each_personal_value_at_any_depth(start: int) -> None:
    data = batch().slice(start)
    out = protect_batch(data, PrivacySpec(redact_pii=True))
    out.validate(full=True)
    assert out.schema.names == data.schema.names and out.num_rows == data.num_rows
    assert out.to_pylist() == rows_where(data.to_pylist(), {EMAIL, PHONE})


def test_redacted_paths_are_null_and_hashed_paths_are_keyed_hashes() -> None:
    spec = PrivacySpec(
        redact=frozenset({"user.mail", "attrs"}),
        hash=frozenset({"user.nick", "tags", "id"}),
        hash_key=KEY,
    )
    data = batch().slice(1)
    out = protect_batch(data, spec)
    out.validate(full=True)
    for got, row in zip(out.to_pylist(), data.to_pylist(), strict=True):
        assert got["id"] == hashed(str(row["id"]))
        assert got["attrs"] is None
        assert got["plan"] == row["plan"] and got["blob"] == row["blob"]  # untouched
        assert got["tags"] == (None if row["tags"] is None else [hashed(t) for t in row["tags"]])
        if row["user"] is None:
            assert got["user"] is None
        else:
            nick = row["user"]["nick"]
            assert got["user"] == {"mail": None, "nick": hashed(nick), "age": row["user"]["age"]}
    assert out.schema.field("attrs").type == data.schema.field("attrs").type


def test_a_struct_redacted_whole_and_untouched_columns_kept_as_they_are() -> None:
    data = batch()
    out = protect_batch(data, PrivacySpec(redact=frozenset({"user"})))
    assert out.column(1).null_count == data.num_rows
    for name in ("id", "tags", "attrs", "plan", "blob"):
        assert out.column(name) is data.column(name) or out.column(name).equals(data.column(name))
    assert protect_batch(data, PrivacySpec(min_count=5)) is data  # rows are not counted values


def test_covers_names_and_their_fields_only() -> None:
    paths = frozenset({("user",), ("a", "b")})
    assert covers(paths, "user") and covers(paths, "user.mail") and covers(paths, "a.b.c")
    assert not covers(paths, "username") and not covers(paths, "a") and not covers(paths, "a.bc")


def test_a_policy_without_its_key_cannot_hash_rows() -> None:
    with pytest.raises(InvalidInputError, match="no hash key"):
        row_policy(PrivacySpec(hash=frozenset({"x"}), hash_key_id="0123456789abcdef"))
    with pytest.raises(InvalidInputError, match="must be a PrivacySpec"):
        row_policy("redact everything")  # type: ignore[arg-type]
    assert row_policy(None) == PrivacySpec()
