# The two commands: `make run` (development server with demo data) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run serve test lint format migrate demo bench-ws clean

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 14) else "Python 3.11 to 3.13 is needed; run make PYTHON=python3.12 (or another) to choose one.")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	@echo "Installing runtime dependencies into $(VENV) ..."
	$(PY) -m pip install --progress-bar on -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt | $(VENV)/bin/python
	@echo "Installing test dependencies into $(VENV) ..."
	$(PY) -m pip install --progress-bar on -r requirements-dev.txt
	@touch $@ $(VENV)/.installed

# A fresh .env from the example, with a newly generated secret key. An existing .env is kept.
.env:
	@$(PYTHON) -c 'import secrets, pathlib; text = pathlib.Path(".env.example").read_text(); pathlib.Path(".env").write_text(text.replace("SECRET_KEY_DJANGO_SETTINGS=\n", "SECRET_KEY_DJANGO_SETTINGS=" + secrets.token_urlsafe(50) + "\n", 1))'
	@echo "Wrote .env with a new secret key (edit it to change settings)."

migrate: $(VENV)/.installed .env
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo

run: demo
	@echo "Serving on http://$(HOST):$(PORT)/  (API docs: /api/docs/, admin: /admin/)"
	$(PY) manage.py runserver $(HOST):$(PORT)

# Production server: several uvicorn workers, DEBUG off, static files by WhiteNoise.
# Several workers need REDIS_URL (shared channel layer); DATABASE_URL selects PostgreSQL.
serve: migrate
	$(PY) manage.py collectstatic --noinput --verbosity 0
	DEBUG=False $(PY) manage.py serve --host $(HOST) --port $(PORT) $(if $(WORKERS),--workers $(WORKERS))

# WebSocket fan-out latency and idle sockets per worker (a few minutes; not part of make test).
bench-ws: $(VENV)/.installed-dev
	$(PY) bench/ws_fanout.py

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: lint
	$(VENV)/bin/pytest

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .hypothesis
