"""Webhooks: every event of docs/API.md, as JSON, to the endpoints operators configure in the
admin, signed so that a receiver knows it came from us and was not replayed much later.

`record` runs inside the transaction of the write that caused the event (`chat.services.publish`
calls it), so an event and its deliveries commit or roll back together: a crash after the commit
loses no event. The worker sends them, with retries (notifications/worker.py).

Each request carries `X-Chat-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`,
keyed with the endpoint's secret and signed afresh at each attempt: a receiver recomputes it
over the raw body and refuses a `t` older than a few minutes. Deliveries are at least once; the
body's `id` is the same for every attempt and every endpoint, to drop duplicates by.
"""

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable

import requests
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone

from notifications.models import WebhookDelivery, WebhookEndpoint
from notifications.push import http_session

SIGNATURE_HEADER = "X-Chat-Signature"


def record(describe: Callable[[], dict]) -> None:
    """Queue the event `describe()` returns (its "type" and fields) for every active endpoint,
    in the caller's transaction. One query, and nothing built, when there is no endpoint."""
    with connection.cursor() as cursor:
        # Written out: every write asks, and composing it with the ORM cost ten times running it.
        cursor.execute(f"SELECT id FROM {WebhookEndpoint._meta.db_table} WHERE active")  # noqa: S608
        endpoint_ids = [endpoint_id for (endpoint_id,) in cursor.fetchall()]
    if not endpoint_ids:
        return
    event = describe()
    event_id = uuid.uuid4()
    body = body_of(event_id, event)
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            endpoint_id=endpoint_id, event_id=event_id, event_type=event["type"], body=body
        )
        for endpoint_id in endpoint_ids
    )


def body_of(event_id: uuid.UUID, event: dict) -> str:
    """The JSON a receiver gets: the event's id (the same at every attempt and endpoint), when it
    happened, and the event."""
    return json.dumps(
        {"id": str(event_id), "created": timezone.now()} | event,
        cls=DjangoJSONEncoder,
        ensure_ascii=False,
        separators=(",", ":"),
    )


def signature(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def send(*, url: str, secret: str, body: str) -> tuple[int | None, str]:
    """POST one event; (the receiver's status, None if it never answered, and what went
    wrong, empty when it took it). Never raises for what the network or the receiver does."""
    data = body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "chat-webhooks/1",
        SIGNATURE_HEADER: signature(secret, data, int(time.time())),
    }
    try:
        response = http_session().post(
            url,
            data=data,
            headers=headers,
            timeout=settings.WEBHOOK_TIMEOUT,
            allow_redirects=False,
        )
    except requests.RequestException as error:
        return None, f"{type(error).__name__}: {error}"[:300]
    if 200 <= response.status_code < 300:
        return response.status_code, ""
    return response.status_code, f"HTTP {response.status_code}"
