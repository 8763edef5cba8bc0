from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class QuantilesState(_message.Message):
    __slots__ = ("k", "kll", "capacity", "exact_limit", "exact_values", "exact_counts", "summary", "cells", "packed_values", "packed_counts", "packed_count_bytes")
    K_FIELD_NUMBER: _ClassVar[int]
    KLL_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    EXACT_LIMIT_FIELD_NUMBER: _ClassVar[int]
    EXACT_VALUES_FIELD_NUMBER: _ClassVar[int]
    EXACT_COUNTS_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    CELLS_FIELD_NUMBER: _ClassVar[int]
    PACKED_VALUES_FIELD_NUMBER: _ClassVar[int]
    PACKED_COUNTS_FIELD_NUMBER: _ClassVar[int]
    PACKED_COUNT_BYTES_FIELD_NUMBER: _ClassVar[int]
    k: int
    kll: bytes
    capacity: int
    exact_limit: int
    exact_values: _containers.RepeatedScalarFieldContainer[float]
    exact_counts: _containers.RepeatedScalarFieldContainer[int]
    summary: WeightedQuantilesState
    cells: CellCounts
    packed_values: bytes
    packed_counts: bytes
    packed_count_bytes: int
    def __init__(self, k: _Optional[int] = ..., kll: _Optional[bytes] = ..., capacity: _Optional[int] = ..., exact_limit: _Optional[int] = ..., exact_values: _Optional[_Iterable[float]] = ..., exact_counts: _Optional[_Iterable[int]] = ..., summary: _Optional[_Union[WeightedQuantilesState, _Mapping]] = ..., cells: _Optional[_Union[CellCounts, _Mapping]] = ..., packed_values: _Optional[bytes] = ..., packed_counts: _Optional[bytes] = ..., packed_count_bytes: _Optional[int] = ...) -> None: ...

class CellCounts(_message.Message):
    __slots__ = ("max_cells", "exponent", "index", "count", "low", "high")
    MAX_CELLS_FIELD_NUMBER: _ClassVar[int]
    EXPONENT_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    LOW_FIELD_NUMBER: _ClassVar[int]
    HIGH_FIELD_NUMBER: _ClassVar[int]
    max_cells: int
    exponent: int
    index: _containers.RepeatedScalarFieldContainer[int]
    count: _containers.RepeatedScalarFieldContainer[int]
    low: _containers.RepeatedScalarFieldContainer[float]
    high: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, max_cells: _Optional[int] = ..., exponent: _Optional[int] = ..., index: _Optional[_Iterable[int]] = ..., count: _Optional[_Iterable[int]] = ..., low: _Optional[_Iterable[float]] = ..., high: _Optional[_Iterable[float]] = ...) -> None: ...

class FrequentItemsState(_message.Message):
    __slots__ = ("capacity", "values", "counts", "offset", "total", "folded")
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    FOLDED_FIELD_NUMBER: _ClassVar[int]
    capacity: int
    values: _containers.RepeatedScalarFieldContainer[bytes]
    counts: _containers.RepeatedScalarFieldContainer[float]
    offset: float
    total: float
    folded: float
    def __init__(self, capacity: _Optional[int] = ..., values: _Optional[_Iterable[bytes]] = ..., counts: _Optional[_Iterable[float]] = ..., offset: _Optional[float] = ..., total: _Optional[float] = ..., folded: _Optional[float] = ...) -> None: ...

class DistinctCountState(_message.Message):
    __slots__ = ("precision", "registers", "exact_limit", "hashes", "sparse_registers")
    PRECISION_FIELD_NUMBER: _ClassVar[int]
    REGISTERS_FIELD_NUMBER: _ClassVar[int]
    EXACT_LIMIT_FIELD_NUMBER: _ClassVar[int]
    HASHES_FIELD_NUMBER: _ClassVar[int]
    SPARSE_REGISTERS_FIELD_NUMBER: _ClassVar[int]
    precision: int
    registers: bytes
    exact_limit: int
    hashes: bytes
    sparse_registers: bytes
    def __init__(self, precision: _Optional[int] = ..., registers: _Optional[bytes] = ..., exact_limit: _Optional[int] = ..., hashes: _Optional[bytes] = ..., sparse_registers: _Optional[bytes] = ...) -> None: ...

