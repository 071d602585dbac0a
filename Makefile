# Two commands work on a fresh machine: `make demo` and `make test`. Both create .venv when missing.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test check lint unit fast bench lab clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/irsa demo

test: lint unit

# The quick loop: lint and every test that needs no local server, browser or notebook kernel
# (tests that do are marked integration, browser or notebook).
check: lint fast

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

fast: $(STAMP)
	$(BIN)/python -m pytest -m "not integration and not notebook and not browser"

# The organisation part: the partitioned analysis equals the single-process one on medium (the test too
# long for every run), collection of 20/40/80 accounts on 1/2/4 Dask workers, and the analysis of xlarge
# single-process vs partitioned (xxlarge by hand, about 13 minutes on 2 cores and 8 GiB free:
# python -m benchmarks.org_bench analyse --size xxlarge --clusters 2; each task's own memory:
# python -m benchmarks.org_bench tasks --size xxlarge --clusters 2).
bench: $(STAMP)
	$(BIN)/python -m benchmarks.run
	IRSA_PARTITION_SIZES=medium $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_partitioned.py -k synthetic
	$(BIN)/python -m benchmarks.org_bench collect --accounts 20,40,80 --workers 1,2,4
	$(BIN)/python -m benchmarks.org_bench analyse --size xlarge --workers 2

# JupyterLab is installed once (again only when pyproject.toml changes), not at every launch.
LAB_STAMP := $(VENV)/.lab-stamp
$(LAB_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e '.[lab]'
	touch $(LAB_STAMP)

lab: $(LAB_STAMP)
	$(BIN)/irsa lab

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
