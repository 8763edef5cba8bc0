"""Flags given to a pipeline (beam/running.py check_flags): Beam drops a flag it does not
know with a warning and runs without it, so beam-stats refuses such a flag instead, naming
it; every flag an option of Beam's takes passes, the options of the runner named included
(the DaskRunner's, defined in its own module), and a bad value is one line, not a usage page."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from beam_stats.beam import load_statistics
from beam_stats.beam.running import check_flags, make_pipeline
from beam_stats.cli import main
from beam_stats.errors import InvalidInputError

DASK_RUNNER = "apache_beam.runners.dask.dask_runner.DaskRunner"


@pytest.mark.parametrize(
    "flags",
    [
        [],
        ["--runner=DirectRunner", "--direct_num_workers=2", "--direct_running_mode=in_memory"],
        ["--runner", "DirectRunner"],  # a value as the next argument
        ["--runner=FlinkRunner", "--flink_master=[local]", "--environment_type=LOOPBACK"],
        ["--runner=SparkRunner", "--spark_master_url=local[2]"],
        ["--runner=PrismRunner", "--prism_location=/nowhere"],
        ["--runner=PortableRunner", "--job_endpoint=localhost:1"],
        [f"--runner={DASK_RUNNER}", "--dask_client_address=localhost:1", "--dask_npartitions=4"],
        ["--project", "p", "--region=r", "--temp_location=gs://b/t", "--save_main_session"],
        ["--experiments=a,b", "--experiment", "c", "--labels", "k=v"],
    ],
)
def test_pipeline_options_pass(flags: list[str]) -> None:
    check_flags(flags)


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--slices", "s_low"], "option --slices:"),  # beam-stats' --slice, misspelled
        (["--runer=FlinkRunner"], "option --runer:"),
        (["--runner=DirectRunner", "-x", "--outptu=o.pb"], "options -x, --outptu:"),
    ],
)
def test_flags_no_option_takes_are_refused_by_name(flags: list[str], named: str) -> None:
    with pytest.raises(InvalidInputError, match=f"unknown {named}"):
        check_flags(flags)
    with pytest.raises(InvalidInputError, match=f"unknown {named}"):
        make_pipeline(flags)


def test_a_bad_value_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(InvalidInputError, match="--direct_num_workers: invalid int value: 'x'"):
        check_flags(["--direct_num_workers=x"])
    with pytest.raises(InvalidInputError, match="invalid choice: 'fast'"):
        check_flags(["--direct_running_mode=fast"])
    assert "usage:" not in capsys.readouterr().err


def test_the_command_line_refuses_a_misspelled_flag_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--slices`` for ``--slice``: before, Beam dropped it with a warning and the command
    wrote unsliced statistics with exit status 0."""
    data = tmp_path / "d.parquet"
    pq.write_table(pa.table({"a": [1, 2, 3], "s": ["x", "y", "x"]}), data)
    out = tmp_path / "s.pb"
    assert main(["stats", str(data), "--slices", "s", "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("beam-stats: error: unknown option --slices") and err.count("\n") == 1
    assert not out.exists()
    # The same command spelled right runs on Beam with a pipeline option.
    assert (
        main(["stats", str(data), "--slice", "s", "--output", str(out), "--runner", "DirectRunner"])
        == 0
    )
    names = [d.name for d in load_statistics(str(out)).datasets]
    assert names[1:] == ["s=x", "s=y"]  # the slices asked for, this time
