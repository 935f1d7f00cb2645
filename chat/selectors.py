"""Reads: the one access check for threads and messages, and the lists the API serves.

Every read of a thread or message on behalf of a user goes through `thread_for_participant` or
`message_for_participant`; a thread the user does not take part in is a 404, exactly like one
that does not exist, so no caller can learn of other people's conversations.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.http import Http404

from chat.models import MAX_ID, Message, Thread
from chat.pagination import CountedRows

User = get_user_model()


# Written out, like the other hot reads below: the ORM took 440 us to build this one-row query
# with its joins, the raw query 70 us (bench/RESULTS.md). Both participants load on first use of
# `thread.pair` (or `thread_with_summary` loads them at once).
THREAD_ACCESS_SQL = """
SELECT t.* FROM chat_thread AS t
JOIN chat_participant AS p ON p.thread_id = t.id AND p.user_id = %s
WHERE t.id = %s
"""


def thread_for_participant(*, user, thread_id: int) -> Thread:
    """The thread, or Http404 unless `user` takes part in it."""
    if not 0 < thread_id <= MAX_ID:
        raise Http404("No thread found.")  # no such row can exist; the driver would overflow
    thread = next(iter(Thread.objects.raw(THREAD_ACCESS_SQL, [user.pk, thread_id])), None)
    if thread is None:
        raise Http404("No thread found.")
    return thread


def message_for_participant(*, user, message_id: int) -> Message:
    """The message, or Http404 unless `user` sent or received it."""
    message = (
        Message.objects.filter(pk=message_id).filter(Q(sender=user) | Q(recipient=user)).first()
    )
    if message is None:
        raise Http404("No message found.")
    return message


@dataclass(slots=True)
class UserSummary:
    pk: int
    username: str


@dataclass(slots=True)
class MessageSummary:
    pk: int
    thread_id: int
    sender_id: int
    text: str
    created: datetime
    is_read: bool


@dataclass(slots=True)
class ThreadSummary:
    """A row of the thread list: what `ThreadSerializer` shows, without model instances.

    Building ~100 model instances per page (participant, thread, two users, last message for
    each of 20 threads) cost more than all of the page's queries (bench/RESULTS.md).
    """

    pk: int
    created: datetime
    updated: datetime
    pair: list[UserSummary]
    last_message: MessageSummary | None
    unread_count: int


# The thread list's page in one statement, written out because it is the hottest query of the
# service and building it with the ORM cost more than running it. Each thread comes with both
# users, its last message (one seek in `message_thread_newest`) and the caller's unread count in
# it (one seek in the partial index `message_unread_by_recipient`); the page itself is read in
# order off `participant_user_activity` (user, -thread_updated, -thread): no sort, no scan.
THREAD_PAGE_SQL = """
SELECT p.thread_id, t.created, t.updated,
       t.user_low_id, low.username, t.user_high_id, high.username,
       m.id, m.sender_id, m.text, m.created, m.is_read,
       (SELECT COUNT(*) FROM chat_message AS u
         WHERE u.recipient_id = %s AND u.thread_id = p.thread_id AND NOT u.is_read)
FROM chat_participant AS p
JOIN chat_thread AS t ON t.id = p.thread_id
JOIN auth_user AS low ON low.id = t.user_low_id
JOIN auth_user AS high ON high.id = t.user_high_id
LEFT JOIN chat_message AS m ON m.id = (
    SELECT l.id FROM chat_message AS l WHERE l.thread_id = p.thread_id ORDER BY l.id DESC LIMIT 1
)
WHERE p.user_id = %s
ORDER BY p.thread_updated DESC, p.thread_id DESC
LIMIT %s OFFSET %s
"""


def db_datetime(value) -> datetime:
    """A datetime column read by a raw cursor: naive UTC from SQLite (text parsed by the
    converter Django registers), aware from other databases."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def thread_summaries_page(*, user, offset: int, limit: int) -> list[ThreadSummary]:
    with connection.cursor() as cursor:
        cursor.execute(THREAD_PAGE_SQL, [user.pk, user.pk, limit, offset])
        rows = cursor.fetchall()
    return [
        ThreadSummary(
            pk=thread_id,
            created=db_datetime(created),
            updated=db_datetime(updated),
            pair=[UserSummary(low_id, low_name), UserSummary(high_id, high_name)],
            last_message=None
            if message_id is None
            else MessageSummary(
                message_id, thread_id, sender_id, text, db_datetime(sent), bool(is_read)
            ),
            unread_count=unread_count,
        )
        for (thread_id, created, updated, low_id, low_name, high_id, high_name,
             message_id, sender_id, text, sent, is_read, unread_count) in rows
    ]  # fmt: skip


