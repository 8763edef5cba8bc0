"""The record batch coders (issue 16): every kind of batch we read survives a round trip,
size estimates follow the batch's bytes, and batches typed by the readers use them,
across stages and worker processes too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.util import assert_that, equal_to
from hypothesis import given, settings
from hypothesis import strategies as st

from beam_stats.beam import ReadRecordBatches
from beam_stats.beam.batch_coder import (
    BatchesOrAny,
    BatchesOrAnyCoder,
    RecordBatchCoder,
    register_coders,
)


def _batches() -> dict[str, pa.RecordBatch]:
    strings = pa.array(["a", None, "ccc", ""])
    nested = pa.array([[[1, 2], []], None, [[3]], [[None]]], pa.list_(pa.list_(pa.int64())))
    struct = pa.array(
        [{"x": 1.5, "tag": "p"}, None, {"x": None, "tag": "q"}, {"x": 2.0, "tag": None}]
    )
    dictionary = pa.array(["u", "v", "u", None]).dictionary_encode()
    large = pa.array(["é" * 3, "b", None, "d"], pa.large_string())
    binary = pa.array([b"\x00\xff", None, b"", b"z"], pa.large_binary())
    table = pa.table(
        {"s": strings, "n": nested, "t": struct, "d": dictionary, "l": large, "b": binary}
    )
    (batch,) = table.to_batches()
    with_metadata = batch.replace_schema_metadata({b"k": b"v"})
    return {
        "mixed": batch,
        "sliced": batch.slice(1, 2),
        "metadata": with_metadata,
        "empty": batch.slice(0, 0),
        "no_columns": pa.RecordBatch.from_pydict({}),
        "no_columns_rows": pa.RecordBatch.from_struct_array(pa.array([{}] * 3, pa.struct([]))),
        "list_of_struct": pa.record_batch(
            {"ls": pa.array([[{"a": 1}], [], None, [{"a": None}, {"a": 3}]])}
        ),
        "timestamps": pa.record_batch(
            {"ts": pa.array(np.arange(4).astype("datetime64[ms]")), "f": [0.5, np.nan, None, 1]}
        ),
    }


BATCHES = _batches()


def _same(a: pa.RecordBatch, b: pa.RecordBatch) -> None:
    assert b.schema.equals(a.schema, check_metadata=True)
    assert b.num_rows == a.num_rows
    # Not ``equals``, which holds NaN unequal to itself; repr shows nan, None and types.
    assert repr(b.to_pylist()) == repr(a.to_pylist())
    assert [c.null_count for c in b.columns] == [c.null_count for c in a.columns]


@pytest.mark.parametrize("name", sorted(BATCHES))
def test_record_batch_coder_round_trips(name: str) -> None:
    batch = BATCHES[name]
    coder = RecordBatchCoder()
    _same(batch, coder.decode(coder.encode(batch)))


@pytest.mark.parametrize("name", sorted(BATCHES))
def test_mixed_coder_round_trips_batches_in_tuples(name: str) -> None:
    batch = BATCHES[name]
    coder = BatchesOrAnyCoder()
    value = (None, ("path/to/file.parquet", batch))
    tag, (path, decoded) = coder.decode(coder.encode(value))
    assert (tag, path) == (None, "path/to/file.parquet")
    _same(batch, decoded)


def test_dictionary_batches_keep_their_dictionary() -> None:
    batch = BATCHES["mixed"]
    decoded = RecordBatchCoder().decode(RecordBatchCoder().encode(batch))
    column = decoded.column(batch.schema.get_field_index("d"))
    assert pa.types.is_dictionary(column.type)
    assert column.dictionary.to_pylist() == ["u", "v"]
    assert column.indices.to_pylist() == [0, 1, 0, None]


_plain = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text()
    | st.binary(),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(_plain, st.sampled_from(sorted(BATCHES)))
def test_mixed_coder_round_trips_other_values(value: Any, name: str) -> None:
    coder = BatchesOrAnyCoder()
    assert coder.decode(coder.encode(value)) == value
    tag, decoded, again = coder.decode(coder.encode(("errors", BATCHES[name], value)))
    assert tag == "errors" and again == value
    _same(BATCHES[name], decoded)


def test_estimates_follow_the_batch_bytes_without_encoding() -> None:
    rows = 200_000
    wide = pa.record_batch({f"c{i}": np.arange(rows, dtype=np.int64) for i in range(20)})
    encoded = len(RecordBatchCoder().encode(wide))
    for coder, value in (
        (RecordBatchCoder(), wide),
        (BatchesOrAnyCoder(), (None, wide)),
        (BatchesOrAnyCoder(), (None, ("file.parquet", wide))),
    ):
        estimate = coder.estimate_size(value)
        assert wide.nbytes <= estimate <= 1.01 * encoded, (coder, estimate, encoded)
    small = {"file": "f.csv", "kind": "bad_row", "message": "x", "line": 3}
    assert BatchesOrAnyCoder().estimate_size(small) == len(BatchesOrAnyCoder().encode(small))


def test_importing_beam_stats_leaves_beams_registry_alone() -> None:
    code = (
        "import pyarrow as pa, beam_stats\n"
        "from apache_beam.coders.typecoders import registry\n"
        "print(type(registry.get_coder(pa.RecordBatch)).__name__)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() != "RecordBatchCoder"


def test_the_registry_gives_batch_types_these_coders() -> None:
    register_coders()
    registry = beam.coders.registry
    assert isinstance(registry.get_coder(pa.RecordBatch), RecordBatchCoder)
    assert isinstance(registry.get_coder(BatchesOrAny), BatchesOrAnyCoder)
    pair = registry.get_coder(beam.typehints.Tuple[str, pa.RecordBatch])
    assert isinstance(pair.value_coder(), RecordBatchCoder)


def _parquet(tmp_path: Path) -> tuple[str, pa.Table]:
    table = pa.table(
        {
            "x": np.arange(300, dtype=np.int64),
            "tags": [[f"t{i % 7}"] * (i % 3) for i in range(300)],
            "s": pa.array([f"v{i % 5}" for i in range(300)]).dictionary_encode(),
        }
    )
    for part in range(3):
        pq.write_table(
            table.slice(part * 100, 100), tmp_path / f"p{part}.parquet", row_group_size=40
        )
    return str(tmp_path / "*.parquet"), table


@pytest.mark.parametrize("with_paths", [False, True])
def test_batches_cross_stages_in_worker_processes(tmp_path: Path, with_paths: bool) -> None:
    pattern, table = _parquet(tmp_path)
    options = PipelineOptions(["--direct_num_workers=2", "--direct_running_mode=multi_processing"])
    expected = [tuple(row.values()) for row in table.to_pylist()]

    def rows_of(item: Any) -> list[tuple[Any, ...]]:  # local: pickled by value for the workers
        batch = item[1] if isinstance(item, tuple) else item
        return [tuple(row.values()) for row in batch.to_pylist()]

    with beam.Pipeline(options=options) as p:
        read = p | ReadRecordBatches(pattern, batch_size=50, with_paths=with_paths)
        coder = beam.coders.registry.get_coder(read.batches.element_type)
        if with_paths:
            assert isinstance(coder.value_coder(), RecordBatchCoder), coder
        else:
            assert isinstance(coder, RecordBatchCoder), coder
        # Between two stages: every batch is encoded by that coder and decoded.
        rows = read.batches | beam.Reshuffle() | beam.FlatMap(rows_of)
        assert_that(rows, equal_to(expected))
