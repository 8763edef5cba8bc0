"""Feature skew of files, as one job: :func:`feature_skew` (``beam-stats feature-skew``).

One Beam pipeline reads both datasets, joins their rows on the identifier features and
compares every feature's values (:class:`~beam_stats.pipelines.skew.DetectFeatureSkew`).
It writes the ``FeatureSkewResult`` (text when the name ends in ``.pbtxt``), the mismatched
pairs kept (JSON lines, when asked) and the rows or files of either side it could not read
in ``<output>.errors.jsonl`` unless given (the one naming rule of every command). Every
file is written atomically; an output that is an input is refused before anything is read.
With a privacy policy, the samples (in the result and its JSON lines) and the errors file
keep only the values it lets through (:mod:`beam_stats.drift.skew_samples`); the counts
are those of the values as read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from beam_stats.beam import ReadRecordBatches
from beam_stats.beam.artifacts import errors_path
from beam_stats.beam.running import make_pipeline, run_pipeline
from beam_stats.beam.sinks import WriteErrors
from beam_stats.beam.writing import check_outputs, input_pattern, match_inputs
from beam_stats.jobs.statistics import count_problems
from beam_stats.pipelines.skew import (
    DetectFeatureSkew,
    WriteFeatureSkew,
    WriteSkewSamples,
    load_feature_skew,
)
from beam_stats.proto import skew_pb2
from beam_stats.stats.privacy import PrivacySpec


@dataclasses.dataclass(frozen=True)
class SkewResult:
    """What :func:`feature_skew` found and wrote.

    Attributes:
        result: the ``FeatureSkewResult`` written to `output`.
        output: its file; samples: the file of mismatched pairs (None: not asked).
        errors: the errors file; input_problems: the records in it.
    """

    result: skew_pb2.FeatureSkewResult
    output: str
    samples: str | None
    errors: str
    input_problems: int

    @property
    def clean(self) -> bool:
        """Every compared feature matches on every joined identifier, and no value is
        present on one side only."""
        return not any(f.mismatch_count or f.base_only or f.test_only for f in self.result.features)


def feature_skew(
    base: str | Sequence[str],
    test: str | Sequence[str],
    identifier_features: str | Sequence[str],
    output: str,
    *,
    features: Sequence[str] | None = None,
    samples: str | None = None,
    sample_size: int = 10,
    float_tolerance: float = 1e-6,
    absolute_tolerance: float | None = None,
    num_shards: int | None = None,
    input_format: str | None = None,
    errors: str | None = None,
    pipeline_options: PipelineOptions | Sequence[str] | None = None,
    privacy: PrivacySpec | None = None,
) -> SkewResult:
    """Compares the values of the same examples (by identifier) in `base` and `test`.

    Args:
        base, test: file paths or globs of each dataset (e.g. training and serving).
        identifier_features: the features that identify an example on both sides.
        output: the result file.
        features: compare only these (None: every feature).
        samples: a JSON-lines file for the mismatched pairs kept, `sample_size` per feature.
        float_tolerance: relative tolerance of floats; `absolute_tolerance` defaults to it.
        num_shards: partitions of the join (None: the transform's default).
        input_format: one of ``beam_stats.beam.sources.FORMATS``; None: by file suffix.
        errors: the errors file; default ``<output>.errors.jsonl``.
        pipeline_options: Beam pipeline options, or flags such as ``["--runner=..."]``.
        privacy: what the samples and error messages keep of the values (None: all).

    Raises:
        InvalidInputError: no file matches, an output is an input, a bad option or value.
    """
    base_patterns = [base] if isinstance(base, str) else list(base)
    test_patterns = [test] if isinstance(test, str) else list(test)
    errors = errors or errors_path(output)
    check_outputs([*base_patterns, *test_patterns], [output, samples, errors])
    match_inputs([*base_patterns, *test_patterns])
    shards = {"num_shards": num_shards} if num_shards is not None else {}
    detect = DetectFeatureSkew(  # bad values raise here, before the pipeline starts
        identifier_features,
        features,
        float_tolerance,
        sample_size,
        absolute_tolerance=absolute_tolerance,
        privacy=privacy,
        **shards,
    )
    pipeline = make_pipeline(pipeline_options)
    read_base = pipeline | "ReadBase" >> ReadRecordBatches(
        [input_pattern(p) for p in base_patterns], input_format, privacy=privacy
    )
    read_test = pipeline | "ReadTest" >> ReadRecordBatches(
        [input_pattern(p) for p in test_patterns], input_format, privacy=privacy
    )
    result = (read_base.batches, read_test.batches) | "FeatureSkew" >> detect
    written = [result | "WriteResult" >> WriteFeatureSkew(output)]
    if samples:
        written.append(result | "WriteSamples" >> WriteSkewSamples(samples))
    written.append(
        (read_base.errors, read_test.errors)
        | "AllErrors" >> beam.Flatten()
        | "WriteErrors" >> WriteErrors(errors)
    )
    # One final step that needs every write: Beam's DaskRunner runs only the graph of the
    # last transform (docs/RUNNERS.md).
    _ = tuple(written) | "Done" >> beam.Flatten()
    run_pipeline(pipeline)
    return SkewResult(load_feature_skew(output), output, samples, errors, count_problems(errors))
