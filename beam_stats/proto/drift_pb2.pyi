from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DistanceThreshold(_message.Message):
    __slots__ = ("threshold",)
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    threshold: float
    def __init__(self, threshold: _Optional[float] = ...) -> None: ...

class ChiSquaredThreshold(_message.Message):
    __slots__ = ("min_p_value",)
    MIN_P_VALUE_FIELD_NUMBER: _ClassVar[int]
    min_p_value: float
    def __init__(self, min_p_value: _Optional[float] = ...) -> None: ...

class ComparatorThresholds(_message.Message):
    __slots__ = ("population_stability_index", "kolmogorov_smirnov", "normalized_wasserstein", "hellinger", "chi_squared", "missing_fraction", "concept_shift", "group_share")
    POPULATION_STABILITY_INDEX_FIELD_NUMBER: _ClassVar[int]
    KOLMOGOROV_SMIRNOV_FIELD_NUMBER: _ClassVar[int]
    NORMALIZED_WASSERSTEIN_FIELD_NUMBER: _ClassVar[int]
    HELLINGER_FIELD_NUMBER: _ClassVar[int]
    CHI_SQUARED_FIELD_NUMBER: _ClassVar[int]
    MISSING_FRACTION_FIELD_NUMBER: _ClassVar[int]
    CONCEPT_SHIFT_FIELD_NUMBER: _ClassVar[int]
    GROUP_SHARE_FIELD_NUMBER: _ClassVar[int]
    population_stability_index: DistanceThreshold
    kolmogorov_smirnov: DistanceThreshold
    normalized_wasserstein: DistanceThreshold
    hellinger: DistanceThreshold
    chi_squared: ChiSquaredThreshold
    missing_fraction: DistanceThreshold
    concept_shift: DistanceThreshold
    group_share: DistanceThreshold
    def __init__(self, population_stability_index: _Optional[_Union[DistanceThreshold, _Mapping]] = ..., kolmogorov_smirnov: _Optional[_Union[DistanceThreshold, _Mapping]] = ..., normalized_wasserstein: _Optional[_Union[DistanceThreshold, _Mapping]] = ..., hellinger: _Optional[_Union[DistanceThreshold, _Mapping]] = ..., chi_squared: _Optional[_Union[ChiSquaredThreshold, _Mapping]] = ..., missing_fraction: _Optional[_Union[DistanceThreshold, _Mapping]] = ..., concept_shift: _Optional[_Union[DistanceThreshold, _Mapping]] = ..., group_share: _Optional[_Union[DistanceThreshold, _Mapping]] = ...) -> None: ...

class GroupThresholds(_message.Message):
    __slots__ = ("min_share", "max_label_disparity")
    MIN_SHARE_FIELD_NUMBER: _ClassVar[int]
    MAX_LABEL_DISPARITY_FIELD_NUMBER: _ClassVar[int]
    min_share: DistanceThreshold
    max_label_disparity: DistanceThreshold
    def __init__(self, min_share: _Optional[_Union[DistanceThreshold, _Mapping]] = ..., max_label_disparity: _Optional[_Union[DistanceThreshold, _Mapping]] = ...) -> None: ...

class FeatureComparators(_message.Message):
    __slots__ = ("skew", "drift", "groups")
    SKEW_FIELD_NUMBER: _ClassVar[int]
    DRIFT_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    skew: ComparatorThresholds
    drift: ComparatorThresholds
    groups: GroupThresholds
    def __init__(self, skew: _Optional[_Union[ComparatorThresholds, _Mapping]] = ..., drift: _Optional[_Union[ComparatorThresholds, _Mapping]] = ..., groups: _Optional[_Union[GroupThresholds, _Mapping]] = ...) -> None: ...