class MomentsState(_message.Message):
    __slots__ = ("count", "mean", "m2", "min", "max", "num_zeros", "num_nan", "num_pos_inf", "num_neg_inf", "m2_exponent")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    M2_FIELD_NUMBER: _ClassVar[int]
    MIN_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    NUM_ZEROS_FIELD_NUMBER: _ClassVar[int]
    NUM_NAN_FIELD_NUMBER: _ClassVar[int]
    NUM_POS_INF_FIELD_NUMBER: _ClassVar[int]
    NUM_NEG_INF_FIELD_NUMBER: _ClassVar[int]
    M2_EXPONENT_FIELD_NUMBER: _ClassVar[int]
    count: float
    mean: float
    m2: float
    min: float
    max: float
    num_zeros: int
    num_nan: int
    num_pos_inf: int
    num_neg_inf: int
    m2_exponent: int
    def __init__(self, count: _Optional[float] = ..., mean: _Optional[float] = ..., m2: _Optional[float] = ..., min: _Optional[float] = ..., max: _Optional[float] = ..., num_zeros: _Optional[int] = ..., num_nan: _Optional[int] = ..., num_pos_inf: _Optional[int] = ..., num_neg_inf: _Optional[int] = ..., m2_exponent: _Optional[int] = ...) -> None: ...

class CommonState(_message.Message):
    __slots__ = ("num_non_missing", "tot_num_values", "min_num_values", "max_num_values", "num_values", "weighted_num_non_missing", "weighted_tot_num_values")
    NUM_NON_MISSING_FIELD_NUMBER: _ClassVar[int]
    TOT_NUM_VALUES_FIELD_NUMBER: _ClassVar[int]
    MIN_NUM_VALUES_FIELD_NUMBER: _ClassVar[int]
    MAX_NUM_VALUES_FIELD_NUMBER: _ClassVar[int]
    NUM_VALUES_FIELD_NUMBER: _ClassVar[int]
    WEIGHTED_NUM_NON_MISSING_FIELD_NUMBER: _ClassVar[int]
    WEIGHTED_TOT_NUM_VALUES_FIELD_NUMBER: _ClassVar[int]
    num_non_missing: int
    tot_num_values: int
    min_num_values: int
    max_num_values: int
    num_values: QuantilesState
    weighted_num_non_missing: float
    weighted_tot_num_values: float
    def __init__(self, num_non_missing: _Optional[int] = ..., tot_num_values: _Optional[int] = ..., min_num_values: _Optional[int] = ..., max_num_values: _Optional[int] = ..., num_values: _Optional[_Union[QuantilesState, _Mapping]] = ..., weighted_num_non_missing: _Optional[float] = ..., weighted_tot_num_values: _Optional[float] = ...) -> None: ...

class WeightedMomentsState(_message.Message):
    __slots__ = ("weight", "mean", "m2", "m2_exponent")
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    M2_FIELD_NUMBER: _ClassVar[int]
    M2_EXPONENT_FIELD_NUMBER: _ClassVar[int]
    weight: float
    mean: float
    m2: float
    m2_exponent: int
    def __init__(self, weight: _Optional[float] = ..., mean: _Optional[float] = ..., m2: _Optional[float] = ..., m2_exponent: _Optional[int] = ...) -> None: ...

class NumericState(_message.Message):
    __slots__ = ("moments", "quantiles", "has_float", "weighted_moments", "weighted_quantiles")
    MOMENTS_FIELD_NUMBER: _ClassVar[int]
    QUANTILES_FIELD_NUMBER: _ClassVar[int]
    HAS_FLOAT_FIELD_NUMBER: _ClassVar[int]
    WEIGHTED_MOMENTS_FIELD_NUMBER: _ClassVar[int]
    WEIGHTED_QUANTILES_FIELD_NUMBER: _ClassVar[int]
    moments: MomentsState
    quantiles: QuantilesState
    has_float: bool
    weighted_moments: WeightedMomentsState
    weighted_quantiles: WeightedQuantilesState
    def __init__(self, moments: _Optional[_Union[MomentsState, _Mapping]] = ..., quantiles: _Optional[_Union[QuantilesState, _Mapping]] = ..., has_float: _Optional[bool] = ..., weighted_moments: _Optional[_Union[WeightedMomentsState, _Mapping]] = ..., weighted_quantiles: _Optional[_Union[WeightedQuantilesState, _Mapping]] = ...) -> None: ...

