"""The hot reads, written as SQL, and the read models they produce.

A thread and a message have one read model each (`ThreadView`, `MessageView`) and one row
mapper each (`thread_from_row`, `message_from_row`): the thread list, the thread detail, the
create response and the live events all read a thread through `THREAD_SQL`, so they cannot
disagree. Rows are mapped by column name, and table names come from the models' `_meta`.

Why SQL here and not the ORM: building these queries with the ORM cost more than running them,
and building model instances for a page cost more than all of its queries (bench/RESULTS.md).
Access checks stay in `chat.selectors`; this module only reads what it is asked for.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.db import connection

from chat.models import HiddenMessage, Message, Participant, Thread, ThreadMessageCount

USER = get_user_model()._meta.db_table
THREAD = Thread._meta.db_table
PARTICIPANT = Participant._meta.db_table
MESSAGE = Message._meta.db_table
MESSAGE_COUNT = ThreadMessageCount._meta.db_table
HIDDEN = HiddenMessage._meta.db_table


@dataclass(slots=True, frozen=True)
class UserView:
    id: int
    username: str


@dataclass(slots=True, frozen=True)
class MessageView:
    id: int
    thread_id: int
    sender_id: int
    text: str
    created: datetime
    is_read: bool
    edited: datetime | None
    deleted: bool


@dataclass(slots=True, frozen=True)
class ThreadView:
    """A thread as one of its participants sees it."""

    id: int
    created: datetime
    updated: datetime
    participants: tuple[UserView, UserView]
    last_message: MessageView | None
    unread_count: int
    muted_until: (
        datetime | None
    )  # the caller's mute, if it ends; None with `muted` is "until unmuted"
    muted: bool


def db_datetime(value) -> datetime:
    """A datetime column read by a raw cursor: naive UTC from SQLite (text parsed by the
    converter Django registers), aware from other databases."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def fetch_rows(sql: str, params: list) -> list[dict]:
    """Each row as a dict by column name."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def fetch_value(sql: str, params: list):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else row[0]


MESSAGE_COLUMNS = (
    "id",
    "thread_id",
    "sender_id",
    "text",
    "created",
    "is_read",
    "edited",
    "deleted",
)


def message_columns(table_alias: str, prefix: str = "") -> str:
    return ", ".join(f"{table_alias}.{name} AS {prefix}{name}" for name in MESSAGE_COLUMNS)


def message_from_row(row: dict, prefix: str = "") -> MessageView | None:
    """The message in `row`'s columns named `<prefix>id`, ...; None when the id is NULL (a
    thread's `last_message` before its first message)."""
    if row[f"{prefix}id"] is None:
        return None
    return MessageView(
        id=row[f"{prefix}id"],
        thread_id=row[f"{prefix}thread_id"],
        sender_id=row[f"{prefix}sender_id"],
        text=row[f"{prefix}text"],
        created=db_datetime(row[f"{prefix}created"]),
        is_read=bool(row[f"{prefix}is_read"]),
        edited=None if row[f"{prefix}edited"] is None else db_datetime(row[f"{prefix}edited"]),
        deleted=bool(row[f"{prefix}deleted"]),
    )


def thread_from_row(row: dict) -> ThreadView:
    muted_until = None if row["muted_until"] is None else db_datetime(row["muted_until"])
    # A mute that has run out is no mute: nothing has to wake up to end it.
    muted = bool(row["muted"]) and (muted_until is None or muted_until > datetime.now(UTC))
    return ThreadView(
        id=row["id"],
        created=db_datetime(row["created"]),
        updated=db_datetime(row["updated"]),
        participants=(
            UserView(row["low_id"], row["low_username"]),
            UserView(row["high_id"], row["high_username"]),
        ),
        last_message=message_from_row(row, prefix="last_"),
        unread_count=row["unread_count"],
        muted=muted,
        muted_until=muted_until if muted else None,
    )


# Whether the message `{m}` is visible to the participant `p` (a row of PARTICIPANT for its thread
# and the caller): after the bound of their last "clear", and not deleted by them for themselves
# (one probe of the unique (user, message) index).
def visible_to_participant(m: str, p: str = "p") -> str:
    hidden = f"SELECT 1 FROM {HIDDEN} AS h WHERE h.user_id = {p}.user_id AND h.message_id = {m}.id"  # noqa: S608
    return f"{m}.id > {p}.cleared_through AND NOT EXISTS ({hidden})"


