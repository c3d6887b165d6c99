# `make bench` measures and reports; `make test` runs the tests. Both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PRESET ?= standard
RESULTS ?= results
STAMP := $(VENV)/.tf2bench-installed
RUN_ID := $(shell date -u +%Y%m%dT%H%M%SZ)

.PHONY: bench test report-check clean

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

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .benchmarks
