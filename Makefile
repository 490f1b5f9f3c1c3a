# runyard — the commands a user and CI need. `make run` starts runyard on its embedded
# default (./mlruns, http://127.0.0.1:5000); `make test` builds its own venv and runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_WORKERS ?= 2
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint bench image kind-up deploy e2e kind-down check-manifests clean venv run-venv

# Two installs into one venv: `make run` needs only the server (the `server` extra, a few
# packages); `make test` and the rest add the whole toolchain (the `test` extra).
run-venv: $(VENV)/.installed-run
venv: $(VENV)/.installed

$(VENV)/.installed-run: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[server]"
	touch $@

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed-run

run: run-venv
	$(BIN)/runyard ui --host $(HOST) --port $(PORT)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The container images build in the background while the main suite runs (scripts/test.sh).
test: lint
	VENV=$(VENV) PYTEST_WORKERS=$(PYTEST_WORKERS) scripts/test.sh

bench: venv
	$(BIN)/python -m bench.run_all

# Deployment. The scripts take the cluster name, image tag and node image from
# deploy/kind/settings.env (the environment overrides them). OFFLINE=1 builds the image without a registry
# (debootstrapped base, wheels built inside it).
OFFLINE ?=
export OFFLINE
image:
	scripts/build-image.sh $(if $(OFFLINE),--offline)

# The venv brings kubectl at the minor version next to the cluster's (deploy/kind/settings.env).
kind-up: venv
	scripts/kind-up.sh

# Builds the image first when it is missing, so `make kind-up deploy` works on a fresh clone.
deploy: venv
	scripts/deploy.sh

# Reuses the cluster `make kind-up` made (and deletes only a cluster it created itself).
e2e: venv
	$(BIN)/pytest -m e2e tests/e2e

kind-down:
	scripts/kind-down.sh

check-manifests: venv
	scripts/check-manifests.sh

clean:
	rm -rf $(VENV) build dist *.egg-info test-output bench-output
