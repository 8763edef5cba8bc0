"""Small batches joined before the accumulators (issue 16, beam_stats.stats.coalesce).

The coalescer itself (rows and bytes caps, schema drift, order), the CombineFn that holds
pending batches in its accumulators (flushed before compact, merge, encode and output, and
bounded over all its accumulators), and real pipelines over many small Parquet files whose
statistics must equal those of the same rows read as one file: exactly (up to float
rounding) where the sketches are exact, within each sketch's own bound where they are not.
"""

from __future__ import annotations

import collections
from pathlib import Path

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.util import assert_that
from beam.test_pipeline import check_against_numpy, exact_part
from hypothesis import given, settings
from hypothesis import strategies as st
from proto_compare import assert_close
from stats.test_feature import make_table
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.beam import GenerateStatistics, ReadRecordBatches, load_statistics
from beam_stats.beam.combine import DatasetAccumulatorCoder, StatisticsCombineFn
from beam_stats.cli import main
from beam_stats.stats import (
    DatasetAccumulator,
    SlicingSpec,
    StatisticsSpec,
    generate_statistics_from_table,
)
from beam_stats.stats.coalesce import (
    COALESCE_TOTAL_BYTES,
    RAMP_ROWS,
    ROWS_TRAVEL_BYTES,
    BatchCoalescer,
    BufferedAccumulator,
    KeyedCoalescer,
    join_batches,
)

SPEC = StatisticsSpec()


def _batch(first: int, n: int, **metadata: str) -> pa.RecordBatch:
    rows = np.arange(first, first + n)
    return pa.record_batch(
        {"i": rows, "s": pa.array([f"v{r % 7}" for r in rows])}, metadata=metadata or None
    )


def _all(coalescer: BatchCoalescer, batches: list[pa.RecordBatch]) -> list[pa.RecordBatch]:
    out = [ready for batch in batches for ready in coalescer.add(batch)]
    return out + list(coalescer.flush())


# --- the coalescer --------------------------------------------------------------------------


def test_batches_join_at_the_row_cap_in_order() -> None:
    batches = [_batch(10 * k, 10) for k in range(25)]
    out = _all(BatchCoalescer(max_rows=100), batches)
    assert [b.num_rows for b in out] == [100, 100, 50]
    assert pa.Table.from_batches(out).equals(pa.Table.from_batches(batches))


def test_the_byte_cap_bounds_what_is_held() -> None:
    batches = [_batch(10 * k, 10) for k in range(40)]
    cap = 5 * batches[0].nbytes
    coalescer = BatchCoalescer(max_rows=10**9, max_bytes=cap)
    out = []
    for batch in batches:
        out.extend(coalescer.add(batch))
        assert coalescer.nbytes < cap
    out.extend(coalescer.flush())
    assert [b.num_rows for b in out] == [50] * 8


def test_large_batches_pass_through_without_a_copy() -> None:
    small, large = _batch(0, 3), _batch(3, 100)
    out = _all(BatchCoalescer(max_rows=100), [small, large, small])
    assert [b.num_rows for b in out] == [3, 100, 3]
    assert out[1] is large


def test_a_schema_change_flushes_and_metadata_does_not() -> None:
    typed = pa.record_batch({"i": pa.array(["x", "y"]), "s": pa.array(["a", "b"])})
    batches = [_batch(0, 4, pandas="a"), _batch(4, 4, pandas="b"), typed, _batch(8, 4)]
    out = _all(BatchCoalescer(), batches)
    # The first two differ in metadata only: joined. The string-typed `i` is its own batch.
    assert [b.num_rows for b in out] == [8, 2, 4]
    assert out[1].schema.field("i").type == pa.string()
    assert out[0].column(0).to_pylist() == list(range(8))


def test_empty_batches_keep_their_columns() -> None:
    empty = pa.record_batch({"only_here": pa.array([], pa.float64())})
    out = _all(BatchCoalescer(), [empty, empty])
    assert len(out) == 1 and out[0].num_rows == 0
    assert out[0].schema.names == ["only_here"]
    joined = join_batches([_batch(0, 2).slice(0, 0), _batch(0, 2)])
    assert joined.num_rows == 2


def test_dictionary_columns_join_across_dictionaries() -> None:
    a = pa.record_batch({"d": pa.array(["x", "y"]).dictionary_encode()})
    b = pa.record_batch({"d": pa.array(["z", "x"]).dictionary_encode()})
    joined = join_batches([a, b])
    assert joined.column(0).to_pylist() == ["x", "y", "z", "x"]


