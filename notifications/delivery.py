"""Sending what waits: pushes to browsers and events to webhooks, with retries and backoff.

A worker claims due rows in a short transaction, moving each one's `next_attempt` a lease ahead
(so no other worker takes it meanwhile), sends them all at once from a thread pool outside any
transaction, then records what happened in a second short transaction. A worker killed between
sending and recording leaves rows that fall due again when the lease runs out: they are sent
once more (at most one duplicate per crash; docs/API.md says so to receivers), never lost.
"""

import logging
from concurrent.futures import Executor
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from notifications import push, webhooks
from notifications.models import PushDelivery, PushSubscription, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)
State = WebhookDelivery.State

# Rows sent per round, all at once (one request each, from as many threads).
BATCH = 16
# Seconds before each retry; after the last, a push is dropped (a chat notification hours late
# is noise) and a webhook delivery is marked failed (about a day of trying).
PUSH_RETRIES = [10, 60, 300, 900]
WEBHOOK_RETRIES = [10, 60, 300, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600]
# A Retry-After longer than this is not waited for.
LONGEST_WAIT = 3600
# An endpoint failing this many times in a row, for at least WEBHOOK_DISABLE_AFTER seconds, is
# turned off: a receiver that is gone for good should not be called forever.
DISABLE_AFTER_FAILURES = 3


def lease() -> timedelta:
    """Longer than a round takes: its requests run at once, each within its timeout (to connect,
    and again to read), and recording them is quick."""
    return timedelta(seconds=2 * max(settings.PUSH_TIMEOUT, settings.WEBHOOK_TIMEOUT) + 5)


def locked(queryset):
    """The rows, locked for this transaction and skipped if another worker holds them
    (PostgreSQL); SQLite's transaction holds the whole database already."""
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True)
    return queryset


def claim(queryset) -> list[int]:
    """The ids of up to BATCH due rows of `queryset`, leased to this worker, attempts counted."""
    now = timezone.now()
    with transaction.atomic():
        due = locked(queryset.filter(next_attempt__lte=now).order_by("next_attempt"))
        ids = list(due.values_list("pk", flat=True)[:BATCH])
        queryset.model.objects.filter(pk__in=ids).update(
            next_attempt=now + lease(), attempts=F("attempts") + 1
        )
    return ids


def retry_at(attempts: int, schedule: list[int], retry_after: float | None = None):
    """When to try again after `attempts` failed ones, or None: given up."""
    if attempts > len(schedule):
        return None
    wait = max(schedule[attempts - 1], min(retry_after or 0, LONGEST_WAIT))
    return timezone.now() + timedelta(seconds=wait)


def send_pushes(pool: Executor) -> int:
    """One round of due pushes; how many were attempted."""
    ids = claim(PushDelivery.objects.all())
    if not ids:
        return 0
    deliveries = list(
        PushDelivery.objects.filter(pk__in=ids)
        .filter(message__is_read=False, message__deleted=False)
        .select_related("subscription")
        .annotate(thread_id=F("message__thread_id"))
    )
    # Read or deleted since (between retries): nothing to say any more.
    PushDelivery.objects.filter(pk__in=ids).exclude(pk__in=[d.pk for d in deliveries]).delete()
    outcomes = pool.map(
        lambda delivery: push.send(
            endpoint=delivery.subscription.endpoint,
            p256dh=delivery.subscription.p256dh,
            auth=delivery.subscription.auth,
            payload=delivery.payload.encode(),
            topic=f"thread-{delivery.thread_id}",
        ),
        deliveries,
    )
    delivered = []
    with transaction.atomic():
        for delivery, outcome in zip(deliveries, outcomes, strict=True):
            if outcome.delivered:
                delivered.append(delivery)
            else:
                _record_push_failure(delivery, outcome)
        # The common case in two statements for the whole round.
        PushDelivery.objects.filter(pk__in=[d.pk for d in delivered]).delete()
        PushSubscription.objects.filter(pk__in={d.subscription_id for d in delivered}).update(
            last_delivered=timezone.now()
        )
    return len(deliveries)


def _record_push_failure(delivery: PushDelivery, outcome: push.Outcome) -> None:
    subscription = delivery.subscription
    if outcome.gone:
        # Unsubscribed, expired, or an address we no longer send to: the browser subscribes
        # again the next time it enables notifications.
        logger.info("Push subscription %s dropped: %s.", subscription.pk, outcome.detail)
        subscription.delete()
        return
    next_attempt = (
        retry_at(delivery.attempts, PUSH_RETRIES, outcome.retry_after) if outcome.retry else None
    )
    if next_attempt is None:
        logger.warning(
            "Push to subscription %s given up after %s attempt(s): %s.",
            subscription.pk,
            delivery.attempts,
            outcome.detail,
        )
        delivery.delete()
        return
    PushDelivery.objects.filter(pk=delivery.pk).update(next_attempt=next_attempt)


def send_webhooks(pool: Executor) -> int:
    """One round of due webhook deliveries; how many were attempted."""
    ids = claim(WebhookDelivery.objects.filter(state=State.PENDING, endpoint__active=True))
    if not ids:
        return 0
    deliveries = list(WebhookDelivery.objects.filter(pk__in=ids).select_related("endpoint"))
    results = pool.map(
        lambda delivery: webhooks.send(
            url=delivery.endpoint.url, secret=delivery.endpoint.secret, body=delivery.body
        ),
        deliveries,
    )
    with transaction.atomic():
        for delivery, (status, error) in zip(deliveries, results, strict=True):
            _record_webhook(delivery, status, error)
    return len(deliveries)


def _record_webhook(delivery: WebhookDelivery, status: int | None, error: str) -> None:
    now = timezone.now()
    delivery.last_status, delivery.last_error = status, error
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
    if not error:
        delivery.state, delivery.finished, delivery.next_attempt = State.DELIVERED, now, None
        endpoint.failures_in_a_row, endpoint.failing_since = 0, None
    else:
        delivery.next_attempt = retry_at(delivery.attempts, WEBHOOK_RETRIES)
        if delivery.next_attempt is None:
            delivery.state, delivery.finished = State.FAILED, now
        endpoint.failures_in_a_row += 1
        endpoint.failing_since = endpoint.failing_since or now
        failing_for = (now - endpoint.failing_since).total_seconds()
        if (
            endpoint.active
            and endpoint.failures_in_a_row >= DISABLE_AFTER_FAILURES
            and failing_for >= settings.WEBHOOK_DISABLE_AFTER
        ):
            endpoint.active = False
            endpoint.disabled_reason = (
                f"Turned off {now:%Y-%m-%d %H:%M} UTC after {endpoint.failures_in_a_row} failed "
                f"deliveries in a row (the last: {error})."
            )
            logger.warning("Webhook endpoint %s turned off: %s", endpoint.pk, error)
    delivery.save(update_fields=["last_status", "last_error", "state", "finished", "next_attempt"])
    endpoint.save(update_fields=["failures_in_a_row", "failing_since", "active", "disabled_reason"])


def prune_webhook_log() -> int:
    """Delete the log of deliveries finished more than WEBHOOK_LOG_DAYS ago; how many."""
    cutoff = timezone.now() - timedelta(days=settings.WEBHOOK_LOG_DAYS)
    return WebhookDelivery.objects.filter(finished__lt=cutoff).delete()[0]
