"""The main job with a label (issue 13's proof): concept shift between training and a
labeled serving set, and nothing else, checked against pandas on the raw data."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from concept_reference import concept_data, shift_by_hand

from beam_stats.jobs import CheckSpec, check

SHIFT = "COMPARATOR_CONCEPT_SHIFT_HIGH"


def _run(tmp_path: Path, train: pd.DataFrame, serving: pd.DataFrame, name: str) -> object:
    for role, frame in (("train", train), ("serving", serving)):
        pq.write_table(
            pa.Table.from_pandas(frame, preserve_index=False), tmp_path / f"{role}.parquet"
        )
    return check(
        str(tmp_path / "train.parquet"),
        str(tmp_path / "serving.parquet"),
        str(tmp_path / name),
        spec=CheckSpec(labels=("y",)),
    )


def test_a_reversed_effect_is_one_concept_shift_and_nothing_else(tmp_path: Path) -> None:
    train, serving = concept_data(0, False), concept_data(1, True)
    result = _run(tmp_path, train, serving, "shifted")
    rows = list(result.rows)
    shifted = [r for r in rows if r.short_description == SHIFT]
    assert [r.feature for r in shifted] == ["x1"]
    found = re.search(r" is ([0-9.e-]+), above the threshold", shifted[0].description)
    assert found is not None, shifted[0].description
    shown = float(found.group(1))
    assert shown == pytest.approx(shift_by_hand(train, serving, "x1"), abs=1e-3)
    assert shift_by_hand(train, serving, "x3") == 0.0  # pandas agrees x3 did not move
    # P(x) and the label rate are the same: no drift or skew measure breaches; the only
    # other reason is the labeled serving set's label, which SERVING does not expect.
    others = [(r.feature, r.type) for r in rows if r.short_description != SHIFT]
    assert others == [("y", "SCHEMA_NEW_COLUMN")]


def test_an_unshifted_pair_raises_nothing(tmp_path: Path) -> None:
    result = _run(tmp_path, concept_data(0, False), concept_data(2, False), "same")
    # Only the label, which a labeled serving set has and SERVING does not expect.
    assert [(r.feature, r.type) for r in result.rows] == [("y", "SCHEMA_NEW_COLUMN")]


def test_without_labels_in_serving_it_is_not_measured(tmp_path: Path) -> None:
    serving = concept_data(1, True).drop(columns="y")
    result = _run(tmp_path, concept_data(0, False), serving, "unlabeled")
    assert [r for r in result.rows if r.short_description == SHIFT] == []
