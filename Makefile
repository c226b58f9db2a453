# One command sets up and runs the main job on the local default (`make demo`); one runs every test (`make test`).
# Everything the commands need is installed by them: the Python virtualenv from PyPI, and the Pulumi toolchain
# built from pinned Go modules into ~/.cache/ece-eck-remote (kept between runs).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

export PULUMI_SKIP_UPDATE_CHECK := true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION := true
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: venv toolchain lint unit test demo bench mutate clean

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt policy/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

toolchain:
	@tools/toolchain/build.sh
	@tools/toolchain/build-kubernetes.sh

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
# actionlint on the example workflow: built on first use like the toolchain, then cached; shellcheck and pyflakes off
# (the same verdict on every machine, whatever it has installed).
	actionlint="$$(tools/toolchain/build-actionlint.sh)" && "$$actionlint" -shellcheck= -pyflakes= examples/github-actions/*.yml

unit: venv
	$(PY) -m pytest -q tests/unit tests/contract

test: venv lint
	PULUMI_TOOLCHAIN_BIN="$$(tools/toolchain/build.sh)" \
	KUBERNETES_TOOLCHAIN_BIN="$$(tools/toolchain/build-kubernetes.sh)" \
	$(PY) -m pytest -q tests

demo: venv
	PULUMI_TOOLCHAIN_BIN="$$(tools/toolchain/build.sh)" $(PY) -m tools.demo

bench: venv
	PULUMI_TOOLCHAIN_BIN="$$(tools/toolchain/build.sh)" $(PY) -m tools.bench

# Mutation testing of the modules that guard data and secrets (tools/mutation.py; not part of `make test`): mutmut
# in the venv (its own stamp), results cached in .local/mutation/mutants/, report in bench/mutation-report.md. One module or mutant:
# make mutate MUTATE=components/pem.py (or a mutant name); MUTATE_CHILDREN sets the parallel mutants.
MUTATE_STAMP := $(VENV)/.installed-mutate
MUTATE ?=
MUTATE_CHILDREN ?= 8

$(MUTATE_STAMP): $(STAMP) requirements-mutate.txt
	$(VENV)/bin/pip install --quiet -r requirements-mutate.txt
	touch $@

mutate: $(MUTATE_STAMP)
	$(PY) -m tools.mutation --max-children $(MUTATE_CHILDREN) $(MUTATE)

clean:
	rm -rf .local rendered