def thread_summaries_for_user(*, user) -> CountedRows:
    """The user's threads, most recent activity first, as pages of `ThreadSummary`.

    Two queries a page whatever the number of threads: the count (the user's seats, from an
    index alone) and `THREAD_PAGE_SQL`.
    """
    return CountedRows(
        lambda offset, limit: thread_summaries_page(user=user, offset=offset, limit=limit),
        count=lambda: participant_count(user=user),
    )


def participant_count(*, user) -> int:
    """How many threads the user takes part in, from the (user, ...) index alone."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM chat_participant WHERE user_id = %s", [user.pk])
        return cursor.fetchone()[0]


def thread_with_summary(*, thread: Thread, user) -> Thread:
    """One thread with both participants, `last_message` and `unread_count` for `user` (detail
    and create)."""
    if not Thread.user_low.is_cached(thread) or not Thread.user_high.is_cached(thread):
        users = User.objects.in_bulk([thread.user_low_id, thread.user_high_id])
        thread.user_low, thread.user_high = users[thread.user_low_id], users[thread.user_high_id]
    thread.last_message = Message.objects.filter(thread=thread).order_by("-id").first()
    thread.unread_count = Message.objects.filter(
        thread=thread, recipient=user, is_read=False
    ).count()
    return thread


MESSAGE_COLUMNS = "id, thread_id, sender_id, text, created, is_read"


class ThreadMessages:
    """The messages of a thread for `MessagePagination`: pages by offset (newest first) or by
    keyset (`older_than`, newest first; `newer_than`, oldest first), and their total.

    Each page is one query that walks the (thread, -id) index from its start or from the key;
    the total is `Thread.stored_message_count`, so no page counts rows.
    """

    def __init__(self, thread: Thread) -> None:
        self.thread = thread

    def count(self) -> int:
        return self.thread.stored_message_count

    def __getitem__(self, window: slice) -> list[MessageSummary]:
        return self._fetch(
            f"SELECT {MESSAGE_COLUMNS} FROM chat_message WHERE thread_id = %s "  # noqa: S608
            "ORDER BY id DESC LIMIT %s OFFSET %s",
            [self.thread.pk, window.stop - window.start, window.start],
        )

    def older_than(self, message_id: int, limit: int) -> list[MessageSummary]:
        return self._fetch(
            f"SELECT {MESSAGE_COLUMNS} FROM chat_message WHERE thread_id = %s AND id < %s "  # noqa: S608
            "ORDER BY id DESC LIMIT %s",
            [self.thread.pk, message_id, limit],
        )

    def newer_than(self, message_id: int, limit: int) -> list[MessageSummary]:
        return self._fetch(
            f"SELECT {MESSAGE_COLUMNS} FROM chat_message WHERE thread_id = %s AND id > %s "  # noqa: S608
            "ORDER BY id ASC LIMIT %s",
            [self.thread.pk, message_id, limit],
        )

    @staticmethod
    def _fetch(sql: str, params: list) -> list[MessageSummary]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return [
            MessageSummary(pk, thread_id, sender_id, text, db_datetime(created), bool(is_read))
            for pk, thread_id, sender_id, text, created, is_read in rows
        ]


def messages_for_thread(*, thread: Thread) -> ThreadMessages:
    """Messages of a thread, newest first (ids follow arrival order), to paginate."""
    return ThreadMessages(thread)


def unread_count_for_user(*, user) -> int:
    """Read from the partial index `message_unread_by_recipient` alone. Written out: building
    this one-line query with the ORM cost twice as much as running it (bench/RESULTS.md)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM chat_message WHERE recipient_id = %s AND NOT is_read", [user.pk]
        )
        return cursor.fetchone()[0]


def unread_counts_for_users(*, user_ids) -> dict[int, int]:
    """Each user's total unread count, in one query (the two participants of a live event)."""
    counts = dict(
        Message.objects.filter(recipient_id__in=user_ids, is_read=False)
        .values_list("recipient_id")
        .annotate(count=Count("id"))
        .order_by()
    )
    return {user_id: counts.get(user_id, 0) for user_id in user_ids}


def users_search(*, search: str = "") -> QuerySet:
    users = User.objects.filter(is_active=True).order_by("username", "id")
    if search:
        users = users.filter(username__icontains=search)
    return users


def subject_user(*, caller, user_id: int | None):
    """Whose threads or unread count a `?user=` query asks for.

    Anyone may name themselves; only staff may name someone else (403 otherwise, whether or not
    that user exists, so the answer reveals nothing).
    """
    if user_id is None or user_id == caller.pk:
        return caller
    if not caller.is_staff:
        raise PermissionDenied("Only staff may look at another user's threads.")
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise ValidationError({"user": [f"No user has id {user_id}."]})
    return user
