"""Writes: every change to threads and messages goes through these functions.

REST views, the admin and tests call the same functions, so every entry point validates, locks
and notifies alike. Each writes in one transaction, so nothing is ever half-written, and
publishes its live events (`chat.events`, through `publish`) only once that transaction has
committed. What is
stored only for speed (message counts, the participants' copy of `Thread.updated`) is kept by
the database itself (`chat.triggers`), not here.
"""

from collections import defaultdict
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Sum
from django.http import Http404
from django.utils import timezone

from accounts.selectors import blocked
from accounts.services import user_deactivate
from chat import events, files, selectors
from chat.models import (
    EMPTY_TEXT,
    Attachment,
    HiddenMessage,
    Message,
    MessageEdit,
    Participant,
    Report,
    Thread,
)
from chat.queries import THREAD
from common.errors import Conflict, TooLarge
from notifications import outbox, webhooks

User = get_user_model()

# Earlier texts kept per message: the history an edit leaves, not an archive.
HISTORY_KEPT = 100

# What either side of a block hears, word for word the same, so that a blocked user cannot tell
# whether they blocked or were blocked, nor that the other did anything but block.
BLOCKED_DETAIL = "You cannot message this person."


# A send's statements about its thread are written out: each takes microseconds to run and, built
# with the ORM, ten times that to compose (bench/TOPOLOGY.md, "Posting after the publish rework").


def _lock_thread(thread_id: int) -> bool:
    """Lock the thread's row until the transaction ends (PostgreSQL; SQLite's IMMEDIATE
    transaction holds the database's write lock already); False when there is no such row."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {THREAD} WHERE id = %s{lock}", [thread_id])  # noqa: S608
        return cursor.fetchone() is not None


def _touch_thread(thread: Thread, now) -> None:
    """Move the thread's activity time to `now`; the database copies it to both participants'
    rows (triggers, migration 0003)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {THREAD} SET updated = %s WHERE id = %s",  # noqa: S608
            [connection.ops.adapt_datetimefield_value(now), thread.pk],
        )
    thread.updated = now


def refuse_if_blocked(*, user_id: int, other_id: int) -> None:
    """PermissionDenied while either user blocks the other: the one check of every write that
    reaches the other person (starting the thread, sending, editing). The consumer asks the same
    `blocked` for typing, which it drops without a word instead."""
    if blocked(user_id=user_id, other_id=other_id):
        raise PermissionDenied(BLOCKED_DETAIL)


def publish(event, *args, **fields) -> None:
    """Send a live event (`chat.events`) once the current transaction has committed, and record
    it for the operators' webhooks in this transaction (so that a crash after the commit loses
    none)."""
    webhook_view = events.WEBHOOK_VIEWS.get(event)
    if webhook_view is not None:
        webhooks.record(partial(webhook_view, *args, **fields))
    transaction.on_commit(partial(event, *args, **fields))


@transaction.atomic
def thread_get_or_create(*, user, other) -> tuple[Thread, bool]:
    """The thread of `user` and `other`, created if there is none; `created` says which.

    The unique (user_low, user_high) pair makes a second thread impossible even when both
    users create it at the same moment: the loser of the race gets the winner's thread.
    """
    if user.pk == other.pk:
        raise ValidationError({"participants": ["You cannot start a thread with yourself."]})
    refuse_if_blocked(user_id=user.pk, other_id=other.pk)
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
    publish(events.thread_created, thread)
    return thread, True


@transaction.atomic
def thread_delete(*, thread: Thread) -> None:
    """Delete the thread with its messages, for both participants."""
    thread_id, participant_ids = thread.pk, (thread.user_low_id, thread.user_high_id)
    # Lock the row first (PostgreSQL): a send in flight holds it, so the messages it commits are
    # deleted with the thread instead of being left pointing at a deleted thread.
    if not _lock_thread(thread_id):
        return
    thread.delete()
    publish(events.thread_deleted, thread_id=thread_id, participant_ids=participant_ids)


