"""Threads between exactly two users, and their messages.

The database itself guarantees the shape of a conversation:
- one thread per pair: the pair is stored in canonical order (`user_low` < `user_high`) and unique;
- never more than two participants: each `Participant` row takes one of two positions.
Writes go through `chat.services`. What is stored for speed is kept by the database's own
triggers (migration 0003), so that it is right however rows are written: services, the admin,
`loaddata`, raw SQL or a restored dump.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.functional import cached_property

from chat import files


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
    threads, which for a busy user means thousands of rows on every request. The database
    copies it (triggers of migration 0003); whatever a writer puts there is replaced.
    """

    POSITIONS = [(0, "first"), (1, "second")]

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="participant_rows")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField(choices=POSITIONS)
    thread_updated = models.DateTimeField(default=timezone.now)
    # "Clear conversation": every message up to this id is hidden for this user. A bound rather
    # than a row per message, so that reading a cleared thread starts at its first visible
    # message instead of walking past everything it hides.
    cleared_through = models.BigIntegerField(default=0, db_default=0)
    # Muted for this user: no notifications (events still flow), until `muted_until` if set.
    muted = models.BooleanField(default=False, db_default=False)
    muted_until = models.DateTimeField(null=True, blank=True)

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
            # The few threads a user has cleared, without reading each of their seats (search
            # counts subtract what a clear hides: chat/search.py).
            models.Index(
                fields=["user"], condition=Q(cleared_through__gt=0), name="participant_cleared"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in thread {self.thread_id}"


# Said of a message without text or files, whether sent or edited so.
EMPTY_TEXT = "The message cannot be empty or only white space."


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
    text = models.TextField(max_length=4096, blank=True)
    created = models.DateTimeField(default=timezone.now, editable=False)
    is_read = models.BooleanField(default=False)
    edited = models.DateTimeField(null=True, blank=True, editable=False)
    # Deleted for everyone: a tombstone that keeps its id and place, its text gone.
    deleted = models.BooleanField(default=False, db_default=False, editable=False)
    # Set from the client's Idempotency-Key header so that a retried send finds the first message.
    idempotency_key = models.CharField(max_length=255, blank=True, default="", editable=False)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["thread", "-id"], name="message_thread_newest"),
            models.Index(fields=["created"], name="message_created"),
            # What counts as unread, and all that does: a tombstone never counts.
            models.Index(
                fields=["recipient", "thread"],
                condition=Q(is_read=False, deleted=False),
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

    @cached_property
    def attachments(self) -> list["Attachment"]:
        """Its files, in the order they were uploaded: one query, unless it is known that there
        are none (a tombstone; a message read by the access check, which reads `has_files`
        along; or one the service just sent without files, which sets this)."""
        if not self.may_have_files:
            return []
        return list(Attachment.objects.filter(message_id=self.pk).order_by("id"))

    @property
    def may_have_files(self) -> bool:
        """False when it is known to have none, so that reads and writes skip looking."""
        return self.pk is not None and not self.deleted and self.__dict__.get("has_files", True)


class MessageEdit(models.Model):
    """An earlier text of an edited message, current until `until` (the edit that replaced it)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="edits")
    text = models.TextField(max_length=4096)
    until = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"#{self.message_id} until {self.until:%Y-%m-%d %H:%M}: {self.text[:40]}"


class HiddenMessage(models.Model):
    """A message one participant deleted for themselves; the other still sees it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "message"], name="hidden_message_once"),
        ]

    def __str__(self) -> str:
        return f"#{self.message_id} hidden for {self.user}"


class ThreadMessageCount(models.Model):
    """How many messages a thread has: every message page reports it, and counting the messages
    of a long thread cost more than the rest of the page (bench/RESULTS.md).

    Kept by the database's triggers on every insert, delete and move of a message (migration
    0003), never by Python code: read-only here, and outside dumps and fixtures (unmanaged), so
    that no dump can bring a count that disagrees with its messages. A thread without messages
    may have no row.
    """

    thread = models.OneToOneField(
        Thread,
        on_delete=models.DO_NOTHING,
        primary_key=True,
        db_constraint=False,
        related_name="message_counter",
    )
    messages = models.PositiveIntegerField()

    class Meta:
        managed = False
        db_table = "chat_thread_message_count"

    def __str__(self) -> str:
        return f"thread {self.thread_id}: {self.messages} messages"


