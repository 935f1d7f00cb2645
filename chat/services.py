"""Writes: every change to threads and messages goes through these functions.

REST views, the admin and tests call the same functions, so every entry point validates, locks
and notifies alike. Each runs in one transaction, so nothing is ever half-written, and publishes
its live event (`chat.events`) only once that transaction has committed.
"""

from collections import defaultdict
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from chat import events
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
    pair = Thread.objects.filter(user_low=low, user_high=high)
    thread = pair.first()
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
        return pair.get(), False
    transaction.on_commit(partial(events.thread_created, thread))
    return thread, True


@transaction.atomic
def thread_delete(*, thread: Thread) -> None:
    """Delete the thread with its messages, for both participants."""
    thread_id, participant_ids = thread.pk, (thread.user_low_id, thread.user_high_id)
    # Lock the row first (PostgreSQL): a send in flight holds it, so the messages it commits are
    # deleted with the thread instead of being left pointing at a deleted thread.
    if not Thread.objects.select_for_update().filter(pk=thread_id).exists():
        return
    thread.delete()
    transaction.on_commit(
        partial(events.thread_deleted, thread_id=thread_id, participant_ids=participant_ids)
    )


@transaction.atomic
def message_send(
    *, thread: Thread, sender, text: str, idempotency_key: str | None = None
) -> tuple[Message, bool]:
    """Post `text` to `thread` as `sender`; `created` is False when the key was seen before.

    A retry with the same idempotency key returns the first message instead of a second one.
    """
    # Lock the thread row before anything else (PostgreSQL; SQLite's IMMEDIATE transaction holds
    # the database's write lock already). Sends to one thread then run one after another: their
    # ids follow their timestamps, `updated` only moves forward, and a retry waiting here finds
    # the message its twin just committed. No row: deleted since the caller's access check.
    if not Thread.objects.select_for_update().filter(pk=thread.pk).exists():
        raise Http404("No thread found.")
    if idempotency_key:
        existing = Message.objects.filter(
            thread=thread, sender=sender, idempotency_key=idempotency_key
        ).first()
        if existing is not None:
            return existing, False
    now = timezone.now()
    # The database copies `updated` to both participants' rows and counts the message
    # (triggers, migration 0003).
    Thread.objects.filter(pk=thread.pk).update(updated=now)
    thread.updated = now
    message = Message(
        thread=thread,
        sender=sender,
        recipient_id=thread.other_participant_id(sender.pk),
        text=text,
        created=now,
        idempotency_key=idempotency_key or "",
    )
    message.save(force_insert=True)
    transaction.on_commit(partial(events.message_created, message))
    return message, True


@transaction.atomic
def message_mark_read(*, message: Message, user) -> Message:
    """Mark one message read by its recipient; the sender may not, and repeating is harmless."""
    if message.recipient_id != user.pk:
        raise PermissionDenied("Only the recipient can mark a message read.")
    if not message.is_read:
        Message.objects.filter(pk=message.pk).update(is_read=True)
        message.is_read = True
        transaction.on_commit(
            partial(
                events.messages_read,
                thread_id=message.thread_id,
                participant_ids=(message.sender_id, message.recipient_id),
                message_ids=[message.pk],
            )
        )
    return message


def thread_mark_read(*, thread: Thread, user) -> list[int]:
    """Mark every message of `thread` sent to `user` read; returns the ids that changed.

    The unread ids are read before any write transaction: opening a thread with nothing new,
    the common case, then never queues for SQLite's single write lock (bench/RESULTS.md).
    """
    unread = Message.objects.filter(thread=thread, recipient=user, is_read=False)
    marked_ids = list(unread.order_by("id").values_list("id", flat=True))
    if not marked_ids:
        return marked_ids
    with transaction.atomic():
        # Bounded by the last id seen rather than listing every id: no parameter limit, and a
        # message that arrived since (a higher id) stays unread until it is seen.
        unread.filter(id__lte=marked_ids[-1]).update(is_read=True)
        transaction.on_commit(
            partial(
                events.messages_read,
                thread_id=thread.pk,
                participant_ids=(thread.user_low_id, thread.user_high_id),
                message_ids=marked_ids,
            )
        )
    return marked_ids


@transaction.atomic
def messages_set_read(*, messages, is_read: bool) -> int:
    """Set the read flag of many messages at once (the admin's bulk actions).

    Marking read tells both participants of each thread, as a recipient's own marking does;
    there is no live event for marking unread, clients see it on their next REST read.
    """
    changing = messages.exclude(is_read=is_read)
    read_by_thread = defaultdict(list)
    if is_read:
        for message_id, thread_id, sender_id, recipient_id in changing.values_list(
            "id", "thread_id", "sender_id", "recipient_id"
        ).order_by("id"):
            read_by_thread[thread_id, sender_id, recipient_id].append(message_id)
    changed = changing.update(is_read=is_read)
    for (thread_id, sender_id, recipient_id), message_ids in read_by_thread.items():
        transaction.on_commit(
            partial(
                events.messages_read,
                thread_id=thread_id,
                participant_ids=(sender_id, recipient_id),
                message_ids=message_ids,
            )
        )
    return changed


@transaction.atomic
def messages_delete(*, messages) -> int:
    """Delete messages (moderation in the admin); returns how many went."""
    deleted, _ = messages.delete()
    return deleted
