# Quota: `make demo` runs the product, `make test` runs the tests. Both install what they need.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
export DJANGO_SETTINGS_MODULE ?= quota.settings.base

.PHONY: install demo serve test coverage lint typecheck check bench bench-seed bench-load clean

$(STAMP): requirements.lock pyproject.toml package.json package-lock.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	npm ci --no-audit --no-fund --loglevel=error
	SECRET_KEY=build $(BIN)/quota compiletranslations -v 0
	touch $(STAMP)

## install: create .venv with every Python and npm package (idempotent)
install: $(STAMP)

.env:
	@echo "Writing .env for a local demo (DEBUG on, a random SECRET_KEY)."
	@printf 'DEBUG=true\nSECRET_KEY=%s\n' "$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(48))')" > .env

# collectstatic's output is its manifest: collected again only when what it collects changed.
STATIC_MANIFEST := var/staticfiles/staticfiles.json
$(STATIC_MANIFEST): $(STAMP) quota/settings/base.py $(shell find quota -path '*/static/*' -type f) | .env
	$(BIN)/quota collectstatic --no-input -v 0

## demo: install, migrate, seed the demo company and serve it on http://127.0.0.1:8000
demo: install .env $(STATIC_MANIFEST)
	$(BIN)/quota migrate --no-input -v 0
	$(BIN)/quota seed --size demo --if-empty
	@echo ""
	@echo "Quota is running on http://$(HOST):$(PORT)/"
	@echo "Demo logins (password 'demo'): director, manager, rep, marketing, service, viewer, admin"
	@echo ""
	$(BIN)/quota serve $(HOST):$(PORT)

## test: run the whole test suite (SQLite by default; set DATABASE_URL for PostgreSQL), on two workers
test: install
	DJANGO_SETTINGS_MODULE=quota.settings.test $(BIN)/pytest -n 2 $(PYTEST_ARGS)

## coverage: the whole suite measuring line coverage (below fail_under in pyproject.toml fails); the tracer makes
## the run about 1.6 times as long, so CI, which has 30 minutes for three runs, does not measure it
coverage: install
	DJANGO_SETTINGS_MODULE=quota.settings.test $(BIN)/pytest -n 2 --cov=quota \
		--cov-report=term:skip-covered $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy quota

## check: Django's system checks and a check that no model change lacks a migration
check: install
	DJANGO_SETTINGS_MODULE=quota.settings.test $(BIN)/quota check --fail-level WARNING
	DJANGO_SETTINGS_MODULE=quota.settings.test $(BIN)/quota makemigrations --check --dry-run

## bench-seed: seed the large company on PostgreSQL and report rows/s
bench-seed: install
	DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/quota_bench_large} SECRET_KEY=bench \
		$(BIN)/python -m quota.bench seed

## bench: the benchmarks at the demo and large sizes (writes var/bench/latest.json); each size in its own
## database quota_bench_<size>, created and seeded when missing or empty
bench: install
	DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/quota_bench_large} SECRET_KEY=bench \
		$(BIN)/python -m quota.bench all --sizes demo,large

## bench-load: gunicorn (4 workers) on the large company, locust's busy users on a mix of pages and API writes
## for LOAD_DURATION_S (60) seconds on 127.0.0.1; writes `load` into var/bench/latest.json
bench-load: install $(STATIC_MANIFEST)
	DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/quota_bench_large} SECRET_KEY=bench \
		$(BIN)/python -m quota.bench load --sizes large

clean:
	rm -rf $(VENV) node_modules var/staticfiles
