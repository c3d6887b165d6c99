# `make bench` measures and reports; `make compare BASE=<rev>` compares a revision with HEAD;
# `make test` runs the tests. All create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PRESET ?= standard
RESULTS ?= results
STAMP := $(VENV)/.tf2bench-installed
RUN_ID := $(shell date -u +%Y%m%dT%H%M%SZ)

# Fresh pytest processes per run (empty: the preset's default, see `tf2bench run --help`).
PROCESSES ?=
PROCESS_ARGS := $(if $(PROCESSES),--processes $(PROCESSES))

.PHONY: bench bench-threads compare test report-check clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

# Every run keeps its own JSON (N processes merged; also saved in .benchmarks/ with raw data);
# latest.json is a copy of the newest one.
bench: $(STAMP)
	mkdir -p $(RESULTS)
	$(BIN)/tf2bench run --preset $(PRESET) $(PROCESS_ARGS) \
		--out $(RESULTS)/run-$(RUN_ID).json -- $(PYTEST_ARGS)
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

# BASE against HEAD (a clean checkout), alternating processes; quick unless PRESET is given.
HEAD_REV ?= HEAD
compare: $(STAMP)
	@test -n "$(BASE)" || { echo "make compare: expected BASE=<git revision>" >&2; exit 2; }
	$(BIN)/tf2bench ab $(BASE) $(HEAD_REV) $(PROCESS_ARGS) \
		--preset $(if $(filter file,$(origin PRESET)),quick,$(PRESET)) \
		--out $(RESULTS)/ab-$(RUN_ID) -- $(PYTEST_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# CI: the committed reference results must still render; the report goes to a temporary folder.
report-check: $(STAMP)
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
		$(BIN)/tf2bench report reports/reference.json --out "$$tmp/report"

clean:
	rm -rf $(VENV) .pytest_cache .benchmarks .tf2bench-cache
	git worktree prune
