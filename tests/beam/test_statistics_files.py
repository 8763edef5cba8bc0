"""Statistics files written by TFDV and TFX load with load_statistics.

The files are made here the way TFDV makes them, with plain tensorflow-metadata messages and
no beam-stats code: ``tfdv.write_stats_text`` / ``load_stats_binary`` use one text or binary
``DatasetFeatureStatisticsList``; ``generate_statistics_from_tfrecord(output_path=...)`` and
TFX's StatisticsGen (``stats_tfrecord``, sharded statistics) write a TFRecord file of
serialized lists. The TFRecord framing is Beam's writer's, not ours.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from apache_beam.io.tfrecordio import _TFRecordUtil
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.beam import load_statistics
from beam_stats.errors import DeserializationError

Stats = statistics_pb2.DatasetFeatureStatisticsList


@pytest.fixture
def tfdv_statistics() -> Stats:
    """Statistics shaped like TFDV's output: two slices, numeric and string features."""
    stats = Stats()
    for name, n in (("All Examples", 1000), ("country_FR", 250)):
        dataset = stats.datasets.add(name=name, num_examples=n)
        age = dataset.features.add(type=statistics_pb2.FeatureNameStatistics.INT)
        age.path.step.append("age")
        age.num_stats.mean, age.num_stats.std_dev, age.num_stats.max = 41.5, 12.25, 90
        common = age.num_stats.common_stats
        common.num_non_missing, common.num_missing = n - 10, 10
        common.min_num_values = common.max_num_values = 1
        histogram = age.num_stats.histograms.add(type=statistics_pb2.Histogram.QUANTILES)
        histogram.buckets.add(low_value=18, high_value=41, sample_count=(n - 10) / 2)
        histogram.buckets.add(low_value=41, high_value=90, sample_count=(n - 10) / 2)
        country = dataset.features.add(type=statistics_pb2.FeatureNameStatistics.STRING)
        country.path.step.append("country")
        country.string_stats.common_stats.num_non_missing = n
        country.string_stats.unique = 4
        country.string_stats.top_values.add(value="FR", frequency=250)
        country.string_stats.rank_histogram.buckets.add(label="FR", sample_count=250)
        country.custom_stats.add(name="my_stat", num=0.5)
    return stats


def _tfrecord(path: Path, records: list[bytes]) -> Path:
    buffer = io.BytesIO()
    for record in records:
        _TFRecordUtil.write_record(buffer, record)
    path.write_bytes(buffer.getvalue())
    return path


def _shards(stats: Stats) -> list[bytes]:
    """Each feature of each slice in a record of its own, as a sharded writer may."""
    records = []
    for dataset in stats.datasets:
        for feature in dataset.features:
            shard = Stats()
            part = shard.datasets.add(name=dataset.name, num_examples=dataset.num_examples)
            part.features.add().CopyFrom(feature)
            records.append(shard.SerializeToString())
    return records


def test_binary_and_text_as_tfdv_writes_them(tmp_path: Path, tfdv_statistics: Stats) -> None:
    (tmp_path / "FeatureStats.pb").write_bytes(tfdv_statistics.SerializeToString())
    (tmp_path / "stats.pbtxt").write_text(text_format.MessageToString(tfdv_statistics))
    assert load_statistics(str(tmp_path / "FeatureStats.pb")) == tfdv_statistics
    assert load_statistics(str(tmp_path / "stats.pbtxt")) == tfdv_statistics


def test_a_one_record_tfrecord_file_whatever_its_name(
    tmp_path: Path, tfdv_statistics: Stats
) -> None:
    for name in ("stats_tfrecord", "FeatureStats.pb", "stats.tfrecord"):
        path = _tfrecord(tmp_path / name, [tfdv_statistics.SerializeToString()])
        assert load_statistics(str(path)) == tfdv_statistics


def test_records_of_a_sharded_file_are_joined(tmp_path: Path, tfdv_statistics: Stats) -> None:
    path = _tfrecord(tmp_path / "FeatureStats-00000-of-00001", _shards(tfdv_statistics))
    assert load_statistics(str(path)) == tfdv_statistics


def test_shards_that_do_not_fit_together_are_rejected(
    tmp_path: Path, tfdv_statistics: Stats
) -> None:
    records = _shards(tfdv_statistics)
    path = _tfrecord(tmp_path / "twice", [records[0], records[1], records[0]])
    with pytest.raises(DeserializationError, match=r"record 2 of .*twice.*'age'.*earlier"):
        load_statistics(str(path))
    other = Stats()
    other.datasets.add(name="All Examples", num_examples=7)
    path = _tfrecord(tmp_path / "counts", [records[0], other.SerializeToString()])
    with pytest.raises(DeserializationError, match=r"counts.*num_examples 7"):
        load_statistics(str(path))


def test_corrupt_tfrecord_files_name_the_file(tmp_path: Path, tfdv_statistics: Stats) -> None:
    data = _tfrecord(tmp_path / "good", _shards(tfdv_statistics)).read_bytes()
    corrupt = bytearray(data)
    corrupt[40] ^= 0x01  # inside the first record's data
    (tmp_path / "corrupt").write_bytes(bytes(corrupt))
    with pytest.raises(DeserializationError, match=r"corrupt is a corrupt TFRecord.*record 0"):
        load_statistics(str(tmp_path / "corrupt"))
    (tmp_path / "short").write_bytes(data[:-1])
    with pytest.raises(DeserializationError, match=r"short is a corrupt TFRecord.*ends inside"):
        load_statistics(str(tmp_path / "short"))


def test_a_tfrecord_file_of_something_else_is_rejected(tmp_path: Path) -> None:
    path = _tfrecord(tmp_path / "examples.tfrecord", [b"\x0a\x03abc", b"\xff\xff\xff"])
    with pytest.raises(DeserializationError, match=r"record \d of .*examples.tfrecord"):
        load_statistics(str(path))
