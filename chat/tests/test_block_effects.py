"""What a block stops, in both directions: starting the thread, sending, editing, typing (the
socket test is in test_realtime_consumer.py). Either side hears the same neutral refusal, so the
blocked user cannot tell who blocked whom. History, marking read and deleting keep working."""

import pytest

from accounts.services import user_block, user_unblock
from chat.models import Message, Thread
from chat.services import BLOCKED_DETAIL
from chat.tests.factories import make_message
from chat.tests.inbox import Inbox

REFUSED = {"detail": BLOCKED_DETAIL}


@pytest.fixture(params=["alice blocks bob", "bob blocks alice"])
def blocked_pair(request, alice, bob):
    blocker, blocked = (alice, bob) if request.param.startswith("alice") else (bob, alice)
    user_block(user=blocker, other=blocked)
    return alice, bob


def test_neither_can_start_their_thread(client_for, blocked_pair):
    alice, bob = blocked_pair
    for caller, other in ((alice, bob), (bob, alice)):
        response = client_for(caller).post(
            "/api/threads/", {"participants": [other.pk]}, format="json"
        )

        assert response.status_code == 403
        assert response.json() == REFUSED
    assert not Thread.objects.exists()


def test_neither_can_send_and_nothing_is_written_or_announced(
    client_for, thread, alice, bob, django_capture_on_commit_callbacks
):
    user_block(user=alice, other=bob)
    inboxes = {user.username: Inbox(user) for user in (alice, bob)}

    for caller in (alice, bob):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = client_for(caller).post(
                f"/api/threads/{thread.pk}/messages/", {"text": "hi"}, format="json"
            )
        assert response.status_code == 403
        assert response.json() == REFUSED
        assert callbacks == []
    assert not Message.objects.exists()
    assert inboxes["alice"].events() == inboxes["bob"].events() == []


def test_an_earlier_send_retried_after_the_block_returns_the_first_message(
    client_for, thread, alice, bob
):
    headers = {"Idempotency-Key": "k1"}
    first = client_for(alice).post(
        f"/api/threads/{thread.pk}/messages/", {"text": "hi"}, format="json", headers=headers
    )
    user_block(user=bob, other=alice)

    retry = client_for(alice).post(
        f"/api/threads/{thread.pk}/messages/", {"text": "hi"}, format="json", headers=headers
    )

    assert retry.status_code == 200
    assert retry.json() == first.json()


def test_neither_can_edit_what_they_sent_before(client_for, thread, blocked_pair):
    alice, bob = blocked_pair
    for sender in (alice, bob):
        message = make_message_before_block(thread, sender)
        response = client_for(sender).patch(
            f"/api/messages/{message.pk}/", {"text": "changed"}, format="json"
        )

        assert response.status_code == 403
        assert response.json() == REFUSED
        message.refresh_from_db()
        assert message.text == "before"


def make_message_before_block(thread, sender):
    # Written straight to the table: a block is in place and the service would refuse it.
    return Message.objects.create(
        thread=thread,
        sender=sender,
        recipient_id=thread.other_participant_id(sender.pk),
        text="before",
    )


def test_history_marking_read_and_deleting_keep_working(client_for, thread, alice, bob):
    from_bob = make_message(thread, bob, "from bob")
    from_alice = make_message(thread, alice, "from alice")
    user_block(user=alice, other=bob)

    assert client_for(alice).get(f"/api/threads/{thread.pk}/messages/").json()["count"] == 2
    assert client_for(bob).get(f"/api/threads/{thread.pk}/").status_code == 200
    assert client_for(alice).post(f"/api/messages/{from_bob.pk}/read/").status_code == 200
    assert client_for(alice).delete(f"/api/messages/{from_alice.pk}/").status_code == 204
    assert client_for(bob).delete(f"/api/messages/{from_bob.pk}/?scope=me").status_code == 204
    assert client_for(bob).delete(f"/api/threads/{thread.pk}/").status_code == 204


def test_unblocking_lets_them_talk_again(client_for, thread, alice, bob):
    user_block(user=alice, other=bob)
    user_block(user=bob, other=alice)
    user_unblock(user=alice, other=bob)
    url = f"/api/threads/{thread.pk}/messages/"

    # Still blocked one way: both refused.
    assert client_for(alice).post(url, {"text": "a"}, format="json").status_code == 403
    user_unblock(user=bob, other=alice)
    assert client_for(alice).post(url, {"text": "a"}, format="json").status_code == 201
    assert client_for(bob).post(url, {"text": "b"}, format="json").status_code == 201


def test_a_block_between_others_changes_nothing_for_anyone_else(
    client_for, thread, alice, bob, outsider
):
    user_block(user=outsider, other=bob)

    response = client_for(alice).post(
        f"/api/threads/{thread.pk}/messages/", {"text": "hi"}, format="json"
    )

    assert response.status_code == 201