class StringState(_message.Message):
    __slots__ = ("top_values", "distinct", "num_values", "total_length", "invalid_utf8_count", "min_length", "max_length", "weighted_top_values")
    TOP_VALUES_FIELD_NUMBER: _ClassVar[int]
    DISTINCT_FIELD_NUMBER: _ClassVar[int]
    NUM_VALUES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_LENGTH_FIELD_NUMBER: _ClassVar[int]
    INVALID_UTF8_COUNT_FIELD_NUMBER: _ClassVar[int]
    MIN_LENGTH_FIELD_NUMBER: _ClassVar[int]
    MAX_LENGTH_FIELD_NUMBER: _ClassVar[int]
    WEIGHTED_TOP_VALUES_FIELD_NUMBER: _ClassVar[int]
    top_values: FrequentItemsState
    distinct: DistinctCountState
    num_values: int
    total_length: int
    invalid_utf8_count: int
    min_length: int
    max_length: int
    weighted_top_values: FrequentItemsState
    def __init__(self, top_values: _Optional[_Union[FrequentItemsState, _Mapping]] = ..., distinct: _Optional[_Union[DistinctCountState, _Mapping]] = ..., num_values: _Optional[int] = ..., total_length: _Optional[int] = ..., invalid_utf8_count: _Optional[int] = ..., min_length: _Optional[int] = ..., max_length: _Optional[int] = ..., weighted_top_values: _Optional[_Union[FrequentItemsState, _Mapping]] = ...) -> None: ...

class FeatureState(_message.Message):
    __slots__ = ("path", "common", "numeric", "string", "kind_counts", "num_invalid_values", "categorical", "declared_bytes", "num_invalid_weights", "position", "custom", "label", "pii", "values_hashed")
    class KindCountsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class CustomEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: bytes
        def __init__(self, key: _Optional[str] = ..., value: _Optional[bytes] = ...) -> None: ...
    PATH_FIELD_NUMBER: _ClassVar[int]
    COMMON_FIELD_NUMBER: _ClassVar[int]
    NUMERIC_FIELD_NUMBER: _ClassVar[int]
    STRING_FIELD_NUMBER: _ClassVar[int]
    KIND_COUNTS_FIELD_NUMBER: _ClassVar[int]
    NUM_INVALID_VALUES_FIELD_NUMBER: _ClassVar[int]
    CATEGORICAL_FIELD_NUMBER: _ClassVar[int]
    DECLARED_BYTES_FIELD_NUMBER: _ClassVar[int]
    NUM_INVALID_WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    PII_FIELD_NUMBER: _ClassVar[int]
    VALUES_HASHED_FIELD_NUMBER: _ClassVar[int]
    path: _containers.RepeatedScalarFieldContainer[str]
    common: CommonState
    numeric: NumericState
    string: StringState
    kind_counts: _containers.ScalarMap[str, int]
    num_invalid_values: int
    categorical: bool
    declared_bytes: bool
    num_invalid_weights: int
    position: int
    custom: _containers.ScalarMap[str, bytes]
    label: LabelState
    pii: PiiState
    values_hashed: bool
    def __init__(self, path: _Optional[_Iterable[str]] = ..., common: _Optional[_Union[CommonState, _Mapping]] = ..., numeric: _Optional[_Union[NumericState, _Mapping]] = ..., string: _Optional[_Union[StringState, _Mapping]] = ..., kind_counts: _Optional[_Mapping[str, int]] = ..., num_invalid_values: _Optional[int] = ..., categorical: _Optional[bool] = ..., declared_bytes: _Optional[bool] = ..., num_invalid_weights: _Optional[int] = ..., position: _Optional[int] = ..., custom: _Optional[_Mapping[str, bytes]] = ..., label: _Optional[_Union[LabelState, _Mapping]] = ..., pii: _Optional[_Union[PiiState, _Mapping]] = ..., values_hashed: _Optional[bool] = ...) -> None: ...

