"""validate-examples under a privacy policy: the planted personal data is in no bad-row,
good-row, reason or summary file with the policy, and is found there without it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from privacy_reference import KEY, hashed, leaks, leaks_in, planted_table

from beam_stats.cli import examples as examples_cli
from beam_stats.errors import InvalidInputError
from beam_stats.jobs.examples import validate_examples
from beam_stats.pipelines import ValidateExamples
from beam_stats.stats.privacy import PrivacySpec

ALLOWED_EMAILS = 25  # the first planted e-mails are in the schema's domain; the others not


def dataset(folder: Path) -> tuple[list[dict[str, Any]], dict[str, list[str]], str]:
    """The planted table with an id, as Parquet in two row groups; its rows, the planted
    values, and a schema whose domains make some rows bad: e-mails outside the first
    ``ALLOWED_EMAILS`` (the reason quotes the e-mail) and the plan ``team``."""
    table, planted = planted_table()
    table = table.append_column("id", pa.array(range(table.num_rows), pa.int64()))
    folder.mkdir()
    pq.write_table(table, folder / "data.parquet", row_group_size=150)
    allowed = "".join(f' value: "{e}"' for e in planted["email"][:ALLOWED_EMAILS])
    schema = folder / "schema.pbtxt"
    schema.write_text(
        'feature { name: "id" type: INT }\n'
        f'feature {{ name: "email" type: BYTES string_domain {{{allowed} }} }}\n'
        'feature { name: "phone" type: BYTES }\n'
        'feature { name: "card" type: BYTES }\n'
        'feature { name: "plan" type: BYTES string_domain { value: "basic" value: "pro" } }\n'
        'feature { name: "amount" type: FLOAT }\n'
    )
    return table.to_pylist(), planted, str(schema)


def is_bad(row: dict[str, Any], planted: dict[str, list[str]]) -> bool:
    return row["email"] not in planted["email"][:ALLOWED_EMAILS] or row["plan"] == "team"


def read_rows(folder: Path, bad: bool) -> list[dict[str, Any]]:
    """The rows written (``{"reasons": ..., "row": ...}`` for bad ones), from JSON lines or
    Parquet."""
    prefix = "bad-rows" if bad else "good-rows"
    out: list[dict[str, Any]] = []
    for path in sorted(folder.glob(f"{prefix}-*.jsonl")):
        out += [json.loads(line) for line in path.read_text().splitlines()]
    for path in sorted(folder.glob(f"{prefix}-*.parquet")):
        for row in pq.read_table(path).to_pylist():
            reasons = row.pop("reasons", None)
            out.append({"reasons": reasons, "row": row} if bad else row)
    return out


def run(
    tmp_path: Path, privacy: PrivacySpec | None, output_format: str = "jsonl"
) -> tuple[Any, list[dict[str, Any]], dict[str, list[str]], Path]:
    rows, planted, schema = dataset(tmp_path / "in")
    out = tmp_path / "out"
    result = validate_examples(
        str(tmp_path / "in" / "data.parquet"),
        schema,
        str(out / "bad"),
        good_rows=str(out / "good"),
        output_format=output_format,
        privacy=privacy,
    )
    return result, rows, planted, out


def check_counts(result: Any, rows: list[dict[str, Any]], planted: dict[str, list[str]]) -> None:
    """Every row is counted and written, on the side it belongs to."""
    bad_ids = {r["id"] for r in rows if is_bad(r, planted)}
    assert 0 < len(bad_ids) < len(rows)
    assert (result.rows, result.bad_rows) == (len(rows), len(bad_ids))
    written_bad = read_rows(Path(result.bad_rows_dir), bad=True)
    written_good = read_rows(Path(result.good_rows_dir), bad=False)
    assert sorted(r["row"]["id"] for r in written_bad) == sorted(bad_ids)
    assert sorted(r["id"] for r in written_good) == sorted(set(range(len(rows))) - bad_ids)


def reason_values(written_bad: list[dict[str, Any]], feature: str) -> list[Any]:
    return [r["value"] for b in written_bad for r in b["reasons"] if r["feature"] == feature]


def test_without_a_policy_the_outputs_carry_the_planted_values(tmp_path: Path) -> None:
    result, rows, planted, out = run(tmp_path, None)
    check_counts(result, rows, planted)
    found = leaks_in(out, planted)
    assert any(name.startswith("bad/bad-rows-") for name in found)
    assert any(name.startswith("good/good-rows-") for name in found)
    emails = reason_values(read_rows(out / "bad", bad=True), "email")
    assert set(emails) == set(planted["email"][ALLOWED_EMAILS:])


@pytest.mark.parametrize("output_format", ["jsonl", "parquet"])
def test_redacted_features_keep_their_column_and_rows_but_no_value(
    tmp_path: Path, output_format: str
) -> None:
    privacy = PrivacySpec(redact=frozenset({"email", "phone", "card"}))
    result, rows, planted, out = run(tmp_path, privacy, output_format)
    check_counts(result, rows, planted)
    assert leaks_in(out, planted) == {}
    by_id = {r["id"]: r for r in rows}
    bad = read_rows(out / "bad", bad=True)
    for row in [b["row"] for b in bad] + read_rows(out / "good", bad=False):
        assert (row["email"], row["phone"], row["card"]) == (None, None, None)
        read = by_id[row["id"]]
        assert (row["plan"], row["amount"]) == (read["plan"], read["amount"])
    emails = reason_values(bad, "email")
    assert emails and set(emails) == {None}  # the reason stays, without its value
    assert set(reason_values(bad, "plan")) == {"team"}  # a feature kept is quoted as before
    assert result.anomalies["ENUM_TYPE_UNEXPECTED_STRING_VALUES"] == result.bad_rows


def test_hashed_features_hold_keyed_hashes_in_rows_and_reasons(tmp_path: Path) -> None:
    privacy = PrivacySpec(
        hash=frozenset({"email"}), redact=frozenset({"phone", "card"}), hash_key=KEY
    )
    result, rows, planted, out = run(tmp_path, privacy, "parquet")
    check_counts(result, rows, planted)
    assert leaks_in(out, planted) == {}
    by_id = {r["id"]: r for r in rows}
    bad = read_rows(out / "bad", bad=True)
    for row in [b["row"] for b in bad] + read_rows(out / "good", bad=False):
        assert row["email"] == hashed(by_id[row["id"]]["email"])
    for b in bad:  # the reason's value is the hash of the row's own e-mail
        email = by_id[b["row"]["id"]]["email"]
        quoted = [r["value"] for r in b["reasons"] if r["feature"] == "email"]
        assert quoted == ([hashed(email)] if email in planted["email"][ALLOWED_EMAILS:] else [])


def test_redact_pii_nulls_each_cell_that_looks_personal(tmp_path: Path) -> None:
    result, rows, planted, out = run(tmp_path, PrivacySpec(redact_pii=True))
    check_counts(result, rows, planted)
    assert leaks_in(out, planted) == {}
    by_id = {r["id"]: r for r in rows}
    bad = read_rows(out / "bad", bad=True)
    for row in [b["row"] for b in bad] + read_rows(out / "good", bad=False):
        assert (row["email"], row["phone"], row["card"]) == (None, None, None)
        assert row == {**by_id[row["id"]], "email": None, "phone": None, "card": None}
    assert set(reason_values(bad, "email")) == {None}
    assert set(reason_values(bad, "plan")) == {"team"}  # not personal: kept


def test_min_count_keeps_every_value_out_of_the_reasons(tmp_path: Path) -> None:
    result, rows, planted, out = run(tmp_path, PrivacySpec(min_count=5))
    check_counts(result, rows, planted)
    bad = read_rows(out / "bad", bad=True)
    reasons = [r for b in bad for r in b["reasons"]]
    assert {r["feature"] for r in reasons} == {"email", "plan"}
    assert {r["value"] for r in reasons} == {None}
    for name in ("summary.json", "new-columns.jsonl", "bad-rows.errors.jsonl"):
        assert leaks((out / "bad" / name).read_bytes(), planted) == []


def test_a_policy_with_features_to_hash_and_no_key_is_refused(tmp_path: Path) -> None:
    _, _, schema = dataset(tmp_path / "in")
    from beam_stats.beam.artifacts import load_schema

    without_key = PrivacySpec(hash=frozenset({"email"}), hash_key_id="0" * 16)
    with pytest.raises(InvalidInputError, match="no hash key"):
        ValidateExamples(load_schema(schema), privacy=without_key)


def test_cli_flags_apply_the_policy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows, planted, schema = dataset(tmp_path / "in")
    (tmp_path / "key").write_bytes(KEY + b"\n")
    out = tmp_path / "out"
    root = argparse.ArgumentParser()
    examples_cli.add_parsers(root.add_subparsers(dest="command", required=True))
    argv = [
        "validate-examples",
        str(tmp_path / "in" / "data.parquet"),
        "--schema",
        schema,
        "--bad-rows",
        str(out / "bad"),
        "--good-rows",
        str(out / "good"),
        "--hash",
        "email",
        "--hash-key-file",
        str(tmp_path / "key"),
        "--redact-pii",
    ]
    args, beam_args = root.parse_known_args(argv)
    assert args.run(args, beam_args) == 1  # some rows are bad
    printed = capsys.readouterr()
    assert leaks((printed.out + printed.err).encode(), planted) == []
    assert leaks_in(out, planted) == {}
    written = read_rows(out / "good", bad=False)
    by_id = {r["id"]: r for r in rows}
    assert written and all(r["email"] == hashed(by_id[r["id"]]["email"]) for r in written)
    assert all(r["phone"] is None and r["card"] is None for r in written)
