"""`beam-stats run` (and `demo`): the main job end to end on the bundled sample pair."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import anomalies_pb2

from beam_stats import load_schema, load_statistics
from beam_stats.cli import main

ROOT = Path(__file__).resolve().parent.parent.parent
TRAIN = str(ROOT / "data/sample/train.parquet")
SERVING = str(ROOT / "data/sample/serving.parquet")


def test_run_on_the_sample_pair(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    args = ["run", "--train", TRAIN, "--serving", SERVING, "--out", str(out), "--label", "churned"]
    assert main([*args, "--infer-ranges", "--disallow-nan"]) == 1  # anomalies found
    assert load_statistics(str(out / "train_stats.pb")).datasets[0].num_examples == 5000
    assert load_statistics(str(out / "serving_stats.pb")).datasets[0].num_examples == 2000
    schema = load_schema(str(out / "schema.pbtxt"))
    churned = next(f for f in schema.feature if f.name == "churned")
    assert list(churned.not_in_environment) == ["SERVING"]
    anomalies = text_format.Parse((out / "anomalies.pbtxt").read_text(), anomalies_pb2.Anomalies())
    # Every planted change of data/sample/README.md, schema-level and drift; nothing about
    # the label (absent from serving by design) or the unchanged features.
    assert set(anomalies.anomaly_info) == {
        "country", "device", "income", "num_purchases", "promo_code", "referrer",
        "session_minutes", "tenure_days", "zip_code",
    }  # fmt: skip
    assert {m.path.step[0] for m in anomalies.drift_skew_info} >= {"device", "session_minutes"}
    report = (out / "report.html").read_text()
    # The planted drift is highlighted on its feature's row; an unchanged feature is not.
    assert re.search(r'class="feature flag-breach[^"]*"[^>]*data-name="device"', report)
    assert not re.search(r'class="feature flag-breach[^"]*"[^>]*data-name="age"', report)
    printed = capsys.readouterr()
    assert "report: " in printed.out and "[4/4] report" in printed.err
    # The progress lines went to this call's standard error, and nothing stays behind that
    # a later call (or another command in this process) would write through.
    progress = logging.getLogger("beam_stats.progress")
    assert progress.handlers == [] and progress.propagate


def test_run_with_a_missing_input_exits_2(tmp_path: Path) -> None:
    args = ["run", "--train", str(tmp_path / "none*.parquet"), "--serving", SERVING]
    assert main([*args, "--out", str(tmp_path / "out")]) == 2
    progress = logging.getLogger("beam_stats.progress")
    assert progress.handlers == [] and progress.level == logging.NOTSET


def test_demo_runs_the_main_job_on_the_sample_pair(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)  # `make demo` runs from the repository
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0  # the planted anomalies are its point
    anomalies = text_format.Parse((out / "anomalies.pbtxt").read_text(), anomalies_pb2.Anomalies())
    assert {"device", "session_minutes", "promo_code"} <= set(anomalies.anomaly_info)
    assert (out / "report.html").stat().st_size > 0
    assert f"open {out}/report.html" in capsys.readouterr().out
