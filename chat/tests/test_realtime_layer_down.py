"""With the channel layer down (a Redis nobody listens on), writes still succeed and are kept.

Clients catch up through REST; the outage is logged once, not once per request.
"""

import logging

import pytest

from chat import events
from chat.models import Message, Thread

DEAD_REDIS = {
    "default": {
        "BACKEND": "config.channel_layer.PubSubChannelLayer",
        "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
    }
}


@pytest.fixture(autouse=True)
def dead_layer(settings):
    settings.CHANNEL_LAYERS = DEAD_REDIS
    events._LayerHealth.failing = False
    yield
    events._LayerHealth.failing = False


def layer_errors(caplog):
    return [r for r in caplog.records if r.name == "chat.events" and r.levelno >= logging.ERROR]


def test_posting_succeeds_and_the_message_is_listed(
    thread, alice, bob, client_for, caplog, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = client_for(alice).post(
            f"/api/threads/{thread.pk}/messages/", {"text": "one"}, format="json"
        )
        second = client_for(alice).post(
            f"/api/threads/{thread.pk}/messages/", {"text": "two"}, format="json"
        )
    assert (first.status_code, second.status_code) == (201, 201)
    assert len(callbacks) == 2  # both events were attempted, after commit
    listed = client_for(bob).get(f"/api/threads/{thread.pk}/messages/").json()
    assert [m["text"] for m in listed["results"]] == ["two", "one"]
    assert len(layer_errors(caplog)) == 1
    assert "catch up through REST" in layer_errors(caplog)[0].getMessage()


def test_mark_read_and_delete_succeed(
    thread, alice, bob, client_for, caplog, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message_id = (
            client_for(alice)
            .post(f"/api/threads/{thread.pk}/messages/", {"text": "one"}, format="json")
            .json()["id"]
        )
        client_for(alice).post(f"/api/threads/{thread.pk}/messages/", {"text": "2"}, format="json")
        one = client_for(bob).post(f"/api/messages/{message_id}/read/")
        rest = client_for(bob).post(f"/api/threads/{thread.pk}/read/")
        deleted = client_for(bob).delete(f"/api/threads/{thread.pk}/")
    assert (one.status_code, one.json()["is_read"]) == (200, True)
    assert rest.json() == {"marked": 1}
    assert deleted.status_code == 204
    assert not Thread.objects.filter(pk=thread.pk).exists()
    assert not Message.objects.filter(thread_id=thread.pk).exists()
    assert len(layer_errors(caplog)) == 1


def test_recovery_is_logged_and_the_next_outage_logged_again(thread, alice, caplog, settings):
    events.send_to_users([(alice.pk, {"type": "ping"})])
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    events.send_to_users([(alice.pk, {"type": "ping"})])
    settings.CHANNEL_LAYERS = DEAD_REDIS
    events.send_to_users([(alice.pk, {"type": "ping"})])
    assert len(layer_errors(caplog)) == 2
    assert any("recovered" in r.getMessage() for r in caplog.records)
