"""Races between real threads on the file-backed SQLite test database (WAL, IMMEDIATE
transactions, busy timeout, as in production): the database keeps one thread per pair."""

import threading
from collections import Counter

import pytest
from django.db import connection, connections

from chat import selectors
from chat.models import Message, Participant, Thread

WORKERS = 8

pytestmark = pytest.mark.django_db(transaction=True)


def run_at_once(calls):
    """Run every call in its own thread, all released together; their results, in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def work(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as error:  # Reported by the test, with the other results.
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.mark.skipif(connection.vendor != "sqlite", reason="this run uses DATABASE_URL")
def test_the_test_database_is_a_file():
    assert not connection.is_in_memory_db()


def test_simultaneous_creates_from_both_sides_give_one_thread(client_for, alice, bob):
    clients = {alice: client_for(alice), bob: client_for(bob)}
    bodies = [
        (alice, [bob.pk]),
        (bob, [alice.pk]),
        (alice, [alice.pk, bob.pk]),
        (bob, [bob.pk, alice.pk]),
    ] * (WORKERS // 4)

    def create(caller, participants):
        return lambda: clients[caller].post(
            "/api/threads/", {"participants": participants}, format="json"
        )

    responses = run_at_once([create(caller, ids) for caller, ids in bodies])

    assert not [r for r in responses if isinstance(r, Exception)], responses
    assert Counter(r.status_code for r in responses) == {201: 1, 200: WORKERS - 1}
    assert Thread.objects.count() == 1
    assert {r.json()["id"] for r in responses} == {Thread.objects.get().pk}
    assert Participant.objects.count() == 2


def test_simultaneous_retries_with_one_idempotency_key_give_one_message(client_for, alice, thread):
    client = client_for(alice)
    url = f"/api/threads/{thread.pk}/messages/"

    def send():
        return client.post(url, {"text": "once"}, format="json", headers={"Idempotency-Key": "k1"})

    responses = run_at_once([send] * WORKERS)

    assert not [r for r in responses if isinstance(r, Exception)], responses
    assert Counter(r.status_code for r in responses) == {201: 1, 200: WORKERS - 1}
    assert Message.objects.count() == 1
    assert {r.json()["id"] for r in responses} == {Message.objects.get().pk}


def test_simultaneous_sends_all_land_and_the_thread_shows_the_newest(
    client_for, alice, bob, thread
):
    clients = [client_for(alice), client_for(bob)]
    url = f"/api/threads/{thread.pk}/messages/"

    def send(number):
        client = clients[number % 2]
        return lambda: client.post(url, {"text": f"message {number}"}, format="json")

    responses = run_at_once([send(n) for n in range(WORKERS)])

    assert not [r for r in responses if isinstance(r, Exception)], responses
    assert [r.status_code for r in responses] == [201] * WORKERS
    assert Message.objects.count() == WORKERS
    newest = Message.objects.order_by("-id").first()
    thread.refresh_from_db()
    assert thread.updated == newest.created
    assert list(Message.objects.order_by("id").values_list("created", flat=True)) == sorted(
        Message.objects.values_list("created", flat=True)
    )


def test_a_message_sent_to_a_thread_deleted_meanwhile_is_a_404(
    client_for, alice, bob, thread, monkeypatch
):
    check_access = selectors.thread_for_participant

    def check_access_then_lose_the_race(**kwargs):
        found = check_access(**kwargs)
        Thread.objects.filter(pk=found.pk).delete()  # bob deletes it at this very moment
        return found

    monkeypatch.setattr(selectors, "thread_for_participant", check_access_then_lose_the_race)

    response = client_for(alice).post(
        f"/api/threads/{thread.pk}/messages/", {"text": "too late"}, format="json"
    )

    assert response.status_code == 404
    assert not Message.objects.exists()
