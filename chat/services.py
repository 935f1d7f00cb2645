"""Writes: every change to threads and messages goes through these functions.

REST views, the admin and tests call the same functions, so every entry point validates, locks
and counts alike. Each runs in one transaction: nothing is ever half-written.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from chat.models import Message, Participant, Thread


@transaction.atomic
def thread_get_or_create(*, user, other) -> tuple[Thread, bool]:
    """The thread of `user` and `other`, created if there is none; `created` says which.

    The unique (user_low, user_high) pair makes a second thread impossible even when both
    users create it at the same moment: the loser of the race gets the winner's thread.
    """
    if user.pk == other.pk:
        raise ValidationError({"participants": ["You cannot start a thread with yourself."]})
    low, high = sorted((user, other), key=lambda u: u.pk)
    thread = Thread.objects.filter(user_low=low, user_high=high).first()
    if thread is not None:
        return thread, False
    try:
        with transaction.atomic():
            now = timezone.now()
            thread = Thread.objects.create(user_low=low, user_high=high, created=now, updated=now)
            Participant.objects.bulk_create(
                [
                    Participant(thread=thread, user=low, position=0, thread_updated=now),
                    Participant(thread=thread, user=high, position=1, thread_updated=now),
                ]
            )
    except IntegrityError:
        return Thread.objects.get(user_low=low, user_high=high), False
    return thread, True


@transaction.atomic
def thread_delete(*, thread: Thread) -> None:
    """Delete the thread with its messages, for both participants."""
    thread.delete()


@transaction.atomic
def message_send(
    *, thread: Thread, sender, text: str, idempotency_key: str | None = None
) -> tuple[Message, bool]:
    """Post `text` to `thread` as `sender`; `created` is False when the key was seen before.

    A retry with the same idempotency key returns the first message instead of a second one.
    """
    if idempotency_key:
        existing = Message.objects.filter(
            thread=thread, sender=sender, idempotency_key=idempotency_key
        ).first()
        if existing is not None:
            return existing, False
    now = timezone.now()
    # Updating the thread first takes its row lock (PostgreSQL), so the messages of one thread
    # get ids in the order of their timestamps.
    Thread.objects.filter(pk=thread.pk).update(
        updated=now, stored_message_count=F("stored_message_count") + 1
    )
    Participant.objects.filter(thread=thread).update(thread_updated=now)
    thread.updated = now
    message = Message(
        thread=thread,
        sender=sender,
        recipient_id=thread.other_participant_id(sender.pk),
        text=text,
        created=now,
        idempotency_key=idempotency_key or "",
    )
    if not idempotency_key:
        message.save(force_insert=True)
        return message, True
    try:
        with transaction.atomic():
            message.save(force_insert=True)
    except IntegrityError:
        # The same key raced in from a concurrent retry, which won: answer with its message.
        return Message.objects.get(
            thread=thread, sender=sender, idempotency_key=idempotency_key
        ), False
    return message, True


@transaction.atomic
def message_mark_read(*, message: Message, user) -> Message:
    """Mark one message read by its recipient; the sender may not, and repeating is harmless."""
    if message.recipient_id != user.pk:
        raise PermissionDenied("Only the recipient can mark a message read.")
    if not message.is_read:
        Message.objects.filter(pk=message.pk).update(is_read=True)
        message.is_read = True
    return message


@transaction.atomic
def thread_mark_read(*, thread: Thread, user) -> list[int]:
    """Mark every message of `thread` sent to `user` read; returns the ids that changed."""
    unread = Message.objects.filter(thread=thread, recipient=user, is_read=False)
    marked_ids = list(unread.select_for_update().order_by("id").values_list("id", flat=True))
    if marked_ids:
        # Bounded by the last id seen rather than listing every id: no parameter limit.
        unread.filter(id__lte=marked_ids[-1]).update(is_read=True)
    return marked_ids


@transaction.atomic
def messages_set_read(*, messages, is_read: bool) -> int:
    """Set the read flag of many messages at once (the admin's bulk actions)."""
    return messages.exclude(is_read=is_read).update(is_read=is_read)


@transaction.atomic
def messages_delete(*, messages) -> int:
    """Delete messages (moderation in the admin); returns how many went."""
    thread_ids = list(messages.order_by().values_list("thread_id", flat=True).distinct())
    deleted, _ = messages.delete()
    remaining = (
        Message.objects.filter(thread=OuterRef("pk"))
        .order_by()
        .values("thread")
        .annotate(count=Count("*"))
        .values("count")
    )
    Thread.objects.filter(pk__in=thread_ids).update(
        stored_message_count=Coalesce(Subquery(remaining), 0)
    )
    return deleted
