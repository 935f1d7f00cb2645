"""Several workers at once (real threads, each with its own database connection) on the
file-backed SQLite test database, or PostgreSQL with DATABASE_URL (where they take rows with
`SKIP LOCKED`): every message waiting is in exactly one push, and each push is sent once."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from chat import services
from chat.tests.factories import UserFactory, make_thread
from notifications import delivery, outbox
from notifications.models import PendingNotification, PushDelivery
from notifications.tests.conftest import subscribe_at
from tests.push_service import PushService

pytestmark = pytest.mark.django_db(transaction=True)

WORKERS = 4
THREADS = 12
MESSAGES_EACH = 5


def work_until_done(stop: threading.Event, errors: list) -> None:
    try:
        with ThreadPoolExecutor(4) as pool:
            while not stop.is_set():
                busy = outbox.take_due() + delivery.send_pushes(pool)
                if not busy:
                    time.sleep(0.01)
    except Exception as error:  # reported by the test
        errors.append(error)
    finally:
        connections.close_all()


def test_workers_at_once_push_each_waiting_message_exactly_once(settings):
    settings.NOTIFY_DELAY = 0.3
    settings.PUSH_ALLOW_PRIVATE_ENDPOINTS = True
    recipient = UserFactory(username="recipient")
    with PushService() as push_service:
        endpoint = subscribe_at(push_service, recipient)
        for n in range(THREADS):
            sender = UserFactory(username=f"sender{n}")
            thread = make_thread(sender, recipient)
            for m in range(MESSAGES_EACH):
                services.message_send(thread=thread, sender=sender, text=f"{n}.{m}")
        stop, errors = threading.Event(), []
        workers = [
            threading.Thread(target=work_until_done, args=(stop, errors)) for _ in range(WORKERS)
        ]
        for worker in workers:
            worker.start()
        deadline = time.monotonic() + 30
        while (
            PendingNotification.objects.exists() or PushDelivery.objects.exists()
        ) and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        for worker in workers:
            worker.join(timeout=30)
        assert errors == []
        pushes = push_service.received(endpoint)
        assert push_service.failures == []
    # Every message in exactly one notification: counted once, by one push of its thread.
    assert sum(push.payload["count"] for push in pushes) == THREADS * MESSAGES_EACH
    by_thread = {}
    for push in pushes:
        by_thread.setdefault(push.payload["thread"], []).append(push.payload["count"])
    assert len(by_thread) == THREADS
    assert all(sum(counts) == MESSAGES_EACH for counts in by_thread.values())