@transaction.atomic
def message_send(
    *,
    thread: Thread,
    sender,
    text: str,
    attachment_ids: list[int] = (),
    idempotency_key: str | None = None,
) -> tuple[Message, bool]:
    """Post `text` to `thread` as `sender`, with the uploads `attachment_ids` (`sender`'s own,
    not sent yet); `created` is False when the key was seen before.

    A retry with the same idempotency key returns the first message instead of a second one.
    """
    # Lock the thread row before anything else (PostgreSQL; SQLite's IMMEDIATE transaction holds
    # the database's write lock already). Sends to one thread then run one after another: their
    # ids follow their timestamps, `updated` only moves forward, and a retry waiting here finds
    # the message its twin just committed. No row: deleted since the caller's access check.
    if not _lock_thread(thread.pk):
        raise Http404("No thread found.")
    if idempotency_key:
        existing = (
            Message.objects.filter(thread=thread, sender=sender, idempotency_key=idempotency_key)
            .annotate(has_files=has_files())
            .first()
        )
        if existing is not None:
            return existing, False  # sent before any block since: the retry learns it was sent
    refuse_if_blocked(user_id=sender.pk, other_id=thread.other_participant_id(sender.pk))
    now = timezone.now()
    _touch_thread(thread, now)
    message = Message(
        thread=thread,
        sender=sender,
        recipient_id=thread.other_participant_id(sender.pk),
        text=text,
        created=now,
        idempotency_key=idempotency_key or "",
    )
    message.save(force_insert=True)  # the database counts it (triggers, migration 0003)
    outbox.add(message)
    if attachment_ids:
        _attach(attachment_ids, message=message, sender=sender)
    else:
        message.attachments = []  # known without a query
    publish(events.message_created, message)
    return message, True


def _attach(attachment_ids: list[int], *, message: Message, sender) -> None:
    waiting = Attachment.objects.filter(pk__in=attachment_ids, uploader=sender, message=None)
    if waiting.update(message=message) != len(set(attachment_ids)):
        # Rolls the message back with the transaction: nothing is sent half.
        raise ValidationError(
            {"attachments": ["Each id must be a file you uploaded and have not sent yet."]}
        )


def attachment_upload(*, user, upload) -> Attachment:
    """Keep the uploaded file (a Django `UploadedFile`) for `user` to send: its type judged from
    its content, images cleaned of metadata and thumbnailed (`chat.files`). TooLarge over the
    size limit or the user's quota, UnsupportedType for a type not allowed.

    The files are stored before the row is written and deleted if writing it fails: a crash in
    between leaves files without a row, which the purge removes, never a row without files.
    """
    files.refuse_if_too_large(upload.size)
    _refuse_over_quota(user, upload.size)  # before the work of decoding it
    prepared = files.prepare(upload.read(), upload.name or "")
    stored = files.store(prepared)
    try:
        with transaction.atomic():
            # One upload of a user at a time past this point (PostgreSQL; SQLite's IMMEDIATE
            # transaction serialises all writes), so two at once cannot both fit the quota.
            User.objects.select_for_update().filter(pk=user.pk).exists()
            _refuse_over_quota(user, len(prepared.content))
            return Attachment.objects.create(
                uploader=user,
                name=prepared.name,
                content_type=prepared.content_type,
                size=len(prepared.content),
                width=prepared.width,
                height=prepared.height,
                file_name=stored[0],
                thumbnail_name=stored[1],
            )
    except BaseException:
        files.delete_stored([name for name in stored if name])
        raise


@transaction.atomic
def attachment_delete(*, attachment: Attachment, user) -> None:
    """Take back an upload not sent yet: its row now, its files once this commits. A sent file
    goes only with its message (deleted for everyone)."""
    if attachment.uploader_id != user.pk:
        raise PermissionDenied("Only its uploader can delete a file.")
    if not Attachment.objects.filter(pk=attachment.pk, message=None).delete()[0]:
        raise Conflict("This file was sent: it goes when its message is deleted for everyone.")


def _refuse_over_quota(user, size: int) -> None:
    quota = settings.ATTACHMENT_QUOTA_BYTES
    used = Attachment.objects.filter(uploader=user).aggregate(used=Sum("size"))["used"] or 0
    if used + size > quota:
        raise TooLarge(
            f"Your files would take more than your {files.human_size(quota)}: you store "
            f"{files.human_size(used)}. Delete messages with files to make room."
        )


def attachments_purge_orphans(*, older_than: timedelta) -> int:
    """Delete stored files that no attachment names (left by a crash between a commit and the
    deletion of files it let go, or between storing an upload and writing its row), in the hour
    folders older than `older_than`: newer uploads may not have committed their rows yet.
    Returns how many files went."""
    cutoff = timezone.now() - older_than
    removed = 0
    for folder in files.stored_folders():
        if files.folder_hour(folder) + timedelta(hours=1) > cutoff:
            break  # folders come oldest first
        stored = files.stored_in(folder)
        for start in range(0, len(stored), 500):
            batch = stored[start : start + 500]
            named = set(
                Attachment.objects.filter(file_name__in=batch).values_list("file_name", flat=True)
            ) | set(
                Attachment.objects.filter(thumbnail_name__in=batch).values_list(
                    "thumbnail_name", flat=True
                )
            )
            orphans = [name for name in batch if name not in named]
            files.delete_stored(orphans)
            removed += len(orphans)
    return removed


