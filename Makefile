# Two commands: `make run` (set up and serve the demo MSP) and `make test` (set up and test).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The demo keeps its SQLite database inside the checkout; real installs use FRANCHISE_HOME.
DEMO_HOME ?= $(CURDIR)/var/demo

.PHONY: install run test lint typecheck bench clean lock mutate
# Installs exactly the hash-pinned versions of requirements/ (what CI tested), then the
# project itself without resolving anything again.
LOCK := requirements/dev-lock.txt

$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
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
# their tests; tests/mutation_equivalent.txt lists, with why, the survivors that change
# nothing; any other survivor is printed and fails the target). Every mutant of the
# chosen modules is retested each time; `make mutate MODULE=franchise/escalation/evaluate.py`
# (or a folder, franchise/runbooks) tries one. Two workers; not part of CI.
MODULE ?= $(patsubst src/%,%,$(shell $(BIN)/python -c "import tomllib; print(' '.join(tomllib.load(open('pyproject.toml','rb'))['tool']['mutmut']['only_mutate']))"))
MUTANTS = $(foreach m,$(MODULE),"$(subst /,.,$(patsubst %/,%,$(patsubst src/%,%,$(m:.py=)))).*")
mutate: install
	$(BIN)/mutmut run --max-children 2 $(MUTANTS)
	$(BIN)/python scripts/mutation_summary.py $(MUTANTS)

# Refresh both locks from pyproject.toml (runtime: requirements/lock.txt; with dev tools: $(LOCK)).
lock:
	test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --generate-hashes --python-version 3.11 --no-header -o requirements/lock.txt
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 --no-header -o $(LOCK)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache mutants
