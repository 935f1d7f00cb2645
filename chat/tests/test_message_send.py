"""POST /api/threads/<id>/messages/: send a message, optionally with an Idempotency-Key."""

import json

import pytest

from chat.models import Message, Thread
from chat.tests.factories import UserFactory, make_thread


def url(thread_id):
    return f"/api/threads/{thread_id}/messages/"


def test_sends_a_message_from_the_caller_to_the_other_participant(client_for, alice, bob, thread):
    response = client_for(alice).post(url(thread.pk), {"text": "hello bob"}, format="json")

    assert response.status_code == 201
    message = Message.objects.get()
    assert response.json() == {
        "id": message.pk,
        "thread": thread.pk,
        "sender": alice.pk,
        "text": "hello bob",
        "created": response.json()["created"],
        "is_read": False,
        "edited": None,
        "deleted": False,
        "attachments": [],
    }
    assert (message.sender, message.recipient) == (alice, bob)


def test_a_sender_field_in_the_body_is_ignored(client_for, alice, bob, thread):
    response = client_for(alice).post(
        url(thread.pk), {"text": "hi", "sender": bob.pk, "is_read": True}, format="json"
    )

    assert response.json()["sender"] == alice.pk
    assert response.json()["is_read"] is False


def test_sending_moves_the_threads_updated_to_the_message_time(client_for, alice, thread):
    response = client_for(alice).post(url(thread.pk), {"text": "hi"}, format="json")

    detail = client_for(alice).get(f"/api/threads/{thread.pk}/").json()
    assert detail["updated"] == response.json()["created"]
    assert detail["last_message"]["id"] == response.json()["id"]


def test_the_message_counts_as_unread_for_the_recipient_only(client_for, alice, bob, thread):
    client_for(alice).post(url(thread.pk), {"text": "hi"}, format="json")

    assert client_for(bob).get("/api/messages/unread-count/").json() == {"unread_count": 1}
    assert client_for(alice).get("/api/messages/unread-count/").json() == {"unread_count": 0}


def test_4096_characters_are_accepted(client_for, alice, thread):
    response = client_for(alice).post(url(thread.pk), {"text": "x" * 4096}, format="json")

    assert response.status_code == 201
    assert len(Message.objects.get().text) == 4096


def test_text_keeps_its_surrounding_white_space(client_for, alice, thread):
    response = client_for(alice).post(url(thread.pk), {"text": "  indented\n"}, format="json")

    assert response.json()["text"] == "  indented\n"


def test_non_ascii_text_round_trips(client_for, alice, thread):
    text = "héllo 👋 ✓ 日本"

    response = client_for(alice).post(url(thread.pk), {"text": text}, format="json")

    assert response.json()["text"] == text
    assert Message.objects.get().text == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x" * 4097, "no more than 4096"),
        ("", "cannot be empty"),
        ("   ", "only white space"),
        ("\n\t \r\n", "only white space"),
        (None, "may not be null"),
        (["hi"], "Not a valid string"),
        ({"a": "b"}, "Not a valid string"),
        (True, "Not a valid string"),
        ("\ud800", "Surrogate characters are not allowed"),
        ("ok \udfff", "Surrogate characters are not allowed"),
        ("a\x00b", "Null characters are not allowed"),
        (42, "Not a valid string"),
        (3.9e-217, "Not a valid string"),
    ],
)
def test_malformed_text_is_a_400_naming_the_field(client_for, alice, thread, text, message):
    # json.dumps writes a lone surrogate as the escape "\ud800", as a client's JSON would.
    body = json.dumps({"text": text})

    response = client_for(alice).post(url(thread.pk), data=body, content_type="application/json")

    assert response.status_code == 400
    assert message in str(response.json()["text"])
    assert not Message.objects.exists()


def test_missing_text_is_a_400(client_for, alice, thread):
    response = client_for(alice).post(url(thread.pk), {}, format="json")

    assert response.status_code == 400
    assert response.json() == {"text": ["The message cannot be empty or only white space."]}


@pytest.mark.parametrize("body", ['"hi"', "[]", "{bad json", ""])
def test_a_body_that_is_not_an_object_is_a_400(client_for, alice, thread, body):
    response = client_for(alice).post(url(thread.pk), data=body, content_type="application/json")

    assert response.status_code == 400
    assert not Message.objects.exists()


def test_invalid_utf8_bytes_are_a_400(client_for, alice, thread):
    response = client_for(alice).post(
        url(thread.pk), data=b'{"text": "\xff\xfe"}', content_type="application/json"
    )

    assert response.status_code == 400
    assert not Message.objects.exists()


def test_form_encoded_bodies_are_refused_with_415(client_for, alice, thread):
    response = client_for(alice).post(url(thread.pk), {"text": "hi"})

    assert response.status_code == 415
    assert "detail" in response.json()


def test_outsider_gets_404_and_nothing_is_written(client_for, outsider, thread):
    before = Thread.objects.get(pk=thread.pk).updated

    response = client_for(outsider).post(url(thread.pk), {"text": "let me in"}, format="json")

    assert response.status_code == 404
    assert not Message.objects.exists()
    assert Thread.objects.get(pk=thread.pk).updated == before


