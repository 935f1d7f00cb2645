"""POST /api/threads/<id>/read/: mark every message sent to the caller in a thread read."""

from chat.models import Message
from chat.tests.factories import make_message, make_thread


def url(thread_id):
    return f"/api/threads/{thread_id}/read/"


def test_marks_the_messages_sent_to_the_caller_and_says_how_many(client_for, alice, bob, thread):
    to_alice = [make_message(thread, bob, str(n)) for n in range(3)]
    from_alice = make_message(thread, alice, "mine")

    response = client_for(alice).post(url(thread.pk))

    assert response.status_code == 200
    assert response.json() == {"marked": 3}
    assert all(
        Message.objects.filter(pk__in=[m.pk for m in to_alice]).values_list("is_read", flat=True)
    )
    assert Message.objects.get(pk=from_alice.pk).is_read is False


def test_repeating_it_marks_nothing_more(client_for, alice, bob, thread):
    make_message(thread, bob, "one")
    client = client_for(alice)
    client.post(url(thread.pk))

    response = client.post(url(thread.pk))

    assert response.status_code == 200
    assert response.json() == {"marked": 0}


def test_only_new_messages_are_counted_the_second_time(client_for, alice, bob, thread):
    client = client_for(alice)
    make_message(thread, bob, "one")
    client.post(url(thread.pk))
    make_message(thread, bob, "two")

    assert client.post(url(thread.pk)).json() == {"marked": 1}


def test_other_threads_of_the_caller_stay_unread(client_for, alice, bob, outsider, thread):
    other = make_thread(alice, outsider)
    elsewhere = make_message(other, outsider, "unread elsewhere")
    make_message(thread, bob, "here")

    client_for(alice).post(url(thread.pk))

    assert Message.objects.get(pk=elsewhere.pk).is_read is False
    assert client_for(alice).get("/api/messages/unread-count/").json() == {"unread_count": 1}


def test_the_thread_summary_shows_zero_unread_afterwards(client_for, alice, bob, thread):
    make_message(thread, bob, "one")
    client = client_for(alice)

    client.post(url(thread.pk))

    detail = client.get(f"/api/threads/{thread.pk}/").json()
    assert detail["unread_count"] == 0
    assert detail["last_message"]["is_read"] is True


def test_outsider_gets_404_and_nothing_changes(client_for, alice, bob, outsider, thread):
    message = make_message(thread, bob, "unread")

    response = client_for(outsider).post(url(thread.pk))

    assert response.status_code == 404
    assert Message.objects.get(pk=message.pk).is_read is False


def test_anonymous_caller_gets_401(anon_client, bob, thread):
    message = make_message(thread, bob, "unread")

    assert anon_client.post(url(thread.pk)).status_code == 401
    assert Message.objects.get(pk=message.pk).is_read is False


def test_unknown_or_malformed_thread_ids_are_404(client_for, alice):
    client = client_for(alice)

    assert client.post(url(99999999999999999999)).status_code == 404
    assert client.post("/api/threads/abc/read/").status_code == 404


def test_a_body_is_ignored(client_for, alice, bob, thread):
    make_message(thread, bob, "one")

    response = client_for(alice).post(url(thread.pk), {"marked": 99}, format="json")

    assert response.json() == {"marked": 1}


def test_get_is_a_405(client_for, alice, thread):
    assert client_for(alice).get(url(thread.pk)).status_code == 405


def test_marking_runs_a_fixed_number_of_queries(client_for, alice, bob, thread, counted):
    for n in range(5):
        make_message(thread, bob, str(n))
    client = client_for(alice)
    # 1 the caller (JWT), 2 the thread (access check), 3 the unread ids, 4 SAVEPOINT,
    # 5 UPDATE them, 6 the webhook endpoints (none), 7 RELEASE; after commit, 8 both
    # participants' unread figures.
    with counted(8):
        response = client.post(url(thread.pk))
    assert response.json() == {"marked": 5}


def test_marking_nothing_skips_the_update(client_for, alice, thread, counted):
    client = client_for(alice)
    # 1 the caller (JWT), 2 the thread (access check), 3 the unread ids (none): no write
    # transaction at all, and no event.
    with counted(3):
        response = client.post(url(thread.pk))
    assert response.json() == {"marked": 0}


def test_reading_does_not_move_the_thread_in_the_list(client_for, alice, bob, outsider, thread):
    make_message(thread, bob, "older activity")
    newer = make_thread(alice, outsider)
    client = client_for(alice)

    client.post(url(thread.pk))

    results = client.get("/api/threads/").json()["results"]
    assert [t["id"] for t in results] == [newer.pk, thread.pk]
