# `make bench` measures and reports; `make test` runs the tests. Both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PRESET ?= standard
RESULTS ?= results
STAMP := $(VENV)/.tf2bench-installed
RUN_ID := $(shell date -u +%Y%m%dT%H%M%SZ)

.PHONY: bench bench-threads test report-check clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

# Every run keeps its own JSON; latest.json is a copy of the newest one.
bench: $(STAMP)
	mkdir -p $(RESULTS)
	TF2BENCH_PRESET=$(PRESET) $(BIN)/python -m pytest benchmarks --benchmark-only \
		--benchmark-json=$(RESULTS)/run-$(RUN_ID).json $(PYTEST_ARGS)
	cp $(RESULTS)/run-$(RUN_ID).json $(RESULTS)/latest.json
	$(BIN)/tf2bench report $(RESULTS)/latest.json --out $(RESULTS)/report

# CPU threading: the execution and pipeline families once per intra-op thread setting, each in
# its own process (TensorFlow fixes its thread pool when it starts); one JSON per setting.
THREADS_SWEEP ?= 1 all
bench-threads: $(STAMP)
	mkdir -p $(RESULTS)
	for threads in $(THREADS_SWEEP); do \
		TF2BENCH_THREADS=$$threads TF2BENCH_PRESET=$(PRESET) $(BIN)/python -m pytest benchmarks \
			--benchmark-only --tf2bench-family=execution,input_pipeline \
			--benchmark-json=$(RESULTS)/threads-$$threads-$(RUN_ID).json $(PYTEST_ARGS) || exit 1; \
	done

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# CI: the committed reference results must still render; the report goes to a temporary folder.
report-check: $(STAMP)
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
		$(BIN)/tf2bench report reports/reference.json.gz --out "$$tmp/report"

clean:
	rm -rf $(VENV) .pytest_cache .benchmarks
