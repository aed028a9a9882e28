# Set-up is part of every target: each creates .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The fast tier: no servers, browsers, Redis or schemathesis (markers in pyproject.toml).
FAST_TIER := not server and not browser and not schemathesis

.PHONY: run lint test test-all bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] < (3, 13)))' \
		|| { echo "Python 3.11 or 3.12 is needed (set PYTHON=...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## run: serve the API with gunicorn on 127.0.0.1:8000 (gunicorn.conf.py)
run: $(STAMP)
	$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## test: lint, then the fast tier: every test that needs no server, browser or Debian package
test: lint
	$(BIN)/python -m pytest -m '$(FAST_TIER)'

## test-all: install missing Debian packages (system-packages.txt), lint, run the whole suite
test-all: lint
	scripts/system-packages
	$(BIN)/python -m pytest

## bench: in-process timings and HTTP load with wrk; writes bench/results.json
bench: $(STAMP)
	scripts/system-packages
	$(BIN)/python -m advisor.bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis *.egg-info
