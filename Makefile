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

.PHONY: venv toolchain lint unit test demo bench clean

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

clean:
	rm -rf .local rendered
