# Two commands: `make run` (set up and serve the demo MSP) and `make test` (set up and test).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The demo keeps its SQLite database inside the checkout; real installs use FRANCHISE_HOME.
DEMO_HOME ?= $(CURDIR)/var/demo

.PHONY: install run test lint typecheck bench clean mutate

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	FRANCHISE_HOME=$(DEMO_HOME) $(BIN)/franchise init
	FRANCHISE_HOME=$(DEMO_HOME) $(BIN)/franchise demo
	FRANCHISE_HOME=$(DEMO_HOME) $(BIN)/franchise serve

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy

test: lint typecheck
	scripts/install_test_peers.sh
	$(BIN)/pytest

# Mutation testing of the pure core ([tool.mutmut] in pyproject.toml names the modules and
# their tests; docs/mutation.md lists the survivors that change nothing). Incremental: a
# second run retests only what changed; `rm -rf mutants` starts afresh. Not part of CI.
mutate: install
	$(BIN)/mutmut run --max-children 2
	$(BIN)/python scripts/mutation_summary.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache mutants
