"""Writes of notifications' own data: a user's browsers subscribing and unsubscribing, and the
operators' webhook endpoints. (The outbox is written by `chat.services.message_send`, the
deliveries of events by `chat.services.publish`, both in their writes' transactions.)"""

import uuid

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from notifications import push, webhooks
from notifications.models import PushSubscription, WebhookDelivery, WebhookEndpoint

# Browsers subscribed per user; a new one beyond it replaces the oldest.
MAX_BROWSERS = 10


def push_subscribe(*, user, endpoint: str, p256dh: str, auth: str) -> tuple[PushSubscription, bool]:
    """Save a browser's subscription for `user`; `created` is False when this user had it
    already (its keys are then updated: a browser may renew them). An endpoint another user had
    moves to `user`: it is the same browser, now logged in as someone else."""
    for field, check in (
        ("endpoint", lambda: push.refuse_unless_public(endpoint)),
        ("keys", lambda: push.refuse_unless_valid_keys(p256dh, auth)),
    ):
        try:
            check()
        except push.EndpointRefused as refused:
            raise ValidationError({field: [str(refused)]}) from None
    keys = {"p256dh": p256dh, "auth": auth}
    with transaction.atomic():
        existing = PushSubscription.objects.select_for_update().filter(endpoint=endpoint).first()
        if existing is not None and existing.user_id == user.pk:
            PushSubscription.objects.filter(pk=existing.pk).update(**keys)
            return existing, False
        if existing is not None:
            existing.delete()  # with whatever was on its way to the previous user
        try:
            with transaction.atomic():
                subscription = PushSubscription.objects.create(user=user, endpoint=endpoint, **keys)
        except IntegrityError:  # the same browser subscribing twice at once
            return PushSubscription.objects.get(endpoint=endpoint), False
        # A person has a few browsers; one message is never pushed to hundreds.
        kept = PushSubscription.objects.filter(user=user).order_by("-id")
        oldest_kept = kept.values_list("id", flat=True)[MAX_BROWSERS - 1 : MAX_BROWSERS].first()
        if oldest_kept is not None:
            kept.filter(id__lt=oldest_kept).delete()
        return subscription, True


def push_unsubscribe(*, user, endpoint: str) -> None:
    """Forget `user`'s subscription at `endpoint`, if they have it (another user's stays)."""
    PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()


def webhook_endpoint_save(*, endpoint: WebhookEndpoint) -> None:
    """Save an endpoint as an operator set it. Turned on again, it starts afresh: its count of
    failures goes back to none, and what waited while it was off is sent."""
    was_off = WebhookEndpoint.objects.filter(pk=endpoint.pk, active=False).exists()
    if endpoint.active and was_off:
        endpoint.failures_in_a_row, endpoint.failing_since, endpoint.disabled_reason = 0, None, ""
    endpoint.save()


def webhook_ping(*, endpoints) -> int:
    """Queue a `ping` event to each endpoint, active or not (to try one before turning it on);
    returns how many."""
    endpoints = list(endpoints)
    event_id = uuid.uuid4()
    body = webhooks.body_of(event_id, {"type": "ping"})
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(endpoint=endpoint, event_id=event_id, event_type="ping", body=body)
        for endpoint in endpoints
    )
    return len(endpoints)


def webhook_deliveries_retry(*, deliveries) -> int:
    """Send these deliveries again as soon as the worker can, with a fresh round of retries."""
    return deliveries.update(
        state=WebhookDelivery.State.PENDING,
        attempts=0,
        next_attempt=timezone.now(),
        finished=None,
    )