class PiiState(_message.Message):
    __slots__ = ("checked", "matches")
    class MatchesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    CHECKED_FIELD_NUMBER: _ClassVar[int]
    MATCHES_FIELD_NUMBER: _ClassVar[int]
    checked: int
    matches: _containers.ScalarMap[str, int]
    def __init__(self, checked: _Optional[int] = ..., matches: _Optional[_Mapping[str, int]] = ...) -> None: ...

class LabelState(_message.Message):
    __slots__ = ("off", "class_counts", "pairs", "quantiles", "unclassified", "moments")
    class ClassCountsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class QuantilesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: QuantilesState
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[QuantilesState, _Mapping]] = ...) -> None: ...
    OFF_FIELD_NUMBER: _ClassVar[int]
    CLASS_COUNTS_FIELD_NUMBER: _ClassVar[int]
    PAIRS_FIELD_NUMBER: _ClassVar[int]
    QUANTILES_FIELD_NUMBER: _ClassVar[int]
    UNCLASSIFIED_FIELD_NUMBER: _ClassVar[int]
    MOMENTS_FIELD_NUMBER: _ClassVar[int]
    off: str
    class_counts: _containers.ScalarMap[str, int]
    pairs: FrequentItemsState
    quantiles: _containers.MessageMap[str, QuantilesState]
    unclassified: int
    moments: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, off: _Optional[str] = ..., class_counts: _Optional[_Mapping[str, int]] = ..., pairs: _Optional[_Union[FrequentItemsState, _Mapping]] = ..., quantiles: _Optional[_Mapping[str, QuantilesState]] = ..., unclassified: _Optional[int] = ..., moments: _Optional[_Iterable[float]] = ...) -> None: ...

class DatasetState(_message.Message):
    __slots__ = ("format_version", "num_examples", "weighted_num_examples", "features", "settings", "composites")
    FORMAT_VERSION_FIELD_NUMBER: _ClassVar[int]
    NUM_EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    WEIGHTED_NUM_EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    COMPOSITES_FIELD_NUMBER: _ClassVar[int]
    format_version: int
    num_examples: int
    weighted_num_examples: float
    features: _containers.RepeatedCompositeFieldContainer[FeatureState]
    settings: SketchSettings
    composites: _containers.RepeatedCompositeFieldContainer[CompositeState]
    def __init__(self, format_version: _Optional[int] = ..., num_examples: _Optional[int] = ..., weighted_num_examples: _Optional[float] = ..., features: _Optional[_Iterable[_Union[FeatureState, _Mapping]]] = ..., settings: _Optional[_Union[SketchSettings, _Mapping]] = ..., composites: _Optional[_Iterable[_Union[CompositeState, _Mapping]]] = ...) -> None: ...

