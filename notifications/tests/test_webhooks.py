"""Webhooks: every event recorded in its write's transaction, for every active endpoint, sent
signed to a real receiver on a socket, retried with backoff, logged, and an endpoint that keeps
failing turned off."""

import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from chat import services
from chat.tests.factories import make_thread
from notifications import delivery, webhooks
from notifications import services as notification_services
from notifications.models import WebhookDelivery, WebhookEndpoint
from notifications.webhooks import SIGNATURE_HEADER
from tests.servers import free_port


class Receiver:
    """An operator's webhook receiver on 127.0.0.1: keeps each request, answers the scripted
    statuses in order (then 200)."""

    def __init__(self):
        self.requests, self.statuses = [], []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                if status in (301, 302, 307, 308):
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    def events(self) -> list[dict]:
        return [json.loads(body) for _, body in self.requests]


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


@pytest.fixture
def endpoint(receiver):
    return WebhookEndpoint.objects.create(url=receiver.url, secret="s3cret")


def recorded() -> list[str]:
    return list(WebhookDelivery.objects.order_by("id").values_list("event_type", flat=True))


def test_every_write_records_its_event_for_each_active_endpoint(alice, bob, receiver):
    first = WebhookEndpoint.objects.create(url=receiver.url)
    second = WebhookEndpoint.objects.create(url=receiver.url)
    WebhookEndpoint.objects.create(url=receiver.url, active=False)
    thread, _ = services.thread_get_or_create(user=alice, other=bob)
    message, _ = services.message_send(thread=thread, sender=alice, text="hi")
    services.message_edit(message=message, user=alice, text="hi!")
    services.message_mark_read(message=message, user=bob)
    services.message_mark_unread(message=message, user=bob)
    services.message_hide(message=message, user=bob)
    services.message_delete_for_everyone(message=message, user=alice)
    services.message_send(thread=thread, sender=bob, text="still here")
    services.thread_clear(thread=thread, user=alice)
    services.thread_delete(thread=thread)
    events = [
        "thread.created",
        "message.created",
        "message.updated",
        "message.read",
        "message.unread",
        "message.read",  # hiding an unread message marks it read
        "message.deleted",
        "message.deleted",
        "message.created",
        "message.read",  # clearing marks what it hides read
        "thread.cleared",
        "thread.deleted",
    ]
    for endpoint in (first, second):
        assert (
            list(endpoint.deliveries.order_by("id").values_list("event_type", flat=True)) == events
        )
    assert WebhookDelivery.objects.count() == 2 * len(events)
    # One event, one id, whichever endpoint receives it.
    assert WebhookDelivery.objects.values("event_id").distinct().count() == len(events)


def test_a_write_that_rolls_back_records_nothing(alice, bob, thread, endpoint):
    with pytest.raises(ValidationError):
        services.message_send(thread=thread, sender=alice, text="hi", attachment_ids=[12345])
    assert recorded() == []


def test_the_event_carries_what_participants_get_less_their_own_counts(
    alice, bob, thread, endpoint
):
    message, _ = services.message_send(thread=thread, sender=alice, text="hi")
    services.message_hide(message=message, user=bob)
    created, _, hidden = (json.loads(d.body) for d in WebhookDelivery.objects.order_by("id"))
    assert created["type"] == "message.created"
    assert created["message"]["id"] == message.pk
    assert created["message"]["text"] == "hi"
    assert created["message"]["sender"] == alice.pk
    assert "unread_count" not in created
    assert hidden == {
        "id": hidden["id"],
        "created": hidden["created"],
        "type": "message.deleted",
        "thread": thread.pk,
        "message_id": message.pk,
        "scope": "me",
        "users": [bob.pk],
    }