def attachments_purge_unsent(*, older_than: timedelta) -> int:
    """Delete the uploads never sent that are older than `older_than` (their files go once
    each batch commits); returns how many."""
    cutoff = timezone.now() - older_than
    purged = 0
    while True:
        with transaction.atomic():
            batch = list(
                Attachment.objects.filter(message=None, created__lt=cutoff).values_list(
                    "pk", flat=True
                )[:500]
            )
            if not batch:
                return purged
            purged += Attachment.objects.filter(pk__in=batch, message=None).delete()[0]


@transaction.atomic
def message_mark_read(*, message: Message, user) -> Message:
    """Mark one message read by its recipient; the sender may not, and repeating is harmless."""
    if message.recipient_id != user.pk:
        raise PermissionDenied("Only the recipient can mark a message read.")
    if not message.is_read:
        Message.objects.filter(pk=message.pk).update(is_read=True)
        message.is_read = True
        publish(
            events.messages_read,
            thread_id=message.thread_id,
            participant_ids=(message.sender_id, message.recipient_id),
            message_ids=[message.pk],
        )
    return message


def thread_mark_read(*, thread: Thread, user) -> list[int]:
    """Mark every message of `thread` sent to `user` read; returns the ids that changed.

    The unread ids are read before any write transaction: opening a thread with nothing new,
    the common case, then never queues for SQLite's single write lock (bench/RESULTS.md).
    """
    unread = Message.objects.filter(thread=thread, recipient=user, is_read=False, deleted=False)
    marked_ids = list(unread.order_by("id").values_list("id", flat=True))
    if not marked_ids:
        return marked_ids
    with transaction.atomic():
        # Bounded by the last id seen rather than listing every id: no parameter limit, and a
        # message that arrived since (a higher id) stays unread until it is seen.
        unread.filter(id__lte=marked_ids[-1]).update(is_read=True)
        publish(
            events.messages_read,
            thread_id=thread.pk,
            participant_ids=(thread.user_low_id, thread.user_high_id),
            message_ids=marked_ids,
        )
    return marked_ids


@transaction.atomic
def message_mark_unread(*, message: Message, user) -> list[int]:
    """Make `message` and every later message sent to `user` in its thread unread again (to come
    back to them later); returns the ids that changed. Tombstones and messages `user` deleted for
    themselves stay as they are: neither can be unread."""
    if message.recipient_id != user.pk:
        raise PermissionDenied("Only the recipient can mark a message unread.")
    changing = (
        Message.objects.filter(
            thread_id=message.thread_id,
            recipient=user,
            id__gte=message.pk,
            is_read=True,
            deleted=False,
        )
        .exclude(pk__in=HiddenMessage.objects.filter(user=user).values("message_id"))
        .select_for_update()
    )
    marked_ids = list(changing.order_by("id").values_list("id", flat=True))
    _set_read_flag(
        marked_ids,
        is_read=False,
        thread_id=message.thread_id,
        participant_ids=(message.sender_id, message.recipient_id),
    )
    return marked_ids


def _set_read_flag(
    message_ids: list[int], *, is_read: bool, thread_id: int, participant_ids: tuple[int, int]
) -> None:
    """Set these messages' read flag and tell both participants once the transaction commits."""
    if not message_ids:
        return
    Message.objects.filter(pk__in=message_ids).update(is_read=is_read)
    publish(
        events.messages_read if is_read else events.messages_unread,
        thread_id=thread_id,
        participant_ids=participant_ids,
        message_ids=message_ids,
    )


def edit_window_open(message: Message) -> bool:
    window = settings.MESSAGE_EDIT_WINDOW
    return window == 0 or timezone.now() - message.created <= timedelta(seconds=window)


def _locked(message: Message) -> Message:
    """The message as it is now, its row locked until the transaction ends (PostgreSQL; SQLite's
    IMMEDIATE transaction holds the write lock already): an edit and a delete of one message
    then run one after the other, and each sees what the other did."""
    locked = (
        Message.objects.select_for_update()
        .filter(pk=message.pk)
        .annotate(has_files=has_files())
        .first()
    )
    if locked is None:
        raise Http404("No message found.")
    return locked


def has_files() -> Exists:
    """Whether a message has files, read along with it (`Message.attachments` then knows when
    there are none to read)."""
    return Exists(Attachment.objects.filter(message=OuterRef("pk")))


