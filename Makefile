# The two commands of the README: `make run` and `make test`. Everything else serves them.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTHON ?= $(shell command -v python3.12 || command -v python3.11 || command -v python3)

.PHONY: run test install broker test-servers lint format bench clean

run: install broker  ## the whole stack on the embedded store, in the foreground
	$(BIN)/pakn up

test: install broker test-servers lint  ## every test, against real servers
	$(BIN)/pytest

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed (found $$($(PYTHON) --version))."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

broker:  ## RabbitMQ reachable on 127.0.0.1:5672 (started or installed when possible)
	@scripts/ensure-rabbitmq.sh

test-servers:  ## Chromium (browser tests) and the other servers tests start themselves
	@scripts/ensure-test-servers.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install broker
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
