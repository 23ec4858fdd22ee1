# The two commands of the README: `make up` and `make test`.
# Everything else here is what they are made of.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py

# Some machines set PYTHONDONTWRITEBYTECODE: every process then compiles each
# module it imports from source (litellm alone is ~10 s of CPU per worker
# start). The venv is compiled once when it is synced; our own modules are
# cached on first import.
unexport PYTHONDONTWRITEBYTECODE

TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/agentloom
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: help up test lint typecheck pytest frontend-check e2e services bench generate

help:
	@echo "make up    build and serve Agentloom on http://127.0.0.1:8000"
	@echo "make test  install what the tests need and run every check"

# --- installs (each re-runs only when its lock changes) --------------------------
.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet --compile-bytecode
	@touch $@

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

FRONTEND_SOURCES := $(shell find frontend/src frontend/index.html frontend/vite.config.ts -type f 2>/dev/null)
frontend/dist/index.html: frontend/node_modules/.installed $(FRONTEND_SOURCES)
	cd frontend && npm run --silent build
	@touch $@

# --- make up -------------------------------------------------------------------
up: $(VENV)/.synced frontend/dist/index.html
	@mkdir -p var
	@$(MANAGE) bootstrap
	@$(MANAGE) collectstatic --noinput --verbosity 0
	@echo ""
	@echo "  Agentloom is running on http://127.0.0.1:8000"
	@if [ -z "$$DATABASE_URL$$REDIS_URL" ] || [ -n "$$DEBUG" ]; then \
	  echo "  Log in as demo / demo"; fi
	@echo "  (Ctrl-C stops it)"
	@echo ""
	@$(MANAGE) serve

# --- make test -----------------------------------------------------------------
services:
	@bash deploy/local/ensure-services.sh

lint: $(VENV)/.synced
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: $(VENV)/.synced
	$(VENV)/bin/mypy server workers
	$(VENV)/bin/mypy --strict workers/engine

# Most tests wait on real processes (workers, servers, sockets) and use about
# one core: two pytest-xdist processes, each with its own test database, Redis
# database and var directory (tests/settings.py), a module to each at a time
# (modules share their worker and server). The few tests that restart the
# machine's Redis would disturb the other process's, and the one that drops
# database connections failed once beside it (its reaper thread waited 30 s
# for a pooled connection): they run after, alone.
PYTEST_PROCESSES ?= 2
pytest: $(VENV)/.synced services
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(VENV)/bin/pytest -q \
	  -n $(PYTEST_PROCESSES) --dist loadfile -m "not alone"
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(VENV)/bin/pytest -q \
	  -m alone

frontend-check: frontend/node_modules/.installed
	cd frontend && npm run --silent lint && npm run --silent typecheck && npm run --silent test

# The files the frontend takes from the server and the engine (checked in; the tests say when one is
# stale; api.ts is derived from openapi.json by every build and typecheck, so it is not checked in). The schema is made in the embedded mode, so it does not depend on the shell's services.
GENERATED := frontend/src/generated
generate: $(VENV)/.synced frontend/node_modules/.installed
	$(PY) -m workers.engine.catalog > $(GENERATED)/engineCatalog.json.new
	mv $(GENERATED)/engineCatalog.json.new $(GENERATED)/engineCatalog.json
	env -u DATABASE_URL -u REDIS_URL DJANGO_SETTINGS_MODULE=server.settings \
	  $(MANAGE) spectacular --format openapi-json --file $(GENERATED)/openapi.json
	cd frontend && npm run --silent generate:api

e2e: $(VENV)/.synced services frontend/dist/index.html
	bash tests/e2e/run.sh

test: lint typecheck frontend-check pytest e2e

bench: $(VENV)/.synced services
	bash bench/run_all.sh
