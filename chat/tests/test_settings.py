"""Settings from the environment, the SQLite connection's set-up, and the demo data."""

import os
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection

from chat.models import Message, Participant, Thread

User = get_user_model()

DEMO_PASSWORDS = {
    "alice": "chat-demo-pass",
    "bob": "chat-demo-pass",
    "carol": "chat-demo-pass",
    "dave": "chat-demo-pass",
    "admin": "admin-demo-pass",
}


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


@pytest.fixture
def demo_hashers(settings):
    # The demo dump keeps the production PBKDF2 hashes; tests otherwise hash with MD5.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]


def load_demo():
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def counts():
    return (
        User.objects.count(),
        Thread.objects.count(),
        Participant.objects.count(),
        Message.objects.count(),
    )


@pytest.mark.django_db
def test_load_demo_loads_the_fixture_once():
    first = load_demo()
    loaded = counts()
    second = load_demo()

    assert "Demo data loaded" in first
    assert loaded == (5, 4, 8, 19)
    assert "already loaded" in second
    assert counts() == loaded


@pytest.mark.django_db
def test_load_demo_leaves_a_database_with_demo_users_alone(alice):
    output = load_demo()

    assert "already loaded" in output
    assert counts() == (1, 0, 0, 0)


@pytest.mark.django_db
@pytest.mark.usefixtures("demo_hashers")
@pytest.mark.parametrize(("username", "password"), DEMO_PASSWORDS.items())
def test_demo_users_have_the_documented_passwords(username, password):
    load_demo()

    user = User.objects.get(username=username)
    assert user.check_password(password)
    assert not user.check_password(password + "x")


@pytest.mark.django_db
@pytest.mark.usefixtures("demo_hashers")
def test_a_demo_user_logs_in_through_the_api(anon_client):
    load_demo()

    response = anon_client.post(
        "/api/auth/token/", {"username": "alice", "password": "chat-demo-pass"}, format="json"
    )

    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.usefixtures("demo_hashers")
def test_the_demo_admin_logs_in_to_the_admin(client):
    load_demo()

    assert client.login(username="admin", password="admin-demo-pass")
    assert client.get("/admin/chat/thread/").status_code == 200
    assert User.objects.get(username="admin").is_superuser


@pytest.mark.django_db
def test_demo_threads_are_consistent_with_what_the_services_would_write():
    load_demo()

    for thread in Thread.objects.all():
        messages = list(Message.objects.filter(thread=thread).order_by("id"))
        seats = list(Participant.objects.filter(thread=thread).order_by("position"))
        assert thread.user_low_id < thread.user_high_id
        assert [(s.user_id, s.position) for s in seats] == [
            (thread.user_low_id, 0),
            (thread.user_high_id, 1),
        ]
        assert {s.thread_updated for s in seats} == {thread.updated}
        assert messages, f"thread {thread.pk} has no messages"
        assert thread.updated == messages[-1].created
        assert [m.created for m in messages] == sorted(m.created for m in messages)
        for message in messages:
            assert message.sender_id in (thread.user_low_id, thread.user_high_id)
            assert message.recipient_id == thread.other_participant_id(message.sender_id)


@pytest.mark.django_db
def test_demo_has_threads_read_to_the_end_and_threads_with_unread_messages():
    load_demo()

    unread_by_thread = {
        thread.pk: Message.objects.filter(thread=thread, is_read=False).count()
        for thread in Thread.objects.all()
    }

    assert any(count == 0 for count in unread_by_thread.values())
    assert any(count > 0 for count in unread_by_thread.values())
