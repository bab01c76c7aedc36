# 正风: the two commands of the README, plus the ones developers use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: demo test lint typecheck format bench install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $(STAMP)

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP) $(DEV_STAMP)

install: $(STAMP)

install-dev: $(DEV_STAMP)

## Run the whole system on SQLite with demo data (gunicorn + worker); Ctrl-C stops both.
demo: $(STAMP)
	$(BIN)/zhengfeng demo

## Run the whole test suite (SQLite by default; DB_ENGINE=postgres for PostgreSQL).
test: $(DEV_STAMP)
	$(BIN)/pytest -n 2 -p no:cacheprovider

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

## Type check (mypy + django-stubs) the modules listed under [tool.mypy] in pyproject.toml.
## DEBUG=True lets the settings load without production secrets, as for makemigrations.
typecheck: $(DEV_STAMP)
	DEBUG=True $(BIN)/mypy

format: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Benchmarks; figures go to docs/performance.md by hand, with the machine and date.
bench: $(DEV_STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var/staticfiles .pytest_cache .ruff_cache .mypy_cache
