# EduConnect IdP — two commands from a fresh clone:
#   make run    set everything up and serve the demo on http://localhost:$(PORT)
#   make test   set everything up and run the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test setup assets messages browser haproxy saml lint format openapi bench bench-node bench-cluster clean

$(BIN)/educonnect $(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(VENV)/.installed

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

assets: node_modules/.package-lock.json
	$(PYTHON) scripts/install_assets.py

# French message catalogue: `make messages` after adding or changing a _() sentence (then
# edit wording in the .po); set-up compiles it (the .mo is a build product).
CATALOGUE := idp/locale/fr/LC_MESSAGES/messages
$(CATALOGUE).mo: $(CATALOGUE).po $(VENV)/.installed
	$(BIN)/pybabel compile --domain messages --directory idp/locale --locale fr

messages: $(VENV)/.installed
	$(BIN)/python scripts/messages.py

setup: $(VENV)/.installed assets $(CATALOGUE).mo saml

run: setup
	EDUCONNECT_ISSUER=http://localhost:$(PORT) $(BIN)/educonnect db upgrade
	EDUCONNECT_ISSUER=http://localhost:$(PORT) $(BIN)/educonnect demo
	EDUCONNECT_ISSUER=http://localhost:$(PORT) \
	EDUCONNECT_FRANCECONNECT_SIMULATOR=true EDUCONNECT_FRANCECONNECT_ENABLED=true \
	$(BIN)/educonnect serve --port $(PORT)

test: setup browser haproxy
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

# The browser test drives Debian's Chromium (no browser download works here).
browser:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null)

# The multi-instance test (and bench/cluster_run.py) put Debian's HAProxy in front of the servers.
haproxy:
	command -v haproxy >/dev/null || (apt-get update -qq && apt-get install -y -qq --no-install-recommends haproxy >/dev/null)

# SAML signs and encrypts with Debian's xmlsec1 (pysaml2 runs it as a command).
saml:
	command -v xmlsec1 >/dev/null || (apt-get update -qq && apt-get install -y -qq --no-install-recommends xmlsec1 >/dev/null)

bench: setup
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq --no-install-recommends wrk >/dev/null)
	$(BIN)/python bench/oidc_run.py

bench-cluster: setup haproxy
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq --no-install-recommends wrk >/dev/null)
	$(BIN)/python bench/cluster_run.py

# Our token and introspection endpoints against npm oidc-provider, alternated in one run.
bench-node: setup
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq --no-install-recommends wrk >/dev/null)
	$(BIN)/python bench/vs_node.py

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

openapi: $(VENV)/.installed
	$(BIN)/python scripts/export_openapi.py

clean:
	rm -rf $(VENV) node_modules idp/web/static/dsfr var
