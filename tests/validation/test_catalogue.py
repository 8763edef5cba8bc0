"""The anomaly catalogue against the source, against validation, and docs/ANOMALIES.md."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from anomaly_helpers import schema, stats
from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2, statistics_pb2
from test_validation_anomalies import CASES

import beam_stats
from beam_stats import set_drift_thresholds, set_skew_thresholds
from beam_stats.drift.threshold_schema import set_group_thresholds
from beam_stats.stats import StatisticsSpec
from beam_stats.validation import ValidationSpec, anomaly_rows, validate_statistics
from beam_stats.validation.catalogue import CATALOGUE, FAMILIES, AnomalyEntry, main, render_markdown
from beam_stats.validation.examples import ExampleChecks

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path(beam_stats.__file__).parent
TYPE_NAMES = set(anomalies_pb2.AnomalyInfo.Type.keys())
BY_NAME = {entry.name: entry for entry in CATALOGUE}
#: Modules that read anomaly names (to print or count them) without raising any.
READERS = ("beam_stats.cli.", "beam_stats.report.", "beam_stats.proto.")
# Modules that read anomaly names, raising none (example_privacy: which reasons quote values;
# history_series: which metric's chart marks an anomaly).
READERS_EXACT = {
    "beam_stats.validation.catalogue",
    "beam_stats.validation.example_privacy",
    "beam_stats.validation.history_series",
}
CUSTOM_NAME = re.compile(r"(COMPARATOR|GROUP|PII|HISTORY)_[A-Z0-9_]+")


def test_docs_anomalies_md_is_fresh() -> None:
    committed = (ROOT / "docs" / "ANOMALIES.md").read_text(encoding="utf-8")
    assert committed == render_markdown(), "docs/ANOMALIES.md is stale: run `make docs`"


def test_the_entry_point_prints_the_doc() -> None:
    command = [sys.executable, "-m", "beam_stats.validation.catalogue"]
    printed = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
    assert printed.stdout == render_markdown()
    assert main(["a"]) == 2
    assert "`COMPARATOR_PSI_HIGH` (`CUSTOM_VALIDATION`)" in render_markdown()


def test_the_makefile_has_a_docs_target() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(
        r"^docs:.*\n\t.*-m beam_stats\.validation\.catalogue > docs/ANOMALIES\.md\.tmp\n"
        r"\tmv docs/ANOMALIES\.md\.tmp docs/ANOMALIES\.md$",
        makefile,
        re.M,
    )
    assert "docs/ANOMALIES.md" in (ROOT / "README.md").read_text()


def test_entries_are_well_formed() -> None:
    assert len(BY_NAME) == len(CATALOGUE), "a name is catalogued twice"
    for entry in CATALOGUE:
        assert entry.anomaly_type in TYPE_NAMES, entry
        if entry.anomaly_type == "CUSTOM_VALIDATION":
            assert entry.name not in TYPE_NAMES and CUSTOM_NAME.fullmatch(entry.name)
        else:
            assert entry.name == entry.anomaly_type
        assert entry.family in FAMILIES
        assert entry.checks and entry.checks[0].startswith(entry.family + ":"), entry
        assert entry.severity in ("ERROR", "WARNING")
        assert entry.description.endswith(".") and "\n" not in entry.description
    assert set(FAMILIES) == {entry.family for entry in CATALOGUE}


def _resolve(reference: str) -> Any:
    module, name = reference.split(":")
    found: Any = importlib.import_module(module)
    for part in name.split("."):
        found = getattr(found, part)
    return found


@pytest.mark.parametrize(
    "reference", sorted({r for e in CATALOGUE for r in e.checks + e.example_checks})
)
def test_every_catalogued_check_exists(reference: str) -> None:
    assert callable(_resolve(reference))


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(
        ".__init__"
    )


def _names_in(node: ast.AST) -> set[str]:
    """Anomaly names in code: ``X.NAME`` attributes and ``"NAME"`` strings (not docstrings)."""
    found = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute) and sub.attr in TYPE_NAMES:
            found.add(sub.attr)
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            found.update(n for n in [sub.value] if n in TYPE_NAMES or CUSTOM_NAME.fullmatch(n))
    return found


def _names_used(path: Path) -> set[str]:
    return _names_in(ast.parse(path.read_text(encoding="utf-8")))


def _is_self(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id in ("self", "cls")


def _reachable_names(reference: str) -> set[str]:
    """The anomaly names a function (``module:qualname``) uses itself or through the
    functions, methods and constants of its module it refers to."""
    module, qualname = reference.split(":")
    tree = ast.parse(Path(importlib.import_module(module).__file__ or "").read_text())
    definitions: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            definitions[node.name] = node
            for item in node.body if isinstance(node, ast.ClassDef) else []:
                if isinstance(item, ast.FunctionDef):
                    definitions[f"{node.name}.{item.name}"] = item
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            definitions.update((t.id, node) for t in targets if isinstance(t, ast.Name))
    names: set[str] = set()
    seen: set[str] = set()
    todo = [qualname]
    while todo:
        key = todo.pop()
        if key in seen or key not in definitions:
            continue
        seen.add(key)
        names |= _names_in(definitions[key])
        owner = key.split(".")[0]
        for sub in ast.walk(definitions[key]):
            if isinstance(sub, ast.Name):
                todo.append(sub.id)
            elif isinstance(sub, ast.Attribute) and _is_self(sub.value):
                todo.append(f"{owner}.{sub.attr}")
    return names


def _used_by_module() -> dict[str, set[str]]:
    used = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        if module.startswith(READERS) or module in READERS_EXACT:
            continue
        names = _names_used(path)
        if names:
            used[module] = names
    return used


def _modules(entry: AnomalyEntry) -> set[str]:
    return {reference.split(":")[0] for reference in entry.checks + entry.example_checks}


def test_every_name_raised_in_the_source_is_catalogued_with_its_module() -> None:
    used = _used_by_module()
    assert "beam_stats.schema.checks.domains" in used  # the scan finds something
    for module, names in used.items():
        for name in names:
            entries = [e for e in CATALOGUE if name in (e.name, e.anomaly_type)]
            assert entries, f"{module} uses {name}, which the catalogue lacks"
            assert any(module in _modules(e) for e in entries), (
                f"{module} uses {name}, but the catalogue names other modules for it"
            )


def test_every_catalogued_check_uses_the_name() -> None:
    for entry in CATALOGUE:
        for reference in entry.checks:
            assert entry.name in _reachable_names(reference), f"{reference}: no {entry.name}"
        if entry.example_checks:
            assert any(entry.name in _reachable_names(r) for r in entry.example_checks), entry


# Statistics that trigger an entry: what validate_statistics is called with.
@dataclasses.dataclass(frozen=True)
class Trigger:
    schema: schema_pb2.Schema
    table: dict[str, Any]  # the data, as columns (checked per example too)
    kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    patch: Any = None  # edits the statistics (TFDV's custom statistics beam-stats lacks)
    spec: StatisticsSpec | None = None

    def statistics(self) -> statistics_pb2.DatasetFeatureStatisticsList:
        result = stats(self.table, self.spec)
        if self.patch is not None:
            self.patch(result.datasets[0].features[0])
        return result


INT, BYTES = 'feature { name: "x" type: INT ', 'feature { name: "x" type: BYTES '
TRIGGERS: dict[str, Trigger] = {c.anomaly: Trigger(schema(c.schema), c.bad) for c in CASES}


def _add(name: str, text: str, table: dict[str, Any], patch: Any = None, **kwargs: Any) -> None:
    TRIGGERS[name] = Trigger(schema(text), table, kwargs, patch)


_add("FEATURE_MISSING_NAME", "feature { type: INT }", {"x": [1]})
_add("FEATURE_MISSING_TYPE", 'feature { name: "x" }', {"x": [1]})
_add("INVALID_SCHEMA_SPECIFICATION", INT + "presence { min_fraction: 2 } }", {"x": [1]})
_add("INVALID_DOMAIN_SPECIFICATION", BYTES + 'domain: "none" }', {"x": ["a"]})
_add(
    "DERIVED_FEATURE_BAD_LIFECYCLE",
    INT + 'validation_derived_source { deriver_name: "d" } }',
    {"x": [1]},
)
_add(
    "MAX_IMAGE_BYTE_SIZE_EXCEEDED",
    BYTES + "image_domain { max_image_byte_size: 2 } }",
    {"x": [b"\xff\xd8\xff"]},
)


def _images(feature: statistics_pb2.FeatureNameStatistics) -> None:
    histogram = feature.custom_stats.add(name="image_format_histogram").rank_histogram
    histogram.buckets.add(label="png", sample_count=1)
    histogram.buckets.add(label="UNKNOWN", sample_count=3)


_add(
    "LOW_SUPPORTED_IMAGE_FRACTION",
    BYTES + "image_domain { minimum_supported_image_fraction: 0.5 } }",
    {"x": [b"a"]},
    _images,
)


def _nl(feature: statistics_pb2.FeatureNameStatistics) -> None:
    nl = statistics_pb2.NaturalLanguageStatistics(feature_coverage=0.1, avg_token_length=2)
    nl.token_statistics.add(
        string_token="t",
        fraction_of_sequences=0.5,
        per_sequence_min_frequency=1,
        per_sequence_max_frequency=3,
    )
    feature.custom_stats.add(name="nl_statistics").any.Pack(nl)


NL = BYTES + "natural_language_domain { %s } }"
_add("STATS_NOT_AVAILABLE", NL % "coverage { min_coverage: 0.5 }", {"x": ["a b"]})
_add("FEATURE_COVERAGE_TOO_LOW", NL % "coverage { min_coverage: 0.5 }", {"x": ["a b"]}, _nl)
_add(
    "FEATURE_COVERAGE_TOO_SHORT_AVG_TOKEN_LENGTH",
    NL % "coverage { min_avg_token_length: 3 }",
    {"x": ["a b"]},
    _nl,
)
for _name, _constraint in (
    ("SEQUENCE_VALUE_TOO_SMALL_FRACTION", "min_fraction_of_sequences: 0.6"),
    ("SEQUENCE_VALUE_TOO_LARGE_FRACTION", "max_fraction_of_sequences: 0.4"),
    ("SEQUENCE_VALUE_TOO_FEW_OCCURRENCES", "min_per_sequence: 2"),
    ("SEQUENCE_VALUE_TOO_MANY_OCCURRENCES", "max_per_sequence: 2"),
):
    _add(_name, NL % f'token_constraints {{ string_value: "t" {_constraint} }}', {"x": ["t"]}, _nl)
_add(
    "SEMANTIC_DOMAIN_UPDATE",
    BYTES + "}",
    {"x": [b"a"]},
    lambda f: f.custom_stats.add(name="domain_info", str="image_domain {}"),
)
_add(
    "DERIVED_FEATURE_INVALID_SOURCE",
    INT + "}",
    {"x": [1]},
    lambda f: f.validation_derived_source.SetInParent(),
)
_add(
    "VALUE_NESTEDNESS_MISMATCH",
    INT + "value_count { min: 1 } }",
    {"x": [1]},
    lambda f: [
        f.num_stats.common_stats.presence_and_valency_stats.add(min_num_values=1) for _ in range(2)
    ],
)

SPARSE = 'sparse_feature { name: "s" index_feature { name: "i" } value_feature { name: "v" } }'
WEIGHTED = 'weighted_feature { name: "w" feature { step: "v" } weight_feature { step: "u" } }'
INTS = pa.list_(pa.int64())
_add(
    "SPARSE_FEATURE_NAME_COLLISION",
    SPARSE + ' feature { name: "s" type: INT }',
    {"s": [1], "i": [0], "v": [1]},
)
_add(
    "WEIGHTED_FEATURE_NAME_COLLISION",
    WEIGHTED + ' feature { name: "w" type: INT }',
    {"w": [1], "u": [1.0], "v": [1]},
)
_add("SPARSE_FEATURE_MISSING_VALUE", SPARSE, {"i": [0, 1], "v": [1, None]})
_add("SPARSE_FEATURE_MISSING_INDEX", SPARSE, {"i": [0, None], "v": [1, 2]})
_add(
    "SPARSE_FEATURE_LENGTH_MISMATCH",
    SPARSE,
    {"i": pa.array([[0], [1]], INTS), "v": pa.array([[1], [2, 3]], INTS)},
)
_add("WEIGHTED_FEATURE_MISSING_VALUE", WEIGHTED, {"u": [1.0, 2.0], "v": [1, None]})
_add("WEIGHTED_FEATURE_MISSING_WEIGHT", WEIGHTED, {"u": [1.0, None], "v": [1, 2]})
_add(
    "WEIGHTED_FEATURE_LENGTH_MISMATCH",
    WEIGHTED,
    {"u": pa.array([[1], [2]], INTS), "v": pa.array([[1], [2, 3]], INTS)},
)

# Comparators: 100 examples now against 100 before, shifted.
BEFORE_TEXT, NOW_TEXT = ["a"] * 50 + ["b"] * 50, ["a"] * 10 + ["b"] * 90
BEFORE_NUM, NOW_NUM = list(range(100)), [v + 60 for v in range(100)]


def _drift(name: str, measure: str, threshold: float, numeric: bool = False) -> None:
    text = (INT if numeric else BYTES) + "}"
    before, now = (BEFORE_NUM, NOW_NUM) if numeric else (BEFORE_TEXT, NOW_TEXT)
    if measure == "missing_fraction":
        now = [None] * 50 + now[50:]
    TRIGGERS[name] = Trigger(
        set_drift_thresholds(schema(text), "x", **{measure: threshold}),
        {"x": now},
        {"previous_statistics": stats({"x": before})},
    )


_drift("COMPARATOR_L_INFTY_HIGH", "l_infinity", 0.1)
_drift("COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH", "jensen_shannon", 0.01, numeric=True)
_drift("COMPARATOR_NORMALIZED_ABSOLUTE_DIFFERENCE_HIGH", "normalized_abs_difference", 0.1)
_drift("COMPARATOR_PSI_HIGH", "psi", 0.1)
_drift("COMPARATOR_KOLMOGOROV_SMIRNOV_HIGH", "ks", 0.1, numeric=True)
_drift("COMPARATOR_WASSERSTEIN_HIGH", "wasserstein", 0.1, numeric=True)
_drift("COMPARATOR_HELLINGER_HIGH", "hellinger", 0.05)
_drift("COMPARATOR_CHI_SQUARED_P_VALUE_LOW", "chi_squared", 0.05)
_drift("COMPARATOR_MISSING_FRACTION_HIGH", "missing_fraction", 0.1)
TRIGGERS["COMPARATOR_CONTROL_DATA_MISSING"] = Trigger(
    set_skew_thresholds(schema(BYTES + "}"), "x", l_infinity=0.1),
    {"x": ["a"]},
    {"serving_statistics": stats({"y": ["a"]})},
)
for _name, _ratio in (("COMPARATOR_LOW_NUM_EXAMPLES", 0.9), ("COMPARATOR_HIGH_NUM_EXAMPLES", 1.1)):
    _side = "min" if _ratio < 1 else "max"
    TRIGGERS[_name] = Trigger(
        schema(
            INT + "} dataset_constraints { num_examples_drift_comparator { "
            f"{_side}_fraction_threshold: {_ratio} }} }}"
        ),
        {"x": [1] * (5 if _ratio < 1 else 20)},
        {"previous_statistics": stats({"x": [1] * 10})},
    )
TRIGGERS["SCHEMA_TRAINING_SERVING_SKEW"] = Trigger(
    schema(INT + "}"), {"x": [1]}, {"serving_statistics": stats({"x": [1.5]})}
)
# The label's effect reversed: P(y | x=a) goes from 1 to 0 in 40 examples per value.
_LABELED = StatisticsSpec(label="y")
TRIGGERS["COMPARATOR_CONCEPT_SHIFT_HIGH"] = Trigger(
    set_drift_thresholds(schema(BYTES + "}"), "x", concept_shift=0.1),
    {"x": ["a", "b"] * 40, "y": [1, 0] * 40},
    {"previous_statistics": stats({"x": ["a", "b"] * 40, "y": [0, 1] * 40}, _LABELED)},
    spec=_LABELED,
)
# Groups of x: "b" is 5% of the examples; "a" is all labeled 1, "b" all 0 (the whole: half).
_GROUPED = StatisticsSpec(groups=("x",))
_GROUPED_LABELED = StatisticsSpec(groups=("x",), label="y")
TRIGGERS["GROUP_SHARE_LOW"] = Trigger(
    set_group_thresholds(schema(BYTES + "}"), "x", min_share=0.1),
    {"x": ["a"] * 95 + ["b"] * 5},
    spec=_GROUPED,
)
TRIGGERS["GROUP_LABEL_DISPARITY_HIGH"] = Trigger(
    set_group_thresholds(schema(BYTES + "}"), "x", max_label_disparity=0.2),
    {"x": ["a"] * 50 + ["b"] * 50, "y": [1] * 50 + [0] * 50},
    spec=_GROUPED_LABELED,
)
TRIGGERS["GROUP_SHARE_MOVED"] = Trigger(
    set_drift_thresholds(schema(BYTES + "}"), "x", group_share=0.1),
    {"x": ["a"] * 50 + ["b"] * 50},
    {"previous_statistics": stats({"x": ["a"] * 80 + ["b"] * 20}, _GROUPED)},
    spec=_GROUPED,
)
# Half of x's values are e-mail addresses.
TRIGGERS["PII_SUSPECTED"] = Trigger(schema(BYTES + "}"), {"x": ["a@example.com", "b"] * 20})
#: Entries no cheap statistics trigger: none left.
UNTRIGGERED: set[str] = set()
#: Entries raised by monitoring a history, not by validate_statistics
#: (tests/validation/test_monitor_history.py raises each).
MONITORED = {"HISTORY_ROLLING_DRIFT_HIGH", "HISTORY_NUM_EXAMPLES_DROP", "HISTORY_METRIC_OUTLIER"}


def _reasons(anomalies: anomalies_pb2.Anomalies, entry: AnomalyEntry) -> list[Any]:
    wanted = anomalies_pb2.AnomalyInfo.Type.Value(entry.anomaly_type)
    infos = [anomalies.dataset_anomaly_info, *anomalies.anomaly_info.values()]
    return [
        (info, reason)
        for info in infos
        for reason in info.reason
        if reason.type == wanted
        and (entry.name == entry.anomaly_type or reason.short_description == entry.name)
    ]


def test_coverage_of_the_triggers() -> None:
    """Which entries the validation test below triggers (a count the report quotes)."""
    assert set(TRIGGERS) <= set(BY_NAME)
    assert set(BY_NAME) - set(TRIGGERS) == UNTRIGGERED | MONITORED
    assert len(TRIGGERS) + len(MONITORED) == len(CATALOGUE) == 75


@pytest.mark.parametrize("name", sorted(TRIGGERS))
def test_validation_raises_the_entry_at_its_severity(name: str) -> None:
    entry, trigger = BY_NAME[name], TRIGGERS[name]
    statistics = trigger.statistics()
    found = validate_statistics(statistics, trigger.schema, **trigger.kwargs)
    reasons = _reasons(found, entry)
    assert reasons, f"{name} not raised: {found}"
    rows = [
        r for r in anomaly_rows(found) if r.short_description == reasons[0][1].short_description
    ]
    assert {r.severity for r in rows} == {entry.severity}
    assert all(
        info.severity >= anomalies_pb2.AnomalyInfo.Severity.Value(entry.severity)
        for info, _ in reasons
    )
    # The documented override works on the type (all CUSTOM_VALIDATION comparators at once).
    other = "WARNING" if entry.severity == "ERROR" else "ERROR"
    spec = ValidationSpec(severity_overrides={entry.anomaly_type: other})
    overridden = validate_statistics(statistics, trigger.schema, **trigger.kwargs, spec=spec)
    rows = [r for r in anomaly_rows(overridden, spec) if r.type == entry.anomaly_type]
    assert rows and {r.severity for r in rows} == {other}


#: Per-example entries whose statistics trigger's rows do not break per row: presence in
#: some example (min_count) is a dataset property.
ROWLESS = {"FEATURE_TYPE_NOT_PRESENT"}
#: Rows find DOMAIN_INVALID_FOR_TYPE as a schema problem (binary values with a string domain
#: are ENUM_TYPE_INVALID_UTF8 per value).
ROW_TRIGGERS = {
    "DOMAIN_INVALID_FOR_TYPE": Trigger(schema(INT + 'string_domain { value: "a" } }'), {"x": [1]})
}


@pytest.mark.parametrize("name", sorted(n for n in TRIGGERS if BY_NAME[n].example_checks))
def test_example_validation_raises_the_entry(name: str) -> None:
    trigger = ROW_TRIGGERS.get(name, TRIGGERS[name])
    checks = ExampleChecks(trigger.schema, trigger.kwargs.get("environment"))
    result = checks.check(pa.record_batch(pa.table(trigger.table).to_batches()[0]))
    found = set(result.anomaly_rows) | {c.anomaly for c in result.new_columns}
    found |= {c.anomaly for c in checks.schema_problems}
    if name in ROWLESS:
        assert name not in found
    else:
        assert name in found
