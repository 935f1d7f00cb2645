"""DELETE /api/messages/<id>/: for everyone (its sender; a tombstone stays) or, with
`?scope=me`, for the caller alone (hidden everywhere the caller looks, not for the other)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chat import services
from chat.models import HiddenMessage, Message, MessageEdit
from chat.tests.factories import make_message
from chat.tests.inbox import Inbox


def url(message_id, scope=None):
    return f"/api/messages/{message_id}/" + (f"?scope={scope}" if scope else "")


@pytest.fixture
def message(thread, alice, bob):
    """An unread message from alice to bob, after one from bob to alice."""
    make_message(thread, bob, "first")
    return make_message(thread, alice, "secret")


def ids(client, thread):
    body = client.get(f"/api/threads/{thread.pk}/messages/").json()
    return [m["id"] for m in body["results"]], body["count"]


# ---- for everyone


def test_the_sender_leaves_a_tombstone_both_see_in_place(client_for, alice, bob, thread, message):
    services.message_edit(message=message, user=alice, text="secret, edited")

    response = client_for(alice).delete(url(message.pk))

    assert response.status_code == 204
    for reader in (alice, bob):
        listed = client_for(reader).get(f"/api/threads/{thread.pk}/messages/").json()
        assert listed["count"] == 2
        tombstone = listed["results"][0]
        assert tombstone["id"] == message.pk
        assert (tombstone["deleted"], tombstone["text"]) == (True, "")
    stored = Message.objects.get(pk=message.pk)
    assert (stored.text, stored.deleted) == ("", True)
    assert not MessageEdit.objects.filter(message=message).exists()  # the old texts went too
    assert client_for(bob).get(f"/api/messages/{message.pk}/history/").json() == []


def test_a_tombstone_stops_counting_as_unread(client_for, bob, alice, thread, message):
    assert client_for(bob).get("/api/messages/unread-count/").json() == {"unread_count": 1}

    client_for(alice).delete(url(message.pk))

    assert client_for(bob).get("/api/messages/unread-count/").json() == {"unread_count": 0}
    assert client_for(bob).get(f"/api/threads/{thread.pk}/").json()["unread_count"] == 0
    assert client_for(bob).post(f"/api/threads/{thread.pk}/read/").json() == {"marked": 0}


def test_deleting_again_is_a_204_and_changes_nothing(client_for, alice, message, settings):
    client_for(alice).delete(url(message.pk))
    settings.MESSAGE_EDIT_WINDOW = 1
    Message.objects.filter(pk=message.pk).update(created=timezone.now() - timedelta(days=1))

    assert client_for(alice).delete(url(message.pk)).status_code == 204
    assert client_for(alice).delete(url(message.pk, "everyone")).status_code == 204


def test_the_other_participant_gets_403(client_for, bob, message):
    response = client_for(bob).delete(url(message.pk))

    assert response.status_code == 403
    assert Message.objects.get(pk=message.pk).deleted is False


def test_past_the_window_the_sender_gets_403(client_for, alice, message, settings):
    settings.MESSAGE_EDIT_WINDOW = 60
    Message.objects.filter(pk=message.pk).update(created=timezone.now() - timedelta(minutes=2))

    response = client_for(alice).delete(url(message.pk))

    assert response.status_code == 403
    assert Message.objects.get(pk=message.pk).text == "secret"


def test_both_hear_of_it_with_their_unread_figures(
    alice, bob, outsider, message, django_capture_on_commit_callbacks
):
    inboxes = {user.username: Inbox(user) for user in (alice, bob, outsider)}
    with django_capture_on_commit_callbacks(execute=True):
        services.message_delete_for_everyone(message=message, user=alice)

    base = {
        "type": "message.deleted",
        "thread": message.thread_id,
        "message_id": message.pk,
        "scope": "everyone",
    }
    assert inboxes["alice"].events() == [{**base, "unread_count": 1, "thread_unread_count": 1}]
    assert inboxes["bob"].events() == [{**base, "unread_count": 0, "thread_unread_count": 0}]
    assert inboxes["mallory"].events() == []


# ---- for me


def test_scope_me_hides_it_for_the_caller_only(client_for, alice, bob, thread, message):
    response = client_for(bob).delete(url(message.pk, "me"))

    assert response.status_code == 204
    bob_ids, bob_count = ids(client_for(bob), thread)
    alice_ids, alice_count = ids(client_for(alice), thread)
    assert message.pk not in bob_ids
    assert bob_count == len(bob_ids) == 1
    assert message.pk in alice_ids
    assert alice_count == 2
    assert client_for(bob).get(f"/api/threads/{thread.pk}/").json()["last_message"]["text"] == (
        "first"
    )
    assert client_for(alice).get(f"/api/threads/{thread.pk}/").json()["last_message"]["id"] == (
        message.pk
    )


def test_a_hidden_message_is_gone_for_the_caller_everywhere(client_for, bob, thread, message):
    client = client_for(bob)
    client.delete(url(message.pk, "me"))

    assert client.get(f"/api/messages/{message.pk}/history/").status_code == 404
    assert client.post(f"/api/messages/{message.pk}/read/").status_code == 404
    assert client.post(f"/api/messages/{message.pk}/unread/").status_code == 404
    assert client.delete(url(message.pk, "me")).status_code == 404
    listed = client.get(f"/api/threads/{thread.pk}/messages/?after=1").json()
    assert message.pk not in [m["id"] for m in listed["results"]]
    assert listed["count"] == 1


def test_hiding_a_message_sent_to_you_marks_it_read(client_for, alice, bob, thread, message):
    client_for(bob).delete(url(message.pk, "me"))

    assert client_for(bob).get("/api/messages/unread-count/").json() == {"unread_count": 0}
    assert (
        client_for(alice).get(f"/api/threads/{thread.pk}/messages/").json()["results"][0]["is_read"]
    )


def test_the_sender_may_hide_their_own_message_past_the_window(
    client_for, alice, bob, thread, message, settings
):
    settings.MESSAGE_EDIT_WINDOW = 1
    Message.objects.filter(pk=message.pk).update(created=timezone.now() - timedelta(days=9))

    assert client_for(alice).delete(url(message.pk, "me")).status_code == 204
    assert message.pk in ids(client_for(bob), thread)[0]


def test_only_the_callers_sockets_hear_of_it(
    alice, bob, message, django_capture_on_commit_callbacks
):
    inbox_alice, inbox_bob = Inbox(alice), Inbox(bob)
    with django_capture_on_commit_callbacks(execute=True):
        services.message_hide(message=message, user=alice)

    assert inbox_alice.events() == [
        {
            "type": "message.deleted",
            "thread": message.thread_id,
            "message_id": message.pk,
            "scope": "me",
            "unread_count": 1,
            "thread_unread_count": 1,
        }
    ]
    assert inbox_bob.events() == []


def test_a_recipient_hiding_an_unread_message_sends_a_read_receipt(
    alice, bob, message, django_capture_on_commit_callbacks
):
    inbox_alice = Inbox(alice)
    with django_capture_on_commit_callbacks(execute=True):
        services.message_hide(message=message, user=bob)

    (receipt,) = inbox_alice.events()
    assert receipt["type"] == "message.read"
    assert receipt["message_ids"] == [message.pk]


# ---- both


def test_an_outsider_gets_404_either_way(client_for, outsider, message):
    for scope in (None, "everyone", "me"):
        assert client_for(outsider).delete(url(message.pk, scope)).status_code == 404
    assert Message.objects.get(pk=message.pk).deleted is False
    assert not HiddenMessage.objects.exists()


def test_anonymous_callers_get_401(anon_client, message):
    assert anon_client.delete(url(message.pk)).status_code == 401


@pytest.mark.parametrize("scope", ["all", "ME", "me,everyone", "%00"])
def test_an_unknown_scope_is_a_400_naming_it(client_for, alice, message, scope):
    response = client_for(alice).delete(f"/api/messages/{message.pk}/?scope={scope}")

    assert response.status_code == 400
    assert "scope" in response.json()
    assert Message.objects.get(pk=message.pk).deleted is False


def test_deleting_for_everyone_runs_a_fixed_number_of_queries(client_for, alice, message, counted):
    # 1 the caller (JWT), 2 the message (access check), 3 SAVEPOINT, 4 lock the message row,
    # 5 UPDATE it into a tombstone, 6 DELETE its earlier texts, 7 the webhook endpoints to record
    # the event for (none), 8 RELEASE; after commit, 9 both participants' unread figures for
    # `message.deleted`.
    with counted(9):
        assert client_for(alice).delete(url(message.pk)).status_code == 204


def test_hiding_runs_a_fixed_number_of_queries(client_for, bob, message, counted):
    # 1 the caller (JWT), 2 the message (access check), 3 SAVEPOINT, 4 INSERT the hidden row,
    # 5 mark it read (sent to the caller), 6 and 7 the webhook endpoints for each of the two
    # events (none), 8 RELEASE; after commit, 9 the unread figures for the read receipt and 10
    # for `message.deleted`.
    with counted(10):
        assert client_for(bob).delete(url(message.pk, "me")).status_code == 204
