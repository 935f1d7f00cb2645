"""Races between real threads on the file-backed SQLite test database (WAL, IMMEDIATE
transactions, busy timeout, as in production), or PostgreSQL with DATABASE_URL: the database
keeps one thread per pair, and racing changes end in a state some order of them would give."""

import threading
from collections import Counter

import pytest
from django.db import connection, connections

from chat import selectors, services
from chat.models import Attachment, Message, MessageEdit, Participant, Thread
from chat.tests import attachment_files as made
from chat.tests.factories import make_message

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


ROUNDS = 4


def test_an_edit_racing_a_delete_ends_as_a_tombstone_either_way(client_for, alice, thread):
    client = client_for(alice)
    for round_number in range(ROUNDS):
        message = make_message(thread, alice, f"round {round_number}")
        url = f"/api/messages/{message.pk}/"

        edit, delete = run_at_once(
            [
                lambda url=url: client.patch(url, {"text": "edited"}, format="json"),
                lambda url=url: client.delete(url),
            ]
        )

        assert edit.status_code in (200, 409), edit.content  # 409: the delete came first
        assert delete.status_code == 204
        stored = Message.objects.get(pk=message.pk)
        assert (stored.deleted, stored.text) == (True, "")
        assert not MessageEdit.objects.filter(message=message).exists()


def test_two_edits_at_once_leave_one_text_and_the_other_in_the_history(client_for, alice, thread):
    client = client_for(alice)
    for round_number in range(ROUNDS):
        message = make_message(thread, alice, "original")
        url = f"/api/messages/{message.pk}/"

        responses = run_at_once(
            [lambda url=url, text=text: client.patch(url, {"text": text}, format="json")
             for text in ("first", "second")]
        )  # fmt: skip

        assert [r.status_code for r in responses] == [200, 200], round_number
        final = Message.objects.get(pk=message.pk).text
        other = {"first", "second"} - {final}
        history = list(MessageEdit.objects.filter(message=message).values_list("text", flat=True))
        assert history == ["original", *other]


def test_mark_read_racing_mark_unread_leaves_a_state_the_counts_agree_with(
    client_for, alice, bob, thread
):
    client = client_for(bob)
    for _ in range(ROUNDS):
        message = make_message(thread, alice, "for bob")
        services.message_mark_read(message=message, user=bob)
        run_at_once(
            [
                lambda m=message: client.post(f"/api/messages/{m.pk}/unread/"),
                lambda m=message: client.post(f"/api/messages/{m.pk}/read/"),
            ]
        )
        unread = Message.objects.filter(recipient=bob, is_read=False).count()
        assert client.get("/api/messages/unread-count/").json() == {"unread_count": unread}
        assert client.get(f"/api/threads/{thread.pk}/").json()["unread_count"] == unread
        Message.objects.filter(pk=message.pk).update(is_read=True)


def test_simultaneous_uploads_never_pass_the_quota_together(
    client_for, alice, bob, thread, settings, tmp_path
):
    """Eight uploads of 1,000 bytes at once against a quota of 3,500: exactly three are kept
    (the quota is checked again under the user's row lock, or SQLite's write lock), and each
    refused one left no file behind."""
    settings.MEDIA_ROOT = tmp_path
    settings.ATTACHMENT_QUOTA_BYTES = 3500
    client = client_for(alice)

    def upload(number):
        return lambda: client.post(
            "/api/attachments/",
            {"file": made.upload(bytes([65 + number]) * 1000, f"{number}.txt")},
            format="multipart",
        )

    statuses = Counter(
        response.status_code for response in run_at_once([upload(n) for n in range(WORKERS)])
    )

    assert statuses == {201: 3, 413: WORKERS - 3}
    assert Attachment.objects.filter(uploader=alice).count() == 3
    assert len([path for path in tmp_path.rglob("*") if path.is_file()]) == 3


def test_sending_one_upload_in_two_messages_at_once_attaches_it_once(
    alice, thread, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    draft = services.attachment_upload(user=alice, upload=made.upload(b"once", "once.txt"))

    def send(number):
        return lambda: services.message_send(
            thread=thread, sender=alice, text=f"try {number}", attachment_ids=[draft.pk]
        )

    results = run_at_once([send(n) for n in range(WORKERS)])

    sent = [result for result in results if isinstance(result, tuple)]
    assert len(sent) == 1, results
    assert all(
        type(result).__name__ == "ValidationError" for result in results if result not in sent
    )
    assert Message.objects.count() == 1
    assert Attachment.objects.get().message_id == sent[0][0].pk