# A thread as the participant `p.user_id` sees it, in one statement: both users, the last
# message (one seek in `message_thread_newest`) and the caller's unread count in it (one seek in
# the partial index `message_unread_by_recipient`). The list reads its page in order off
# `participant_user_activity` (user, -thread_updated, -thread): no sort, no scan.
THREAD_SQL = f"""
SELECT p.thread_id AS id, t.created AS created, t.updated AS updated,
       t.user_low_id AS low_id, low.username AS low_username,
       t.user_high_id AS high_id, high.username AS high_username,
       p.muted AS muted, p.muted_until AS muted_until,
       {message_columns("m", prefix="last_")},
       (SELECT COUNT(*) FROM {MESSAGE} AS u
         WHERE u.recipient_id = p.user_id AND u.thread_id = p.thread_id
           AND NOT u.is_read AND NOT u.deleted
       ) AS unread_count
FROM {PARTICIPANT} AS p
JOIN {THREAD} AS t ON t.id = p.thread_id
JOIN {USER} AS low ON low.id = t.user_low_id
JOIN {USER} AS high ON high.id = t.user_high_id
LEFT JOIN {MESSAGE} AS m ON m.id = (
    SELECT l.id FROM {MESSAGE} AS l
    WHERE l.thread_id = p.thread_id AND {visible_to_participant("l")}
    ORDER BY l.id DESC LIMIT 1
)
WHERE p.user_id = %s
"""  # noqa: S608 - table names from the models, values as parameters


def threads_page(*, user_id: int, offset: int, limit: int) -> list[ThreadView]:
    """The user's threads, most recent activity first."""
    rows = fetch_rows(
        THREAD_SQL + "ORDER BY p.thread_updated DESC, p.thread_id DESC LIMIT %s OFFSET %s",
        [user_id, limit, offset],
    )
    return [thread_from_row(row) for row in rows]


def thread_view(*, user_id: int, thread_id: int) -> ThreadView | None:
    """One thread as `user_id` sees it; None unless they take part in it."""
    rows = fetch_rows(THREAD_SQL + "AND p.thread_id = %s", [user_id, thread_id])
    return thread_from_row(rows[0]) if rows else None


def thread_count(*, user_id: int) -> int:
    """How many threads the user takes part in, from the (user, ...) index alone."""
    return fetch_value(f"SELECT COUNT(*) FROM {PARTICIPANT} WHERE user_id = %s", [user_id])  # noqa: S608


# Written out, like the other hot reads: the ORM took 440 us to build this one-row query with
# its joins, the raw query 70 us (bench/RESULTS.md).
THREAD_ACCESS_SQL = f"""
SELECT t.* FROM {THREAD} AS t
JOIN {PARTICIPANT} AS p ON p.thread_id = t.id AND p.user_id = %s
WHERE t.id = %s
"""  # noqa: S608


def thread_if_participant(*, user_id: int, thread_id: int) -> Thread | None:
    return next(iter(Thread.objects.raw(THREAD_ACCESS_SQL, [user_id, thread_id])), None)


MESSAGE_ACCESS_SQL = f"""
SELECT m.* FROM {MESSAGE} AS m
JOIN {PARTICIPANT} AS p ON p.thread_id = m.thread_id AND p.user_id = %s
WHERE m.id = %s AND {visible_to_participant("m")}
"""  # noqa: S608


def message_if_visible(*, user_id: int, message_id: int) -> Message | None:
    """The message if it is in one of the user's threads and not hidden for them."""
    return next(iter(Message.objects.raw(MESSAGE_ACCESS_SQL, [user_id, message_id])), None)


# The messages of a thread that the participant `p` sees: one walk of the (thread, -id) index
# from its start or from the key, bounded below by the participant's last clear. The probe for
# messages they hid one by one costs a lookup per row walked, a third of a deep offset page, so
# it is left out when the page's count found none (`ThreadMessages.hidden`).
def _messages_sql(hidden: bool) -> str:
    visible = visible_to_participant("m") if hidden else "m.id > p.cleared_through"
    return f"""
SELECT {message_columns("m")} FROM {MESSAGE} AS m
JOIN {PARTICIPANT} AS p ON p.thread_id = m.thread_id AND p.user_id = %s
WHERE m.thread_id = %s AND {visible}
"""  # noqa: S608


