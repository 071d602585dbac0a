# Two commands work on a fresh machine: `make demo` and `make test`. Both create .venv when missing.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint unit bench lab clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/irsa demo

test: lint unit

lint: $(STAMP)
	$(BIN)/ruff check irsa_lib tests benchmarks
	$(BIN)/ruff format --check irsa_lib tests benchmarks
	$(BIN)/mypy

# The differential test compares our evaluator with the npm package iam-simulate (skipped without npm).
DIFF_DIR := tests/policy/differential
DIFF_STAMP := $(DIFF_DIR)/node_modules/.package-lock.json
$(DIFF_STAMP): $(DIFF_DIR)/package-lock.json
	if command -v npm >/dev/null; then npm ci --prefix $(DIFF_DIR) --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the differential policy test will be skipped"; fi

unit: $(STAMP) $(DIFF_STAMP)
	$(BIN)/python -m pytest

# The organisation part: collection of 20/40/80 accounts on 1/2/4 Dask workers, and the analysis of
# medium and xlarge single-process vs partitioned (xxlarge by hand: python -m benchmarks.org_bench analyse --size xxlarge).
bench: $(STAMP)
	$(BIN)/python -m benchmarks.run
	$(BIN)/python -m benchmarks.org_bench collect --accounts 20,40,80 --workers 1,2,4
	$(BIN)/python -m benchmarks.org_bench analyse --size medium --workers 2
	$(BIN)/python -m benchmarks.org_bench analyse --size xlarge --workers 2

lab: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[lab]'
	$(BIN)/irsa lab

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
