"""POST /api/threads/<id>/clear/: every current message of the thread is hidden for the caller;
the thread stays in their list, and the other participant sees everything as before."""

import pytest

from chat import services
from chat.models import HiddenMessage, Message
from chat.tests.factories import make_message
from chat.tests.inbox import Inbox
from chat.tests.paging import assert_pages_match


def url(thread_id):
    return f"/api/threads/{thread_id}/clear/"


@pytest.fixture
def history(thread, alice, bob):
    """Five messages, the last two from bob unread by alice, one deleted for everyone."""
    messages = [make_message(thread, alice if n % 2 else bob, f"m{n}") for n in range(5)]
    services.message_mark_read(message=messages[0], user=alice)
    services.message_delete_for_everyone(message=messages[1], user=alice)
    return messages


def test_the_caller_sees_an_empty_conversation_the_other_everything(
    client_for, alice, bob, thread, history
):
    response = client_for(alice).post(url(thread.pk))

    assert response.status_code == 200
    assert response.json() == {"cleared": 4}  # the tombstone was not "visible" to clear
    assert_pages_match(client_for(alice), thread.pk, [])
    assert_pages_match(client_for(bob), thread.pk, [m.pk for m in history])
    entry = client_for(alice).get("/api/threads/").json()["results"][0]
    assert (entry["id"], entry["last_message"], entry["unread_count"]) == (thread.pk, None, 0)
    assert client_for(alice).get("/api/messages/unread-count/").json() == {"unread_count": 0}
    assert client_for(bob).get(f"/api/threads/{thread.pk}/").json()["last_message"] is not None


def test_messages_after_the_clear_show_and_count(client_for, alice, bob, thread, history):
    client_for(alice).post(url(thread.pk))
    later = [make_message(thread, bob, "after"), make_message(thread, alice, "again")]

    assert_pages_match(client_for(alice), thread.pk, [m.pk for m in later])
    detail = client_for(alice).get(f"/api/threads/{thread.pk}/").json()
    assert detail["last_message"]["id"] == later[-1].pk
    assert detail["unread_count"] == 1


def test_cleared_messages_are_gone_for_the_caller_one_by_one_too(client_for, alice, history):
    client = client_for(alice)
    client.post(url(history[0].thread_id))

    for message in history:
        assert client.get(f"/api/messages/{message.pk}/history/").status_code == 404
        assert client.patch(f"/api/messages/{message.pk}/", {"text": "x"}).status_code == 404


def test_clearing_again_clears_nothing_and_drops_what_the_bound_covers(
    client_for, alice, thread, history
):
    services.message_hide(message=history[4], user=alice)
    client = client_for(alice)

    assert client.post(url(thread.pk)).json() == {"cleared": 3}
    assert client.post(url(thread.pk)).json() == {"cleared": 0}
    assert not HiddenMessage.objects.exists()


def test_an_empty_thread_clears_nothing(client_for, alice, thread):
    assert client_for(alice).post(url(thread.pk)).json() == {"cleared": 0}


def test_an_outsider_gets_404_and_anonymous_callers_401(
    client_for, anon_client, outsider, thread, history
):
    assert client_for(outsider).post(url(thread.pk)).status_code == 404
    assert anon_client.post(url(thread.pk)).status_code == 401
    assert client_for(outsider).post(url(2**63)).status_code == 404


def test_the_callers_sockets_hear_of_it_and_the_sender_gets_read_receipts(
    alice, bob, outsider, thread, history, django_capture_on_commit_callbacks
):
    inboxes = {user.username: Inbox(user) for user in (alice, bob, outsider)}
    with django_capture_on_commit_callbacks(execute=True):
        services.thread_clear(thread=thread, user=alice)

    unread_ids = [history[2].pk, history[4].pk]
    assert inboxes["alice"].events() == [
        {
            "type": "message.read",
            "thread": thread.pk,
            "message_ids": unread_ids,
            "unread_count": 0,
            "thread_unread_count": 0,
        },
        {
            "type": "thread.cleared",
            "thread": thread.pk,
            "through": history[-1].pk,
            "unread_count": 0,
            "thread_unread_count": 0,
        },
    ]
    assert [e["type"] for e in inboxes["bob"].events()] == ["message.read"]
    assert inboxes["mallory"].events() == []
    assert not Message.objects.filter(recipient=alice, is_read=False).exists()


def test_clearing_runs_a_fixed_number_of_queries(client_for, alice, thread, history, counted):
    # 1 the caller (JWT), 2 the thread (access check), 3 SAVEPOINT, 4 the caller's seat
    # (locked), 5 the newest message, 6 count the visible ones, 7 the unread ones among them,
    # 8 mark those read, 9 the webhook endpoints for the read receipt (none), 10 UPDATE the
    # seat's bound, 11 DELETE the hidden rows it covers, 12 the webhook endpoints for
    # `thread.cleared`, 13 RELEASE; after commit, 14 and 15 the unread figures for the events.
    with counted(15):
        assert client_for(alice).post(url(thread.pk)).status_code == 200
