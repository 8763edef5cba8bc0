"""feature-skew under a privacy policy: the result, the samples file and the errors file hold
no planted value (they do without the policy); counts are those of the values as read."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from privacy_reference import KEY, hashed, leaks, leaks_in, planted_table

from beam_stats.cli import skew as skew_cli
from beam_stats.jobs.skew import SkewResult, feature_skew
from beam_stats.stats.privacy import PrivacySpec

COUNTS = ("base_count", "test_count", "match_count", "mismatch_count", "base_only", "test_only")


Rows = dict[int, dict[str, Any]]


def pair(
    folder: Path, rows: int = 400, email_every: int = 4
) -> tuple[Rows, Rows, dict[str, list[str]]]:
    """Base and test files of the planted table (with an id), test's values changed in some
    rows (each to another planted value; e-mails in every `email_every`-th row, 0: none);
    a CSV file beside base whose one row is malformed and quotes planted values. Returns
    base and test rows by id, and the planted values."""
    table, planted = planted_table()
    table = table.slice(0, rows).append_column("id", pa.array(range(rows), pa.int64()))
    base = table.to_pylist()
    test = [dict(r) for r in base]
    plans = ["basic", "pro", "team"]
    for r in test:
        i = r["id"]
        for kind, every in (("email", email_every), ("phone", 3), ("card", 5)):
            if every and i % every == 0:
                values = planted[kind]
                r[kind] = values[(values.index(r[kind]) + 1) % len(values)]
        if i % 7 == 0:
            r["plan"] = plans[(plans.index(r["plan"]) + 1) % 3]
    folder.mkdir()
    pq.write_table(table, folder / "base.parquet", row_group_size=100)
    pq.write_table(pa.Table.from_pylist(test), folder / "test.parquet", row_group_size=100)
    header = ",".join(table.schema.names)
    malformed = f"{planted['email'][0]},{planted['phone'][0]},{planted['card'][0]}"
    (folder / "base-extra.csv").write_text(f"{header}\n{malformed}\n")
    return {r["id"]: r for r in base}, {r["id"]: r for r in test}, planted


def run(folder: Path, ids: list[str], privacy: PrivacySpec | None, **kwargs: Any) -> SkewResult:
    out = folder / "out"
    return feature_skew(
        [str(folder / "in" / "base.parquet"), str(folder / "in" / "base-extra.csv")],
        str(folder / "in" / "test.parquet"),
        ids,
        str(out / "skew.pb"),
        samples=str(out / "samples.jsonl"),
        sample_size=5,
        num_shards=8,
        privacy=privacy,
        **kwargs,
    )


def counts(result: SkewResult) -> dict[str, tuple[int, ...]]:
    return {f.feature: tuple(getattr(f, n) for n in COUNTS) for f in result.result.features}


def samples(result: SkewResult) -> list[dict[str, Any]]:
    assert result.samples is not None
    return [json.loads(line) for line in Path(result.samples).read_text().splitlines()]


@pytest.fixture(scope="module")
def unprotected(tmp_path_factory: pytest.TempPathFactory) -> tuple[SkewResult, Path]:
    folder = tmp_path_factory.mktemp("skew-plain")
    pair(folder / "in")
    return run(folder, ["id"], None), folder


def test_without_a_policy_every_output_carries_planted_values(
    unprotected: tuple[SkewResult, Path],
) -> None:
    result, folder = unprotected
    planted = planted_table()[1]
    found = leaks_in(folder / "out", planted)
    assert {"skew.pb", "samples.jsonl", "skew.pb.errors.jsonl"} <= set(found)
    assert {s["feature"] for s in samples(result)} == {"email", "phone", "card", "plan"}


def test_redacted_and_hashed_features(tmp_path: Path, unprotected: tuple[SkewResult, Path]) -> None:
    base, test, planted = pair(tmp_path / "in")
    privacy = PrivacySpec(
        redact=frozenset({"phone", "card"}), hash=frozenset({"email"}), hash_key=KEY
    )
    result = run(tmp_path, ["id"], privacy)
    assert counts(result) == counts(unprotected[0])  # compared as read
    assert result.input_problems == unprotected[0].input_problems > 0
    assert leaks_in(tmp_path / "out", planted) == {}
    kept = samples(result)
    assert {s["feature"] for s in kept} == {"email", "plan"}  # redacted: counts only
    emails = [s for s in kept if s["feature"] == "email"]
    assert len(emails) == 5
    for s in emails:
        i = s["identifier"]["id"]
        assert (s["base"], s["test"]) == (hashed(base[i]["email"]), hashed(test[i]["email"]))
    for s in (s for s in kept if s["feature"] == "plan"):  # kept as read
        i = s["identifier"]["id"]
        assert (s["base"], s["test"]) == (base[i]["plan"], test[i]["plan"])


@pytest.mark.parametrize("treatment", ["hash", "redact"])
def test_a_protected_identifier_is_hashed_or_left_out(tmp_path: Path, treatment: str) -> None:
    # 50 rows: each e-mail once, and the same on both sides: an identifier
    base, test, planted = pair(tmp_path / "in", rows=50, email_every=0)
    email, none = frozenset({"email"}), frozenset[str]()
    privacy = PrivacySpec(
        hash=email if treatment == "hash" else none,
        redact=email if treatment == "redact" else none,
        hash_key=KEY,
    )
    result = run(tmp_path, ["email"], privacy)
    assert result.result.joined == 50
    emails = {"email": planted["email"]}  # phones and cards are kept here
    assert leaks_in(tmp_path / "out", emails) == {}
    assert leaks_in(tmp_path / "out", planted)  # which the search finds
    kept = samples(result)
    assert kept and {s["feature"] for s in kept} <= {"phone", "card", "plan"}
    by_email = {r["email"]: r for r in base.values()}
    by_hash = {hashed(e): r for e, r in by_email.items()}
    for s in kept:
        if treatment == "redact":
            assert s["identifier"] == {}
            continue
        row = by_hash[s["identifier"]["email"]]
        assert s["base"] == row[s["feature"]] and s["test"] == test[row["id"]][s["feature"]]
    assert all(not sample.key for f in result.result.features for sample in f.samples)


def test_redact_pii_removes_personal_cells_from_samples(
    tmp_path: Path, unprotected: tuple[SkewResult, Path]
) -> None:
    base, test, planted = pair(tmp_path / "in")
    result = run(tmp_path, ["id"], PrivacySpec(redact_pii=True))
    assert counts(result) == counts(unprotected[0])
    assert leaks_in(tmp_path / "out", planted) == {}
    kept = samples(result)
    personal = [s for s in kept if s["feature"] in ("email", "phone", "card")]
    assert personal and all((s["base"], s["test"]) == (None, None) for s in personal)
    plans = [s for s in kept if s["feature"] == "plan"]
    assert plans and all(s["base"] == base[s["identifier"]["id"]]["plan"] for s in plans)


def test_min_count_keeps_counts_only(tmp_path: Path, unprotected: tuple[SkewResult, Path]) -> None:
    _, _, planted = pair(tmp_path / "in")
    result = run(tmp_path, ["id"], PrivacySpec(min_count=2))
    assert counts(result) == counts(unprotected[0])
    assert samples(result) == []
    assert all(not f.samples for f in result.result.features)
    assert leaks_in(tmp_path / "out", planted) == {}


def test_cli_flags_apply_the_policy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, _, planted = pair(tmp_path / "in")
    (tmp_path / "key").write_text(KEY.decode() + "\n")
    out = tmp_path / "out"
    root = argparse.ArgumentParser()
    skew_cli.add_parsers(root.add_subparsers(dest="command", required=True))
    argv = ["feature-skew", "--base", str(tmp_path / "in" / "base*")]
    argv += ["--test", str(tmp_path / "in" / "test.parquet"), "--id", "id"]
    argv += ["--output", str(out / "skew.pbtxt"), "--samples", str(out / "samples.jsonl")]
    argv += ["--redact-pii", "--hash", "plan", "--hash-key-file", str(tmp_path / "key")]
    args, beam_args = root.parse_known_args(argv)
    assert args.run(args, beam_args) == 1  # values differ
    printed = capsys.readouterr()
    assert "input problem" in printed.err  # the malformed CSV row, listed without its text
    assert leaks((printed.out + printed.err).encode(), planted) == []
    assert leaks_in(out, planted) == {}
    plans = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    plans = [s for s in plans if s["feature"] == "plan"]
    assert plans and all(s["base"] in {hashed(p) for p in ("basic", "pro", "team")} for s in plans)
