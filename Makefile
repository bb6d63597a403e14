# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test install install-dev migrate admin demo welcome bench clean translations

# Two stamps: running needs only requirements.txt; the tests add requirements-dev.txt.
$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-run: requirements.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# The compiled catalogs (.mo) are built, never committed; the app also compiles a stale one at start.
CATALOGS := $(wildcard tracker/translations/*/LC_MESSAGES/messages.po)

%.mo: %.po $(VENV)/.installed-run
	$(BIN)/pybabel compile -i $< -o $@

install: $(VENV)/.installed-run $(CATALOGS:.po=.mo)

install-dev: install $(VENV)/.installed-dev

# After changing a page or a message: collect the sentences again and merge them into the catalogs.
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k N_ --no-location --sort-output --project tracker \
		-o tracker/translations/messages.pot .
	$(BIN)/pybabel update -i tracker/translations/messages.pot -d tracker/translations --no-wrap --ignore-obsolete

migrate: install
	$(FLASK) db upgrade

admin: migrate
	$(FLASK) tracker ensure-admin

demo: admin
	$(FLASK) tracker seed-demo

# The addresses, sample codes and logins, printed last before the server takes over.
welcome: demo
	$(FLASK) tracker welcome --base-url http://127.0.0.1:$(PORT)

run: welcome
	$(BIN)/gunicorn -c gunicorn.conf.py --bind 127.0.0.1:$(PORT) wsgi:app

# The system packages first (chromium, libcairo2): installed when run as root, otherwise
# the command to run is printed and nothing else happens.
test:
	@bash scripts/test-prerequisites.sh
	@$(MAKE) --no-print-directory install-dev
	$(BIN)/lint-imports
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

bench: install-dev
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