class SketchSettings(_message.Message):
    __slots__ = ("quantiles_k", "quantiles_capacity", "quantiles_exact_limit", "top_k_capacity", "distinct_precision", "weight_feature", "weighted_quantiles_capacity", "distinct_exact_limit", "composites", "custom_statistics", "label", "privacy")
    QUANTILES_K_FIELD_NUMBER: _ClassVar[int]
    QUANTILES_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    QUANTILES_EXACT_LIMIT_FIELD_NUMBER: _ClassVar[int]
    TOP_K_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    DISTINCT_PRECISION_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FEATURE_FIELD_NUMBER: _ClassVar[int]
    WEIGHTED_QUANTILES_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    DISTINCT_EXACT_LIMIT_FIELD_NUMBER: _ClassVar[int]
    COMPOSITES_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_STATISTICS_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    PRIVACY_FIELD_NUMBER: _ClassVar[int]
    quantiles_k: int
    quantiles_capacity: int
    quantiles_exact_limit: int
    top_k_capacity: int
    distinct_precision: int
    weight_feature: str
    weighted_quantiles_capacity: int
    distinct_exact_limit: int
    composites: _containers.RepeatedCompositeFieldContainer[CompositeSpec]
    custom_statistics: _containers.RepeatedScalarFieldContainer[str]
    label: LabelSettings
    privacy: PrivacyPolicy
    def __init__(self, quantiles_k: _Optional[int] = ..., quantiles_capacity: _Optional[int] = ..., quantiles_exact_limit: _Optional[int] = ..., top_k_capacity: _Optional[int] = ..., distinct_precision: _Optional[int] = ..., weight_feature: _Optional[str] = ..., weighted_quantiles_capacity: _Optional[int] = ..., distinct_exact_limit: _Optional[int] = ..., composites: _Optional[_Iterable[_Union[CompositeSpec, _Mapping]]] = ..., custom_statistics: _Optional[_Iterable[str]] = ..., label: _Optional[_Union[LabelSettings, _Mapping]] = ..., privacy: _Optional[_Union[PrivacyPolicy, _Mapping]] = ...) -> None: ...

class PrivacyPolicy(_message.Message):
    __slots__ = ("redact", "redact_pii", "hash", "hash_key_id", "min_count")
    REDACT_FIELD_NUMBER: _ClassVar[int]
    REDACT_PII_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    HASH_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_COUNT_FIELD_NUMBER: _ClassVar[int]
    redact: _containers.RepeatedScalarFieldContainer[str]
    redact_pii: bool
    hash: _containers.RepeatedScalarFieldContainer[str]
    hash_key_id: str
    min_count: int
    def __init__(self, redact: _Optional[_Iterable[str]] = ..., redact_pii: _Optional[bool] = ..., hash: _Optional[_Iterable[str]] = ..., hash_key_id: _Optional[str] = ..., min_count: _Optional[int] = ...) -> None: ...

class LabelSettings(_message.Message):
    __slots__ = ("feature", "max_classes", "bins", "top_values", "feature_bins", "pair_capacity")
    FEATURE_FIELD_NUMBER: _ClassVar[int]
    MAX_CLASSES_FIELD_NUMBER: _ClassVar[int]
    BINS_FIELD_NUMBER: _ClassVar[int]
    TOP_VALUES_FIELD_NUMBER: _ClassVar[int]
    FEATURE_BINS_FIELD_NUMBER: _ClassVar[int]
    PAIR_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    feature: str
    max_classes: int
    bins: _containers.RepeatedScalarFieldContainer[float]
    top_values: int
    feature_bins: int
    pair_capacity: int
    def __init__(self, feature: _Optional[str] = ..., max_classes: _Optional[int] = ..., bins: _Optional[_Iterable[float]] = ..., top_values: _Optional[int] = ..., feature_bins: _Optional[int] = ..., pair_capacity: _Optional[int] = ...) -> None: ...

class PathSteps(_message.Message):
    __slots__ = ("step",)
    STEP_FIELD_NUMBER: _ClassVar[int]
    step: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, step: _Optional[_Iterable[str]] = ...) -> None: ...

class CompositeSpec(_message.Message):
    __slots__ = ("path", "kind", "value", "components")
    PATH_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    COMPONENTS_FIELD_NUMBER: _ClassVar[int]
    path: PathSteps
    kind: str
    value: PathSteps
    components: _containers.RepeatedCompositeFieldContainer[PathSteps]
    def __init__(self, path: _Optional[_Union[PathSteps, _Mapping]] = ..., kind: _Optional[str] = ..., value: _Optional[_Union[PathSteps, _Mapping]] = ..., components: _Optional[_Iterable[_Union[PathSteps, _Mapping]]] = ...) -> None: ...

