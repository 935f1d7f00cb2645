# The two commands: `make run` (development server with demo data) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run serve test lint format migrate demo clean fuzz race crash reliability bench bench-ws bench-topology bench-notify

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 14) else "Python 3.11 to 3.13 is needed; run make PYTHON=python3.12 (or another) to choose one.")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt constraints.txt | $(VENV)/bin/python
	@echo "Installing runtime dependencies into $(VENV) ..."
	$(PY) -m pip install --progress-bar on -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt constraints.txt | $(VENV)/bin/python
	@echo "Installing test dependencies into $(VENV) ..."
	$(PY) -m pip install --progress-bar on -r requirements-dev.txt
	@touch $@ $(VENV)/.installed

# .env from the example, with newly generated keys (the secret key, Web Push's VAPID key); an
# existing .env keeps its settings and only gets the keys it lacks (config/envfile.py).
.PHONY: dotenv
dotenv:
	@$(PYTHON) config/envfile.py

migrate: $(VENV)/.installed dotenv
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo

# The development server and, beside it, the notification worker (chat/management/commands/
# develop.py); exec, so that Ctrl-C or SIGTERM reaches the supervisor that stops both.
run: demo
	@echo "Serving on http://$(HOST):$(PORT)/  (API docs: /api/docs/, admin: /admin/)"
	exec $(PY) manage.py develop $(HOST):$(PORT)

# Production server, DEBUG off (chat/management/commands/serve.py). With REDIS_URL set: nginx on
# HOST:PORT in front of gunicorn's WSGI workers (REST, pages; WORKERS, default one per core) and
# uvicorn's ASGI workers (/ws/; ASGI_WORKERS), static files by nginx, under one supervisor; needs
# the system's nginx. Without REDIS_URL: one uvicorn process. DATABASE_URL selects PostgreSQL.
# exec: the server is make's own child, so on Ctrl-C or SIGTERM make waits until it has stopped
# everything (a shell in between dies at once, and make with it, while the workers still stop).
serve: migrate
	$(PY) manage.py collectstatic --noinput --verbosity 0
	DEBUG=False exec $(PY) manage.py serve --host $(HOST) --port $(PORT) $(if $(WORKERS),--workers $(WORKERS)) $(if $(ASGI_WORKERS),--asgi-workers $(ASGI_WORKERS))

# The production topology (`make serve` with REDIS_URL) against a bare Django + DRF + Simple JWT
# no-op on gunicorn, same data, same run: bench/TOPOLOGY.md. About 5 minutes; needs wrk, nginx and
# Redis; not part of make test.
bench-topology: $(VENV)/.installed-bench
	$(PY) bench/topology.py --output bench/data/topology.md $(BENCH_ARGS)

# Notifications: the worker's pushes per second and what they add to a send (about a minute;
# not part of make test): bench/NOTIFY.md.
bench-notify: $(VENV)/.installed-dev
	$(PY) bench/notify.py --output bench/NOTIFY.md

# WebSocket fan-out latency and idle sockets per worker (a few minutes; not part of make test).
bench-ws: $(VENV)/.installed-dev
	$(PY) bench/ws_fanout.py --output bench/WEBSOCKET.md

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Two processes (pytest-xdist), each test file whole in one of them: the suite is as much waiting
# for servers and browsers as computing. TEST_WORKERS=0 runs it in this process alone. The fuzz
# tests run after, without xdist: under it (even one worker) schemathesis's examples reached
# fewer operations, and the check that every operation got a 2xx failed.
TEST_WORKERS ?= 2
FUZZ_TESTS := tests/reliability/test_fuzz.py
test: lint
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadfile --ignore=$(FUZZ_TESTS)
	$(VENV)/bin/pytest $(FUZZ_TESTS)

# Longer reliability runs than `make test` does (RELIABILITY.md has the figures they give).
FUZZ_EXAMPLES ?= 500
fuzz: $(VENV)/.installed-dev
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(VENV)/bin/pytest -q -s -p no:cacheprovider tests/reliability/test_fuzz.py

RACE_MESSAGES ?= 100
race: $(VENV)/.installed-dev
	rm -f /tmp/chat-race.sqlite3 /tmp/chat-race.sqlite3-wal /tmp/chat-race.sqlite3-shm
	SQLITE_PATH=/tmp/chat-race.sqlite3 $(PY) -m tests.reliability.race --messages $(RACE_MESSAGES) --delete-rounds 30
	RACE_DB=postgres RACE_PG_NAME=chat_race $(PY) -m tests.reliability.race --messages $(RACE_MESSAGES) --delete-rounds 30

KILL_MESSAGES ?= 200
crash: $(VENV)/.installed-dev
	KILL_MESSAGES=$(KILL_MESSAGES) $(VENV)/bin/pytest -q -s tests/reliability/test_kill.py

reliability: $(VENV)/.installed-dev
	$(VENV)/bin/pytest -q tests/reliability

$(VENV)/.installed-bench: bench/requirements.txt requirements-dev.txt requirements.txt | $(VENV)/bin/python
	@echo "Installing the benchmark's tools into $(VENV) ..."
	$(PY) -m pip install --quiet --progress-bar on -r bench/requirements.txt
	@touch $@ $(VENV)/.installed $(VENV)/.installed-dev

# The benchmark (bench/README.md): seeds bench/data/ (10k, 100k and 1M messages; reused once
# made), serves it with the production server, loads every hot endpoint with wrk and writes
# bench/RESULTS.md and bench/latency_vs_size.png. About 10 minutes; not part of `make test`.
bench: $(VENV)/.installed-bench
	@command -v wrk >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "wrk (the HTTP load generator) is missing; installing it with apt-get ..."; \
			apt-get install -y -qq wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }; \
		else \
			echo "make bench needs wrk, the HTTP load generator: sudo apt-get install wrk (Debian/Ubuntu) or brew install wrk (macOS)"; \
			exit 1; \
		fi; }
	$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles .run .pytest_cache .ruff_cache .hypothesis
