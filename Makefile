# The two commands of the README: `make run` and `make test`. Everything else serves them.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The first interpreter that actually runs and is 3.11+ (pyenv shims exist for missing ones).
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && command -v $$p && break; \
	done)

.PHONY: run test install broker dev-mailbox test-servers lint format bench fuzz clean

run: install broker dev-mailbox  ## the whole stack on the embedded store, in the foreground
	$(BIN)/pakn up

test: install broker test-servers lint  ## every test, against real servers
	$(BIN)/pytest

install: $(STAMP)

$(STAMP): pyproject.toml
	@[ -n "$(PYTHON)" ] || { echo "Python 3.11 or newer is needed: install python3 (>= 3.11)."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

broker:  ## RabbitMQ reachable on 127.0.0.1:5672 (started or installed when possible)
	@scripts/ensure-rabbitmq.sh

dev-mailbox:  ## Dovecot for `pakn up`'s development mailbox (installed when possible; optional)
	@scripts/ensure-test-servers.sh --dev-mailbox

test-servers:  ## Chromium (browser tests) and the other servers tests start themselves
	@scripts/ensure-test-servers.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

fuzz: install broker  ## a long, randomised run of the fuzzers (make test runs a bounded one)
	PAKN_FUZZ_EXAMPLES=$${PAKN_FUZZ_EXAMPLES:-2000} PAKN_FUZZ_RANDOM=1 $(BIN)/pytest tests/faults/test_fuzz.py -k fuzzed

bench: install broker
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
