"""Fixtures of the notification tests: a push service stand-in on a real socket
(tests/push_service.py), browsers subscribed to it, and the worker's rounds run in the test."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from notifications import delivery, outbox, push, services
from tests.push_service import PushService


@pytest.fixture
def push_service(settings):
    # Endpoints on 127.0.0.1 over http are refused unless allowed: the stand-in is one.
    settings.PUSH_ALLOW_PRIVATE_ENDPOINTS = True
    with PushService(application_server_key=push.public_key()) as service:
        yield service
    assert service.failures == [], "the stand-in refused a push we sent"


def subscribe_at(push_service, user) -> str:
    """A new subscription of `user` at the stand-in `push_service`; its endpoint."""
    subscription = push_service.subscribe()
    services.push_subscribe(user=user, endpoint=subscription["endpoint"], **subscription["keys"])
    return subscription["endpoint"]


@pytest.fixture
def browser_of(push_service):
    """`browser_of(user)`: a new subscription of `user` at the stand-in; its endpoint."""
    return lambda user: subscribe_at(push_service, user)


@pytest.fixture
def worker_round():
    """`worker_round()`: one round of `manage.py notify` (due messages into pushes, then the due
    pushes and webhook calls sent), run in the test; returns (made, pushed, called)."""
    with ThreadPoolExecutor(delivery.BATCH) as pool:
        yield lambda: (
            outbox.take_due(),
            delivery.send_pushes(pool),
            delivery.send_webhooks(pool),
        )
