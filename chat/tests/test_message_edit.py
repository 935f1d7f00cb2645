"""PATCH /api/messages/<id>/ (its sender edits it) and GET /api/messages/<id>/history/."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chat import services
from chat.models import Message, MessageEdit
from chat.tests.factories import make_message
from chat.tests.inbox import Inbox


def url(message_id):
    return f"/api/messages/{message_id}/"


def history_url(message_id):
    return f"/api/messages/{message_id}/history/"


@pytest.fixture
def message(thread, alice):
    """A message from alice to bob."""
    return make_message(thread, alice, "helo")


def test_the_sender_edits_and_both_see_the_new_text_marked_edited(
    client_for, alice, bob, thread, message
):
    response = client_for(alice).patch(url(message.pk), {"text": "hello"}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["text"] == "hello"
    assert body["edited"] is not None
    assert body["id"] == message.pk
    listed = client_for(bob).get(f"/api/threads/{thread.pk}/messages/").json()["results"]
    assert listed == [body]
    assert client_for(bob).get(f"/api/threads/{thread.pk}/").json()["last_message"] == body


def test_the_history_keeps_the_earlier_texts_oldest_first(client_for, alice, bob, message):
    client = client_for(alice)
    client.patch(url(message.pk), {"text": "hello"}, format="json")
    client.patch(url(message.pk), {"text": "hello!"}, format="json")

    for reader in (alice, bob):
        history = client_for(reader).get(history_url(message.pk))
        assert history.status_code == 200
        assert [entry["text"] for entry in history.json()] == ["helo", "hello"]
    assert set(history.json()[0]) == {"text", "until"}


def test_a_message_never_edited_has_an_empty_history(client_for, bob, message):
    assert client_for(bob).get(history_url(message.pk)).json() == []


def test_the_same_text_again_changes_nothing(client_for, alice, message):
    response = client_for(alice).patch(url(message.pk), {"text": "helo"}, format="json")

    assert response.status_code == 200
    assert response.json()["edited"] is None
    assert not MessageEdit.objects.exists()


def test_at_most_100_earlier_texts_are_kept(alice, message):
    for n in range(105):
        services.message_edit(message=message, user=alice, text=f"version {n}")

    kept = list(MessageEdit.objects.filter(message=message).values_list("text", flat=True))
    assert len(kept) == 100
    assert kept[0] == "version 4"  # the oldest five went: "helo" and versions 0 to 3
    assert kept[-1] == "version 103"


def test_the_other_participant_gets_403_and_nothing_changes(client_for, bob, message):
    response = client_for(bob).patch(url(message.pk), {"text": "mine now"}, format="json")

    assert response.status_code == 403
    assert Message.objects.get(pk=message.pk).text == "helo"


def test_an_outsider_gets_404_for_the_edit_and_the_history(client_for, outsider, message):
    client = client_for(outsider)

    assert client.patch(url(message.pk), {"text": "x"}, format="json").status_code == 404
    assert client.get(history_url(message.pk)).status_code == 404
    assert Message.objects.get(pk=message.pk).text == "helo"


def test_anonymous_callers_get_401(anon_client, message):
    assert anon_client.patch(url(message.pk), {"text": "x"}, format="json").status_code == 401
    assert anon_client.get(history_url(message.pk)).status_code == 401


def test_past_the_window_the_sender_gets_403(client_for, alice, message, settings):
    settings.MESSAGE_EDIT_WINDOW = 60
    Message.objects.filter(pk=message.pk).update(created=timezone.now() - timedelta(seconds=61))

    response = client_for(alice).patch(url(message.pk), {"text": "late"}, format="json")

    assert response.status_code == 403
    assert "time to edit" in response.json()["detail"]


def test_a_window_of_0_means_no_limit(client_for, alice, message, settings):
    settings.MESSAGE_EDIT_WINDOW = 0
    Message.objects.filter(pk=message.pk).update(created=timezone.now() - timedelta(days=3650))

    response = client_for(alice).patch(url(message.pk), {"text": "years later"}, format="json")

    assert response.status_code == 200


def test_a_deleted_message_is_a_409(client_for, alice, message):
    services.message_delete_for_everyone(message=message, user=alice)

    response = client_for(alice).patch(url(message.pk), {"text": "back"}, format="json")

    assert response.status_code == 409
    assert set(response.json()) == {"detail"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": ""}, "text"),
        ({"text": "   \n"}, "text"),
        ({"text": "x" * 4097}, "text"),
        ({"text": 42}, "text"),
        ({"text": None}, "text"),
        ({}, "text"),
    ],
)
def test_bad_text_is_a_400_naming_the_field(client_for, alice, message, body, field):
    response = client_for(alice).patch(url(message.pk), body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert Message.objects.get(pk=message.pk).text == "helo"


def test_an_id_too_large_for_the_database_is_a_404(client_for, alice):
    assert client_for(alice).patch(url(2**63), {"text": "x"}, format="json").status_code == 404
    assert client_for(alice).get(history_url(2**64)).status_code == 404


def test_both_participants_hear_of_it_the_outsider_does_not(
    alice, bob, outsider, message, django_capture_on_commit_callbacks
):
    inboxes = {user.username: Inbox(user) for user in (alice, bob, outsider)}
    with django_capture_on_commit_callbacks(execute=True):
        services.message_edit(message=message, user=alice, text="hello")

    for name in ("alice", "bob"):
        (event,) = inboxes[name].events()
        assert event["type"] == "message.updated"
        assert event["message"]["text"] == "hello"
        assert event["message"]["edited"] is not None
    assert inboxes["mallory"].events() == []


def test_editing_runs_a_fixed_number_of_queries(client_for, alice, message, counted):
    client = client_for(alice)
    # 1 the caller (JWT), 2 the message (access check), 3 SAVEPOINT, 4 lock the message row,
    # 5 does either block the other, 6 INSERT the earlier text, 7 the 100th newest earlier text,
    # 8 UPDATE the message, 9 the webhook endpoints (none), 10 RELEASE; after commit no query:
    # `message.updated` carries the message as it is.
    with counted(10):
        response = client.patch(url(message.pk), {"text": "hello"}, format="json")
    assert response.status_code == 200
