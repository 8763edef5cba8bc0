"""Planted personal data and the search for it in output files (the privacy proof).

`planted_table` makes a dataset whose e-mail, phone and card columns hold known values;
`leaks` searches bytes (any output: binary protos, text, HTML, JSON lines, Parquet) for each
planted value in the encodings it could take there.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import random
import urllib.parse
from pathlib import Path

import pyarrow as pa
from pii_reference import MAKERS

#: The key of the tests that hash (never in any output).
KEY = b"0123456789abcdef-test-key"


def planted_table(rows: int = 400, seed: int = 7) -> tuple[pa.Table, dict[str, list[str]]]:
    """A table with e-mails, phones and card numbers (each value in several rows, so that
    ``--min-count`` keeps none of them folded only by chance), an id, a plain category and a
    number; and the planted values by column."""
    rng = random.Random(seed)
    planted = {
        kind: sorted({MAKERS[kind](rng) for _ in range(rows // 8)}) for kind in ("email", "phone")
    }
    planted["card"] = sorted({MAKERS["card"](rng) for _ in range(rows // 8)})
    columns: dict[str, list[object]] = {
        kind: [values[i % len(values)] for i in range(rows)] for kind, values in planted.items()
    }
    columns["plan"] = [rng.choice(["basic", "pro", "team"]) for _ in range(rows)]
    columns["amount"] = [round(rng.uniform(1, 500), 2) for _ in range(rows)]
    return pa.table(columns), planted


def encodings(value: str) -> set[bytes]:
    """`value` as it could appear in an output: UTF-8, UTF-16, JSON and HTML escaped, URL
    encoded, base64 (of the value and inside a protobuf string field's bytes) and hex."""
    raw = value.encode()
    forms = {
        raw,
        value.encode("utf-16-le"),
        json.dumps(value).encode()[1:-1],
        html.escape(value).encode(),
        urllib.parse.quote(value).encode(),
        base64.b64encode(raw),
        raw.hex().encode(),
    }
    return {f for f in forms if len(f) >= 6}


def leaks(data: bytes, planted: dict[str, list[str]]) -> list[str]:
    """The planted values found in `data`, with the form found."""
    found = []
    for values in planted.values():
        for value in values:
            for form in encodings(value):
                if form in data:
                    found.append(f"{value} as {form[:40]!r}")
                    break
    return found


def leaks_in(folder: Path, planted: dict[str, list[str]]) -> dict[str, list[str]]:
    """Every file under `folder` with the planted values found in it."""
    found = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        hits = leaks(path.read_bytes(), planted)
        if hits:
            found[str(path.relative_to(folder))] = hits
    return found


def hashed(value: str, key: bytes = KEY) -> str:
    """The keyed hash beam-stats should show for `value` (HMAC-SHA256, 32 hex digits),
    computed here independently."""
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:32]