def test_keyed_coalescer_bounds_the_total() -> None:
    one = _batch(0, 10)
    keyed = KeyedCoalescer(max_rows=1000, max_total_bytes=int(3.5 * one.nbytes))
    out = [pair for k in range(4) for pair in keyed.add(f"k{k % 2}", _batch(10 * k, 10))]
    # The fourth batch takes the total past the bound: both keys are flushed, in order.
    assert [(key, b.num_rows) for key, b in out] == [("k0", 20), ("k1", 20)]
    assert keyed.nbytes == 0 and list(keyed.flush()) == []


def test_split_moves_keys_with_their_rows_and_bytes() -> None:
    keyed = KeyedCoalescer(max_rows=1000)
    for k in range(6):
        assert list(keyed.add(f"k{k % 3}", _batch(10 * k, 10))) == []
    total = keyed.nbytes
    assert keyed.held_keys() == ["k0", "k1", "k2"]
    assert keyed.held_columns() == 2 and KeyedCoalescer().held_columns() == 0
    apart = keyed.split(["k2", "k0", "nowhere"])
    assert keyed.held_keys() == ["k1"] and apart.held_keys() == ["k2", "k0"]
    assert keyed.nbytes + apart.nbytes == total and 0 < keyed.nbytes < total
    rows = {key: b.column(0).to_pylist() for key, b in apart.flush()}
    assert rows == {
        "k0": list(range(10)) + list(range(30, 40)),
        "k2": list(range(20, 30)) + list(range(50, 60)),
    }
    assert [key for key, _ in keyed.flush()] == ["k1"]


def test_a_key_whose_first_part_is_large_gives_its_rows_on_in_doubling_batches() -> None:
    keyed = KeyedCoalescer(max_rows=4 * RAMP_ROWS)
    part = RAMP_ROWS + 8  # 10 slices' parts of a 131,072-row batch are ~13,000 rows
    given = [
        (ready_key, b.num_rows)
        for k in range(12)
        for key in ("large", "small")
        for ready_key, b in keyed.add(key, _batch(k * part, part if key == "large" else 100))
    ]
    given += [(key, b.num_rows) for key, b in keyed.flush()]
    # At once, then as many rows as given so far: 1, 1, 2, 4 (the cap), 4 parts; the rest
    # at the end. A key of small parts holds them up to the cap, as before.
    assert given == [("large", part)] * 2 + [("large", n * part) for n in (2, 4, 4)] + [
        ("small", 1200)
    ]
    assert list(keyed.add("large", _batch(0, 1))) == []  # held now up to the cap
    # A key whose first part is small holds to the cap, larger parts after it too.
    assert list(keyed.add("late", _batch(0, 100))) == []
    assert list(keyed.add("late", _batch(100, part))) == []
    assert [(k, b.num_rows) for k, b in keyed.flush()] == [("large", 1), ("late", 100 + part)]


def test_a_given_size_is_what_counts() -> None:
    """Slices give each part its share of the batch's bytes (measuring parts costs more)."""
    keyed = KeyedCoalescer(max_rows=1000, max_bytes=100, max_total_bytes=250)
    assert list(keyed.add("a", _batch(0, 10), nbytes=60)) == []
    assert keyed.nbytes == 60
    out = list(keyed.add("a", _batch(10, 10), nbytes=60))  # the key's 120 bytes >= 100
    assert [(key, b.num_rows) for key, b in out] == [("a", 20)] and keyed.nbytes == 0
    assert list(keyed.add("b", _batch(0, 10), nbytes=300)) != []  # past the total: flushed
    assert keyed.nbytes == 0


@settings(max_examples=60, deadline=None)
@given(
    cuts=st.lists(st.tuples(st.integers(0, 300), st.integers(0, 60)), min_size=1, max_size=30),
    max_rows=st.integers(1, 400),
    max_bytes=st.integers(1, 30_000),
)
def test_measuring_late_gives_the_batches_of_measuring_each(
    cuts: list[tuple[int, int]], max_rows: int, max_bytes: int
) -> None:
    """Held batches are measured (``nbytes``) only once their buffers' sizes reach the cap:
    the same batches come out as when each batch's ``nbytes`` is given, slices of a larger
    batch (whose buffers are the parent's) and fresh batches alike."""
    parent = _batch(0, 400)
    batches = [
        parent.slice(start, n) if k % 2 else _batch(start, n) for k, (start, n) in enumerate(cuts)
    ]
    late, measured = BatchCoalescer(max_rows, max_bytes), BatchCoalescer(max_rows, max_bytes)
    for batch in batches:
        got = [b.num_rows for b in late.add(batch)]
        assert got == [b.num_rows for b in measured.add(batch, nbytes=batch.nbytes)]
        assert late.rows == measured.rows
        held = late.take()
        assert late.nbytes == 0 and late.rows == 0
        for b in held:  # the same batches held again: nbytes is what they measure
            assert list(late.add(b)) == []
        assert late.nbytes == sum(b.nbytes for b in held) == measured.nbytes
    assert [b.num_rows for b in late.flush()] == [b.num_rows for b in measured.flush()]


