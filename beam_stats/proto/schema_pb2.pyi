from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AnomalySeverities(_message.Message):
    __slots__ = ("overrides",)
    class Severity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        SEVERITY_UNSPECIFIED: _ClassVar[AnomalySeverities.Severity]
        WARNING: _ClassVar[AnomalySeverities.Severity]
        ERROR: _ClassVar[AnomalySeverities.Severity]
    SEVERITY_UNSPECIFIED: AnomalySeverities.Severity
    WARNING: AnomalySeverities.Severity
    ERROR: AnomalySeverities.Severity
    class Override(_message.Message):
        __slots__ = ("anomaly_type", "severity")
        ANOMALY_TYPE_FIELD_NUMBER: _ClassVar[int]
        SEVERITY_FIELD_NUMBER: _ClassVar[int]
        anomaly_type: str
        severity: AnomalySeverities.Severity
        def __init__(self, anomaly_type: _Optional[str] = ..., severity: _Optional[_Union[AnomalySeverities.Severity, str]] = ...) -> None: ...
    OVERRIDES_FIELD_NUMBER: _ClassVar[int]
    overrides: _containers.RepeatedCompositeFieldContainer[AnomalySeverities.Override]
    def __init__(self, overrides: _Optional[_Iterable[_Union[AnomalySeverities.Override, _Mapping]]] = ...) -> None: ...

class InferenceProvenance(_message.Message):
    __slots__ = ("tool", "dataset_name", "num_examples", "infer_shape", "max_string_domain_size", "infer_ranges", "range_margin", "range_lower_quantile", "range_upper_quantile", "infer_unique", "unique_margin", "disallow_nan", "disallow_inf")
    TOOL_FIELD_NUMBER: _ClassVar[int]
    DATASET_NAME_FIELD_NUMBER: _ClassVar[int]
    NUM_EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    INFER_SHAPE_FIELD_NUMBER: _ClassVar[int]
    MAX_STRING_DOMAIN_SIZE_FIELD_NUMBER: _ClassVar[int]
    INFER_RANGES_FIELD_NUMBER: _ClassVar[int]
    RANGE_MARGIN_FIELD_NUMBER: _ClassVar[int]
    RANGE_LOWER_QUANTILE_FIELD_NUMBER: _ClassVar[int]
    RANGE_UPPER_QUANTILE_FIELD_NUMBER: _ClassVar[int]
    INFER_UNIQUE_FIELD_NUMBER: _ClassVar[int]
    UNIQUE_MARGIN_FIELD_NUMBER: _ClassVar[int]
    DISALLOW_NAN_FIELD_NUMBER: _ClassVar[int]
    DISALLOW_INF_FIELD_NUMBER: _ClassVar[int]
    tool: str
    dataset_name: str
    num_examples: int
    infer_shape: bool
    max_string_domain_size: int
    infer_ranges: bool
    range_margin: float
    range_lower_quantile: float
    range_upper_quantile: float
    infer_unique: bool
    unique_margin: float
    disallow_nan: bool
    disallow_inf: bool
    def __init__(self, tool: _Optional[str] = ..., dataset_name: _Optional[str] = ..., num_examples: _Optional[int] = ..., infer_shape: _Optional[bool] = ..., max_string_domain_size: _Optional[int] = ..., infer_ranges: _Optional[bool] = ..., range_margin: _Optional[float] = ..., range_lower_quantile: _Optional[float] = ..., range_upper_quantile: _Optional[float] = ..., infer_unique: _Optional[bool] = ..., unique_margin: _Optional[float] = ..., disallow_nan: _Optional[bool] = ..., disallow_inf: _Optional[bool] = ...) -> None: ...

class HistoryLimits(_message.Message):
    __slots__ = ("limits", "features")
    class Limits(_message.Message):
        __slots__ = ("metric", "strategy", "z", "floor", "min_history", "threshold")
        METRIC_FIELD_NUMBER: _ClassVar[int]
        STRATEGY_FIELD_NUMBER: _ClassVar[int]
        Z_FIELD_NUMBER: _ClassVar[int]
        FLOOR_FIELD_NUMBER: _ClassVar[int]
        MIN_HISTORY_FIELD_NUMBER: _ClassVar[int]
        THRESHOLD_FIELD_NUMBER: _ClassVar[int]
        metric: str
        strategy: str
        z: float
        floor: float
        min_history: int
        threshold: float
        def __init__(self, metric: _Optional[str] = ..., strategy: _Optional[str] = ..., z: _Optional[float] = ..., floor: _Optional[float] = ..., min_history: _Optional[int] = ..., threshold: _Optional[float] = ...) -> None: ...
    class FeatureLimits(_message.Message):
        __slots__ = ("path", "limits")
        PATH_FIELD_NUMBER: _ClassVar[int]
        LIMITS_FIELD_NUMBER: _ClassVar[int]
        path: _containers.RepeatedScalarFieldContainer[str]
        limits: _containers.RepeatedCompositeFieldContainer[HistoryLimits.Limits]
        def __init__(self, path: _Optional[_Iterable[str]] = ..., limits: _Optional[_Iterable[_Union[HistoryLimits.Limits, _Mapping]]] = ...) -> None: ...
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    limits: _containers.RepeatedCompositeFieldContainer[HistoryLimits.Limits]
    features: _containers.RepeatedCompositeFieldContainer[HistoryLimits.FeatureLimits]
    def __init__(self, limits: _Optional[_Iterable[_Union[HistoryLimits.Limits, _Mapping]]] = ..., features: _Optional[_Iterable[_Union[HistoryLimits.FeatureLimits, _Mapping]]] = ...) -> None: ...
