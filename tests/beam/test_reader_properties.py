"""Property test: random small CSV and JSON-lines files, invalid rows included, never crash
the readers, and every row written is either read or reported as malformed (issue 11)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from beam_stats.beam.csvfiles import read_csv
from beam_stats.beam.jsonlines import read_jsonl

_TOKENS = [
    "",
    "NA",
    "N/A",
    "null",
    "nan",
    "NaN",
    "1",
    "-2",
    "2.5",
    "1e400",
    "true",
    "x,y",
    'q"',
    "é",
    "99999999999999999999",
    " ",
    "0",
]
_JUNK = ["null", "[1]", "3", '"s"', "{", '{"a":', "true", "{} {}", '{"a": 1}}', "\x00"]
_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _count(items: list[Any]) -> tuple[int, int]:
    rows = sum(i.num_rows for i in items if not isinstance(i, dict))
    malformed = sum(1 for i in items if isinstance(i, dict) and i["kind"] == "malformed_row")
    return rows, malformed


@_SETTINGS
@given(
    names=st.lists(st.sampled_from(["a", "b", "c", "NA", "a b"]), min_size=1, max_size=4),
    rows=st.lists(
        st.tuples(st.integers(-1, 1), st.lists(st.sampled_from(_TOKENS), min_size=6, max_size=6)),
        min_size=1,
        max_size=30,
    ),
    block=st.sampled_from([1024, 1 << 20]),
)
def test_csv_rows_are_read_or_reported(
    tmp_path: Path, names: list[str], rows: list[tuple[int, list[str]]], block: int
) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    for extra, values in rows:  # extra: -1 one field short, 1 one too many
        width = len(names) + extra
        fields = values[:width]
        if width <= 0 or (len(names) == 1 and fields in ([], [""])):
            fields = ["1"]  # a blank line: a row of nulls for one column, malformed otherwise
            extra = 0
        writer.writerow(fields)
    path = tmp_path / f"p{abs(hash(out.getvalue()))}.csv"
    path.write_text(out.getvalue())
    items = list(read_csv(str(path), block))
    read, malformed = _count(items)
    assert read + malformed == len(rows), items
    assert malformed == sum(1 for extra, values in rows if extra and len(names) + extra > 0)


_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("xyz"), inner),
    max_leaves=6,
)


@_SETTINGS
@given(
    lines=st.lists(
        st.one_of(
            st.dictionaries(st.sampled_from(["a", "b", "c"]), _VALUES, min_size=1).map(json.dumps),
            st.sampled_from(_JUNK),
            st.just("{}"),  # a row without features: read, and said
        ),
        min_size=1,
        max_size=30,
    ),
)
@example(lines=['{"a": null}', "{} {}"])  # Arrow read the second line as two rows
def test_json_lines_are_read_or_reported(tmp_path: Path, lines: list[str]) -> None:
    path = tmp_path / f"p{abs(hash(tuple(lines)))}.jsonl"
    path.write_text("\n".join(lines) + "\n")
    items = list(read_jsonl(str(path), 1024))
    read, malformed = _count(items)
    assert read + malformed == len(lines), items
    assert malformed == sum(1 for line in lines if line in _JUNK)
