"""POST /api/messages/<id>/unread/: its recipient makes it, and every later message sent to
them in the thread, unread again."""

import pytest

from chat import services
from chat.models import Message
from chat.tests.factories import make_message
from chat.tests.inbox import Inbox


def url(message_id):
    return f"/api/messages/{message_id}/unread/"


@pytest.fixture
def conversation(thread, alice, bob):
    """bob → alice twice, alice → bob, bob → alice; alice has read everything."""
    messages = [
        make_message(thread, bob, "one"),
        make_message(thread, bob, "two"),
        make_message(thread, alice, "mine"),
        make_message(thread, bob, "three"),
    ]
    services.thread_mark_read(thread=thread, user=alice)
    return messages


def test_that_message_and_later_ones_sent_to_the_caller_become_unread(
    client_for, alice, thread, conversation
):
    _one, two, _mine, three = conversation

    response = client_for(alice).post(url(two.pk))

    assert response.status_code == 200
    assert response.json() == {"marked": 2}
    unread = Message.objects.filter(recipient=alice, is_read=False).values_list("id", flat=True)
    assert set(unread) == {two.pk, three.pk}
    assert client_for(alice).get("/api/messages/unread-count/").json() == {"unread_count": 2}
    assert client_for(alice).get(f"/api/threads/{thread.pk}/").json()["unread_count"] == 2


def test_repeating_it_marks_nothing_more(client_for, alice, conversation):
    client_for(alice).post(url(conversation[1].pk))

    assert client_for(alice).post(url(conversation[1].pk)).json() == {"marked": 0}


def test_tombstones_and_messages_hidden_for_the_caller_are_left_alone(
    client_for, alice, bob, conversation
):
    one, two, _mine, three = conversation
    services.message_delete_for_everyone(message=two, user=bob)
    services.message_hide(message=three, user=alice)

    response = client_for(alice).post(url(one.pk))

    assert response.json() == {"marked": 1}
    unread = Message.objects.filter(recipient=alice, is_read=False).values_list("id", flat=True)
    assert set(unread) == {one.pk}


def test_the_sender_gets_403(client_for, alice, bob, conversation):
    response = client_for(bob).post(url(conversation[0].pk))

    assert response.status_code == 403
    assert not Message.objects.filter(is_read=False).exclude(sender=alice).exists()


def test_an_outsider_gets_404_and_anonymous_callers_401(
    client_for, anon_client, outsider, conversation
):
    assert client_for(outsider).post(url(conversation[0].pk)).status_code == 404
    assert anon_client.post(url(conversation[0].pk)).status_code == 401
    assert Message.objects.filter(is_read=False).count() == 1  # alice's own, unread by bob


def test_both_hear_of_it_with_their_unread_figures(
    alice, bob, outsider, conversation, django_capture_on_commit_callbacks
):
    inboxes = {user.username: Inbox(user) for user in (alice, bob, outsider)}
    with django_capture_on_commit_callbacks(execute=True):
        services.message_mark_unread(message=conversation[1], user=alice)

    base = {
        "type": "message.unread",
        "thread": conversation[0].thread_id,
        "message_ids": [conversation[1].pk, conversation[3].pk],
    }
    assert inboxes["alice"].events() == [{**base, "unread_count": 2, "thread_unread_count": 2}]
    assert inboxes["bob"].events() == [{**base, "unread_count": 1, "thread_unread_count": 1}]
    assert inboxes["mallory"].events() == []


def test_marking_unread_runs_a_fixed_number_of_queries(client_for, alice, conversation, counted):
    # 1 the caller (JWT), 2 the message (access check), 3 SAVEPOINT, 4 the ids that change
    # (locked), 5 UPDATE them, 6 the webhook endpoints (none), 7 RELEASE; after commit, 8 the
    # unread figures for the event.
    with counted(8):
        assert client_for(alice).post(url(conversation[0].pk)).json() == {"marked": 3}
