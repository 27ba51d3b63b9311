# PeluBot developer commands. `make run` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
export PELUBOT_ENV ?= dev

# `make run`'s ports and instance folder (database, private Redis); the environment
# overrides them (the make-run smoke test starts a second stack on free ports).
run: export PELUBOT_WEB_PORT ?= 5000
run: export PELUBOT_EMULATOR_PORT ?= 8085
run: export PELUBOT_INSTANCE_DIR ?= $(CURDIR)/instance
run: export PELUBOT_DATABASE_URL ?= sqlite:///$(PELUBOT_INSTANCE_DIR)/pelubot.sqlite3
run: export PELUBOT_GCAL_EMULATOR_URL ?= http://127.0.0.1:$(PELUBOT_EMULATOR_PORT)
run: export PELUBOT_PUBLIC_BASE_URL ?= http://127.0.0.1:$(PELUBOT_WEB_PORT)
run: export PELUBOT_MAIL_SMTP_PORT ?= 8025
run: export PELUBOT_MAIL_HTTP_PORT ?= 8026
run: export PELUBOT_SMTP_URL ?= smtp://127.0.0.1:$(PELUBOT_MAIL_SMTP_PORT)

# The tests that need no browser, worker process, server process or fuzzing.
FAST_TESTS := not slow and not e2e

.PHONY: run test check lint typecheck pytest system-packages venv bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

## Start the whole app (web on gunicorn, worker, Calendar emulator) at http://127.0.0.1:5000,
## with a demo salon: prints a login per role and the chatbot's demo API key (dev only)
run: venv
	@mkdir -p "$(PELUBOT_INSTANCE_DIR)"
	@REDIS_URL=$$($(BIN)/python -m pelubot_web.devtools redis-url) && \
	  export PELUBOT_REDIS_URL=$$REDIS_URL && \
	  $(FLASK) db upgrade && \
	  $(FLASK) dev-salon && \
	  echo "PeluBot: http://127.0.0.1:$$PELUBOT_WEB_PORT  (Redis: $$REDIS_URL)" && \
	  exec $(BIN)/honcho start -f Procfile

## Lint, format check, type check and the whole test suite (installs Chromium if needed)
test: system-packages venv lint typecheck pytest

## Fast lane while editing: lint, types and the tests marked neither slow nor e2e, on
## every core (at most 3 pytest-xdist workers: Redis dbs 13-15); bytecode caching on
check: venv lint typecheck
	PELUBOT_ENV=test PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -q -m "$(FAST_TESTS)" \
	  -n auto --maxprocesses 3

## What pip cannot install (Chromium, a font): apt-get as root, else one line saying what to run
system-packages:
	@scripts/system-packages

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy

pytest:
	PELUBOT_ENV=test $(BIN)/pytest

## Load benchmark (latency, sync lag, memory); results in bench/results/
## Closed-loop 15-user mix on PostgreSQL: make bench BENCH_ARGS="--closed-loop --database-url postgresql://..."
BENCH_ARGS ?=
bench: venv
	$(BIN)/pip install --quiet -r bench/requirements.txt
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache tests/artifacts
