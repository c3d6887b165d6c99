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

.PHONY: bench bench-threads compare test test-fast goldens report-check lock clean

# Installs exactly the versions in requirements.lock (hash-checked), then tf2bench itself without
# resolving anything, so two machines or two days measure the same TensorFlow, Keras and numpy.
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# Refreshes requirements.lock from pyproject.toml (newest versions allowed by its ranges) for
# CPython 3.11 on x86-64 Linux; review the diff, then `make test`.
LOCK_PYTHON ?= 3.11
LOCK_PLATFORM ?= x86_64-manylinux_2_28
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/python -m uv pip compile pyproject.toml --extra dev --extra keras2 --generate-hashes --upgrade \
		--python-version $(LOCK_PYTHON) --python-platform $(LOCK_PLATFORM) -o requirements.lock

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

# `make test` runs everything (unit tests, then every benchmark once, untimed) in TEST_WORKERS
# pytest-xdist processes (0: in this one), a module per worker so its fixtures run once;
# `make test-fast` runs the unit tests not marked `slow` (under 2 minutes; see tests/conftest.py).
TEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(BIN)/python -m pytest tests -m "not slow" $(PYTEST_ARGS)

# After a deliberate change to the samples or to the report/compare output; review the diff.
goldens: $(STAMP)
	$(BIN)/python tests/update_goldens.py

# CI: the committed reference results must still render; the report goes to a temporary folder.
report-check: $(STAMP)
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
		$(BIN)/tf2bench report reports/reference.json.gz --out "$$tmp/report"

clean:
	rm -rf $(VENV) .pytest_cache .benchmarks .tf2bench-cache
	git worktree prune
