from beam_stats.proto import sketches_pb2 as _sketches_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LabelRates(_message.Message):
    __slots__ = ("served_rows", "labeled_rows", "label_sum", "predicted_rows", "prediction_sum", "compared_rows", "compared_prediction_sum", "compared_label_sum", "coverage", "label_rate", "mean_prediction", "compared_mean_prediction", "compared_label_rate")
    SERVED_ROWS_FIELD_NUMBER: _ClassVar[int]
    LABELED_ROWS_FIELD_NUMBER: _ClassVar[int]
    LABEL_SUM_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_ROWS_FIELD_NUMBER: _ClassVar[int]
    PREDICTION_SUM_FIELD_NUMBER: _ClassVar[int]
    COMPARED_ROWS_FIELD_NUMBER: _ClassVar[int]
    COMPARED_PREDICTION_SUM_FIELD_NUMBER: _ClassVar[int]
    COMPARED_LABEL_SUM_FIELD_NUMBER: _ClassVar[int]
    COVERAGE_FIELD_NUMBER: _ClassVar[int]
    LABEL_RATE_FIELD_NUMBER: _ClassVar[int]
    MEAN_PREDICTION_FIELD_NUMBER: _ClassVar[int]
    COMPARED_MEAN_PREDICTION_FIELD_NUMBER: _ClassVar[int]
    COMPARED_LABEL_RATE_FIELD_NUMBER: _ClassVar[int]
    served_rows: int
    labeled_rows: int
    label_sum: float
    predicted_rows: int
    prediction_sum: float
    compared_rows: int
    compared_prediction_sum: float
    compared_label_sum: float
    coverage: float
    label_rate: float
    mean_prediction: float
    compared_mean_prediction: float
    compared_label_rate: float
    def __init__(self, served_rows: _Optional[int] = ..., labeled_rows: _Optional[int] = ..., label_sum: _Optional[float] = ..., predicted_rows: _Optional[int] = ..., prediction_sum: _Optional[float] = ..., compared_rows: _Optional[int] = ..., compared_prediction_sum: _Optional[float] = ..., compared_label_sum: _Optional[float] = ..., coverage: _Optional[float] = ..., label_rate: _Optional[float] = ..., mean_prediction: _Optional[float] = ..., compared_mean_prediction: _Optional[float] = ..., compared_label_rate: _Optional[float] = ...) -> None: ...

class CalibrationBucket(_message.Message):
    __slots__ = ("lower", "upper", "rates")
    LOWER_FIELD_NUMBER: _ClassVar[int]
    UPPER_FIELD_NUMBER: _ClassVar[int]
    RATES_FIELD_NUMBER: _ClassVar[int]
    lower: float
    upper: float
    rates: LabelRates
    def __init__(self, lower: _Optional[float] = ..., upper: _Optional[float] = ..., rates: _Optional[_Union[LabelRates, _Mapping]] = ...) -> None: ...

class GroupLabelRates(_message.Message):
    __slots__ = ("feature", "value", "missing", "rates")
    FEATURE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    RATES_FIELD_NUMBER: _ClassVar[int]
    feature: str
    value: str
    missing: bool
    rates: LabelRates
    def __init__(self, feature: _Optional[str] = ..., value: _Optional[str] = ..., missing: _Optional[bool] = ..., rates: _Optional[_Union[LabelRates, _Mapping]] = ...) -> None: ...

class LabelDelay(_message.Message):
    __slots__ = ("count", "negative", "sum", "mean", "ranks", "quantiles", "rank_error", "state")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    NEGATIVE_FIELD_NUMBER: _ClassVar[int]
    SUM_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    RANKS_FIELD_NUMBER: _ClassVar[int]
    QUANTILES_FIELD_NUMBER: _ClassVar[int]
    RANK_ERROR_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    count: int
    negative: int
    sum: float
    mean: float
    ranks: _containers.RepeatedScalarFieldContainer[float]
    quantiles: _containers.RepeatedScalarFieldContainer[float]
    rank_error: float
    state: _sketches_pb2.QuantilesState
    def __init__(self, count: _Optional[int] = ..., negative: _Optional[int] = ..., sum: _Optional[float] = ..., mean: _Optional[float] = ..., ranks: _Optional[_Iterable[float]] = ..., quantiles: _Optional[_Iterable[float]] = ..., rank_error: _Optional[float] = ..., state: _Optional[_Union[_sketches_pb2.QuantilesState, _Mapping]] = ...) -> None: ...

