"""What notifications keep: browsers' push subscriptions, the outbox of messages waiting to be
pushed, the pushes and webhook calls on their way, and the operators' webhook endpoints.

Everything waiting is a row, written in the transaction of the write that caused it, so that a
crash loses nothing: the worker (`manage.py notify`, notifications/worker.py) takes rows that are
due, and a row leaves only once it was delivered or given up on.
"""

import secrets
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class PushSubscription(models.Model):
    """A browser that asked to be woken for its user's messages (the Push API's
    `PushSubscription`). Its endpoint is a secret URL at the browser's push service; the keys
    encrypt what is sent there so that only that browser reads it (RFC 8291)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    # One browser profile, one endpoint: subscribed again by another user (a shared computer,
    # logged in as someone else), it moves to them.
    endpoint = models.CharField(max_length=2048, unique=True)
    p256dh = models.CharField(max_length=100, help_text="The browser's P-256 public key.")
    auth = models.CharField(max_length=50, help_text="The browser's authentication secret.")
    created = models.DateTimeField(default=timezone.now, editable=False)
    last_delivered = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        # The host only: the rest of the endpoint is the browser's secret.
        return f"{self.user} at {urlsplit(self.endpoint).hostname}"


class PendingNotification(models.Model):
    """The outbox: a message waiting to be pushed to its recipient, written in the same
    transaction as the message. When the first of a (recipient, thread) is due, the worker takes
    all of that pair's rows, checks what still deserves a notification, and makes one."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    thread = models.ForeignKey("chat.Thread", on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey("chat.Message", on_delete=models.CASCADE, related_name="+")
    due = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["due"], name="pending_due"),
            models.Index(fields=["recipient", "thread"], name="pending_pair"),
        ]

    def __str__(self) -> str:
        return f"message {self.message_id} to {self.recipient_id}, due {self.due:%H:%M:%S}"


class Delivery(models.Model):
    """A request to send, with its retries: due at `next_attempt`. A worker that takes it moves
    `next_attempt` a lease ahead before sending, so that no other worker sends it meanwhile; if
    the worker dies mid-request, the lease runs out and it is sent again (at most one duplicate
    for each such crash)."""

    attempts = models.PositiveIntegerField(default=0, editable=False)
    next_attempt = models.DateTimeField(null=True, blank=True, default=timezone.now)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        abstract = True


class PushDelivery(Delivery):
    """One notification on its way to one browser; deleted once its push service took it."""

    subscription = models.ForeignKey(
        PushSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    # The plaintext (JSON) that is encrypted for the browser at each attempt.
    payload = models.TextField()
    # The newest message it announces: read or deleted before a retry, the push is dropped.
    message = models.ForeignKey("chat.Message", on_delete=models.CASCADE, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["next_attempt"], name="push_delivery_due")]

    def __str__(self) -> str:
        return f"push of message {self.message_id} to subscription {self.subscription_id}"


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    """An operator's receiver of every event (docs/API.md, "Webhooks"), signed with its secret."""

    url = models.URLField(max_length=2048, help_text="Where events are POSTed, as JSON.")
    secret = models.CharField(
        max_length=100,
        default=new_webhook_secret,
        help_text="Signs each request (X-Chat-Signature); give the receiver the same value.",
    )
    description = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(
        default=True,
        help_text="Events are recorded and sent only while active. Turned off by itself after "
        "repeated failures; turning it on again sends what waited.",
    )
    failures_in_a_row = models.PositiveIntegerField(default=0, editable=False)
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.CharField(max_length=300, blank=True, editable=False)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.description or self.url


class WebhookDelivery(Delivery):
    """One event for one endpoint, and its delivery log: kept once delivered or given up on
    (the admin shows it), until the worker prunes it after `WEBHOOK_LOG_DAYS`."""

    class State(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    # The same for every endpoint of one event: receivers drop a duplicate by it.
    event_id = models.UUIDField(default=uuid.uuid4, editable=False)
    event_type = models.CharField(max_length=50, editable=False)
    body = models.TextField(editable=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    last_status = models.PositiveIntegerField(
        null=True, blank=True, editable=False, help_text="The receiver's HTTP status."
    )
    last_error = models.CharField(max_length=300, blank=True, editable=False)
    finished = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(
                fields=["next_attempt"],
                condition=Q(state="pending"),
                name="webhook_delivery_due",
            ),
            models.Index(fields=["finished"], name="webhook_delivery_finished"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} to {self.endpoint}"
