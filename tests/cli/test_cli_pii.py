"""Personal data on the command line: `stats` writes the library's pii_<kind> statistics (or
none with --no-pii-detection), `validate` warns PII_SUSPECTED without showing a value."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from beam_stats import generate_statistics_from_table, load_statistics
from beam_stats.cli import main

ROWS = ["ana@example.com", "bo@example.org", "n/a", "+1 415 555 0132"]


def _pii(statistics: object) -> dict[str, float]:
    features = statistics.datasets[0].features  # type: ignore[attr-defined]
    return {c.name: c.num for f in features for c in f.custom_stats if c.name.startswith("pii_")}


def test_stats_and_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "c.csv"
    data.write_text("contact\n" + "\n".join(ROWS) + "\n")
    out = tmp_path / "s.pb"
    assert main(["stats", str(data), "--output", str(out)]) == 0
    library = generate_statistics_from_table(pa.table({"contact": ROWS}))
    assert _pii(load_statistics(str(out))) == _pii(library) == {"pii_email": 0.5, "pii_phone": 0.25}
    schema = tmp_path / "schema.pbtxt"
    assert main(["infer-schema", str(out), "--output", str(schema)]) == 0
    capsys.readouterr()
    assert main(["validate", str(out), "--schema", str(schema)]) == 1
    printed = capsys.readouterr().out
    assert (
        "PII_SUSPECTED" in printed and "WARNING" in printed and "email (50% of values)" in printed
    )
    assert not any(value in printed for value in ROWS)  # kinds and fractions, never a value
    off = tmp_path / "off.pb"
    assert main(["stats", str(data), "--output", str(off), "--no-pii-detection"]) == 0
    assert _pii(load_statistics(str(off))) == {}