@transaction.atomic
def message_edit(*, message: Message, user, text: str) -> Message:
    """Replace the text of `user`'s own message, keeping the one it replaces in its history."""
    if message.sender_id != user.pk:
        raise PermissionDenied("Only its sender can edit a message.")
    message = _locked(message)
    if message.deleted:
        raise Conflict("This message was deleted; it can no longer be edited.")
    if not edit_window_open(message):
        raise PermissionDenied("The time to edit this message has passed.")
    refuse_if_blocked(user_id=user.pk, other_id=message.recipient_id)
    if not text.strip() and not message.attachments:
        raise ValidationError({"text": [EMPTY_TEXT]})
    if text == message.text:
        return message  # nothing changes: no history, no event
    now = timezone.now()
    MessageEdit.objects.create(message=message, text=message.text, until=now)
    kept = MessageEdit.objects.filter(message=message).order_by("-id")
    oldest_kept = kept.values_list("id", flat=True)[HISTORY_KEPT - 1 : HISTORY_KEPT].first()
    if oldest_kept is not None:
        kept.filter(id__lt=oldest_kept).delete()
    message.text, message.edited = text, now
    message.save(update_fields=["text", "edited"])
    publish(events.message_updated, message)
    return message


@transaction.atomic
def message_delete_for_everyone(*, message: Message, user=None) -> None:
    """Turn the message into a tombstone for both participants: its text and history leave the
    database, its id and place stay. `user` None is an operator, whom the window does not bind.
    Deleting a tombstone again changes nothing."""
    if user is not None and message.sender_id != user.pk:
        raise PermissionDenied("Only its sender can delete a message for everyone.")
    message = _locked(message)
    if message.deleted:
        return
    if user is not None and not edit_window_open(message):
        raise PermissionDenied("The time to delete this message for everyone has passed.")
    Message.objects.filter(pk=message.pk).update(deleted=True, text="")
    MessageEdit.objects.filter(message=message).delete()
    if message.may_have_files:
        Attachment.objects.filter(message=message).delete()  # the files go once this commits
    publish(
        events.message_deleted,
        thread_id=message.thread_id,
        message_id=message.pk,
        scope="everyone",
        user_ids=(message.sender_id, message.recipient_id),
    )


@transaction.atomic
def message_hide(*, message: Message, user) -> None:
    """Delete the message for `user` alone; the other participant still sees it.

    Hiding a message sent to you marks it read: you have dealt with it, and a message you can no
    longer see must not keep a badge you cannot clear.
    """
    HiddenMessage.objects.bulk_create(
        [HiddenMessage(user=user, message=message)], ignore_conflicts=True
    )
    read_now = (
        message.recipient_id == user.pk
        and Message.objects.filter(pk=message.pk, is_read=False).update(is_read=True) > 0
    )
    if read_now:
        publish(
            events.messages_read,
            thread_id=message.thread_id,
            participant_ids=(message.sender_id, message.recipient_id),
            message_ids=[message.pk],
        )
    publish(
        events.message_deleted,
        thread_id=message.thread_id,
        message_id=message.pk,
        scope="me",
        user_ids=(user.pk,),
    )


@transaction.atomic
def thread_clear(*, thread: Thread, user) -> int:
    """Hide every current message of `thread` for `user` alone; returns how many were visible
    (tombstones not counted). Unread ones among them are marked read, as `message_hide` does."""
    seat = Participant.objects.select_for_update().get(thread=thread, user=user)
    newest = Message.objects.filter(thread=thread).order_by("-id").values_list("id", flat=True)
    newest = newest.first()
    if newest is None or newest <= seat.cleared_through:
        return 0
    hidden = HiddenMessage.objects.filter(user=user, message__thread=thread)
    visible = Message.objects.filter(
        thread=thread, id__gt=seat.cleared_through, id__lte=newest, deleted=False
    ).exclude(pk__in=hidden.values("message_id"))
    cleared = visible.count()
    read_now = list(
        visible.filter(recipient=user, is_read=False).order_by("id").values_list("id", flat=True)
    )
    _set_read_flag(
        read_now,
        is_read=True,
        thread_id=thread.pk,
        participant_ids=(thread.user_low_id, thread.user_high_id),
    )
    seat.cleared_through = newest
    seat.save(update_fields=["cleared_through"])
    hidden.filter(message_id__lte=newest).delete()  # the bound hides them now
    publish(events.thread_cleared, thread_id=thread.pk, user_id=user.pk, through=newest)
    return cleared