class LabelJoinSummary(_message.Message):
    __slots__ = ("identifier_features", "prediction_feature", "label_feature", "served_time_feature", "feedback_time_feature", "group_features", "served_rows", "served_null_ids", "served_ids", "served_duplicate_ids", "served_duplicate_rows", "labeled_ids", "unlabeled_ids", "labeled_rows", "unlabeled_rows", "coverage", "id_coverage", "feedback_rows", "feedback_null_ids", "feedback_ids", "feedback_duplicate_ids", "feedback_duplicate_rows", "feedback_null_labels", "feedback_bad_labels", "orphan_ids", "orphan_rows", "feedback_unused_rows", "served_null_predictions", "served_bad_predictions", "predictions_out_of_range", "served_null_times", "served_bad_times", "feedback_null_times", "feedback_bad_times", "overall", "calibration", "groups", "delay", "prediction_low", "prediction_high")
    IDENTIFIER_FEATURES_FIELD_NUMBER: _ClassVar[int]
    PREDICTION_FEATURE_FIELD_NUMBER: _ClassVar[int]
    LABEL_FEATURE_FIELD_NUMBER: _ClassVar[int]
    SERVED_TIME_FEATURE_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_TIME_FEATURE_FIELD_NUMBER: _ClassVar[int]
    GROUP_FEATURES_FIELD_NUMBER: _ClassVar[int]
    SERVED_ROWS_FIELD_NUMBER: _ClassVar[int]
    SERVED_NULL_IDS_FIELD_NUMBER: _ClassVar[int]
    SERVED_IDS_FIELD_NUMBER: _ClassVar[int]
    SERVED_DUPLICATE_IDS_FIELD_NUMBER: _ClassVar[int]
    SERVED_DUPLICATE_ROWS_FIELD_NUMBER: _ClassVar[int]
    LABELED_IDS_FIELD_NUMBER: _ClassVar[int]
    UNLABELED_IDS_FIELD_NUMBER: _ClassVar[int]
    LABELED_ROWS_FIELD_NUMBER: _ClassVar[int]
    UNLABELED_ROWS_FIELD_NUMBER: _ClassVar[int]
    COVERAGE_FIELD_NUMBER: _ClassVar[int]
    ID_COVERAGE_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_ROWS_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_NULL_IDS_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_IDS_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_DUPLICATE_IDS_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_DUPLICATE_ROWS_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_NULL_LABELS_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_BAD_LABELS_FIELD_NUMBER: _ClassVar[int]
    ORPHAN_IDS_FIELD_NUMBER: _ClassVar[int]
    ORPHAN_ROWS_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_UNUSED_ROWS_FIELD_NUMBER: _ClassVar[int]
    SERVED_NULL_PREDICTIONS_FIELD_NUMBER: _ClassVar[int]
    SERVED_BAD_PREDICTIONS_FIELD_NUMBER: _ClassVar[int]
    PREDICTIONS_OUT_OF_RANGE_FIELD_NUMBER: _ClassVar[int]
    SERVED_NULL_TIMES_FIELD_NUMBER: _ClassVar[int]
    SERVED_BAD_TIMES_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_NULL_TIMES_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_BAD_TIMES_FIELD_NUMBER: _ClassVar[int]
    OVERALL_FIELD_NUMBER: _ClassVar[int]
    CALIBRATION_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    DELAY_FIELD_NUMBER: _ClassVar[int]
    PREDICTION_LOW_FIELD_NUMBER: _ClassVar[int]
    PREDICTION_HIGH_FIELD_NUMBER: _ClassVar[int]
    identifier_features: _containers.RepeatedScalarFieldContainer[str]
    prediction_feature: str
    label_feature: str
    served_time_feature: str
    feedback_time_feature: str
    group_features: _containers.RepeatedScalarFieldContainer[str]
    served_rows: int
    served_null_ids: int
    served_ids: int
    served_duplicate_ids: int
    served_duplicate_rows: int
    labeled_ids: int
    unlabeled_ids: int
    labeled_rows: int
    unlabeled_rows: int
    coverage: float
    id_coverage: float
    feedback_rows: int
    feedback_null_ids: int
    feedback_ids: int
    feedback_duplicate_ids: int
    feedback_duplicate_rows: int
    feedback_null_labels: int
    feedback_bad_labels: int
    orphan_ids: int
    orphan_rows: int
    feedback_unused_rows: int
    served_null_predictions: int
    served_bad_predictions: int
    predictions_out_of_range: int
    served_null_times: int
    served_bad_times: int
    feedback_null_times: int
    feedback_bad_times: int
    overall: LabelRates
    calibration: _containers.RepeatedCompositeFieldContainer[CalibrationBucket]
    groups: _containers.RepeatedCompositeFieldContainer[GroupLabelRates]
    delay: LabelDelay
    prediction_low: float
    prediction_high: float
    def __init__(self, identifier_features: _Optional[_Iterable[str]] = ..., prediction_feature: _Optional[str] = ..., label_feature: _Optional[str] = ..., served_time_feature: _Optional[str] = ..., feedback_time_feature: _Optional[str] = ..., group_features: _Optional[_Iterable[str]] = ..., served_rows: _Optional[int] = ..., served_null_ids: _Optional[int] = ..., served_ids: _Optional[int] = ..., served_duplicate_ids: _Optional[int] = ..., served_duplicate_rows: _Optional[int] = ..., labeled_ids: _Optional[int] = ..., unlabeled_ids: _Optional[int] = ..., labeled_rows: _Optional[int] = ..., unlabeled_rows: _Optional[int] = ..., coverage: _Optional[float] = ..., id_coverage: _Optional[float] = ..., feedback_rows: _Optional[int] = ..., feedback_null_ids: _Optional[int] = ..., feedback_ids: _Optional[int] = ..., feedback_duplicate_ids: _Optional[int] = ..., feedback_duplicate_rows: _Optional[int] = ..., feedback_null_labels: _Optional[int] = ..., feedback_bad_labels: _Optional[int] = ..., orphan_ids: _Optional[int] = ..., orphan_rows: _Optional[int] = ..., feedback_unused_rows: _Optional[int] = ..., served_null_predictions: _Optional[int] = ..., served_bad_predictions: _Optional[int] = ..., predictions_out_of_range: _Optional[int] = ..., served_null_times: _Optional[int] = ..., served_bad_times: _Optional[int] = ..., feedback_null_times: _Optional[int] = ..., feedback_bad_times: _Optional[int] = ..., overall: _Optional[_Union[LabelRates, _Mapping]] = ..., calibration: _Optional[_Iterable[_Union[CalibrationBucket, _Mapping]]] = ..., groups: _Optional[_Iterable[_Union[GroupLabelRates, _Mapping]]] = ..., delay: _Optional[_Union[LabelDelay, _Mapping]] = ..., prediction_low: _Optional[float] = ..., prediction_high: _Optional[float] = ...) -> None: ...