class CompositeState(_message.Message):
    __slots__ = ("path", "num_present", "missing_value", "missing", "min_length_diff", "max_length_diff")
    PATH_FIELD_NUMBER: _ClassVar[int]
    NUM_PRESENT_FIELD_NUMBER: _ClassVar[int]
    MISSING_VALUE_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    MIN_LENGTH_DIFF_FIELD_NUMBER: _ClassVar[int]
    MAX_LENGTH_DIFF_FIELD_NUMBER: _ClassVar[int]
    path: PathSteps
    num_present: int
    missing_value: int
    missing: _containers.RepeatedScalarFieldContainer[int]
    min_length_diff: _containers.RepeatedScalarFieldContainer[int]
    max_length_diff: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, path: _Optional[_Union[PathSteps, _Mapping]] = ..., num_present: _Optional[int] = ..., missing_value: _Optional[int] = ..., missing: _Optional[_Iterable[int]] = ..., min_length_diff: _Optional[_Iterable[int]] = ..., max_length_diff: _Optional[_Iterable[int]] = ...) -> None: ...

class ResultOptions(_message.Message):
    __slots__ = ("num_histogram_buckets", "num_quantiles_histogram_buckets", "num_values_histogram_buckets", "num_top_values", "num_rank_histogram_buckets", "groups")
    NUM_HISTOGRAM_BUCKETS_FIELD_NUMBER: _ClassVar[int]
    NUM_QUANTILES_HISTOGRAM_BUCKETS_FIELD_NUMBER: _ClassVar[int]
    NUM_VALUES_HISTOGRAM_BUCKETS_FIELD_NUMBER: _ClassVar[int]
    NUM_TOP_VALUES_FIELD_NUMBER: _ClassVar[int]
    NUM_RANK_HISTOGRAM_BUCKETS_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    num_histogram_buckets: int
    num_quantiles_histogram_buckets: int
    num_values_histogram_buckets: int
    num_top_values: int
    num_rank_histogram_buckets: int
    groups: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, num_histogram_buckets: _Optional[int] = ..., num_quantiles_histogram_buckets: _Optional[int] = ..., num_values_histogram_buckets: _Optional[int] = ..., num_top_values: _Optional[int] = ..., num_rank_histogram_buckets: _Optional[int] = ..., groups: _Optional[_Iterable[str]] = ...) -> None: ...

class StoredFeatureState(_message.Message):
    __slots__ = ("format_version", "settings", "options", "state", "composites", "checksum")
    FORMAT_VERSION_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    COMPOSITES_FIELD_NUMBER: _ClassVar[int]
    CHECKSUM_FIELD_NUMBER: _ClassVar[int]
    format_version: int
    settings: SketchSettings
    options: ResultOptions
    state: FeatureState
    composites: _containers.RepeatedCompositeFieldContainer[CompositeState]
    checksum: int
    def __init__(self, format_version: _Optional[int] = ..., settings: _Optional[_Union[SketchSettings, _Mapping]] = ..., options: _Optional[_Union[ResultOptions, _Mapping]] = ..., state: _Optional[_Union[FeatureState, _Mapping]] = ..., composites: _Optional[_Iterable[_Union[CompositeState, _Mapping]]] = ..., checksum: _Optional[int] = ...) -> None: ...

class WeightedQuantilesState(_message.Message):
    __slots__ = ("capacity", "levels", "error", "min", "max", "total_weight")
    class Level(_message.Message):
        __slots__ = ("values", "weights")
        VALUES_FIELD_NUMBER: _ClassVar[int]
        WEIGHTS_FIELD_NUMBER: _ClassVar[int]
        values: _containers.RepeatedScalarFieldContainer[float]
        weights: _containers.RepeatedScalarFieldContainer[float]
        def __init__(self, values: _Optional[_Iterable[float]] = ..., weights: _Optional[_Iterable[float]] = ...) -> None: ...
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    LEVELS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    MIN_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    TOTAL_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    capacity: int
    levels: _containers.RepeatedCompositeFieldContainer[WeightedQuantilesState.Level]
    error: float
    min: float
    max: float
    total_weight: float
    def __init__(self, capacity: _Optional[int] = ..., levels: _Optional[_Iterable[_Union[WeightedQuantilesState.Level, _Mapping]]] = ..., error: _Optional[float] = ..., min: _Optional[float] = ..., max: _Optional[float] = ..., total_weight: _Optional[float] = ...) -> None: ...