class Report(models.Model):
    """A recipient's report of a message, with a copy of the message as it was when reported:
    an edit or a deletion afterwards (even of the whole thread) changes nothing an operator
    reviews."""

    class Reason(models.TextChoices):
        SPAM = "spam"
        HARASSMENT = "harassment"
        INAPPROPRIATE = "inappropriate"
        OTHER = "other"

    class State(models.TextChoices):
        OPEN = "open"
        DISMISSED = "dismissed"
        ACTIONED = "actioned"

    # SET_NULL: deleting the thread (or the message's sender) must not take the report with it.
    message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="reports"
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports_made"
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="reports_received",
    )
    thread_id_reported = models.BigIntegerField()
    message_id_reported = models.BigIntegerField()
    text = models.TextField(max_length=4096, blank=True)
    # What files it carried: [{"name", "content_type", "size"}]. The files themselves go if the
    # message is deleted for everyone, as for any message; the admin shows them while they stay.
    files = models.JSONField(default=list, blank=True)
    message_created = models.DateTimeField()
    reason = models.CharField(max_length=16, choices=Reason.choices)
    comment = models.TextField(max_length=1000, blank=True)
    created = models.DateTimeField(default=timezone.now, editable=False)
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    handled = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reporter", "message_id_reported"], name="report_once_per_reporter"
            ),
        ]
        indexes = [models.Index(fields=["state", "-created"], name="report_queue")]

    def __str__(self) -> str:
        return f"report #{self.pk} of message #{self.message_id_reported} ({self.reason})"


class PresenceSocket(models.Model):
    """One open WebSocket, or one that closed less than `PRESENCE_GRACE` seconds ago: a user is
    online while any of their rows has not expired (chat/presence.py). In the database rather
    than in one process's memory, so that every worker sees every socket; a worker refreshes
    its rows' `expires` while it lives, so the rows of a worker that died expire on their own."""

    channel_name = models.CharField(max_length=200, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The process holding the socket; empty once it closed (then nobody refreshes it).
    worker = models.CharField(max_length=64, blank=True, db_index=True)
    seen = models.DateTimeField()
    expires = models.DateTimeField(db_index=True)
    # The thread this socket's window shows while focused (the client's `view` frame): its
    # messages are not pushed to this user meanwhile (notifications/outbox.py). An id, not a key:
    # a deleted thread's id matches nothing.
    viewing_thread = models.BigIntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "expires"], name="presence_user_expires")]

    def __str__(self) -> str:
        return f"{self.user} until {self.expires:%H:%M:%S}"


class Attachment(models.Model):
    """A file uploaded to be sent, and once sent, part of its message (chat/files.py judges,
    cleans and stores the content).

    The row names the stored files rather than owning them through a `FileField`: files are
    written before the row commits and deleted after the row's deletion commits (`chat.apps`), so
    a crash in between leaves a file that no row names, never a row without its file, and
    `manage.py purge_attachments` removes such files. Not attached (`message` null) after 24 hours,
    the upload is purged too.
    """

    uploader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attachments"
    )
    # Deleting the message (with its thread) or the uploader deletes the row, and then its files.
    message = models.ForeignKey(
        Message,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attachment_rows",
        editable=False,
    )
    name = models.CharField(
        max_length=255,
        help_text="The uploader's file name, without folders, with the extension of its type.",
    )
    content_type = models.CharField(max_length=100, editable=False)
    size = models.PositiveBigIntegerField(editable=False, help_text="Bytes, as stored.")
    width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    file_name = models.CharField(max_length=255, unique=True, editable=False)
    # Empty for files that are not images.
    thumbnail_name = models.CharField(max_length=255, blank=True, editable=False)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]
        indexes = [
            # The purge's "uploaded more than a day ago and never sent".
            models.Index(fields=["created"], condition=Q(message=None), name="attachment_unsent"),
            # Its check that a stored thumbnail still has a row.
            models.Index(
                fields=["thumbnail_name"],
                condition=~Q(thumbnail_name=""),
                name="attachment_thumbnail",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_image(self) -> bool:
        return bool(self.thumbnail_name)

    @property
    def url(self) -> str:
        return files.signed_link(self.pk, files.FILE)

    @property
    def thumbnail_url(self) -> str | None:
        return files.signed_link(self.pk, files.THUMBNAIL) if self.thumbnail_name else None

    @property
    def stored_names(self) -> list[str]:
        return [name for name in (self.file_name, self.thumbnail_name) if name]
