"""Races on real databases with real threads (see `race.py`): create-or-get from both sides,
16 writers on shared and separate threads, mark-read against new messages, delete against send.
Zero errors, every message stored exactly once, unread counts exact afterwards.

Each run is a fresh process on a fresh database: a file-backed SQLite database (WAL), and
PostgreSQL when it answers on 127.0.0.1:5432. `make race` runs the same with more messages.
"""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

REPO = Path(__file__).resolve().parents[2]
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}


def run_race(env: dict[str, str]) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "tests.reliability.race", "--writers", "16", "--messages", "5"],
        cwd=REPO,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.stdout, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report["errors"] == []
    assert result.returncode == 0, result.stdout
    return report


def assert_nothing_lost(report):
    assert report["create_or_get"]["problems"] == []
    assert report["same_key"]["problems"] == []
    writers = report["writers"]
    assert writers["stored"] == writers["sends"] == 16 * 5
    assert writers["lost"] == writers["duplicates"] == writers["mismatched"] == 0
    assert writers["retries_returning_the_first_message"] == writers["sends"]
    assert writers["mark_read_mismatches"] == []
    delete = report["delete"]
    assert delete["orphan_messages"] == delete["threads_left"] == 0
    assert set(delete["statuses"]) <= {"201", "204", "404"}


def test_races_on_file_backed_sqlite(tmp_path):
    report = run_race({"SQLITE_PATH": str(tmp_path / "race.sqlite3")})
    assert report["database"] == "sqlite"
    assert_nothing_lost(report)


@pytest.fixture
def postgres_database():
    try:
        psycopg.connect(**PG, dbname="postgres", connect_timeout=2).close()
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL is not reachable at 127.0.0.1:5432 as postgres: {error}")
    name = f"chat_race_{uuid.uuid4().hex[:8]}"
    yield name
    with psycopg.connect(**PG, dbname="postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_races_on_postgresql(postgres_database):
    report = run_race({"RACE_DB": "postgres", "RACE_PG_NAME": postgres_database})
    assert report["database"] == "postgresql"
    assert_nothing_lost(report)
