"""`manage.py check --deploy` is clean with production settings taken from the environment,
and the HTTPS settings really come from there (without them the same check fails)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY_DJANGO_SETTINGS": "x7Kq2-production-like-secret-key-of-fifty-plus-chars-9vR3mWz",
    "ALLOWED_HOSTS": "chat.example.com",
    "SECURE_SSL_REDIRECT": "true",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "SECURE_PROXY_SSL_HEADER": "true",
}


def run_deploy_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    # Only what the process needs: variables of the test run (or a developer's .env, which the
    # settings read without overriding) must not leak in and change the verdict.
    base = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings"}
    unset = dict.fromkeys(PRODUCTION_ENV, "")
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env={**base, **unset, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = run_deploy_check(PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("variable", "warning"),
    [
        ("SECURE_SSL_REDIRECT", "security.W008"),
        ("SESSION_COOKIE_SECURE", "security.W012"),
        ("CSRF_COOKIE_SECURE", "security.W016"),
        ("SECURE_HSTS_SECONDS", "security.W004"),
    ],
)
def test_each_https_setting_comes_from_the_environment(variable, warning):
    result = run_deploy_check({**PRODUCTION_ENV, variable: ""})
    assert result.returncode != 0
    assert warning in result.stderr