def test_outsider_with_malformed_text_still_gets_404(client_for, outsider, thread):
    response = client_for(outsider).post(url(thread.pk), {"text": ""}, format="json")

    assert response.status_code == 404


def test_anonymous_caller_gets_401(anon_client, thread):
    response = anon_client.post(url(thread.pk), {"text": "hi"}, format="json")

    assert response.status_code == 401
    assert not Message.objects.exists()


def test_unknown_thread_is_a_404(client_for, alice):
    response = client_for(alice).post(url(99999999999999999999), {"text": "hi"}, format="json")

    assert response.status_code == 404


def send(client, thread, text, key=None):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(url(thread.pk), {"text": text}, format="json", headers=headers)


def test_a_retry_with_the_same_idempotency_key_returns_the_first_message(client_for, alice, thread):
    client = client_for(alice)

    first = send(client, thread, "once", key="send-42")
    retry = send(client, thread, "once", key="send-42")

    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json() == first.json()
    assert Message.objects.count() == 1


def test_a_retry_with_other_text_still_returns_the_first_message(client_for, alice, thread):
    client = client_for(alice)

    first = send(client, thread, "hello", key="k-1")
    retry = send(client, thread, "hello again", key="k-1")

    assert retry.status_code == 200
    assert retry.json()["text"] == "hello" == first.json()["text"]


def test_different_idempotency_keys_send_different_messages(client_for, alice, thread):
    client = client_for(alice)

    statuses = [send(client, thread, "again", key=key).status_code for key in ("a-1", "a-2")]

    assert statuses == [201, 201]
    assert Message.objects.count() == 2


def test_keys_are_per_sender_and_thread(client_for, alice, bob, thread):
    other_thread = make_thread(alice, UserFactory(username="carol"))

    from_alice = send(client_for(alice), thread, "a", key="same")
    from_bob = send(client_for(bob), thread, "b", key="same")
    elsewhere = send(client_for(alice), other_thread, "c", key="same")

    assert [r.status_code for r in (from_alice, from_bob, elsewhere)] == [201, 201, 201]
    assert len({r.json()["id"] for r in (from_alice, from_bob, elsewhere)}) == 3


def test_without_a_key_every_post_is_a_new_message(client_for, alice, thread):
    client = client_for(alice)

    statuses = [send(client, thread, "same").status_code for _ in range(2)]

    assert statuses == [201, 201]
    assert Message.objects.count() == 2


@pytest.mark.parametrize("key", ["", " ", "has space", "x" * 256, "tab\tkey", "é"])
def test_a_malformed_idempotency_key_is_a_400(client_for, alice, thread, key):
    response = send(client_for(alice), thread, "hi", key=key)

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert not Message.objects.exists()


def test_an_outsider_cannot_replay_a_key_into_a_thread(client_for, alice, outsider, thread):
    send(client_for(alice), thread, "private", key="k-1")

    response = send(client_for(outsider), thread, "x", key="k-1")

    assert response.status_code == 404
    assert "private" not in response.content.decode()


def test_a_255_character_key_is_accepted(client_for, alice, thread):
    response = send(client_for(alice), thread, "hi", key="k" * 255)

    assert response.status_code == 201


def test_posting_runs_a_fixed_number_of_queries(client_for, alice, thread, counted):
    client = client_for(alice)
    # 1 the caller (JWT), 2 the thread (access check), 3 SAVEPOINT (service), 4 lock the thread
    # row, 5 does either block the other, 6 UPDATE the thread's `updated` (the database copies
    # it to both participants' rows), 7 INSERT the message (the database counts it), 8 queue
    # its push (an INSERT that writes nothing while the recipient has no browser subscribed),
    # 9 the webhook endpoints (none), 10 RELEASE; after commit, 11 both participants' unread
    # totals for `message.created`.
    with counted(11):
        response = client.post(url(thread.pk), {"text": "hi"}, format="json")
    assert response.status_code == 201


def test_posting_with_a_key_runs_a_fixed_number_of_queries(client_for, alice, thread, counted):
    client = client_for(alice)
    headers = {"Idempotency-Key": "key-1"}
    # 1 the caller (JWT), 2 the thread (access check), 3 SAVEPOINT, 4 lock the thread row (a
    # racing retry waits here, then finds this message), 5 look for the key, 6 does either
    # block the other, 7 UPDATE thread, 8 INSERT, 9 queue its push, 10 the webhook endpoints,
    # 11 RELEASE; after commit, 12 the unread totals for `message.created`.
    with counted(12):
        response = client.post(url(thread.pk), {"text": "hi"}, format="json", headers=headers)
    assert response.status_code == 201


def test_a_retry_runs_a_fixed_number_of_queries(client_for, alice, thread, counted):
    client = client_for(alice)
    headers = {"Idempotency-Key": "key-1"}
    client.post(url(thread.pk), {"text": "hi"}, format="json", headers=headers)
    # 1 the caller (JWT), 2 the thread (access check), 3 SAVEPOINT, 4 lock the thread row,
    # 5 the first message by its key, 6 RELEASE; no event.
    with counted(6):
        response = client.post(url(thread.pk), {"text": "hi"}, format="json", headers=headers)
    assert response.status_code == 200
