"""The privacy proof for the statistics commands: planted e-mails, phones and card numbers
are searched for (in their common encodings) in every file each command writes and in what
it prints. With a policy there is no hit; without one the same search finds them, so the
test can fail. Row outputs (validate-examples, feature-skew, error files) have their own
tests beside their pipelines."""

from __future__ import annotations

from pathlib import Path

import pyarrow.csv as pacsv
import pytest
from privacy_reference import KEY, leaks, leaks_in, planted_table

from beam_stats import load_statistics
from beam_stats.cli import main
from beam_stats.stats.feature import STATE_NAME

# Card numbers read from CSV are INT: detection (strings only) does not see them, so the
# policy names them; e-mails and phones are found by --redact-pii; plan is hashed.
POLICY = ["--redact-pii", "--redact", "card", "--hash", "plan"]


def _commands(data: Path, out: Path, key: Path, policy: list[str]) -> list[list[str]]:
    """Every statistics command, each writing under `out`, with the `policy` flags."""
    hashing = [*policy, "--hash-key-file", str(key)] if "--hash" in policy else policy
    train, serving = str(data / "train.csv"), str(data / "serving.csv")
    s_train, s_serving = str(out / "train.pb"), str(out / "serving.pbtxt")
    return [
        ["stats", train, "--output", s_train, *hashing],
        ["stats", serving, "--output", s_serving, *hashing],
        ["merge", s_train, s_serving, "--output", str(out / "merged.pbtxt"), *hashing],
        ["infer-schema", s_train, "--output", str(out / "schema.pbtxt"), *hashing],
        [
            "validate",
            s_serving,
            "--schema",
            str(out / "schema.pbtxt"),
            "--previous",
            s_train,
            "--output",
            str(out / "anomalies.pbtxt"),
            *hashing,
        ],
        ["compare", s_train, s_serving, *hashing],
        [
            "report",
            s_train,
            s_serving,
            "--anomalies",
            str(out / "anomalies.pbtxt"),
            "--output",
            str(out / "report.html"),
            *hashing,
        ],
        ["run", "--train", train, "--serving", serving, "--out", str(out / "run"), *hashing],
    ]


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, list[str]]]:
    data = tmp_path_factory.mktemp("data")
    table, values = planted_table()
    half = table.num_rows // 2
    pacsv.write_csv(table.slice(0, half), data / "train.csv")
    pacsv.write_csv(table.slice(half), data / "serving.csv")
    key = data / "key"
    key.write_bytes(KEY + b"\n")
    return data, key, values


