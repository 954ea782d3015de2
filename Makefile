# Rendezvous: `make run` serves the app on an embedded SQLite database; `make test` runs
# the whole suite against real PostgreSQL and Redis.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
PYTEST_WORKERS ?= 2
# Where `make run` serves (port 5000 is AirPlay's on a Mac): `make run PORT=8000`.
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint install install-dev static translations messages bench bench-project clean bench-http bench-cache screenshots

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Rendezvous needs Python 3.11 or newer (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

# Front-end packages come from npm (package-lock.json); pages load them from static/vendor.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

static/vendor/htmx.min.js: node_modules/.installed
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $@

static: static/vendor/htmx.min.js

# Catalogs: French is app/translations/fr/LC_MESSAGES/messages.po; its compiled .mo is built
# here, never committed. The keywords name the domain's messages (app/domain/messages.py)
# beside gettext's own; tests/unit/test_catalog.py extracts with the same.
TRANSLATIONS := app/translations
BABEL_KEYWORDS := -k lazy_gettext -k lazy_ngettext:1,2 -k phrase -k phrase_n:1,2
CATALOGS := $(TRANSLATIONS)/fr/LC_MESSAGES/messages.mo

$(TRANSLATIONS)/%/LC_MESSAGES/messages.mo: $(TRANSLATIONS)/%/LC_MESSAGES/messages.po | $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d $(TRANSLATIONS) -l $*

translations: $(CATALOGS)

# After adding or changing text: extract every string and update the French catalog (new
# entries come in empty, for you to translate; the catalog test fails until you do).
messages: install-dev
	$(BIN)/pybabel extract -F $(TRANSLATIONS)/babel.cfg $(BABEL_KEYWORDS) --no-wrap \
		--sort-by-file --project Rendezvous -o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update --no-wrap --ignore-pot-creation-date --no-fuzzy-matching --ignore-obsolete \
		-i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS)

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install static translations
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	@# On first start only: an admin with a random password, printed this once.
	$(FLASK) users ensure-admin
	$(FLASK) run --host $(HOST) --port $(PORT)

lint: install-dev
	$(BIN)/ruff check app tests bench celery_worker.py
	$(BIN)/ruff format --check app tests bench celery_worker.py
	# Types of app/ (settings in pyproject.toml): every `# type: ignore` left must be needed.
	$(BIN)/mypy
	$(BIN)/lint-imports
	# Security lint: fails on any finding of medium severity or above.
	$(BIN)/bandit --quiet --recursive app --severity-level medium

test: lint static translations
	$(BIN)/pytest -n $(PYTEST_WORKERS)

bench: install-dev
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/append.py

# Needs a database of a million events first: see docs/benchmarks.md.
bench-project: install-dev
	$(BIN)/python bench/project.py

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache node_modules static/vendor

# Needs wrk (apt-get install wrk) and the two databases of docs/benchmarks.md, "Pages".
bench-http: install-dev
	$(BIN)/python bench/http_pages.py --compare-small

# Needs wrk, Redis and the ten-thousand-event database: see docs/benchmarks.md, "Read cache".
bench-cache: install-dev
	$(BIN)/python bench/http_cache.py

# PNGs of the main screens, taken by the e2e tests of the screens and of signing in.
screenshots: install-dev static translations
	$(BIN)/pytest tests/e2e -p no:xdist --screenshots docs/screenshots -k "screens or sign_in"
