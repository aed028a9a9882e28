# Set-up is part of every target: each creates a virtual environment and installs what it needs.
# The interpreter is the machine's python3 when it is a supported one (3.11 to 3.13);
# PYTHON=python3.13 (a command, a path or a version such as 3.13) picks another.
# The machine's default gets .venv, any other version .venv-X.Y, so they never clash.
PYTHON ?=

ifneq ($(MAKECMDGOALS),clean)
INTERPRETER := $(shell scripts/find-python $(PYTHON))
ifeq ($(INTERPRETER),)
$(error no supported Python interpreter: see the message above)
endif
VERSION_OF = $(shell $(1) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
ifeq ($(call VERSION_OF,$(INTERPRETER)),$(call VERSION_OF,$(shell scripts/find-python 2>/dev/null)))
VENV ?= .venv
else
VENV ?= .venv-$(call VERSION_OF,$(INTERPRETER))
endif
endif

BIN = $(VENV)/bin
# What serving needs, then the test extras on top of it for the test targets.
STAMP = $(VENV)/.installed
TEST_STAMP = $(VENV)/.installed-test
BENCH_STAMP = $(VENV)/.installed-bench
# The fast tier: no servers, browsers, Redis, schemathesis or programs of their own (markers in
# pyproject.toml), and fewer examples for the properties that draw hundreds (tests/conftest.py).
FAST_TIER := not server and not browser and not schemathesis and not process

.PHONY: run lint test test-all bench clean

$(STAMP): pyproject.toml setup.py advisor/_pyeval.c
	test -x $(BIN)/python || $(INTERPRETER) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

# The benchmark's peer engine (zen-engine); without it the benchmark leaves that line out.
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]' || echo "zen-engine not installed: no peer line"
	touch $(BENCH_STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

## run: serve the API with gunicorn on 127.0.0.1:8000 (advisor/gunicorn.conf.py)
run: $(STAMP)
	$(BIN)/advisor serve

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## test: lint, then the fast tier: every test that needs no server, browser, Debian package or program of its own
test: lint
	$(BIN)/python -m pytest -m '$(FAST_TIER)' --hypothesis-profile=fast -n auto

## test-all: install missing Debian packages (system-packages.txt), lint, run the whole suite
test-all: lint
	scripts/system-packages
	$(BIN)/python -m pytest

## bench: in-process timings (zen-engine beside them) and HTTP load with wrk; writes bench/results.json
bench: $(BENCH_STAMP)
	scripts/system-packages
	$(BIN)/python -m bench

clean:
	rm -rf .venv .venv-* .pytest_cache .ruff_cache .hypothesis *.egg-info build
	rm -f advisor/*.so
