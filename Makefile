# Helpdesk: the verbs a newcomer looks for. `make run` and `make test` install what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.3.30
# sam build and the bench need python3.13 (the Lambda runtime); pyenv puts it on PATH with this.
export PYENV_VERSION ?= 3.11.7:3.12.1:3.13.0
PYTHON313 ?= $(shell PYENV_VERSION=3.13.0 pyenv which python3.13 2>/dev/null || command -v python3.13)
export PYTHON313
export SAM_CLI_TELEMETRY = 0

.PHONY: install run test unit lint typecheck validate scan build bench soak openapi eval deploy deploy-web clean web web-check chromium

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

$(CHECKOV_VENV)/.installed:
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check checkov==$(CHECKOV_VERSION)
	touch $@

install: $(VENV)/.installed ## the project's virtualenv

run: install web ## the whole system on this machine (moto + gateway on 127.0.0.1:$${PORT:-3000}), the web app at /
	$(PY) -m local.stack

test: install web chromium ## lint, then every test (web unit, unit, infrastructure, integration, browser), then the template checks
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy layers/common/helpdesk local scripts eval
	$(MAKE) web-check
	HELPDESK_WEB_TESTS=required $(PY) -m pytest -n 2 --dist loadfile
	$(MAKE) validate scan

# ---------------------------------------------------------------- web support center (web/)
# (the API types are generated from openapi.json by every build and check: not a source)
WEB_SOURCES := $(filter-out web/src/types/openapi.gen.ts,$(shell find web/src web/public -type f 2>/dev/null)) \
	$(wildcard web/*.json web/*.ts web/*.html web/*.js) openapi.json

web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SOURCES)
	cd web && npm run build

web: web/dist/index.html ## the web app (web/dist): npm ci + build, when missing or older than its sources

web-check: web/node_modules/.package-lock.json ## the web app's types (regenerated from openapi.json), lint and unit tests
	cd web && npm run check

chromium: ## Debian's chromium for the browser tests, installed when missing
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy layers/common/helpdesk local scripts eval
	for handler in functions/*/app.py; do $(PY) -m mypy "$$handler" || exit 1; done
	$(MAKE) web/node_modules/.package-lock.json && cd web && npm run typecheck && npm run lint

validate: install $(SAM_VENV)/.installed ## sam validate --lint (cfn-lint included)
	$(SAM) validate --lint

scan: $(CHECKOV_VENV)/.installed ## checkov over the template: no finding without a written reason (skip metadata)
	$(CHECKOV_VENV)/bin/checkov -f template.yaml --framework cloudformation --compact --quiet

build: $(SAM_VENV)/.installed ## sam build (cached, parallel), then .pyc for every function
	$(SAM) build
	$(PYTHON313) -m compileall -q -j 0 --invalidation-mode unchecked-hash .aws-sam/build/*Function

bench: install ## cold starts, AWS round trips, latency as data grows, the local stack, its soak (numbers for the README)
	$(PY) -m bench.run
	$(PY) -m bench.local_stack
	$(PY) -m bench.soak

soak: install ## the local stack under 10,000 tickets: memory, latency, 5xx, lost writes, stop time (about an hour)
	$(PY) -m bench.soak

openapi: install ## openapi.json, generated from the functions' route declarations, and the clients' copy of its enums
	$(PY) scripts/openapi.py > openapi.json
	$(PY) scripts/openapi.py --routes > functions/unmatched_route/routes.json
	$(PY) scripts/client_vocabulary.py > clients/cli/tickets_cli/vocabulary.py
	$(PY) scripts/event_schemas.py schemas/events

eval: install ## the review engines on real issue reports (dev, test) and the synthetic set, beside TF-IDF, BM25 and majority baselines
	$(PY) eval/run_eval.py

deploy: build web ## sam deploy --guided, then the web app: config.json from the stack's outputs, web/dist to its bucket
	$(SAM) deploy --guided
	$(PY) scripts/deploy_web.py

deploy-web: install web ## only the web app, to the deployed stack (CONFIG_ENV=prod for samconfig's prod)
	$(PY) scripts/deploy_web.py --config-env $(or $(CONFIG_ENV),default)

clean:
	rm -rf .aws-sam .local build .pytest_cache .ruff_cache .mypy_cache web/dist web/test-results
