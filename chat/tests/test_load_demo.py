"""`manage.py load_demo`, as `make run` runs it: the demo dump, loaded once, consistent, and
paged by the API exactly like data the services wrote."""

import io
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from PIL import Image
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from chat.models import Message, Participant, Thread
from chat.tests.paging import assert_pages_match

User = get_user_model()

DEMO_PASSWORDS = {
    "alice": "chat-demo-pass",
    "bob": "chat-demo-pass",
    "carol": "chat-demo-pass",
    "dave": "chat-demo-pass",
    "admin": "admin-demo-pass",
}


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


@pytest.mark.django_db
def test_every_demo_thread_pages_completely_by_offset_and_by_keyset():
    load_demo()

    for thread in Thread.objects.all():
        ids = list(Message.objects.filter(thread=thread).values_list("id", flat=True))
        for participant in (thread.user_low, thread.user_high):
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(participant)}")
            assert_pages_match(client, thread.pk, ids)
            listed = client.get(f"/api/threads/{thread.pk}/").json()
            assert listed["last_message"]["id"] == max(ids)


@pytest.mark.django_db
def test_the_demo_admin_sees_each_threads_real_message_count(client):
    load_demo()
    admin = User.objects.get(username="admin")
    client.force_login(admin)

    page = client.get("/admin/chat/thread/").content.decode()

    for thread in Thread.objects.all():
        count = Message.objects.filter(thread=thread).count()
        detail = client.get(f"/admin/chat/thread/{thread.pk}/change/").content.decode()
        assert f"All {count} messages" in detail
    assert page.count('<td class="field-message_count">0</td>') == 0


@pytest.mark.django_db
def test_the_demo_has_a_chart_alice_sent_bob_and_its_files_are_stored(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    load_demo()
    alice = User.objects.get(username="alice")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(alice)}")

    page = client.get("/api/threads/1/messages/?limit=100").json()["results"]

    with_files = [m for m in page if m["attachments"]]
    assert [(m["text"], m["attachments"][0]["name"]) for m in with_files] == [
        ("On it.", "slide-7-chart.png")
    ]
    chart = with_files[0]["attachments"][0]
    for link, size in ((chart["url"], (800, 480)), (chart["thumbnail_url"], (320, 192))):
        response = APIClient().get(link)
        assert response.status_code == 200
        assert Image.open(io.BytesIO(b"".join(response.streaming_content))).size == size
    assert (
        b"".join(APIClient().get(chart["url"]).streaming_content)
        == (tmp_path / "attachments" / "demo" / "slide-7-chart").read_bytes()
    )
