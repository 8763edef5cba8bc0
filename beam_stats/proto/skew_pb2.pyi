from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MismatchSample(_message.Message):
    __slots__ = ("identifier", "base_value", "test_value", "key")
    IDENTIFIER_FIELD_NUMBER: _ClassVar[int]
    BASE_VALUE_FIELD_NUMBER: _ClassVar[int]
    TEST_VALUE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    identifier: str
    base_value: str
    test_value: str
    key: bytes
    def __init__(self, identifier: _Optional[str] = ..., base_value: _Optional[str] = ..., test_value: _Optional[str] = ..., key: _Optional[bytes] = ...) -> None: ...

class FeatureSkew(_message.Message):
    __slots__ = ("feature", "base_count", "test_count", "match_count", "mismatch_count", "base_only", "test_only", "samples")
    FEATURE_FIELD_NUMBER: _ClassVar[int]
    BASE_COUNT_FIELD_NUMBER: _ClassVar[int]
    TEST_COUNT_FIELD_NUMBER: _ClassVar[int]
    MATCH_COUNT_FIELD_NUMBER: _ClassVar[int]
    MISMATCH_COUNT_FIELD_NUMBER: _ClassVar[int]
    BASE_ONLY_FIELD_NUMBER: _ClassVar[int]
    TEST_ONLY_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    feature: str
    base_count: int
    test_count: int
    match_count: int
    mismatch_count: int
    base_only: int
    test_only: int
    samples: _containers.RepeatedCompositeFieldContainer[MismatchSample]
    def __init__(self, feature: _Optional[str] = ..., base_count: _Optional[int] = ..., test_count: _Optional[int] = ..., match_count: _Optional[int] = ..., mismatch_count: _Optional[int] = ..., base_only: _Optional[int] = ..., test_only: _Optional[int] = ..., samples: _Optional[_Iterable[_Union[MismatchSample, _Mapping]]] = ...) -> None: ...

class FeatureSkewResult(_message.Message):
    __slots__ = ("joined", "base_only_ids", "test_only_ids", "base_duplicate_ids", "test_duplicate_ids", "base_null_ids", "test_null_ids", "features", "float_tolerance", "float_absolute_tolerance", "base_rows", "test_rows", "base_duplicate_rows", "test_duplicate_rows", "duplicate_ids_skipped", "identifier_features")
    JOINED_FIELD_NUMBER: _ClassVar[int]
    BASE_ONLY_IDS_FIELD_NUMBER: _ClassVar[int]
    TEST_ONLY_IDS_FIELD_NUMBER: _ClassVar[int]
    BASE_DUPLICATE_IDS_FIELD_NUMBER: _ClassVar[int]
    TEST_DUPLICATE_IDS_FIELD_NUMBER: _ClassVar[int]
    BASE_NULL_IDS_FIELD_NUMBER: _ClassVar[int]
    TEST_NULL_IDS_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    FLOAT_TOLERANCE_FIELD_NUMBER: _ClassVar[int]
    FLOAT_ABSOLUTE_TOLERANCE_FIELD_NUMBER: _ClassVar[int]
    BASE_ROWS_FIELD_NUMBER: _ClassVar[int]
    TEST_ROWS_FIELD_NUMBER: _ClassVar[int]
    BASE_DUPLICATE_ROWS_FIELD_NUMBER: _ClassVar[int]
    TEST_DUPLICATE_ROWS_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_IDS_SKIPPED_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIER_FEATURES_FIELD_NUMBER: _ClassVar[int]
    joined: int
    base_only_ids: int
    test_only_ids: int
    base_duplicate_ids: int
    test_duplicate_ids: int
    base_null_ids: int
    test_null_ids: int
    features: _containers.RepeatedCompositeFieldContainer[FeatureSkew]
    float_tolerance: float
    float_absolute_tolerance: float
    base_rows: int
    test_rows: int
    base_duplicate_rows: int
    test_duplicate_rows: int
    duplicate_ids_skipped: int
    identifier_features: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, joined: _Optional[int] = ..., base_only_ids: _Optional[int] = ..., test_only_ids: _Optional[int] = ..., base_duplicate_ids: _Optional[int] = ..., test_duplicate_ids: _Optional[int] = ..., base_null_ids: _Optional[int] = ..., test_null_ids: _Optional[int] = ..., features: _Optional[_Iterable[_Union[FeatureSkew, _Mapping]]] = ..., float_tolerance: _Optional[float] = ..., float_absolute_tolerance: _Optional[float] = ..., base_rows: _Optional[int] = ..., test_rows: _Optional[int] = ..., base_duplicate_rows: _Optional[int] = ..., test_duplicate_rows: _Optional[int] = ..., duplicate_ids_skipped: _Optional[int] = ..., identifier_features: _Optional[_Iterable[str]] = ...) -> None: ...
