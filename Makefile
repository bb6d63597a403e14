# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test install migrate admin demo bench clean translations

$(BIN)/activate: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(BIN)/activate

# The compiled catalogs (.mo) are built, never committed; the app also compiles a stale one at start.
CATALOGS := $(wildcard tracker/translations/*/LC_MESSAGES/messages.po)

%.mo: %.po $(BIN)/activate
	$(BIN)/pybabel compile -i $< -o $@

install: $(BIN)/activate $(CATALOGS:.po=.mo)

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

run: demo
	$(BIN)/gunicorn -c gunicorn.conf.py --bind 127.0.0.1:$(PORT) wsgi:app

test: install
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
