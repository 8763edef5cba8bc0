# beam-stats: `make demo` runs the main job on bundled data, `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test test-runners runners lint typecheck protos docs bench bench-workloads clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Regenerates the Python code of protos/ into beam_stats/proto/ (tests/test_protos.py
# fails when the committed files differ from a fresh run of this target).
protos: $(STAMP)
	$(PY) -m grpc_tools.protoc -Iprotos --python_out=. --pyi_out=. protos/beam_stats/proto/*.proto

# Regenerates docs/ANOMALIES.md from beam_stats/validation/catalogue.py
# (tests/validation/test_catalogue.py fails when the committed file differs).
docs: $(STAMP)
	$(PY) -m beam_stats.validation.catalogue > docs/ANOMALIES.md.tmp
	mv docs/ANOMALIES.md.tmp docs/ANOMALIES.md

demo: $(STAMP)
	$(PY) -m beam_stats.cli demo --out out/demo

# On every core: each test file runs whole in one worker (its fixtures start once).
# TEST_WORKERS=0 runs the suite in this process (one core; easier to debug).
TEST_WORKERS ?= auto

test: $(STAMP)
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile

# Engines for the runner-equivalence suite: Prism (go install), Beam's Flink and Spark job
# servers (mvn). Cached in $$BEAM_STATS_RUNNERS_CACHE (default ~/.cache/beam-stats/runners);
# a second run reuses them. See docs/RUNNERS.md.
RUNNERS_CACHE ?= $(or $(BEAM_STATS_RUNNERS_CACHE),$(HOME)/.cache/beam-stats/runners)

runners: $(STAMP)
	BEAM_STATS_RUNNERS_CACHE=$(RUNNERS_CACHE) .ci/runners/fetch $(PY)

# The same input through every runner (tests/runners): FnApiRunner, multi-processing, the
# portable runner, Dask, Prism, DirectRunner with Prism, Flink, Spark.
test-runners: runners
	BEAM_STATS_RUNNERS_ENV=$(RUNNERS_CACHE)/runners.env $(PY) -m pytest -q -m runners tests/runners

lint: $(STAMP)
	$(VENV)/bin/ruff check beam_stats tests benchmarks
	$(VENV)/bin/ruff format --check beam_stats tests benchmarks
	$(VENV)/bin/mypy beam_stats

# The 20-column end-to-end benchmark (benchmarks/run.py), then the workloads of issue 16
# (benchmarks/workloads.py: many small files, slices, weights, a wide table, start-up, workers),
# each as a ratio against a reference run alternately with it. Results: benchmarks/RESULTS.md.
bench: $(STAMP)
	$(PY) benchmarks/run.py
	$(PY) benchmarks/workloads.py

bench-workloads: $(STAMP)
	$(PY) benchmarks/workloads.py

clean:
	rm -rf $(VENV) out build *.egg-info