@transaction.atomic
def messages_set_read(*, messages, is_read: bool) -> int:
    """Set the read flag of many messages at once (the admin's bulk actions), telling both
    participants of each thread as the recipient's own marking would. Tombstones never change,
    and a message its recipient no longer sees (hidden, or cleared) is never made unread: it
    would count in a badge they cannot clear."""
    changing = messages.exclude(is_read=is_read).exclude(deleted=True)
    if not is_read:
        changing = changing.exclude(selectors.hidden_from_recipient()).exclude(
            selectors.cleared_by_recipient()
        )
    by_thread = defaultdict(list)
    for message_id, *thread_and_pair in changing.values_list(
        "id", "thread_id", "sender_id", "recipient_id"
    ).order_by("id"):
        by_thread[tuple(thread_and_pair)].append(message_id)
    changed = changing.update(is_read=is_read)
    announce = events.messages_read if is_read else events.messages_unread
    for (thread_id, *participant_ids), message_ids in by_thread.items():
        publish(
            announce,
            thread_id=thread_id,
            participant_ids=tuple(participant_ids),
            message_ids=message_ids,
        )
    return changed


@transaction.atomic
def messages_delete_for_everyone(*, messages) -> int:
    """Tombstone many messages (the admin's moderation); returns how many were not already."""
    deleted = 0
    for message in messages.filter(deleted=False).order_by("id"):
        message_delete_for_everyone(message=message)
        deleted += 1
    return deleted


@transaction.atomic
def message_report(
    *, message: Message, user, reason: str, comment: str = ""
) -> tuple[Report, bool]:
    """`user` reports a message sent to them; `created` is False when they had reported it
    already (the first report stands). The report keeps a copy of the message as it is now."""
    if message.recipient_id != user.pk:
        raise PermissionDenied("Only its recipient can report a message.")
    existing = Report.objects.filter(reporter=user, message_id_reported=message.pk).first()
    if existing is not None:
        return existing, False
    if message.deleted:
        raise Conflict("This message was deleted; there is nothing left to report.")
    report = Report(
        message=message,
        reporter=user,
        sender_id=message.sender_id,
        thread_id_reported=message.thread_id,
        message_id_reported=message.pk,
        text=message.text,
        files=[
            {"name": a.name, "content_type": a.content_type, "size": a.size}
            for a in message.attachments
        ],
        message_created=message.created,
        reason=reason,
        comment=comment,
    )
    try:
        with transaction.atomic():
            report.save(force_insert=True)
    except IntegrityError:  # the same report, sent twice at once
        return Report.objects.get(reporter=user, message_id_reported=message.pk), False
    return report, True


def reports_dismiss(*, reports, operator) -> int:
    """Close open reports without acting on them (the admin's queue); returns how many."""
    return _reports_close(reports, state=Report.State.DISMISSED, operator=operator)


@transaction.atomic
def reports_delete_messages(*, reports, operator) -> int:
    """Delete the reported messages for everyone, as an operator (no edit window), and close
    the reports as actioned; returns how many messages became tombstones."""
    deleted = messages_delete_for_everyone(
        messages=Message.objects.filter(pk__in=reports.values("message_id"))
    )
    _reports_close(reports, state=Report.State.ACTIONED, operator=operator)
    return deleted


@transaction.atomic
def reports_deactivate_senders(*, reports, operator) -> int:
    """Deactivate the senders of the reported messages (no login, tokens refused, sockets
    closed) and close the reports as actioned; returns how many accounts were deactivated."""
    senders = User.objects.filter(pk__in=reports.values("sender_id"), is_active=True)
    deactivated = 0
    for sender in senders.exclude(pk=operator.pk):  # an operator reported by a user stays
        user_deactivate(user=sender)
        deactivated += 1
    _reports_close(reports, state=Report.State.ACTIONED, operator=operator)
    return deactivated


def _reports_close(reports, *, state: str, operator) -> int:
    return reports.filter(state=Report.State.OPEN).update(
        state=state, handled=timezone.now(), handled_by=operator
    )


def thread_mute(*, thread: Thread, user, until=None) -> None:
    """Silence notifications of `thread` for `user` (events still flow), until `until` or, when
    None, until unmuted."""
    if until is not None and until <= timezone.now():
        raise ValidationError({"until": ["This time has passed; give a time in the future."]})
    Participant.objects.filter(thread=thread, user=user).update(muted=True, muted_until=until)


def thread_unmute(*, thread: Thread, user) -> None:
    Participant.objects.filter(thread=thread, user=user).update(muted=False, muted_until=None)
