"""POST /api/messages/<id>/read/: the recipient marks one message read."""

import pytest

from chat.models import Message
from chat.tests.factories import make_message


def url(message_id):
    return f"/api/messages/{message_id}/read/"


@pytest.fixture
def message(thread, bob):
    """A message from bob to alice."""
    return make_message(thread, bob, "for alice")


def test_the_recipient_marks_it_read_and_gets_the_message(client_for, alice, bob, message):
    response = client_for(alice).post(url(message.pk))

    assert response.status_code == 200
    assert response.json() == {
        "id": message.pk,
        "thread": message.thread_id,
        "sender": bob.pk,
        "text": "for alice",
        "created": response.json()["created"],
        "is_read": True,
        "edited": None,
        "deleted": False,
        "attachments": [],
    }
    assert Message.objects.get(pk=message.pk).is_read is True


def test_repeating_it_is_harmless(client_for, alice, message):
    client = client_for(alice)
    client.post(url(message.pk))

    response = client.post(url(message.pk))

    assert response.status_code == 200
    assert response.json()["is_read"] is True


def test_only_that_message_is_marked(client_for, alice, bob, thread, message):
    other = make_message(thread, bob, "still unread")

    client_for(alice).post(url(message.pk))

    assert Message.objects.get(pk=other.pk).is_read is False
    assert client_for(alice).get("/api/messages/unread-count/").json() == {"unread_count": 1}


def test_the_sender_gets_403_and_the_message_stays_unread(client_for, bob, message):
    response = client_for(bob).post(url(message.pk))

    assert response.status_code == 403
    assert set(response.json()) == {"detail"}
    assert Message.objects.get(pk=message.pk).is_read is False


def test_outsider_gets_the_same_404_as_for_a_missing_message(client_for, outsider, message):
    client = client_for(outsider)

    hidden = client.post(url(message.pk))
    missing = client.post(url(message.pk + 1000))

    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    assert "for alice" not in hidden.content.decode()
    assert Message.objects.get(pk=message.pk).is_read is False


def test_anonymous_caller_gets_401(anon_client, message):
    assert anon_client.post(url(message.pk)).status_code == 401
    assert Message.objects.get(pk=message.pk).is_read is False


@pytest.mark.parametrize("message_id", ["abc", "-1", "1.0"])
def test_a_malformed_id_is_a_json_404(client_for, alice, message_id):
    response = client_for(alice).post(f"/api/messages/{message_id}/read/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("message_id", ["0", "99999999999999999999"])
def test_an_id_no_message_can_have_is_a_404(client_for, alice, message_id):
    assert client_for(alice).post(url(message_id)).status_code == 404


def test_marking_runs_a_fixed_number_of_queries(client_for, alice, message, counted):
    client = client_for(alice)
    # 1 the caller (JWT), 2 the message (access check), 3 SAVEPOINT, 4 UPDATE, 5 the webhook
    # endpoints (none), 6 RELEASE; after commit, 7 both participants' unread figures for
    # `message.read`.
    with counted(7):
        response = client.post(url(message.pk))
    assert response.status_code == 200


def test_marking_again_skips_the_update(client_for, alice, message, counted):
    client = client_for(alice)
    client.post(url(message.pk))
    # 1 the caller (JWT), 2 the message (access check), 3 SAVEPOINT, 4 RELEASE; no event.
    with counted(4):
        client.post(url(message.pk))
