"""Speed of reading TFRecord files of tf.Example into Arrow record batches.

Standalone: ``.venv/bin/python benchmarks/tfrecord_speed.py [--records 200000]``. Writes a
TFRecord file (and a gzipped copy) of random examples with 10 features (int, float and bytes;
scalars and lists of 0 to 16 values; one feature missing from 10% of the records; about 300
bytes a record) and prints records per second for:

* ``framing``: :func:`beam_stats.beam.tfrecord.read_records` alone (checksums checked);
* ``per-record decode``: the plain way, each record parsed as an ``Example`` and its values
  appended to Python lists per feature, then ``pa.array`` per column (the baseline);
* ``read_examples``: ours, framing and decoding, plain and gzipped;
* ``pipeline``: ``ReadRecordBatches`` + ``GenerateStatistics`` on the FnApiRunner, end to end
  (Beam start-up included).
"""

from __future__ import annotations

import argparse
import gzip
import io
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import apache_beam as beam
import numpy as np
import pyarrow as pa
from apache_beam.io.tfrecordio import _TFRecordUtil
from apache_beam.runners.portability.fn_api_runner import FnApiRunner

from beam_stats.beam import GenerateStatistics, ReadRecordBatches, WriteStatistics, tfrecord
from beam_stats.proto import example_pb2

_TYPES = {"int64_list": pa.int64(), "float_list": pa.float32(), "bytes_list": pa.large_binary()}


def make_file(path: Path, n: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    words = [b"a", b"bb", b"ccc", b"dddd"]
    for i in range(n):
        msg = example_pb2.Example()
        f = msg.features.feature
        f["id"].int64_list.value.append(i)
        if rng.random() > 0.1:
            f["age"].int64_list.value.append(int(rng.integers(18, 90)))
        f["score"].float_list.value.append(float(rng.random()))
        f["weights"].float_list.value.extend(rng.random(int(rng.integers(0, 6))).tolist())
        f["tags"].bytes_list.value.extend(words[j] for j in rng.integers(0, 4, rng.integers(0, 4)))
        f["country"].bytes_list.value.append(words[int(rng.integers(0, 4))])
        f["label"].int64_list.value.append(int(rng.integers(0, 2)))
        f["emb"].float_list.value.extend(rng.random(16).tolist())
        f["text"].bytes_list.value.append(f"text {i} ".encode() * 3)
        f["clicks"].int64_list.value.extend(rng.integers(0, 1000, rng.integers(0, 11)).tolist())
        _TFRecordUtil.write_record(buffer, msg.SerializeToString())
    path.write_bytes(buffer.getvalue())
    path.with_suffix(".tfrecord.gz").write_bytes(gzip.compress(buffer.getvalue()))


def per_record_decode(records: list[bytes], batch_size: int) -> int:
    """The baseline: protobuf objects per record and feature, Python lists of values."""
    rows = 0
    for start in range(0, len(records), batch_size):
        batch = records[start : start + batch_size]
        columns: dict[str, tuple[str, list[int], list[int], list[object]]] = {}
        for row, data in enumerate(batch):
            for name, feature in example_pb2.Example.FromString(data).features.feature.items():
                kind = feature.WhichOneof("kind")
                if kind is None:
                    continue
                column = columns.setdefault(name, (kind, [], [], []))
                values = getattr(feature, kind).value
                column[1].append(row)
                column[2].append(len(values))
                column[3].extend(values)
        arrays = {}
        for name, (kind, present, counts, values) in columns.items():
            lengths = np.zeros(len(batch), np.int64)
            lengths[present] = counts
            offsets = pa.array(np.concatenate(([0], np.cumsum(lengths))))
            null = np.ones(len(batch), bool)
            null[present] = False
            arrays[name] = pa.LargeListArray.from_arrays(
                offsets, pa.array(values, _TYPES[kind]), mask=pa.array(null)
            )
        rows += pa.RecordBatch.from_pydict(arrays).num_rows
    return rows


def rate(label: str, n: int, fn: Callable[[], object], repeat: int = 3) -> None:
    best = min(_time(fn) for _ in range(repeat))
    print(f"{label:34s} {n / best:>12,.0f} records/s  ({best:.2f} s)")


def _time(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--batch-size", type=int, default=131_072)  # ReadRecordBatches default
    args = parser.parse_args()
    n, batch_size = args.records, args.batch_size
    folder = Path(tempfile.mkdtemp())
    path = folder / "data.tfrecord"
    make_file(path, n)
    with open(path, "rb") as f:
        records = [r for r in tfrecord.read_records(f) if isinstance(r, bytes)]
    # read_examples also ends a batch at 4 MiB of records; the baseline gets the same batches.
    per_batch = min(batch_size, -(-(4 << 20) // (sum(map(len, records)) // n)))
    print(f"{n} records, {path.stat().st_size / n:.0f} bytes each, {per_batch} per batch")

    def framing() -> None:
        with open(path, "rb") as f:
            for _ in tfrecord.read_records(f):
                pass

    def ours(name: str) -> Callable[[], int]:
        def run() -> int:
            items = tfrecord.read_examples(str(folder / name), batch_size)
            return sum(i.num_rows for i in items if isinstance(i, pa.RecordBatch))

        return run

    rate("framing", n, framing)
    rate("per-record decode (baseline)", n, lambda: per_record_decode(records, per_batch))
    rate("read_examples", n, ours("data.tfrecord"))
    rate("read_examples, gzip", n, ours("data.tfrecord.gz"))

    def pipeline() -> None:
        with beam.Pipeline(runner=FnApiRunner()) as p:
            read = p | ReadRecordBatches(str(path), batch_size=batch_size)
            _ = read.batches | GenerateStatistics() | WriteStatistics(str(folder / "s.pb"))

    rate("pipeline (read + statistics)", n, pipeline, repeat=1)


if __name__ == "__main__":
    main()
