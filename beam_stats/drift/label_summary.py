"""The figures of the labeling loop, as one mergeable accumulator: :class:`LabelJoinAccumulator`.

What the join decides (which rows are labeled, by which feedback) is in
:mod:`beam_stats.drift.label_join`; this module sums what it found. Every figure is a count
or a sum, so merging adds (exactly for counts; sums of floats up to rounding), apart from
the label delay, whose quantiles are the project's deterministic sketch
(:class:`~beam_stats.sketches.quantiles.QuantilesAccumulator`: exact up to
``exact_limit`` distinct delays, then with a certified rank error, stored in the summary as
``delay.rank_error``).

Predicted against actual (``LabelRates``), over all served rows, per calibration bucket and
per value of each group feature: served rows; labeled rows and the sum of their labels (the
*label rate* is the mean label: the share of positives for a 0/1 label); rows with a
numeric prediction and its sum (the mean prediction of everything served); and the
*compared* rows, labeled and predicted, with both sums, whose means are the calibration
pair (mean predicted against actual on the same rows). Calibration buckets are
``calibration_buckets`` equal-width buckets of ``prediction_range`` (default 10 on [0, 1],
for probabilities; edges ``numpy.linspace(low, high, buckets + 1)`` rounded to 12
significant digits, so 0.6 is in ``[0.6, 0.7)``), ``[lower, upper)``
with the last one closed; a prediction outside the
range counts in ``predictions_out_of_range`` and in the nearest end bucket. Rows without a
numeric prediction are in no bucket. Groups are keyed by the value's text (so ``1`` and
``1.0`` of two files are two groups); rows without a value form the group ``missing``.

Empty input: every count 0, every mean NaN, the delay empty (its quantiles NaN).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from google.protobuf.descriptor import FieldDescriptor

from beam_stats.drift.label_values import as_numbers, as_seconds, group_codes
from beam_stats.errors import InvalidInputError
from beam_stats.proto import label_join_pb2
from beam_stats.sketches.quantiles import QuantilesAccumulator, QuantilesSpec

F64 = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
GroupKey = tuple[str, str | None]  # feature, value text (None: missing)

#: The sums of a LabelRates message, in the order of the accumulator's vectors.
RATE_SUMS = (
    "served_rows", "labeled_rows", "label_sum", "predicted_rows", "prediction_sum",
    "compared_rows", "compared_prediction_sum", "compared_label_sum",
)  # fmt: skip
_RATE_MEANS = (  # derived field, numerator, denominator
    ("coverage", "labeled_rows", "served_rows"),
    ("label_rate", "label_sum", "labeled_rows"),
    ("mean_prediction", "prediction_sum", "predicted_rows"),
    ("compared_mean_prediction", "compared_prediction_sum", "compared_rows"),
    ("compared_label_rate", "compared_label_sum", "compared_rows"),
)
#: The counts of a LabelJoinSummary (every uint64 field).
COUNTS = tuple(
    f.name
    for f in label_join_pb2.LabelJoinSummary.DESCRIPTOR.fields
    if f.type == FieldDescriptor.TYPE_UINT64
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class LabelJoinSpec:
    """What to join on, what to compare, and how to summarise it.

    Args:
        identifier_features: the column(s) that identify a served example and its feedback.
        prediction_feature: the served column of the model's prediction (a number).
        label_feature: the feedback column of the label (a number or boolean).
        served_time_feature, feedback_time_feature: the time of serving and of the feedback
            (both or neither); the delay is their difference, in seconds.
        group_features: served columns whose values are groups (rates per value).
        calibration_buckets, prediction_range: equal-width buckets of predictions.
        delay_ranks: the quantiles of the delay reported.
        max_groups: the most distinct values a group feature may have (more is an error).
        num_shards: hash partitions of the join (one is held in memory at once).
        delay_column: the name of the delay column of the joined rows.
        quantiles: the settings of the delay's quantiles sketch.
    """

    identifier_features: tuple[str, ...]
    prediction_feature: str
    label_feature: str
    served_time_feature: str | None = None
    feedback_time_feature: str | None = None
    group_features: tuple[str, ...] = ()
    calibration_buckets: int = 10
    prediction_range: tuple[float, float] = (0.0, 1.0)
    delay_ranks: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0)
    max_groups: int = 1000
    num_shards: int = 512
    delay_column: str = "label_delay_seconds"
    quantiles: QuantilesSpec = dataclasses.field(default_factory=QuantilesSpec)

    def __post_init__(self) -> None:
        for name in ("identifier_features", "group_features", "delay_ranks"):
            value = getattr(self, name)
            object.__setattr__(self, name, (value,) if isinstance(value, str) else tuple(value))
        ids = self.identifier_features
        if not ids or not all(isinstance(i, str) and i for i in ids) or len(set(ids)) < len(ids):
            raise InvalidInputError(f"identifier features must be distinct names, got {ids!r}")
        for name in ("prediction_feature", "label_feature", "delay_column"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise InvalidInputError(f"{name} must be a name, got {getattr(self, name)!r}")
        if (self.served_time_feature is None) != (self.feedback_time_feature is None):
            raise InvalidInputError(
                "give both the served and the feedback time features, or neither; got "
                f"{self.served_time_feature!r} and {self.feedback_time_feature!r}"
            )
        if len(set(self.group_features)) < len(self.group_features):
            raise InvalidInputError(f"group features repeat: {self.group_features!r}")
        low, high = (float(x) for x in self.prediction_range)
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise InvalidInputError(f"prediction_range must be finite, low < high, got {low, high}")
        object.__setattr__(self, "prediction_range", (low, high))
        if not all(0.0 <= r <= 1.0 for r in self.delay_ranks):
            raise InvalidInputError(f"delay_ranks must be in [0, 1], got {self.delay_ranks}")
        for name in ("calibration_buckets", "max_groups", "num_shards"):
            if getattr(self, name) < 1:
                raise InvalidInputError(f"{name} must be >= 1, got {getattr(self, name)}")

    @property
    def timed(self) -> bool:
        return self.served_time_feature is not None


def column(batch: pa.RecordBatch, name: str | None) -> pa.Array:
    """A column of `batch`, or nulls when it has none of that name."""
    index = -1 if name is None else batch.schema.get_field_index(name)
    return batch.column(index) if index >= 0 else pa.nulls(batch.num_rows)


def rate_sums(prediction: F64, labeled: Bools, label: F64, index: npt.NDArray[np.int64],
              size: int) -> F64:  # fmt: skip
    """The RATE_SUMS of rows grouped by `index` (0 to size - 1): a (size, 8) array."""
    predicted = ~np.isnan(prediction)
    compared = labeled & predicted
    p, y = np.where(predicted, prediction, 0.0), np.where(labeled, label, 0.0)
    weights = (np.ones(len(index)), labeled, y, predicted, p, compared, p * compared, y * compared)
    return np.stack([np.bincount(index, w, minlength=size) for w in weights], axis=1)


class LabelJoinAccumulator:
    """Counts, rates and the delay sketch of a label join; ``merge`` adds."""

    def __init__(self, spec: LabelJoinSpec) -> None:
        self.spec = spec
        self.counts = dict.fromkeys(COUNTS, 0)
        self.overall = np.zeros(len(RATE_SUMS))
        self.buckets = np.zeros((spec.calibration_buckets, len(RATE_SUMS)))
        # Rounded, so that 0.6 is the edge 0.6 rather than linspace's 0.6000000000000001.
        edges = np.linspace(*spec.prediction_range, spec.calibration_buckets + 1)
        self.edges = np.array([float(f"{e:.12g}") for e in edges])
        self.groups: dict[GroupKey, F64] = {}
        self.delays = spec.quantiles.create()
        self.delay_sum = 0.0
        self.negative_delays = 0

    def add_served(self, batch: pa.RecordBatch, labeled: Bools, label: F64,
                   feedback_time: F64 | None) -> F64 | None:  # fmt: skip
        """Adds served rows, with whether each got a label, the label and its time; returns
        each row's delay in seconds (NaN: none) when the spec has times."""
        spec, c = self.spec, self.counts
        c["served_rows"] += batch.num_rows
        prediction, null, bad = as_numbers(column(batch, spec.prediction_feature))
        c["served_null_predictions"] += int(null.sum())
        c["served_bad_predictions"] += int(bad.sum())
        self.overall += rate_sums(prediction, labeled, label, np.zeros(len(label), np.int64), 1)[0]
        has = ~np.isnan(prediction)
        low, high = spec.prediction_range
        p = prediction[has]
        c["predictions_out_of_range"] += int(np.count_nonzero((p < low) | (p > high)))
        bucket = np.clip(np.searchsorted(self.edges, p, side="right") - 1, 0, len(self.buckets) - 1)
        sums = rate_sums(p, labeled[has], label[has], bucket.astype(np.int64), len(self.buckets))
        self.buckets += sums
        for feature in spec.group_features:
            codes, names = group_codes(column(batch, feature))
            sums = rate_sums(prediction, labeled, label, codes + 1, len(names) + 1)
            for code in np.flatnonzero(sums[:, 0]):
                self._add_group((feature, None if code == 0 else names[code - 1]), sums[code])
        if not spec.timed:
            return None
        served, null, bad = as_seconds(column(batch, spec.served_time_feature))
        c["served_null_times"] += int(null.sum())
        c["served_bad_times"] += int(bad.sum())
        delay = np.full(len(served), math.nan)
        if feedback_time is not None:
            delay = feedback_time - served
        delay[~labeled] = math.nan
        finite = delay[np.isfinite(delay)]
        self.delays.add(finite)
        self.delay_sum += float(finite.sum())
        self.negative_delays += int(np.count_nonzero(finite < 0))
        return delay

    def _add_group(self, key: GroupKey, sums: F64) -> None:
        if key in self.groups:
            self.groups[key] += sums
            return
        if sum(1 for f, _ in self.groups if f == key[0]) >= self.spec.max_groups:
            raise InvalidInputError(
                f"group feature {key[0]!r} has more than {self.spec.max_groups} distinct "
                "values; raise max_groups or group by a coarser feature"
            )
        self.groups[key] = np.array(sums, dtype=np.float64)

    def merge(self, other: LabelJoinAccumulator) -> None:
        """Adds `other` (of other rows or identifiers) into this accumulator."""
        for name, value in other.counts.items():
            self.counts[name] += value
        self.overall += other.overall
        self.buckets += other.buckets
        for key, sums in other.groups.items():
            self._add_group(key, sums)
        self.delays.merge(other.delays)
        self.delay_sum += other.delay_sum
        self.negative_delays += other.negative_delays

    def to_proto(self) -> label_join_pb2.LabelJoinSummary:
        """The summary: counts, derived shares and rates, and the delay with its state."""
        spec, c = self.spec, self.counts
        out = label_join_pb2.LabelJoinSummary(
            identifier_features=spec.identifier_features,
            prediction_feature=spec.prediction_feature,
            label_feature=spec.label_feature,
            served_time_feature=spec.served_time_feature or "",
            feedback_time_feature=spec.feedback_time_feature or "",
            group_features=spec.group_features,
            prediction_low=spec.prediction_range[0],
            prediction_high=spec.prediction_range[1],
        )
        for name, value in c.items():
            setattr(out, name, value)
        out.coverage = _share(c["labeled_rows"], c["served_rows"])
        out.id_coverage = _share(c["labeled_ids"], c["served_ids"])
        _write_rates(self.overall, out.overall)
        for i, sums in enumerate(self.buckets):
            bucket = out.calibration.add(lower=self.edges[i], upper=self.edges[i + 1])
            _write_rates(sums, bucket.rates)
        for feature, text in sorted(self.groups, key=lambda k: (k[0], k[1] is None, k[1] or "")):
            group = out.groups.add(feature=feature, value=text or "", missing=text is None)
            _write_rates(self.groups[(feature, text)], group.rates)
        if spec.timed:
            d = out.delay
            d.count, d.negative, d.sum = self.delays.n, self.negative_delays, self.delay_sum
            d.mean = _share(self.delay_sum, self.delays.n)
            d.ranks.extend(spec.delay_ranks)
            d.quantiles.extend(self.delays.quantiles(spec.delay_ranks).tolist())
            d.rank_error = self.delays.rank_error
            d.state.CopyFrom(self.delays.to_proto())
        return out

    @classmethod
    def from_proto(
        cls, message: label_join_pb2.LabelJoinSummary, spec: LabelJoinSpec
    ) -> LabelJoinAccumulator:
        """The accumulator of a summary (lossless: it merges like the one that wrote it)."""
        accumulator = cls(spec)
        accumulator.counts = {name: getattr(message, name) for name in COUNTS}
        accumulator.overall = _read_rates(message.overall)
        if len(message.calibration) == spec.calibration_buckets:
            accumulator.buckets = np.array([_read_rates(b.rates) for b in message.calibration])
        for group in message.groups:
            key = (group.feature, None if group.missing else group.value)
            accumulator.groups[key] = _read_rates(group.rates)
        if message.HasField("delay"):
            accumulator.delays = QuantilesAccumulator.from_proto(message.delay.state)
            accumulator.delay_sum = message.delay.sum
            accumulator.negative_delays = message.delay.negative
        return accumulator


def _share(part: float, whole: float) -> float:
    return part / whole if whole else math.nan


def _write_rates(sums: F64, rates: label_join_pb2.LabelRates) -> None:
    values = dict(zip(RATE_SUMS, sums.tolist(), strict=True))
    for name, value in values.items():
        setattr(rates, name, round(value) if name.endswith("_rows") else value)
    for name, part, whole in _RATE_MEANS:
        setattr(rates, name, _share(values[part], values[whole]))


def _read_rates(rates: label_join_pb2.LabelRates) -> F64:
    return np.array([float(getattr(rates, name)) for name in RATE_SUMS])
