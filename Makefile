# Helpdesk: the verbs a newcomer looks for. `make run` and `make test` install what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
# sam build and the bench need python3.13 (the Lambda runtime); pyenv puts it on PATH with this.
export PYENV_VERSION ?= 3.11.7:3.12.1:3.13.0
PYTHON313 ?= $(shell PYENV_VERSION=3.13.0 pyenv which python3.13 2>/dev/null || command -v python3.13)
export PYTHON313
export SAM_CLI_TELEMETRY = 0

.PHONY: install run test unit lint typecheck validate build bench openapi eval deploy clean

$(VENV)/.installed: requirements-dev.txt layers/common/requirements.txt $(wildcard clients/cli/pyproject.toml)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	if [ -f clients/cli/pyproject.toml ]; then $(PY) -m pip install --quiet --disable-pip-version-check -e clients/cli; fi
	touch $@

$(SAM_VENV)/.installed:
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check aws-sam-cli
	touch $@

install: $(VENV)/.installed ## the project's virtualenv

run: install ## the whole system on this machine (moto + gateway on 127.0.0.1:$${PORT:-3000})
	$(PY) -m local.stack

test: install ## lint, then every test (unit, infrastructure, integration), then the template checks
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest -n 2 --dist loadfile
	$(MAKE) validate

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy layers/common/helpdesk local scripts
	for handler in functions/*/app.py; do $(PY) -m mypy "$$handler" || exit 1; done

validate: install $(SAM_VENV)/.installed ## sam validate --lint (cfn-lint included)
	$(SAM) validate --lint

build: $(SAM_VENV)/.installed ## sam build (cached, parallel), then .pyc for every function
	$(SAM) build
	$(PYTHON313) -m compileall -q -j 0 --invalidation-mode unchecked-hash .aws-sam/build/*Function

bench: install ## cold starts, AWS round trips, latency as data grows, the local stack (numbers for the README)
	$(PY) -m bench.run
	$(PY) -m bench.local_stack

openapi: install ## openapi.json, generated from the functions' route declarations, and the clients' copy of its enums
	$(PY) scripts/openapi.py > openapi.json
	$(PY) scripts/client_vocabulary.py > clients/cli/tickets_cli/vocabulary.py

eval: install ## the review engines on real issue reports (dev, test) and the synthetic set, beside TF-IDF, BM25 and majority baselines
	$(PY) eval/run_eval.py

deploy: build
	$(SAM) deploy --guided

clean:
	rm -rf .aws-sam .local build .pytest_cache .ruff_cache .mypy_cache
