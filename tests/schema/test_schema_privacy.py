"""A privacy policy kept in the schema (schema/privacy.py): tags written by infer_schema,
read back, and applied by the commands given the schema."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from privacy_reference import KEY, hashed, leaks, planted_table
from tensorflow_metadata.proto.v0 import schema_pb2

from beam_stats import (
    PrivacySpec,
    StatisticsSpec,
    generate_statistics_from_table,
    infer_schema,
    load_statistics,
    write_schema,
)
from beam_stats.cli import main
from beam_stats.errors import InvalidInputError, SchemaError
from beam_stats.schema.privacy import TAG, effective_privacy, schema_privacy, with_privacy
from beam_stats.stats.privacy import key_id

TABLE = pa.table({"email": ["a@example.com"] * 3, "plan": ["x", "y", "x"], "n": [1, 2, 3]})


def test_infer_schema_records_the_policy_of_its_statistics() -> None:
    policy = PrivacySpec(redact=["email"], hash=["plan"], hash_key=KEY, min_count=2)
    schema = infer_schema(generate_statistics_from_table(TABLE, StatisticsSpec(privacy=policy)))
    tags = {f.name: list(f.annotation.tag) for f in schema.feature}
    assert tags == {"email": [TAG + "redact"], "plan": [TAG + "hash"], "n": []}
    assert set(schema.annotation.tag) == {TAG + "min_count=2", f"{TAG}hash_key_id={key_id(KEY)}"}
    assert schema_privacy(schema) == policy  # the key's id, not the key: equal all the same
    assert schema_privacy(schema, KEY).hash_key == KEY
    plain = infer_schema(generate_statistics_from_table(TABLE))
    assert not plain.annotation.tag and not any(f.annotation.tag for f in plain.feature)


def test_with_privacy_replaces_the_tags_and_keeps_the_others() -> None:
    schema = infer_schema(generate_statistics_from_table(TABLE))
    schema.feature[0].annotation.tag.append("owner: growth team")
    first = with_privacy(schema, PrivacySpec(redact=["email"], redact_pii=True))
    second = with_privacy(first, PrivacySpec(min_count=3))
    assert list(second.feature[0].annotation.tag) == ["owner: growth team"]
    assert list(second.annotation.tag) == [TAG + "min_count=3"]
    assert schema_privacy(first) == PrivacySpec(redact=["email"], redact_pii=True)


@pytest.mark.parametrize(
    ("feature_tag", "schema_tag", "error", "message"),
    [
        ("beam_stats.privacy: erase", None, SchemaError, "unknown privacy tag"),
        (None, "beam_stats.privacy: min_count=two", SchemaError, "min_count must be an int"),
        ("beam_stats.privacy: hash", None, InvalidInputError, "needs a hash key"),
    ],
)
def test_bad_tags_are_refused(
    feature_tag: str | None, schema_tag: str | None, error: type[Exception], message: str
) -> None:
    schema = schema_pb2.Schema()
    feature = schema.feature.add(name="email", type=schema_pb2.BYTES)
    if feature_tag:
        feature.annotation.tag.append(feature_tag)
    if schema_tag:
        schema.annotation.tag.append(schema_tag)
    with pytest.raises(error, match=message):
        schema_privacy(schema)


def test_the_schema_policy_adds_to_the_flags() -> None:
    schema = with_privacy(
        infer_schema(generate_statistics_from_table(TABLE)), PrivacySpec(redact=["email"])
    )
    both = effective_privacy(PrivacySpec(min_count=2), schema)
    assert both == PrivacySpec(redact=["email"], min_count=2)
    assert effective_privacy(PrivacySpec(min_count=2), None) == PrivacySpec(min_count=2)


def test_commands_given_the_schema_apply_its_policy(tmp_path: Path) -> None:
    table, planted = planted_table(rows=80)
    data = tmp_path / "d.csv"
    pacsv.write_csv(table, data)
    plain = tmp_path / "plain.pb"
    assert main(["stats", str(data), "--output", str(plain)]) == 0
    schema = with_privacy(
        infer_schema(load_statistics(str(plain))),
        PrivacySpec(redact=["email", "phone", "card"]),
    )
    schema_path = str(tmp_path / "schema.pbtxt")
    write_schema(schema, schema_path)
    protected = tmp_path / "protected.pb"
    assert main(["stats", str(data), "--output", str(protected), "--schema", schema_path]) == 0
    assert leaks(plain.read_bytes(), planted) and leaks(protected.read_bytes(), planted) == []
    anomalies = tmp_path / "anomalies.pbtxt"
    validate = ["validate", str(plain), "--schema", schema_path, "--output", str(anomalies)]
    assert main(validate) in (0, 1)
    assert leaks(anomalies.read_bytes(), planted) == []


def test_a_schema_that_hashes_takes_the_key_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "d.csv"
    pacsv.write_csv(TABLE, data)
    policy = PrivacySpec(hash=["plan"], hash_key=KEY)
    schema = with_privacy(infer_schema(generate_statistics_from_table(TABLE)), policy)
    schema_path, out = str(tmp_path / "schema.pbtxt"), str(tmp_path / "s.pb")
    write_schema(schema, schema_path)
    key = tmp_path / "key"
    key.write_bytes(KEY)
    arguments = ["stats", str(data), "--output", out, "--schema", schema_path]
    assert main(arguments) == 2  # the schema hashes plan: no key, no statistics
    assert "the schema hashes plan: give its key (--hash-key-file)" in capsys.readouterr().err
    assert main([*arguments, "--hash-key-file", str(key)]) == 0
    plan = next(f for f in load_statistics(out).datasets[0].features if f.path.step == ["plan"])
    assert {v.value for v in plan.string_stats.top_values} == {hashed("x"), hashed("y")}
    assert PrivacySpec(redact=["a"], hash_key=KEY) == PrivacySpec(redact=["a"])  # key unused
