# Ripple: `make run` serves the app with demo data; `make test` runs the whole suite.
# Each target sets itself up: virtual environment, dependencies, database.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run serve worker test test-fast bench load faults db lint format clean system-deps browser-deps browser-npm help

help:
	@echo "make run    - set up, migrate, load demo data, serve on http://$(HOST):$(PORT)"
	@echo "make test   - set up and run the whole test suite"
	@echo "make bench  - print performance figures"
	@echo "make lint   - ruff"
	@echo "make serve  - gunicorn (production settings); needs SECRET_KEY and PUBLIC_BASE_URL"
	@echo "make worker - a Celery worker; needs CELERY_BROKER_URL, SECRET_KEY and PUBLIC_BASE_URL"
	@echo "              (or RIPPLE_ENV=development beside make run)"

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

db: $(STAMP) system-deps
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo

run: db
	@echo ""
	@echo "Ripple is starting on http://$(HOST):$(PORT)  (Ctrl+C stops it)"
	$(BIN)/flask run --host $(HOST) --port $(PORT)

# Production-style serving: gunicorn with the settings in gunicorn.conf.py (BIND, WEB_CONCURRENCY ...).
serve: db
	$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

# A Celery worker for grading and background jobs (needs CELERY_BROKER_URL, e.g. redis://127.0.0.1:6379/0).
# -B also runs the every-minute sweep that grades anything a lost task left waiting.
worker: $(STAMP)
	@test -n "$$CELERY_BROKER_URL" || { echo "Set CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0)"; exit 2; }
	PYTHONPATH=$(CURDIR) $(BIN)/celery -A lms.worker worker -B --loglevel INFO --concurrency $${WORKER_CONCURRENCY:-2} --queues ripple

# SAML signatures are made and checked by xmlsec1 (pysaml2 calls it), from Debian.
system-deps:
	@command -v xmlsec1 >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's xmlsec1 for SAML sign-in"; \
	    (apt-get install -y -qq xmlsec1 >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq xmlsec1 >/dev/null)); \
	  else echo "xmlsec1 is not installed: SAML sign-in will not work (apt-get install xmlsec1)"; fi; }

# The browser tests drive Debian's Chromium; install it when we are allowed to.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's chromium for the browser tests"; \
	    (apt-get install -y -qq chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)); \
	  else echo "chromium is not installed: browser tests will be skipped (apt-get install chromium)"; fi; }

# The SCORM runtime (scorm-again, from npm) that the browser tests' LMS page hosts: installed
# from tests/browser/package-lock.json when node_modules is missing or older than the lock file.
BROWSER_NPM := tests/browser/node_modules/.package-lock.json

$(BROWSER_NPM): tests/browser/package.json tests/browser/package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's npm for the browser tests"; \
	    (apt-get install -y -qq npm >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq npm >/dev/null)); \
	  fi; }
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm is not installed: the SCORM browser tests will be skipped (apt-get install npm)"; fi

browser-npm: $(BROWSER_NPM)

test: $(STAMP) system-deps browser-deps browser-npm
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP) system-deps
	$(BIN)/python -m pytest -m "not browser and not slow" $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# Load test (200 officers against gunicorn + PostgreSQL + 2 Celery workers on 127.0.0.1) and
# fault tests (worker killed, double submit, broker down, PostgreSQL restart). Not in `make test`.
load: $(STAMP)
	$(BIN)/python -m pip install --quiet -r requirements-load.txt
	bash ops/load.sh

faults: $(STAMP)
	$(BIN)/python -m ops.faults

lint: $(STAMP)
	$(BIN)/ruff check lms scenarios tests benchmarks ops wsgi.py
	$(BIN)/ruff format --check lms scenarios tests benchmarks ops wsgi.py

format: $(STAMP)
	$(BIN)/ruff format lms scenarios tests benchmarks ops wsgi.py
	$(BIN)/ruff check --fix lms scenarios tests benchmarks ops wsgi.py

clean:
	rm -rf $(VENV) instance/*.sqlite3 .pytest_cache