def test_deliveries_are_signed_with_the_endpoints_secret(
    alice, thread, endpoint, receiver, worker_round
):
    services.message_send(thread=thread, sender=alice, text="hi")
    assert worker_round()[2] == 1
    [(headers, body)] = receiver.requests
    assert headers["Content-Type"] == "application/json"
    timestamp, signature = (part.split("=", 1)[1] for part in headers[SIGNATURE_HEADER].split(","))
    # What a receiver does: recompute over the raw body, and refuse an old timestamp.
    expected = hmac.new(b"s3cret", f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(signature, expected)
    assert abs(time.time() - int(timestamp)) < 10
    sent = WebhookDelivery.objects.get()
    assert json.loads(body)["id"] == str(sent.event_id)
    assert (sent.state, sent.attempts, sent.last_status, sent.next_attempt) == (
        "delivered",
        1,
        200,
        None,
    )
    assert sent.finished is not None


@pytest.fixture
def instant_retries(monkeypatch):
    monkeypatch.setattr(delivery, "WEBHOOK_RETRIES", [0, 0])


def test_failures_are_retried_and_logged_until_delivered(
    alice, thread, endpoint, receiver, worker_round, instant_retries
):
    receiver.statuses = [500, 302]  # a redirect is not followed: it is not the receiver's 2xx
    services.message_send(thread=thread, sender=alice, text="hi")
    worker_round()
    sent = WebhookDelivery.objects.get()
    assert (sent.state, sent.attempts, sent.last_status, sent.last_error) == (
        "pending",
        1,
        500,
        "HTTP 500",
    )
    worker_round()
    worker_round()
    sent.refresh_from_db()
    assert (sent.state, sent.attempts, sent.last_status, sent.last_error) == (
        "delivered",
        3,
        200,
        "",
    )
    assert len(receiver.requests) == 3
    # Every attempt carries the same event.
    assert len({body for _, body in receiver.requests}) == 1
    endpoint.refresh_from_db()
    assert (endpoint.failures_in_a_row, endpoint.failing_since) == (0, None)


def test_a_retry_waits_its_backoff(alice, thread, endpoint, receiver, worker_round):
    receiver.statuses = [503]
    services.message_send(thread=thread, sender=alice, text="hi")
    before = timezone.now()
    worker_round()
    assert WebhookDelivery.objects.get().next_attempt >= before + timedelta(
        seconds=delivery.WEBHOOK_RETRIES[0]
    )
    assert worker_round() == (0, 0, 0)


def test_a_receiver_that_is_down_is_retried_then_given_up(
    alice, thread, worker_round, instant_retries
):
    WebhookEndpoint.objects.create(url=f"http://127.0.0.1:{free_port()}/hooks")
    services.message_send(thread=thread, sender=alice, text="hi")
    for _ in range(4):
        worker_round()
    sent = WebhookDelivery.objects.get()
    assert (sent.state, sent.attempts, sent.last_status) == ("failed", 3, None)
    assert "ConnectionError" in sent.last_error
    assert sent.finished is not None


def test_an_endpoint_that_keeps_failing_is_turned_off_and_back_on_sends_what_waited(
    alice, thread, endpoint, receiver, worker_round, instant_retries, settings, monkeypatch
):
    settings.WEBHOOK_DISABLE_AFTER = 0
    monkeypatch.setattr(delivery, "WEBHOOK_RETRIES", [0] * 10)
    receiver.statuses = [500] * delivery.DISABLE_AFTER_FAILURES
    services.message_send(thread=thread, sender=alice, text="hi")
    for _ in range(delivery.DISABLE_AFTER_FAILURES + 2):
        worker_round()
    endpoint.refresh_from_db()
    assert not endpoint.active
    assert "failed deliveries in a row (the last: HTTP 500)" in endpoint.disabled_reason
    assert len(receiver.requests) == delivery.DISABLE_AFTER_FAILURES  # nothing more was tried
    # While it is off, new events are not recorded for it.
    services.message_send(thread=thread, sender=alice, text="unheard")
    assert WebhookDelivery.objects.count() == 1
    endpoint.active = True
    notification_services.webhook_endpoint_save(endpoint=endpoint)
    assert (endpoint.failures_in_a_row, endpoint.disabled_reason) == (0, "")
    worker_round()
    assert WebhookDelivery.objects.get().state == "delivered"


def test_failures_alone_do_not_turn_an_endpoint_off_before_the_time(
    alice, thread, endpoint, receiver, worker_round, instant_retries
):
    receiver.statuses = [500] * 3
    services.message_send(thread=thread, sender=alice, text="hi")
    for _ in range(3):
        worker_round()
    endpoint.refresh_from_db()
    assert endpoint.active
    assert endpoint.failures_in_a_row == 3


def test_the_log_is_pruned_after_its_days(alice, bob, endpoint, settings):
    settings.WEBHOOK_LOG_DAYS = 7
    services.thread_get_or_create(user=alice, other=bob)
    old, recent, waiting = (
        WebhookDelivery.objects.create(endpoint=endpoint, event_type="ping", body="{}", state=s)
        for s in ("delivered", "failed", "pending")
    )
    WebhookDelivery.objects.filter(pk=old.pk).update(finished=timezone.now() - timedelta(days=8))
    WebhookDelivery.objects.filter(pk=recent.pk).update(finished=timezone.now() - timedelta(days=6))
    assert delivery.prune_webhook_log() == 1
    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) >= {recent.pk, waiting.pk}
    assert not WebhookDelivery.objects.filter(pk=old.pk).exists()


def test_a_ping_tries_an_endpoint_even_before_it_is_on(receiver, worker_round, db):
    endpoint = WebhookEndpoint.objects.create(url=receiver.url, active=False)
    assert notification_services.webhook_ping(endpoints=WebhookEndpoint.objects.all()) == 1
    assert worker_round()[2] == 0  # sent once it is on
    endpoint.active = True
    notification_services.webhook_endpoint_save(endpoint=endpoint)
    worker_round()
    assert [event["type"] for event in receiver.events()] == ["ping"]


def test_recording_costs_one_query_without_endpoints_and_two_with(
    alice, bob, receiver, django_assert_num_queries
):
    thread = make_thread(alice, bob)
    built = []
    with django_assert_num_queries(1):
        webhooks.record(lambda: built.append(1) or {"type": "ping"})
    assert built == []  # nothing built for nobody
    WebhookEndpoint.objects.create(url=receiver.url)
    WebhookEndpoint.objects.create(url=receiver.url)
    with django_assert_num_queries(2):
        webhooks.record(lambda: {"type": "thread.deleted", "thread": thread.pk})
    assert WebhookDelivery.objects.count() == 2
