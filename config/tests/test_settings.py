"""Settings from the environment, and the SQLite connection's set-up."""

import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection

from tests.servers import run_python

User = get_user_model()


def import_settings(**env):
    """Import `config.settings` in a fresh interpreter with only `env` (and PATH) set.

    Variables given even empty win over any `.env` file, so a developer's `.env` cannot leak in.
    """
    clean_env = {"PATH": os.environ.get("PATH", ""), **env}
    return subprocess.run(
        [sys.executable, "-c", "import config.settings as s; print(s.DEBUG, len(s.SECRET_KEY))"],
        cwd=settings.BASE_DIR,
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_debug_off_without_a_secret_key_fails_saying_what_to_do():
    result = import_settings(DEBUG="False", SECRET_KEY_DJANGO_SETTINGS="")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY_DJANGO_SETTINGS is not set and DEBUG is off" in result.stderr
    assert "Set it in .env" in result.stderr
    assert "secrets.token_urlsafe" in result.stderr


def test_debug_unset_counts_as_off():
    result = import_settings(DEBUG="", SECRET_KEY_DJANGO_SETTINGS="")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr


def test_debug_off_with_a_secret_key_starts():
    result = import_settings(DEBUG="False", SECRET_KEY_DJANGO_SETTINGS="k" * 50)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "50"]


def test_debug_on_without_a_secret_key_starts_for_local_work():
    result = import_settings(DEBUG="True", SECRET_KEY_DJANGO_SETTINGS="")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "True"


sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite settings; this run uses DATABASE_URL"
)


@sqlite_only
@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode_with_a_busy_timeout():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        journal_mode = cursor.fetchone()[0]
        cursor.execute("PRAGMA busy_timeout")
        busy_timeout_ms = cursor.fetchone()[0]

    assert journal_mode == "wal"
    assert busy_timeout_ms == 20_000


@sqlite_only
def test_transactions_take_the_write_lock_at_begin():
    assert connection.transaction_mode == "IMMEDIATE"


def test_env_example_lists_every_variable_the_settings_read():
    source = (settings.BASE_DIR / "config" / "settings.py").read_text()
    read = set(re.findall(r'env_(?:str|int|bool|list)\(\s*"([A-Z0-9_]+)"', source))
    example = (settings.BASE_DIR / ".env.example").read_text()
    listed = set(re.findall(r"^([A-Z0-9_]+)=", example, flags=re.MULTILINE))

    assert "os.environ.get(" not in source.replace("os.environ.get(name", "")
    assert read, "the settings read no variable through env_*: the pattern above is stale"
    assert read - listed == set(), "missing from .env.example"
    assert listed - read == set(), "in .env.example but read by nothing"


def test_debug_adds_no_html_renderer_to_the_api():
    result = run_python(
        "import config.settings as s; print(s.REST_FRAMEWORK['DEFAULT_RENDERER_CLASSES'])",
        DEBUG="True",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['rest_framework.renderers.JSONRenderer']"


SIGNING_KEY_PROBE = """
import django, jwt
django.setup()
from django.conf import settings
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken
claims = {"token_type": "access", "exp": 4102444800, "iat": 1, "jti": "j", "user_id": "1"}
assert settings.SIMPLE_JWT["SIGNING_KEY"] == "a-separate-jwt-signing-key-of-plenty-of-length"
AccessToken(jwt.encode(claims, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256"))
try:
    AccessToken(jwt.encode(claims, settings.SECRET_KEY, algorithm="HS256"))
except TokenError:
    print("refused")
"""


def test_jwt_signing_key_makes_tokens_signed_with_the_secret_key_fail():
    # Settings are read once at start-up, so a fresh process gets the variable.
    result = run_python(
        SIGNING_KEY_PROBE,
        SECRET_KEY_DJANGO_SETTINGS="the-django-secret-key-which-must-not-sign-tokens-now",
        JWT_SIGNING_KEY="a-separate-jwt-signing-key-of-plenty-of-length",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "refused"


PRESENCE_PROBE = (
    "import config.settings as s; print(s.PRESENCE_GRACE, s.PRESENCE_REFRESH, s.PRESENCE_TTL)"
)
# The probes run without the .env that `make run` writes (a fresh clone has none): DEBUG on,
# so that no secret key is needed to read the settings.
NO_ENV_FILE = {"DEBUG": "True"}


def test_presence_periods_default_to_30_15_and_three_refreshes():
    result = run_python(
        PRESENCE_PROBE, PRESENCE_GRACE="", PRESENCE_REFRESH="", PRESENCE_TTL="", **NO_ENV_FILE
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["30", "15", "45"]

    result = run_python(
        PRESENCE_PROBE, PRESENCE_GRACE="", PRESENCE_REFRESH="2", PRESENCE_TTL="", **NO_ENV_FILE
    )
    assert result.stdout.split() == ["30", "2", "6"]  # the TTL follows the refresh period


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"PRESENCE_REFRESH": "10", "PRESENCE_TTL": "10"}, "longer than PRESENCE_REFRESH"),
        ({"PRESENCE_REFRESH": "0"}, "PRESENCE_REFRESH 1 or more"),
        ({"PRESENCE_GRACE": "-1"}, "PRESENCE_GRACE is 0 or more"),
    ],
)
def test_presence_periods_that_cannot_work_are_refused_at_start(env, says):
    unset = {"PRESENCE_GRACE": "", "PRESENCE_REFRESH": "", "PRESENCE_TTL": ""}
    result = run_python(PRESENCE_PROBE, **(unset | env | NO_ENV_FILE))

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert says in result.stderr