def test_bad_caps_are_refused() -> None:
    with pytest.raises(ValueError, match="got 0"):
        BatchCoalescer(max_rows=0)


# --- the CombineFn's pending batches --------------------------------------------------------


def _reference(table: pa.Table) -> statistics_pb2.DatasetFeatureStatistics:
    """The statistics of `table` added one 500-row batch at a time, with no coalescing."""
    accumulator = DatasetAccumulator(SPEC)
    accumulator.add_all(table.to_batches(max_chunksize=500))
    return accumulator.result("", True)


def test_combine_fn_moves_few_rows_as_rows_and_flushes_everything_else() -> None:
    table = make_table(seed=3, n=3000)
    halves = [table.slice(0, 1500), table.slice(1500)]
    fn = StatisticsCombineFn(SPEC)
    accumulators = []
    for half in halves:
        accumulator = fn.create_accumulator()
        for batch in half.to_batches(max_chunksize=100):
            accumulator = fn.add_input(accumulator, batch)
        assert isinstance(accumulator, BufferedAccumulator)
        assert accumulator.num_examples == 0 and accumulator.pending.rows == 1500  # held
        accumulators.append(accumulator)
    # A few rows and nothing added: encoded as the rows (no state), left as they were ...
    coder = DatasetAccumulatorCoder(SPEC)
    assert accumulators[0].pending.nbytes <= ROWS_TRAVEL_BYTES
    encoded = coder.encode(accumulators[0])
    assert accumulators[0].pending.rows == 1500 and accumulators[0].num_examples == 0
    decoded = coder.decode(encoded)
    assert isinstance(decoded, BufferedAccumulator)
    assert decoded.num_examples == 0 and decoded.pending.rows == 1500
    assert coder.estimate_size(decoded) == decoded.pending.nbytes
    # ... and compact leaves them pending; merging gathers every pending row, added once.
    assert fn.compact(accumulators[1]) is accumulators[1] and accumulators[1].pending.rows == 1500
    merged = fn.merge_accumulators([decoded, accumulators[1]])
    assert merged.num_examples == 0 and merged.pending.rows == 3000  # type: ignore[attr-defined]
    expected = exact_part(statistics_pb2.DatasetFeatureStatisticsList(datasets=[_reference(table)]))
    assert_close(exact_part(fn.extract_output(merged)), expected)
    # Rows beside a state (or a decoded state beside rows): the rows are added to it.
    state = fn.add_input(fn.create_accumulator(), halves[0].to_batches()[0])
    state.flush()  # type: ignore[attr-defined]
    as_state = coder.decode(coder.encode(state))
    assert not isinstance(as_state, BufferedAccumulator) and as_state.num_examples == 1500
    (second,) = halves[1].combine_chunks().to_batches()
    rows = coder.decode(coder.encode(fn.add_input(fn.create_accumulator(), second)))
    merged = fn.merge_accumulators([rows, as_state])
    assert merged.num_examples == 3000
    assert_close(exact_part(fn.extract_output(merged)), expected)
    # More bytes than ROWS_TRAVEL_BYTES: compact and encoding flush (a state is smaller).
    big = pa.record_batch({"s": pa.array(["x" * 1000] * 2000)})  # ~2 MB
    pending = fn.add_input(fn.create_accumulator(), big)
    assert pending.num_examples == 0 and fn.compact(pending).num_examples == 2000
    pending = fn.add_input(fn.create_accumulator(), big)
    assert coder.decode(coder.encode(pending)).num_examples == 2000
    pending = fn.add_input(fn.create_accumulator(), _batch(0, 5))
    assert fn.extract_output(pending).datasets[0].num_examples == 5