MESSAGES_SQL = {True: _messages_sql(hidden=True), False: _messages_sql(hidden=False)}


@dataclass(slots=True)
class ThreadMessages:
    """The messages of a thread that one participant sees, as `MessagePagination` reads them:
    `count()`, then pages by offset (slices, newest first) or by keyset (`older_than`, newest
    first; `newer_than`, oldest first). `hidden` says whether any of them is hidden for the
    participant one by one (True until counted)."""

    user_id: int
    thread_id: int
    hidden: bool = True

    def count(self) -> int:
        rows = fetch_rows(MESSAGE_COUNT_SQL, [self.user_id, self.thread_id])
        if not rows:
            return 0  # not (or no longer) a participant
        self.hidden = rows[0]["hidden"] > 0
        return rows[0]["since_clear"] - rows[0]["hidden"]

    def __getitem__(self, window: slice) -> list[MessageView]:
        return self._fetch(
            "ORDER BY m.id DESC LIMIT %s OFFSET %s", [window.stop - window.start, window.start]
        )

    def older_than(self, message_id: int, limit: int) -> list[MessageView]:
        return self._fetch("AND m.id < %s ORDER BY m.id DESC LIMIT %s", [message_id, limit])

    def newer_than(self, message_id: int, limit: int) -> list[MessageView]:
        return self._fetch("AND m.id > %s ORDER BY m.id ASC LIMIT %s", [message_id, limit])

    def _fetch(self, tail: str, params: list) -> list[MessageView]:
        rows = fetch_rows(MESSAGES_SQL[self.hidden] + tail, [self.user_id, self.thread_id, *params])
        return [message_from_row(row) for row in rows]


# How many messages of the thread the participant sees: without a clear, the count the database
# keeps; after one, the messages since (a walk of the index from the bound, usually short). And
# how many of those they deleted for themselves (their hidden rows, few, each joined to its
# message), to subtract.
MESSAGE_COUNT_SQL = f"""
SELECT CASE WHEN p.cleared_through = 0
            THEN COALESCE((SELECT c.messages FROM {MESSAGE_COUNT} AS c
                           WHERE c.thread_id = p.thread_id), 0)
            ELSE (SELECT COUNT(*) FROM {MESSAGE} AS a
                  WHERE a.thread_id = p.thread_id AND a.id > p.cleared_through)
       END AS since_clear,
       (SELECT COUNT(*) FROM {HIDDEN} AS h JOIN {MESSAGE} AS hm ON hm.id = h.message_id
        WHERE h.user_id = p.user_id AND hm.thread_id = p.thread_id
          AND hm.id > p.cleared_through) AS hidden
FROM {PARTICIPANT} AS p WHERE p.user_id = %s AND p.thread_id = %s
"""  # noqa: S608


UNREAD = "NOT is_read AND NOT deleted"  # the condition of `message_unread_by_recipient`


def unread_count(*, user_id: int) -> int:
    """Read from the partial index `message_unread_by_recipient` alone. Written out: building
    this one-line query with the ORM cost twice as much as running it (bench/RESULTS.md)."""
    return fetch_value(
        f"SELECT COUNT(*) FROM {MESSAGE} WHERE recipient_id = %s AND {UNREAD}",  # noqa: S608
        [user_id],
    )


def unread_counts(*, user_ids: tuple[int, ...], thread_id: int) -> dict[int, tuple[int, int]]:
    """Each user's unread messages, in all and in `thread_id`, in one pass over the partial
    index: the figures every live event carries."""
    placeholders = ", ".join(["%s"] * len(user_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT recipient_id, COUNT(*), "  # noqa: S608
            f"SUM(CASE WHEN thread_id = %s THEN 1 ELSE 0 END) FROM {MESSAGE} "
            f"WHERE recipient_id IN ({placeholders}) AND {UNREAD} GROUP BY recipient_id",
            [thread_id, *user_ids],
        )
        found = {user_id: (total, in_thread) for user_id, total, in_thread in cursor.fetchall()}
    return {user_id: found.get(user_id, (0, 0)) for user_id in user_ids}
