"""Threads between exactly two users, and their messages.

The database itself guarantees the shape of a conversation:
- one thread per pair: the pair is stored in canonical order (`user_low` < `user_high`) and unique;
- never more than two participants: each `Participant` row takes one of two positions.
Writes go through `chat.services`, which keeps the denormalised columns below in step.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

# The largest id a BigAutoField holds (SQLite's INTEGER, PostgreSQL's bigint): a larger one in a
# URL or a query is refused before it reaches the database driver, which would overflow.
MAX_ID = 2**63 - 1


class Thread(models.Model):
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Participant", related_name="threads"
    )
    user_low = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", editable=False
    )
    user_high = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", editable=False
    )
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(default=timezone.now, db_index=True)
    # How many messages the thread has, kept by `chat.services` in the same transaction as each
    # insert and delete: every message page reports it, and counting a long thread's messages
    # cost more than the rest of the page (bench/RESULTS.md).
    stored_message_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-updated", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user_low", "user_high"], name="thread_unique_pair"),
            models.CheckConstraint(
                condition=Q(user_low__lt=F("user_high")), name="thread_pair_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_low} ↔ {self.user_high}"

    def clean(self) -> None:
        if self.user_low_id is not None and self.user_low_id == self.user_high_id:
            raise ValidationError("A thread needs two different participants.")

    @property
    def pair(self) -> list:
        """Both participants, lower id first, without a query when the pair is select_related."""
        return [self.user_low, self.user_high]

    def other_participant_id(self, user_id: int) -> int:
        return self.user_high_id if user_id == self.user_low_id else self.user_low_id


class Participant(models.Model):
    """A user's seat in a thread, and the thread's activity time copied for that user's list.

    `thread_updated` mirrors `Thread.updated` so that "my threads, newest first" reads the
    first page straight off the (user, thread_updated) index instead of sorting all of a user's
    threads, which for a busy user means thousands of rows on every request.
    """

    POSITIONS = [(0, "first"), (1, "second")]

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="participant_rows")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField(choices=POSITIONS)
    thread_updated = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["thread", "user"], name="participant_unique_user"),
            models.UniqueConstraint(fields=["thread", "position"], name="participant_at_most_two"),
            models.CheckConstraint(
                condition=Q(position__in=[0, 1]), name="participant_position_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["user", "-thread_updated", "-thread"], name="participant_user_activity"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in thread {self.thread_id}"


class Message(models.Model):
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sent_messages"
    )
    # The other participant, fixed when the message is sent: unread counts then read a small
    # partial index instead of joining every thread of the user.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="received_messages",
        editable=False,
    )
    text = models.TextField(max_length=4096)
    created = models.DateTimeField(default=timezone.now, editable=False)
    is_read = models.BooleanField(default=False)
    # Set from the client's Idempotency-Key header so that a retried send finds the first message.
    idempotency_key = models.CharField(max_length=255, blank=True, default="", editable=False)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["thread", "-id"], name="message_thread_newest"),
            models.Index(fields=["created"], name="message_created"),
            models.Index(
                fields=["recipient", "thread"],
                condition=Q(is_read=False),
                name="message_unread_by_recipient",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["sender", "thread", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="message_unique_idempotency_key",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.sender}: {self.text[:40]}"