def test_combine_fn_bounds_the_bytes_held_over_its_accumulators() -> None:
    fn = StatisticsCombineFn(SPEC)
    big = pa.record_batch({"s": pa.array(["x" * 1000] * 2000)})  # ~2 MB, 2,000 rows
    accumulators = [fn.create_accumulator() for _ in range(COALESCE_TOTAL_BYTES // big.nbytes + 2)]
    for accumulator in accumulators:
        fn.add_input(accumulator, big)
    held = sum(a.pending.nbytes for a in accumulators if isinstance(a, BufferedAccumulator))
    assert held <= COALESCE_TOTAL_BYTES
    assert sum(a.num_examples for a in accumulators) + sum(
        a.pending.rows for a in accumulators if isinstance(a, BufferedAccumulator)
    ) == 2000 * len(accumulators)
    assert any(a.num_examples for a in accumulators)  # some were flushed to stay bounded


# --- real pipelines over many small files ---------------------------------------------------


def _write_parts(table: pa.Table, folder: Path, rows: int) -> None:
    folder.mkdir()
    for k, start in enumerate(range(0, table.num_rows, rows)):
        pq.write_table(table.slice(start, rows), folder / f"part-{k:05d}.parquet")


def test_two_thousand_small_files_equal_one_file(tmp_path: Path) -> None:
    table = make_table(seed=11, n=40_000)
    _write_parts(table, tmp_path / "small", 20)  # 2,000 files
    pq.write_table(table, tmp_path / "one.parquet")
    outputs = {}
    for name, inputs in (("small", str(tmp_path / "small" / "*.parquet")), ("one", None)):
        out = tmp_path / f"{name}.pb"
        args = ["stats", inputs or str(tmp_path / "one.parquet"), "--output", str(out)]
        assert main(args) == 0
        outputs[name] = load_statistics(str(out))
    assert len(list((tmp_path / "small").iterdir())) == 2000
    # Exact statistics equal; the sketched ones are within their own bounds on each.
    assert_close(exact_part(outputs["small"]), exact_part(outputs["one"]))
    for statistics in outputs.values():
        check_against_numpy(statistics.datasets[0], table)


def test_type_drift_across_small_files_is_counted_as_without_coalescing(tmp_path: Path) -> None:
    folder = tmp_path / "drift"
    folder.mkdir()
    tables = []
    for k in range(60):
        values = np.arange(10 * k, 10 * k + 10)
        column = pa.array(values.astype(str)) if k % 7 == 3 else pa.array(values)
        tables.append(pa.table({"x": column, "y": pa.array(values * 0.5)}))
        pq.write_table(tables[-1], folder / f"part-{k:03d}.parquet")
    expected = DatasetAccumulator(SPEC)
    for part in tables:  # one accumulator fed file by file: no batch joined
        expected.add_all(part.to_batches())
    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        read = pipeline | ReadRecordBatches([str(folder / "*.parquet")])
        statistics = read.batches | GenerateStatistics(SPEC)

        def match(actual: list[statistics_pb2.DatasetFeatureStatisticsList]) -> None:
            wanted = statistics_pb2.DatasetFeatureStatisticsList(
                datasets=[expected.result("", True)]
            )
            assert_close(exact_part(actual[0]), exact_part(wanted))
            x = next(f for f in actual[0].datasets[0].features if f.path.step == ["x"])
            conflict = [c.str for c in x.custom_stats if c.name == "type_conflict"]
            assert conflict and "STRING" in conflict[0], conflict

        assert_that(statistics, match)


def test_sliced_small_files_equal_in_memory_slices(tmp_path: Path) -> None:
    table = make_table(seed=5, n=8000)
    _write_parts(table, tmp_path / "small", 40)  # 200 files
    slicing = SlicingSpec(features=("low",))
    expected = generate_statistics_from_table(table, SPEC, slicing=slicing)
    out = tmp_path / "sliced.pb"
    assert (
        main(
            ["stats", str(tmp_path / "small" / "*.parquet"), "--slice", "low", "--output", str(out)]
        )
        == 0
    )
    actual = load_statistics(str(out))
    assert [d.name for d in actual.datasets] == [d.name for d in expected.datasets]
    assert_close(exact_part(actual), exact_part(expected))
    sizes = collections.Counter(table["low"].to_pylist())
    by_name = {d.name: d.num_examples for d in actual.datasets}
    assert by_name["low=apple"] == sizes["apple"]
    assert by_name["low=<missing>"] == sizes[None]


def test_in_memory_slices_of_small_batches_equal_each_slice_alone() -> None:
    table = make_table(seed=9, n=6000)
    slicing = SlicingSpec(features=("low",))
    sliced = generate_statistics_from_table(table, SPEC, slicing=slicing, batch_size=50)
    assert len(sliced.datasets) == 7  # the whole, five words and <missing>
    for dataset in sliced.datasets[1:]:
        value = dataset.name.split("=", 1)[1]
        where = pc.is_null(table["low"]) if value == "<missing>" else pc.equal(table["low"], value)
        alone = generate_statistics_from_table(table.filter(where), SPEC, name=dataset.name)
        one = statistics_pb2.DatasetFeatureStatisticsList(datasets=[dataset])
        assert_close(exact_part(one), exact_part(alone))
