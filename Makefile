# Sapan: the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint types pytest sysdeps demo screenshots bench clean

# The environment is created on first use and refreshed when the lock file changes.
$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
	    echo "Could not create $(VENV): on Debian install python3-venv (sudo apt-get install python3-venv)" >&2; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

## Start the desktop app on its embedded default store (first run: passphrase, language, demo data).
run: $(STAMP)
	$(BIN)/sapan

## The whole suite: lint, format, types, then pytest (Qt offscreen, throwaway PostgreSQL).
test: $(STAMP) sysdeps lint types pytest

sysdeps:
	@sh tools/ensure-system-deps.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

# The coverage gate (full branch coverage of the rules and workflow engines and of the
# message catalogue, see pyproject.toml) is measured on their own tests; tracing the rest
# of the suite would make it half as slow again for no figure anyone reads.
# Tests run in a random order (pytest-randomly); the seed is printed so that a failure
# that depends on the order can be run again in it: make pytest SEED=<the seed printed>.
ifndef SEED
SEED := $(shell od -An -N3 -tu4 /dev/urandom | tr -d ' ')
endif
pytest: $(STAMP)
	@echo "Test order: random, seed $(SEED) (make pytest SEED=$(SEED) repeats it)"
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -p no:cacheprovider --randomly-seed=$(SEED) tests/domain --cov --cov-report=term-missing:skip-covered
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -p no:cacheprovider --randomly-seed=$(SEED) --ignore=tests/domain

demo: $(STAMP)
	$(BIN)/sapan demo --people 200

screenshots: $(STAMP)
	$(BIN)/python tools/screenshots.py

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache
