# Trợ lý NTM — developer and operator commands. Only Python 3.11+ and make are needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run chat test test-fast test-shuffled test-explore lint typecheck unit browser postgres compose bench i18n-extract i18n-update i18n-compile clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Cần Python 3.11 trở lên / Python 3.11+ is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.dev: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.runtime

## run: set up and run the bot (every configured channel; the terminal channel without tokens)
run: $(VENV)/.runtime
	$(BIN)/ntm-bot run

## chat: the terminal channel directly
chat: $(VENV)/.runtime
	$(BIN)/ntm-bot chat

## test: set up and run every check: lint, format, types, the whole test suite
test: $(VENV)/.dev lint typecheck unit

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev
	$(BIN)/mypy

unit: $(VENV)/.dev browser postgres compose
	NTM_REQUIRE_BROWSER=1 NTM_REQUIRE_POSTGRES=1 NTM_REQUIRE_COMPOSE=1 $(BIN)/pytest

## postgres: Debian's PostgreSQL 15 for the storage tests on both engines (when missing); the
## tests start a throwaway cluster of their own (initdb in a temp dir, as the postgres user)
postgres:
	@if [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then \
		echo "installing PostgreSQL 15 for the storage tests (apt-get install postgresql-15)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql-15 >/dev/null; \
	fi

## compose: Debian's docker-compose, to check compose.yaml with Compose's own parser (when
## missing; `config` needs no Docker engine)
compose:
	@if ! command -v docker-compose >/dev/null; then \
		echo "installing docker-compose to check compose.yaml (apt-get install docker-compose)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq docker-compose >/dev/null; \
	fi

## browser: Debian's Chromium and chromedriver for the web view's browser test (when missing)
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
		echo "installing Chromium for the browser test (apt-get install chromium chromium-driver)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; \
	fi

## test-fast: the quick loop while developing: everything but the end-to-end tests marked slow
test-fast: $(VENV)/.dev
	$(BIN)/pytest -m "not slow"

## test-shuffled: the whole suite in shuffled orders (fixed seeds: a failure is reproducible)
SEEDS ?= 1 2 3
test-shuffled: $(VENV)/.dev browser postgres compose
	@set -e; for seed in $(SEEDS); do \
		echo "== pytest in a shuffled order, seed $$seed"; \
		NTM_REQUIRE_BROWSER=1 NTM_REQUIRE_POSTGRES=1 NTM_REQUIRE_COMPOSE=1 $(BIN)/pytest -p randomly -p no:cacheprovider --randomly-seed=$$seed; \
	done

## test-explore: property tests with a fresh random search and a larger budget (not for CI)
test-explore: $(VENV)/.dev
	HYPOTHESIS_PROFILE=explore $(BIN)/pytest tests/test_properties.py tests/test_richtext.py

## bench: every benchmark; writes bench/results.json and the table in bench/README.md
bench: $(VENV)/.dev
	$(BIN)/python bench/run_all.py

## i18n-*: translation catalogs (Babel): extract messages, merge them into the .po files, compile
i18n-extract: $(VENV)/.dev
	$(BIN)/pybabel extract -F babel.cfg -k _ -k N_ -k tr -k n:1,2 --no-location --sort-output \
		--project "Tro ly NTM" -o locales/messages.pot bot handlers

i18n-update: i18n-extract
	$(BIN)/pybabel update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching

i18n-compile: $(VENV)/.dev
	$(BIN)/pybabel compile -d locales -D messages --statistics

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache
