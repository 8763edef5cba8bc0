"""The label join under a privacy policy: the labeled rows keep only what the policy lets
through, every row is still written, and the join's own features cannot be hidden."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from privacy_reference import KEY, hashed, leaks_in

from beam_stats import PrivacySpec, label_join
from beam_stats.errors import InvalidInputError

EMAILS = [f"user{i}@example.com" for i in range(12)]


def _write(tmp_path: Path) -> tuple[str, str]:
    served = pa.table(
        {
            "rid": list(range(12)),
            "score": [i / 12 for i in range(12)],
            "email": EMAILS,
            "plan": ["basic", "pro"] * 6,
        }
    )
    feedback = pa.table({"rid": list(range(0, 12, 2)), "clicked": [1, 0] * 3})
    pq.write_table(served, tmp_path / "served.parquet")
    pq.write_table(feedback, tmp_path / "feedback.parquet")
    return str(tmp_path / "served.parquet"), str(tmp_path / "feedback.parquet")


@pytest.mark.parametrize(
    "policy", [None, PrivacySpec(redact_pii=True, hash=["plan"], hash_key=KEY)]
)
def test_labeled_rows_keep_what_the_policy_lets_through(
    tmp_path: Path, policy: PrivacySpec | None
) -> None:
    served, feedback = _write(tmp_path)
    out = tmp_path / "out"
    found = label_join(served, feedback, "rid", "score", "clicked", str(out), privacy=policy)
    rows = pa.concat_tables(pq.read_table(path) for path in found.rows)
    assert rows.num_rows == 6 and sorted(rows.column("rid").to_pylist()) == list(range(0, 12, 2))
    hits = leaks_in(out, {"email": EMAILS})
    if policy is None:
        assert hits  # the search finds the e-mails in the labeled rows
        return
    assert hits == {}
    assert rows.column("email").null_count == rows.num_rows
    plans = ["basic", "pro"] * 6  # as written; the labeled rows are the even ids
    expected = [hashed(plans[i]) for i in rows.column("rid").to_pylist()]
    assert rows.column("plan").to_pylist() == expected


def test_the_join_features_cannot_be_hidden(tmp_path: Path) -> None:
    served, feedback = _write(tmp_path)
    with pytest.raises(InvalidInputError, match="'rid' cannot be redacted or hashed"):
        label_join(
            served, feedback, "rid", "score", "clicked", str(tmp_path / "o"),
            privacy=PrivacySpec(redact=["rid"]),
        )  # fmt: skip
