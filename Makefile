# runyard — the commands a user and CI need. `make run` starts runyard on its embedded
# default (./mlruns, http://127.0.0.1:5000); `make test` builds its own venv and runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_WORKERS ?= 2
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint unit container-tests bench image kind-up deploy e2e kind-down clean venv

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

run: venv
	$(BIN)/runyard ui --host $(HOST) --port $(PORT)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup -m "not e2e and not container" tests
	$(BIN)/pytest -m "container" tests
	$(BIN)/pytest -m "e2e" tests/e2e

bench: venv
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) build dist *.egg-info test-output bench-output
