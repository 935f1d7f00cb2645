"""The outbox of push notifications: a row per message, written with the message, turned into
pushes when it is due.

`add` runs in `message_send`'s transaction. `take_due` runs in the worker: when the oldest
waiting message of a (recipient, thread) is `NOTIFY_DELAY` seconds old, all of that pair's
waiting messages become one notification, for each of the recipient's browsers, unless by now
each was read, deleted, or hidden by the recipient, or the recipient muted the thread, either
blocks the other, or the recipient has a socket open with that thread in view. The rows it
took go in the same transaction that writes the pushes, so a crash in between loses nothing
and sends nothing twice.

Several workers may run: on PostgreSQL each takes the rows it locked (`SKIP LOCKED`) and leaves
the others' alone; SQLite's write lock, taken when the transaction begins, lets one at a time.

Why a table of our own rather than a task library: what waits is not a task but a fact about a
message, and what to send is decided at delivery, for a (recipient, thread) at once, after
re-reading its messages; a queue of one task per message (django-tasks' database backend, Celery,
Dramatiq) would still need this table to coalesce and re-check, plus a broker or a second
schema. Procrastinate, the PostgreSQL task library, has no SQLite, which is this service's
default. The queue part left to write is small: `delivery.claim` and a lease.
"""

from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Block
from chat import selectors
from chat.models import Message, Participant, PresenceSocket
from notifications import push
from notifications.delivery import locked
from notifications.models import PendingNotification, PushDelivery, PushSubscription

# Pairs (recipient, thread) made into notifications per transaction.
BATCH = 100
# The preview's length, in characters (docs/API.md).
PREVIEW_CHARACTERS = 100

_pending = PendingNotification._meta.db_table
_subscriptions = PushSubscription._meta.db_table
# One statement: nothing is written for a recipient without a browser to push to, and a message
# to one with a browser costs one insert more, not a query and an insert.
ADD_SQL = (
    f"INSERT INTO {_pending} (recipient_id, thread_id, message_id, due) "  # noqa: S608 - names from models
    f"SELECT %s, %s, %s, %s WHERE EXISTS (SELECT 1 FROM {_subscriptions} WHERE user_id = %s)"
)


def add(message: Message) -> None:
    """Queue the push of `message` to its recipient, in the caller's (the send's) transaction;
    nothing while push is off (no VAPID key), which nobody would send."""
    if not push.configured():
        return
    due = message.created + timedelta(seconds=settings.NOTIFY_DELAY)
    with connection.cursor() as cursor:
        cursor.execute(
            ADD_SQL,
            [
                message.recipient_id,
                message.thread_id,
                message.pk,
                connection.ops.adapt_datetimefield_value(due),
                message.recipient_id,
            ],
        )


@transaction.atomic
def take_due() -> int:
    """Turn the waiting messages of up to BATCH due (recipient, thread) pairs into pushes, or
    into nothing where nothing deserves one; returns how many pairs it took (0: none was due, so
    that a worker goes on while there are, pushed or not)."""
    now = timezone.now()
    due = locked(PendingNotification.objects.filter(due__lte=now).order_by("due"))
    pairs = set(due.values_list("recipient_id", "thread_id")[:BATCH])
    if not pairs:
        return 0
    of_pairs = Q()
    for recipient_id, thread_id in pairs:
        of_pairs |= Q(recipient_id=recipient_id, thread_id=thread_id)
    taken = list(
        locked(PendingNotification.objects.filter(of_pairs)).values_list("pk", "message_id")
    )
    waiting = _still_unseen([message_id for _, message_id in taken])
    silenced = _silenced(pairs, waiting, now)
    browsers = defaultdict(list)
    for subscription in PushSubscription.objects.filter(
        user_id__in={recipient_id for recipient_id, _ in pairs}
    ):
        browsers[subscription.user_id].append(subscription)
    deliveries = []
    for (recipient_id, thread_id), messages in waiting.items():
        if (recipient_id, thread_id) in silenced or not browsers[recipient_id]:
            continue
        newest = max(messages, key=lambda message: message.pk)
        payload = push.payload_of(
            thread_id=thread_id,
            sender={"id": newest.sender_id, "username": newest.sender.username},
            count=len(messages),
            preview=newest.text[:PREVIEW_CHARACTERS],
        )
        deliveries += [
            PushDelivery(subscription=subscription, payload=payload.decode(), message=newest)
            for subscription in browsers[recipient_id]
        ]
    PushDelivery.objects.bulk_create(deliveries)
    PendingNotification.objects.filter(pk__in=[pk for pk, _ in taken]).delete()
    return len(pairs)


def _still_unseen(message_ids: list[int]) -> dict[tuple[int, int], list[Message]]:
    """The messages among these that their recipient has not read, nor deleted or cleared, and
    their sender has not deleted, by (recipient, thread)."""
    messages = (
        Message.objects.filter(pk__in=message_ids, is_read=False, deleted=False)
        .exclude(selectors.hidden_from_recipient())
        .exclude(selectors.cleared_by_recipient())
        .select_related("sender")
        .only("pk", "thread_id", "recipient_id", "sender__username", "text")
    )
    by_pair = defaultdict(list)
    for message in messages:
        by_pair[message.recipient_id, message.thread_id].append(message)
    return by_pair


def _silenced(pairs, waiting, now) -> set[tuple[int, int]]:
    """The (recipient, thread) pairs not to notify now: muted by the recipient, shown on one of
    the recipient's screens, or between two people one of whom blocks the other."""
    recipients = {recipient_id for recipient_id, _ in pairs}
    threads = {thread_id for _, thread_id in pairs}
    muted = Participant.objects.filter(
        Q(muted_until=None) | Q(muted_until__gt=now),
        user_id__in=recipients,
        thread_id__in=threads,
        muted=True,
    ).values_list("user_id", "thread_id")
    # An open socket (a closed one keeps its row through the grace, with no worker).
    viewing = (
        PresenceSocket.objects.filter(
            user_id__in=recipients, viewing_thread__in=threads, expires__gt=now
        )
        .exclude(worker="")
        .values_list("user_id", "viewing_thread")
    )
    silenced = set(muted) | set(viewing)
    senders = {
        (recipient_id, thread_id): messages[0].sender_id
        for (recipient_id, thread_id), messages in waiting.items()
    }
    people = recipients | set(senders.values())
    blocks = set(
        Block.objects.filter(blocker_id__in=people, blocked_id__in=people).values_list(
            "blocker_id", "blocked_id"
        )
    )
    for pair, sender_id in senders.items():
        recipient_id = pair[0]
        if (recipient_id, sender_id) in blocks or (sender_id, recipient_id) in blocks:
            silenced.add(pair)
    return silenced
