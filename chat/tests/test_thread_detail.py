"""GET and DELETE /api/threads/<id>/: one thread, for its participants only."""

import pytest

from chat import services
from chat.models import Message, Participant, Thread
from chat.tests.factories import make_message, make_thread
from chat.tests.inbox import Inbox


def url(thread_id):
    return f"/api/threads/{thread_id}/"


def test_participant_gets_the_thread_with_its_summary(client_for, alice, bob, thread):
    make_message(thread, bob, "one")
    last = make_message(thread, bob, "two")

    response = client_for(alice).get(url(thread.pk))

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == thread.pk
    assert [p["username"] for p in body["participants"]] == ["alice", "bob"]
    assert body["last_message"]["id"] == last.pk
    assert body["last_message"]["text"] == "two"
    assert body["unread_count"] == 2
    assert set(body) == {
        "id",
        "participants",
        "created",
        "updated",
        "last_message",
        "unread_count",
        "muted",
        "muted_until",
    }


def test_the_other_participant_sees_its_own_unread_count(client_for, alice, bob, thread):
    make_message(thread, bob, "one")

    assert client_for(bob).get(url(thread.pk)).json()["unread_count"] == 0


def test_outsider_gets_the_same_404_as_for_a_missing_thread(client_for, outsider, thread):
    client = client_for(outsider)

    hidden = client.get(url(thread.pk))
    missing = client.get(url(thread.pk + 1000))

    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    assert "detail" in hidden.json()


def test_staff_who_is_not_a_participant_gets_404(client_for, staff, thread):
    assert client_for(staff).get(url(thread.pk)).status_code == 404


def test_anonymous_caller_gets_401(anon_client, thread):
    assert anon_client.get(url(thread.pk)).status_code == 401
    assert anon_client.delete(url(thread.pk)).status_code == 401
    assert Thread.objects.filter(pk=thread.pk).exists()


@pytest.mark.parametrize("thread_id", ["abc", "-1", "1.5", "0x1", "%00"])
def test_a_malformed_id_is_a_json_404(client_for, alice, thread, thread_id):
    response = client_for(alice).get(f"/api/threads/{thread_id}/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("thread_id", ["0", "99999999999999999999"])
def test_an_id_no_thread_can_have_is_a_404(client_for, alice, thread_id):
    response = client_for(alice).get(f"/api/threads/{thread_id}/")

    assert response.status_code == 404
    assert "detail" in response.json()


def test_delete_removes_the_thread_and_its_messages_for_both(client_for, alice, bob, thread):
    make_message(thread, alice, "one")
    make_message(thread, bob, "two")

    response = client_for(bob).delete(url(thread.pk))

    assert response.status_code == 204
    assert not Thread.objects.exists()
    assert not Message.objects.exists()
    assert not Participant.objects.exists()
    assert client_for(alice).get(url(thread.pk)).status_code == 404
    assert client_for(alice).get("/api/threads/").json()["count"] == 0
    assert client_for(alice).get("/api/messages/unread-count/").json() == {"unread_count": 0}


def test_delete_leaves_other_threads_alone(client_for, alice, bob, outsider, thread):
    other = make_thread(alice, outsider)
    kept = make_message(other, outsider, "stays")

    client_for(alice).delete(url(thread.pk))

    assert list(Thread.objects.values_list("pk", flat=True)) == [other.pk]
    assert Message.objects.get().pk == kept.pk


def test_outsider_cannot_delete_and_nothing_changes(client_for, alice, outsider, thread):
    make_message(thread, alice, "stays")

    response = client_for(outsider).delete(url(thread.pk))

    assert response.status_code == 404
    assert Thread.objects.filter(pk=thread.pk).exists()
    assert Message.objects.filter(thread=thread).count() == 1


def test_deleting_twice_is_a_404(client_for, alice, thread):
    client = client_for(alice)

    assert client.delete(url(thread.pk)).status_code == 204
    assert client.delete(url(thread.pk)).status_code == 404


def test_delete_with_a_huge_id_is_a_404(client_for, alice, thread):
    response = client_for(alice).delete("/api/threads/99999999999999999999/")

    assert response.status_code == 404
    assert Thread.objects.exists()


@pytest.mark.parametrize("method", ["put", "patch"])
def test_other_methods_are_a_json_405(client_for, alice, thread, method):
    response = getattr(client_for(alice), method)(url(thread.pk), {}, format="json")

    assert response.status_code == 405
    assert "detail" in response.json()


def test_detail_runs_a_fixed_number_of_queries(
    client_for, alice, bob, thread, django_assert_num_queries
):
    make_message(thread, bob, "one")
    client = client_for(alice)
    # 1 the caller (JWT), 2 the thread (the access check), 3 the thread as the caller's list
    # reads it: both users, the last message and the unread count in one statement.
    with django_assert_num_queries(3):
        client.get(url(thread.pk))


def test_deleting_tells_both_their_unread_total_without_that_threads_messages(
    alice, bob, outsider, thread, django_capture_on_commit_callbacks
):
    other = make_thread(alice, outsider)
    make_message(thread, bob, "goes with the thread")
    make_message(other, outsider, "stays")
    make_message(other, outsider, "stays too")
    inbox_alice, inbox_bob = Inbox(alice), Inbox(bob)
    deleted = {"type": "thread.deleted", "thread": thread.pk}

    with django_capture_on_commit_callbacks(execute=True):
        services.thread_delete(thread=thread)

    assert inbox_alice.events() == [{**deleted, "unread_count": 2}]
    assert inbox_bob.events() == [{**deleted, "unread_count": 0}]
