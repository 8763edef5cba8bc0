"""The first pass of ``LabelSpec.quantile_bins`` on files: a Beam pipeline of its own.

When a spec's label asks for quantile bins (:attr:`StatisticsSpec.needs_label_pass
<beam_stats.stats.StatisticsSpec.needs_label_pass>`), :func:`resolve_label_bins` runs one
pipeline before the statistics: it reads the same inputs with the same reader, keeps each
batch's label values in a :class:`~beam_stats.stats.label_bins.LabelBinsAccumulator`
(``CombineGlobally``: partial accumulators per worker, merged), and writes the edges as one
JSON line to a unique hidden temporary file beside the output, which the launcher reads and
deletes; the statistics pipeline then runs with ``spec.with_label_bins(edges)``.

Cost: one more read of the inputs (and parsing of the label column; no other feature is
flattened), so about one reading's share of the statistics' time more. Input problems are
reported by the statistics pipeline, which reads the same rows.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterable, Sequence

import apache_beam as beam
import pyarrow as pa
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from beam_stats._types import FeaturePath
from beam_stats.beam import ReadRecordBatches
from beam_stats.beam.artifacts import load_json
from beam_stats.beam.running import make_pipeline, run_pipeline
from beam_stats.beam.sinks import WriteTextFile
from beam_stats.beam.writing import input_pattern, match_inputs, temporary_path
from beam_stats.errors import DeserializationError
from beam_stats.stats import StatisticsSpec
from beam_stats.stats.label_bins import LabelBinsAccumulator

_log = logging.getLogger(__name__)


@beam.typehints.with_input_types(pa.RecordBatch)
@beam.typehints.with_output_types(str)
class LabelBinsCombineFn(beam.CombineFn):
    """Record batches to the JSON line of their label's quantile edges:
    ``{"edges": [...], "values": n, "left_out": k, "rank_error": e}``."""

    def __init__(self, path: FeaturePath, quantile_bins: int) -> None:
        super().__init__()
        self._path, self._quantile_bins = tuple(path), quantile_bins

    def create_accumulator(self) -> LabelBinsAccumulator:
        return LabelBinsAccumulator(self._path)

    def add_input(
        self, accumulator: LabelBinsAccumulator, batch: pa.RecordBatch
    ) -> LabelBinsAccumulator:
        accumulator.add(batch)
        return accumulator

    def merge_accumulators(
        self, accumulators: Iterable[LabelBinsAccumulator]
    ) -> LabelBinsAccumulator:
        merged = self.create_accumulator()
        for accumulator in accumulators:
            merged.merge(accumulator)
        return merged

    def extract_output(self, accumulator: LabelBinsAccumulator) -> str:
        sketch = accumulator.quantiles
        return json.dumps(
            {
                "edges": list(accumulator.result(self._quantile_bins)),
                "values": sketch.n,
                "left_out": accumulator.left_out,
                "rank_error": sketch.rank_error,
            }
        )


def resolve_label_bins(
    patterns: Sequence[str],
    spec: StatisticsSpec,
    near: str,
    *,
    input_format: str | None = None,
    pipeline_options: PipelineOptions | Sequence[str] | None = None,
) -> StatisticsSpec:
    """`spec` with its label's quantile edges found in the files `patterns` match (one
    pipeline, see the module docstring); `spec` itself when it needs no first pass.

    Args:
        patterns: the inputs (paths or globs), as the statistics will read them.
        spec: the statistics options, whose label has ``quantile_bins``.
        near: an output path: the temporary edges file goes in its folder.
        input_format, pipeline_options: as for the statistics.

    Raises:
        InvalidInputError: no file matches a pattern, a bad option.
    """
    label = spec.label
    if label is None or not label.quantile_bins:
        return spec
    match_inputs(patterns)
    path = temporary_path(f"{near}.label-bins.json")
    pipeline = make_pipeline(pipeline_options)
    read = pipeline | "Read" >> ReadRecordBatches(
        [input_pattern(p) for p in patterns], input_format
    )
    _ = (
        read.batches
        | "LabelValues" >> beam.CombineGlobally(LabelBinsCombineFn(label.path, label.quantile_bins))
        | "WriteEdges" >> WriteTextFile(path)
    )
    try:
        run_pipeline(pipeline)
        found = load_json(path, "label bins")
    finally:
        with contextlib.suppress(Exception):  # cleaning up: the run's error is the one to see
            if FileSystems.exists(path):
                FileSystems.delete([path])
    try:
        edges = tuple(float(edge) for edge in found["edges"])
    except (KeyError, TypeError, ValueError) as e:
        raise DeserializationError(f"the label bins of the first pass are damaged: {e}") from e
    _log.info(
        "label %s: %d bins from %d values (%d left out), edges %s",
        label.feature,
        len(edges) + 1,
        found.get("values", 0),
        found.get("left_out", 0),
        list(edges),
    )
    return spec.with_label_bins(edges)
