"""Idempotent send: a retry with the same `Idempotency-Key` returns the first message (200)."""

import pytest

from chat.models import Message
from chat.tests.factories import UserFactory, make_thread


def send(client, thread, text, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(
        f"/api/threads/{thread.pk}/messages/", {"text": text}, format="json", **headers
    )


def test_retry_with_the_same_key_returns_the_first_message(client_for, alice, thread):
    client = client_for(alice)
    first = send(client, thread, "hello", key="k-1")
    retry = send(client, thread, "hello", key="k-1")
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json() == first.json()
    assert Message.objects.filter(thread=thread).count() == 1


def test_a_retry_with_other_text_still_returns_the_first_message(client_for, alice, thread):
    client = client_for(alice)
    first = send(client, thread, "hello", key="k-1")
    retry = send(client, thread, "hello again", key="k-1")
    assert retry.status_code == 200
    assert retry.json()["text"] == "hello" == first.json()["text"]


def test_keys_are_scoped_to_sender_and_thread(client_for, alice, bob, thread):
    carol = UserFactory(username="carol")
    other_thread = make_thread(alice, carol)
    assert send(client_for(alice), thread, "a", key="same").status_code == 201
    assert send(client_for(bob), thread, "b", key="same").status_code == 201
    assert send(client_for(alice), other_thread, "c", key="same").status_code == 201
    assert Message.objects.count() == 3


def test_without_a_key_every_send_is_a_new_message(client_for, alice, thread):
    client = client_for(alice)
    assert [send(client, thread, "x").status_code for _ in range(2)] == [201, 201]
    assert Message.objects.filter(thread=thread).count() == 2


@pytest.mark.parametrize("key", ["", " ", "has space", "x" * 256, "caf\u00e9", "tab\there"])
def test_malformed_keys_are_a_400(client_for, alice, thread, key):
    response = send(client_for(alice), thread, "x", key=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert not Message.objects.exists()


def test_an_outsider_cannot_replay_a_key_into_a_thread(client_for, alice, outsider, thread):
    send(client_for(alice), thread, "private", key="k-1")
    response = send(client_for(outsider), thread, "x", key="k-1")
    assert response.status_code == 404
    assert "private" not in response.content.decode()
