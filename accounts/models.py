"""What users decide about other users and about themselves: blocks and presence settings.

Django's own `User` stays as it is; what this service adds lives beside it, so that a user without
a row here simply has the defaults (nobody blocked, presence shown, never seen).
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class Block(models.Model):
    """`blocker` blocks `blocked`: between them no new thread, message, typing or presence,
    in either direction (chat.services and the consumer ask `accounts.selectors.blocked`)."""

    blocker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blocks"
    )
    blocked = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blocked_by"
    )
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="block_once"),
            models.CheckConstraint(condition=~Q(blocker=F("blocked")), name="block_not_self"),
        ]
        # The reverse direction, for "does either block the other" in one probe of each index.
        indexes = [models.Index(fields=["blocked", "blocker"], name="block_by_blocked")]

    def __str__(self) -> str:
        return f"{self.blocker} blocks {self.blocked}"


class Profile(models.Model):
    """A user's presence: whether they share it, and when they were last online (to the minute).
    Absent row: the defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="profile"
    )
    show_presence = models.BooleanField(default=True)
    last_seen = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"profile of {self.user}"
