"""Error records under a privacy policy: a message that would quote the input (a malformed
CSV row or JSON line, a value of the wrong type, an exception's text) shows ``<redacted>``
instead; file, line, kind and the column's name stay, and no record is lost."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from privacy_reference import leaks, leaks_in, planted_table

from beam_stats.beam.problems import error_record, published
from beam_stats.beam.sources import _ReadUnit
from beam_stats.cli._common import report_input_problems
from beam_stats.jobs.statistics import compute_statistics
from beam_stats.stats.privacy import PrivacySpec
from beam_stats.stats.row_privacy import REDACTED
from beam_stats.stats.spec import StatisticsSpec


def bad_inputs(folder: Path) -> dict[str, list[str]]:
    """A CSV file of the planted table with a malformed row and a column whose one value
    is of the wrong type (both quoting planted values), and a JSON-lines file with a line
    that does not parse (quoting a planted phone). Returns the planted values."""
    table, planted = planted_table()
    rows = table.to_pylist()
    names = table.schema.names
    lines = [",".join(names)] + [",".join(str(r[n]) for n in names) for r in rows]
    lines[10] = lines[10].rsplit(",", 1)[0] + f",{planted['email'][3]}"  # amount: an e-mail
    lines.insert(20, f"{planted['email'][1]},{planted['card'][2]},pro")  # 3 fields, not 5
    folder.mkdir()
    (folder / "data.csv").write_text("\n".join(lines) + "\n")
    good = json.dumps({"email": "a@b.example", "plan": "pro"})
    bad_line = '{"phone": "' + planted["phone"][4] + '", "plan": '  # cut short
    (folder / "more.jsonl").write_text("\n".join([good, bad_line, good]) + "\n")
    return planted


def records(path: Path) -> list[dict[str, Any]]:
    return sorted(
        (json.loads(line) for line in path.read_text().splitlines()),
        key=lambda r: (r["file"], r["line"] or 0, r["kind"]),
    )


def statistics(folder: Path, privacy: PrivacySpec) -> list[dict[str, Any]]:
    out = folder / "out"
    result = compute_statistics(
        [str(folder / "in" / "*.csv"), str(folder / "in" / "*.jsonl")],
        str(out / "stats.pb"),
        spec=StatisticsSpec(privacy=privacy),
    )
    assert result.errors == str(out / "stats.pb.errors.jsonl")
    return records(Path(result.errors))


@pytest.fixture(scope="module")
def unprotected(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("errors-plain")
    planted = bad_inputs(folder / "in")
    found = statistics(folder, PrivacySpec())
    errors = (folder / "out" / "stats.pb.errors.jsonl").read_bytes()
    # The malformed row's e-mail and card, the e-mail of the wrong type, the JSON phone.
    assert len(leaks(errors, planted)) == 4
    return found


@pytest.mark.parametrize(
    "privacy",
    [
        PrivacySpec(redact_pii=True),
        PrivacySpec(redact=frozenset({"plan"})),  # any active policy: no values in messages
        PrivacySpec(min_count=3),
    ],
)
def test_error_messages_quote_no_value_under_a_policy(
    tmp_path: Path,
    privacy: PrivacySpec,
    unprotected: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    planted = bad_inputs(tmp_path / "in")
    found = statistics(tmp_path, privacy)
    errors = tmp_path / "out" / "stats.pb.errors.jsonl"
    assert leaks(errors.read_bytes(), planted) == []
    where = [(Path(r["file"]).name, r["line"], r["kind"]) for r in found]
    assert where == [(Path(r["file"]).name, r["line"], r["kind"]) for r in unprotected]
    assert {w[2] for w in where} == {"malformed_row", "wrong_type"}
    assert len(where) == 3
    changed = [r["message"] for r in found if r not in unprotected]
    assert len(changed) == 3 and all(REDACTED in m for m in changed)
    wrong_type = next(r["message"] for r in found if r["kind"] == "wrong_type")
    assert wrong_type.startswith("column 'amount': 1 values in data rows")
    assert report_input_problems(str(errors)) == 3
    printed = capsys.readouterr()
    assert leaks((printed.out + printed.err).encode(), planted) == []
    if privacy.redact_pii:  # and the statistics hold none either: the whole output is clean
        assert leaks_in(tmp_path / "out", planted) == {}


def test_an_exception_text_is_left_out_under_a_policy(tmp_path: Path) -> None:
    gone = str(tmp_path / "gone.jsonl")
    (plain,) = (o.value for o in _ReadUnit(100, 1 << 20).process((gone, "jsonl", 0, 0)))
    (hidden,) = (o.value for o in _ReadUnit(100, 1 << 20, True).process((gone, "jsonl", 0, 0)))
    assert "gone.jsonl" in plain["message"].split(": ", 1)[1]  # the exception's own text
    assert hidden == {**plain, "message": f"FileNotFoundError: {REDACTED}"}


def test_the_form_without_values_never_leaves_the_reader() -> None:
    record = error_record("f.csv", "malformed_row", "got 3: 'x'", 2, without_values="got 3: -")
    assert published(record, False) == {
        "file": "f.csv",
        "line": 2,
        "kind": "malformed_row",
        "message": "got 3: 'x'",
    }
    assert published(record, True) == {**published(record, False), "message": "got 3: -"}
    plain = error_record("f.csv", "empty_file", "the file has no data rows")
    assert published(plain, True) == plain
