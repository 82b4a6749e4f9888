# OpenPrepaid developer entry points (GNU make). On a fresh Debian 12 clone:
#   make demo    install everything, then run the demo site (data in ./var unless
#                OPENPREPAID_DATA_DIR is set; DEMO_ARGS="--port 8080" passes options)
#   make test    install everything for tests, then ruff, import-linter and pytest
#                (SQLite by default; set DATABASE_URL=postgres://… for PostgreSQL;
#                PYTEST_ARGS="-k cli" passes options to pytest)
#   make bench   the benchmarks in bench/ (figures go into the README)
#   make setup / make setup-test / make clean
# Stamp files (.venv/.installed*, node_modules/.installed, static/vendor/.installed) keep
# repeat runs fast: each step runs again only when its inputs change.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
VENDOR := src/openprepaid/web/console/static/vendor
PIP_QUIET := --quiet --disable-pip-version-check
PYTEST_ARGS ?=
DEMO_ARGS ?=

# Translations: every locale/*/LC_MESSAGES/*.po under the package, compiled next to itself.
PO_FILES := $(shell find src/openprepaid -path '*/locale/*/LC_MESSAGES/*.po' -not -path '*/.venv/*' 2>/dev/null)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: help setup setup-test system-packages system-packages-test assets messages demo test bench clean

help:
	@sed -n '1,9s/^# \{0,1\}//p' $(firstword $(MAKEFILE_LIST))

setup: system-packages $(VENV)/.installed assets messages

setup-test: setup system-packages-test $(VENV)/.installed-test

system-packages:
	scripts/install-system-packages

system-packages-test:
	scripts/install-system-packages --with-test

$(VENV)/.installed: pyproject.toml
	@if [ ! -x $(VENV)/bin/python ]; then \
	  if command -v python3.11 >/dev/null 2>&1; then py=python3.11; \
	  elif python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then py=python3; \
	  else echo "Python 3.11 is needed (python3.11 or a python3 that is 3.11)" >&2; exit 1; fi; \
	  echo "Creating $(VENV) with $$py"; \
	  $$py -m venv $(VENV); \
	fi
	$(BIN)/python -m pip install $(PIP_QUIET) --upgrade pip
	$(BIN)/python -m pip install $(PIP_QUIET) -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install $(PIP_QUIET) -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

assets: $(VENDOR)/.installed

$(VENDOR)/.installed: node_modules/.installed scripts/vendor-assets
	scripts/vendor-assets $(VENDOR)
	touch $@

messages: $(MO_FILES)

ifneq ($(strip $(PO_FILES)),)
# One run compiles them all; run from the package so only our own locale folders are found.
$(MO_FILES) &: $(PO_FILES) $(VENV)/.installed
	cd src/openprepaid && $(BIN)/openprepaid manage compilemessages --ignore=.venv
	touch $(MO_FILES)
endif

demo: setup
	OPENPREPAID_DATA_DIR="$${OPENPREPAID_DATA_DIR:-$(CURDIR)/var}" $(BIN)/openprepaid demo $(DEMO_ARGS)

test: setup-test
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports
	@# Two runs: Playwright's sync API keeps an event loop running in the worker that drives
	@# the browser, so asyncio.run() in the simulator and headend tests must not share it.
	@# Exit status 5 (PYTEST_ARGS selected no test of that group) is not a failure.
	OPENPREPAID_DATA_DIR="$${OPENPREPAID_DATA_DIR:-$(CURDIR)/var/test}" \
	  $(BIN)/pytest -n 2 -m "not browser" $(PYTEST_ARGS) || [ $$? -eq 5 ]
	OPENPREPAID_DATA_DIR="$${OPENPREPAID_DATA_DIR:-$(CURDIR)/var/test}" \
	  $(BIN)/pytest -n 2 -m browser $(PYTEST_ARGS) || [ $$? -eq 5 ]

bench: setup
	$(BIN)/python bench/bench_import.py
	$(BIN)/python bench/bench_protocol.py
	$(BIN)/python bench/bench_bus_timing.py
	$(BIN)/python bench/bench_simulator.py
	$(BIN)/python bench/bench_headend.py
	$(BIN)/python bench/bench_board.py
	$(BIN)/python bench/bench_billing.py
	$(BIN)/python bench/bench_sale.py

clean:
	rm -rf $(VENV) node_modules $(VENDOR) build dist src/*.egg-info var/test \
	  .pytest_cache .ruff_cache .import_linter_cache test-results screenshots
	find src tests -name __pycache__ -type d -prune -exec rm -rf {} +
	find src -path '*/locale/*/LC_MESSAGES/*.mo' -delete
