# PeluBot developer commands. `make run` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
export PELUBOT_ENV ?= dev

.PHONY: run test lint typecheck pytest venv bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

## Start the whole app (web, worker, Calendar emulator) at http://127.0.0.1:5000
run: venv
	@mkdir -p instance
	@REDIS_URL=$$($(BIN)/python -m pelubot_web.devtools redis-url) && \
	  export PELUBOT_REDIS_URL=$$REDIS_URL && \
	  $(FLASK) db upgrade && \
	  $(FLASK) seed-demo --if-empty && \
	  echo "PeluBot: http://127.0.0.1:5000  (Redis: $$REDIS_URL)" && \
	  exec $(BIN)/honcho start -f Procfile

## Lint, format check, type check and the whole test suite
test: venv lint typecheck pytest

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