@pytest.mark.parametrize("policy", [POLICY, []], ids=["policy", "none"])
def test_no_planted_value_in_any_output(
    planted: tuple[Path, Path, dict[str, list[str]]],
    policy: list[str],
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    data, key, values = planted
    printed = []
    for command in _commands(data, tmp_path, key, policy):
        assert main(command) in (0, 1), command  # 1: anomalies found
        captured = capfd.readouterr()
        printed.append(captured.out + captured.err)
    found = leaks_in(tmp_path, values)
    shown = leaks("".join(printed).encode(), values)
    if policy:
        assert found == {} and shown == []
        for path in (p for p in tmp_path.rglob("*") if p.is_file()):
            content = path.read_bytes()
            assert KEY not in content and KEY.hex().encode() not in content, path
    else:  # the search finds what each kind of output shows
        expected = {"train.pb", "serving.pbtxt", "merged.pbtxt", "report.html"}
        assert expected <= set(found) and any(p.startswith("run") for p in found)
        assert shown  # compare prints the values where distributions differ most


def test_redact_rewrites_a_file_written_before(
    planted: tuple[Path, Path, dict[str, list[str]]], tmp_path: Path
) -> None:
    data, _, values = planted
    plain, redacted = tmp_path / "plain.pb", tmp_path / "redacted.pb"
    assert main(["stats", str(data / "train.csv"), "--output", str(plain)]) == 0
    assert leaks(plain.read_bytes(), values)
    arguments = ["--feature", "email", "--feature", "phone", "--feature", "card"]
    assert main(["redact", str(plain), "--output", str(redacted), *arguments]) == 0
    assert leaks(redacted.read_bytes(), values) == []
    before, after = load_statistics(str(plain)), load_statistics(str(redacted))
    for old, new in zip(before.datasets[0].features, after.datasets[0].features, strict=True):
        assert old.path == new.path
        if old.path.step[0] == "plan":  # untouched but for the policy its state records
            old_stats = [c for c in old.custom_stats if c.name != STATE_NAME]
            new_stats = [c for c in new.custom_stats if c.name != STATE_NAME]
            assert (old.string_stats, old_stats) == (new.string_stats, new_stats)
    # the output never replaces the input
    assert main(["redact", str(plain), "--output", str(plain), "--feature", "email"]) == 2


def test_hash_needs_its_key_and_a_short_key_is_refused(
    planted: tuple[Path, Path, dict[str, list[str]]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data, _, _ = planted
    out = str(tmp_path / "s.pb")
    assert main(["stats", str(data / "train.csv"), "--output", out, "--hash", "plan"]) == 2
    assert "needs a hash key (--hash-key-file)" in capsys.readouterr().err
    short = tmp_path / "short"
    short.write_text("tiny\n")
    arguments = ["--hash", "plan", "--hash-key-file", str(short)]
    assert main(["stats", str(data / "train.csv"), "--output", out, *arguments]) == 2
    assert "has 4 bytes; at least 16" in capsys.readouterr().err


def test_anomalies_and_schemas_made_without_the_policy_are_withheld(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    known = ["ana@example.com", "bo@example.org", "cy@example.net"]
    new = ["dee@example.com", "ed@example.org"]
    (tmp_path / "train.csv").write_text("email\n" + "\n".join(known * 30) + "\n")
    (tmp_path / "serving.csv").write_text("email\n" + "\n".join((known + new) * 20) + "\n")
    values = {"email": known + new}
    out = {name: str(tmp_path / name) for name in ("t.pb", "s.pb", "schema.pbtxt")}
    for data, stats in (("train.csv", "t.pb"), ("serving.csv", "s.pb")):
        assert main(["stats", str(tmp_path / data), "--output", out[stats]]) == 0
    assert main(["infer-schema", out["t.pb"], "--output", out["schema.pbtxt"]]) == 0
    validate = ["validate", out["s.pb"], "--schema", out["schema.pbtxt"], "--output"]
    assert main([*validate, str(tmp_path / "plain.pbtxt")]) == 1
    plain = (tmp_path / "plain.pbtxt").read_bytes()
    assert leaks(plain, {"email": new}) and leaks(plain, {"email": known})  # reason, baseline
    capfd.readouterr()
    private = tmp_path / "private" / "anomalies.pbtxt"
    private.parent.mkdir()
    assert main([*validate, str(private), "--redact-pii"]) == 1
    report = private.parent / "report.html"
    arguments = ["--anomalies", str(tmp_path / "plain.pbtxt"), "--output", str(report)]
    assert main(["report", out["t.pb"], out["s.pb"], *arguments, "--redact-pii"]) == 0
    captured = capfd.readouterr()
    assert leaks_in(private.parent, values) == {}
    assert leaks((captured.out + captured.err).encode(), values) == []
    assert "description withheld" in captured.out  # validate says why it shows no text


def test_run_with_a_schema_that_lists_the_values(tmp_path: Path) -> None:
    known = ["ana@example.com", "bo@example.org", "cy@example.net"]
    rows = "\n".join(f"{email},{i % 3}" for i, email in enumerate(known * 30))
    (tmp_path / "train.csv").write_text("email,n\n" + rows + "\n")
    (tmp_path / "serving.csv").write_text("email,n\n" + rows + "\n")
    stats, schema = str(tmp_path / "t.pb"), tmp_path / "schema.pbtxt"
    assert main(["stats", str(tmp_path / "train.csv"), "--output", stats]) == 0
    assert main(["infer-schema", stats, "--output", str(schema)]) == 0
    assert all(value in schema.read_text() for value in known)  # a string domain
    out = tmp_path / "run"
    train, serving = str(tmp_path / "train.csv"), str(tmp_path / "serving.csv")
    command = ["run", "--train", train, "--serving", serving, "--schema", str(schema)]
    assert main([*command, "--out", str(out), "--redact", "email"]) == 0  # no anomaly
    assert leaks_in(out, {"email": known}) == {}
