"""The hot reads, written as SQL, and the read models they produce.

A thread and a message have one read model each (`ThreadView`, `MessageView`) and one row
mapper each (`thread_from_row`, `message_from_row`): the thread list, the thread detail, the
create response and the live events all read a thread through `THREAD_SQL`, so they cannot
disagree. Rows are mapped by column name, and table names come from the models' `_meta`.

Why SQL here and not the ORM: building these queries with the ORM cost more than running them,
and building model instances for a page cost more than all of its queries (bench/RESULTS.md).
Access checks stay in `chat.selectors`; this module only reads what it is asked for.

Presence is read here too: a participant's `online` and `last_seen` as the caller may see them
come with the thread in the same statement, and `visible_presence` is the one rule that hides
them (a block either way, or `show_presence` off).
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from accounts.models import Block, Profile
from chat.models import (
    Attachment,
    HiddenMessage,
    Message,
    Participant,
    PresenceSocket,
    Thread,
    ThreadMessageCount,
)
from common import rows

USER = get_user_model()._meta.db_table
THREAD = Thread._meta.db_table
PARTICIPANT = Participant._meta.db_table
MESSAGE = Message._meta.db_table
MESSAGE_COUNT = ThreadMessageCount._meta.db_table
HIDDEN = HiddenMessage._meta.db_table
PROFILE = Profile._meta.db_table
BLOCK = Block._meta.db_table
PRESENCE = PresenceSocket._meta.db_table
ATTACHMENT = Attachment._meta.db_table


@dataclass(slots=True, frozen=True)
class PresenceView:
    """Whether a user is online, and when they were last (to the minute), as one caller may see
    it: `last_seen` is null while online, and both are hidden (offline, null) across a block or
    when the user does not show their presence."""

    online: bool
    last_seen: datetime | None


OFFLINE_UNKNOWN = PresenceView(online=False, last_seen=None)


@dataclass(slots=True, frozen=True)
class ParticipantView:
    """A participant of a thread, with their presence as the caller may see it."""

    id: int
    username: str
    online: bool
    last_seen: datetime | None


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
    has_files: bool = False  # whether `with_attachments` has any to read
    attachments: list[Attachment] = field(default_factory=list)  # `with_attachments` fills it


@dataclass(slots=True, frozen=True)
class ThreadView:
    """A thread as one of its participants sees it."""

    id: int
    created: datetime
    updated: datetime
    participants: tuple[ParticipantView, ParticipantView]
    last_message: MessageView | None
    unread_count: int
    muted: bool  # by the caller, and not run out
    muted_until: datetime | None  # when the caller's mute ends; None: until unmuted, or not muted


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


def has_files_column(table_alias: str) -> str:
    """Whether the message has files: a probe of the attachments' message_id index, so that a
    page without files (most pages) reads none (`with_attachments`)."""
    return f"EXISTS (SELECT 1 FROM {ATTACHMENT} AS att WHERE att.message_id = {table_alias}.id)"  # noqa: S608


def message_columns(table_alias: str, prefix: str = "") -> str:
    columns = ", ".join(f"{table_alias}.{name} AS {prefix}{name}" for name in MESSAGE_COLUMNS)
    return f"{columns}, {has_files_column(table_alias)} AS {prefix}has_files"


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
        has_files=bool(row[f"{prefix}has_files"]),
    )


def visible_presence(shown, blocked, online, last_seen) -> tuple[bool, datetime | None]:
    """(online, last_seen) as a caller may see them, from the raw columns: `shown` is the
    user's `show_presence` (NULL: no profile, the default, shown), `blocked` whether either of
    the two blocks the other, `online` whether the user has a socket row that has not expired,
    and `last_seen` their profile's. A tuple, not a `PresenceView`: a page maps 40 of them, and
    building frozen dataclasses was most of the cost."""
    if (shown is not None and not shown) or blocked:
        return False, None
    if online:
        return True, None
    return False, None if last_seen is None else db_datetime(last_seen)


def participant_from_row(row: dict, prefix: str, viewer_id: int) -> ParticipantView:
    user_id = row[prefix + "id"]
    online, last_seen = visible_presence(
        row[prefix + "shown"],
        # Nobody blocks themselves: the caller's own entry is never hidden by a block.
        row["blocked"] and user_id != viewer_id,
        row[prefix + "online"],
        row[prefix + "last_seen"],
    )
    return ParticipantView(user_id, row[prefix + "username"], online, last_seen)


def thread_from_row(row: dict) -> ThreadView:
    muted_until = None if row["muted_until"] is None else db_datetime(row["muted_until"])
    # A mute that has run out is no mute: nothing has to wake up to end it.
    muted = bool(row["muted"]) and (muted_until is None or muted_until > datetime.now(UTC))
    return ThreadView(
        id=row["id"],
        created=db_datetime(row["created"]),
        updated=db_datetime(row["updated"]),
        participants=(
            participant_from_row(row, "low_", row["viewer_id"]),
            participant_from_row(row, "high_", row["viewer_id"]),
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


def db_now() -> object:
    """The current time as a query parameter compared with stored datetimes (SQLite keeps them
    as naive UTC text)."""
    return connection.ops.adapt_datetimefield_value(timezone.now())


# Whether `{user}` has a socket row that has not expired: one probe of `presence_user_expires`.
# Its parameter is the current time (`db_now()`).
def online_column(user: str) -> str:
    return f"EXISTS (SELECT 1 FROM {PRESENCE} AS s WHERE s.user_id = {user} AND s.expires > %s)"  # noqa: S608


# Whether either of two users blocks the other: a probe of the unique (blocker, blocked) index in
# each direction.
def blocked_column(first: str, second: str) -> str:
    one_way = "EXISTS (SELECT 1 FROM {block} AS b WHERE b.blocker_id = {a} AND b.blocked_id = {b})"
    return (
        f"({one_way.format(block=BLOCK, a=first, b=second)}"
        f" OR {one_way.format(block=BLOCK, a=second, b=first)})"
    )


# A thread as the participant `p.user_id` sees it, in one statement: both users with their
# presence (their profiles by primary key, a probe each of `presence_user_expires`, and the block
# between them, if any, in the two directions of the block indexes), the last message (one seek
# in `message_thread_newest`) and the caller's unread count in it (one seek in the partial index
# `message_unread_by_recipient`). The list reads its page in order off
# `participant_user_activity` (user, -thread_updated, -thread): no sort, no scan.
# Parameters: the current time twice (`thread_params`), then the caller's id.
THREAD_SQL = f"""
SELECT p.thread_id AS id, p.user_id AS viewer_id, t.created AS created, t.updated AS updated,
       t.user_low_id AS low_id, low.username AS low_username,
       low_profile.show_presence AS low_shown, low_profile.last_seen AS low_last_seen,
       {online_column("t.user_low_id")} AS low_online,
       t.user_high_id AS high_id, high.username AS high_username,
       high_profile.show_presence AS high_shown, high_profile.last_seen AS high_last_seen,
       {online_column("t.user_high_id")} AS high_online,
       {blocked_column("t.user_low_id", "t.user_high_id")} AS blocked,
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
LEFT JOIN {PROFILE} AS low_profile ON low_profile.user_id = t.user_low_id
LEFT JOIN {PROFILE} AS high_profile ON high_profile.user_id = t.user_high_id
LEFT JOIN {MESSAGE} AS m ON m.id = (
    SELECT l.id FROM {MESSAGE} AS l
    WHERE l.thread_id = p.thread_id AND {visible_to_participant("l")}
    ORDER BY l.id DESC LIMIT 1
)
WHERE p.user_id = %s
"""  # noqa: S608 - table names from the models, values as parameters


def thread_params(user_id: int) -> list:
    now = db_now()
    return [now, now, user_id]


def threads_page(*, user_id: int, offset: int, limit: int) -> list[ThreadView]:
    """The user's threads, most recent activity first."""
    rows = fetch_rows(
        THREAD_SQL + "ORDER BY p.thread_updated DESC, p.thread_id DESC LIMIT %s OFFSET %s",
        [*thread_params(user_id), limit, offset],
    )
    threads = [thread_from_row(row) for row in rows]
    with_attachments([thread.last_message for thread in threads if thread.last_message])
    return threads


def thread_view(*, user_id: int, thread_id: int) -> ThreadView | None:
    """One thread as `user_id` sees it; None unless they take part in it."""
    rows = fetch_rows(THREAD_SQL + "AND p.thread_id = %s", [*thread_params(user_id), thread_id])
    if not rows:
        return None
    thread = thread_from_row(rows[0])
    if thread.last_message:
        with_attachments([thread.last_message])
    return thread


# Every column, in the model's order: rows become instances positionally, as the ORM makes them
# (keyword arguments cost three times as much).
ATTACHMENT_COLUMNS = ", ".join(column.column for column in Attachment._meta.concrete_fields)


def with_attachments(messages: list[MessageView]) -> list[MessageView]:
    """Fills in the messages' attachments, in one query (a probe of the message_id index per
    message that has files), none when none has any; returns the messages."""
    by_id = {message.id: message for message in messages if message.has_files}
    if not by_id:
        return messages
    placeholders = ", ".join(["%s"] * len(by_id))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {ATTACHMENT_COLUMNS} FROM {ATTACHMENT} "  # noqa: S608
            f"WHERE message_id IN ({placeholders}) ORDER BY id",
            list(by_id),
        )
        for values in cursor.fetchall():
            attachment = Attachment(*values)
            by_id[attachment.message_id].attachments.append(attachment)
    return messages


# A user's presence as the caller sees it, if the caller may ask: the user themselves, or a user
# who shares a thread with the caller (one probe of the unique pair `thread_unique_pair`).
# Parameters: the current time, the caller twice (the block), the user, the caller, and the pair
# (lower id first).
PRESENCE_SQL = f"""
SELECT pr.show_presence AS shown, pr.last_seen AS last_seen,
       {online_column("u.id")} AS online,
       {blocked_column("u.id", "%s")} AS blocked
FROM {USER} AS u
LEFT JOIN {PROFILE} AS pr ON pr.user_id = u.id
WHERE u.id = %s AND (
    u.id = %s
    OR EXISTS (SELECT 1 FROM {THREAD} AS t WHERE t.user_low_id = %s AND t.user_high_id = %s)
)
"""  # noqa: S608


def presence_for(*, viewer_id: int, user_id: int) -> PresenceView | None:
    """`user_id`'s presence as `viewer_id` may see it; None unless it is themselves or someone
    they share a thread with."""
    low, high = sorted((viewer_id, user_id))
    rows = fetch_rows(PRESENCE_SQL, [db_now(), viewer_id, viewer_id, user_id, viewer_id, low, high])
    if not rows:
        return None
    row = rows[0]
    blocked = row["blocked"] and user_id != viewer_id
    return PresenceView(*visible_presence(row["shown"], blocked, row["online"], row["last_seen"]))


# The users told of a change in `mine.user_id`'s presence: those who share a thread with them
# and have a socket open now (everyone else has nowhere to receive it), but not across a block.
# It walks the user's seats (`participant_user_activity`), the other seat of each thread
# (`participant_unique_user`) and a probe of `presence_user_expires` each: one query however many
# threads, and a group send only per partner online. Parameters: the current time, the user.
PRESENCE_AUDIENCE_SQL = f"""
SELECT theirs.user_id AS user_id
FROM {PARTICIPANT} AS mine
JOIN {PARTICIPANT} AS theirs ON theirs.thread_id = mine.thread_id
                              AND theirs.user_id <> mine.user_id
WHERE EXISTS (SELECT 1 FROM {PRESENCE} AS s
              WHERE s.user_id = theirs.user_id AND s.expires > %s AND s.worker <> '')
  AND mine.user_id = %s
  AND NOT {blocked_column("mine.user_id", "theirs.user_id")}
"""  # noqa: S608


# ... unless the user hides their presence (a profile with `show_presence` false).
PRESENCE_SHOWN_CONDITION = f"""
  AND NOT EXISTS (SELECT 1 FROM {PROFILE} AS pr
                  WHERE pr.user_id = mine.user_id AND NOT pr.show_presence)
"""  # noqa: S608


def presence_audience(*, user_id: int, hidden_too: bool = False) -> list[int]:
    """Who hears of `user_id`'s presence (above); `hidden_too` leaves their `show_presence`
    aside: to tell everyone who saw them online that they now hide it."""
    sql = PRESENCE_AUDIENCE_SQL + ("" if hidden_too else PRESENCE_SHOWN_CONDITION)
    return [row["user_id"] for row in fetch_rows(sql, [db_now(), user_id])]


# What a user's presence is, as anyone allowed to see it would: whether they show it, their
# profile's last_seen and whether a socket row of theirs has not expired. Parameters: the
# current time, the user.
OWN_PRESENCE_SQL = f"""
SELECT pr.show_presence AS shown, pr.last_seen AS last_seen, {online_column("u.id")} AS online
FROM {USER} AS u LEFT JOIN {PROFILE} AS pr ON pr.user_id = u.id
WHERE u.id = %s
"""  # noqa: S608


def presence_shown(*, user_id: int) -> PresenceView:
    """`user_id`'s presence as those who share a thread with them and block nobody see it."""
    rows = fetch_rows(OWN_PRESENCE_SQL, [db_now(), user_id])
    if not rows:
        return OFFLINE_UNKNOWN
    row = rows[0]
    return PresenceView(*visible_presence(row["shown"], False, row["online"], row["last_seen"]))


def thread_count(*, user_id: int) -> int:
    """How many threads the user takes part in, from the (user, ...) index alone."""
    return fetch_value(f"SELECT COUNT(*) FROM {PARTICIPANT} WHERE user_id = %s", [user_id])  # noqa: S608


# Written out, like the other hot reads: the ORM took 440 us to build this one-row query with
# its joins, the raw query 70 us (bench/RESULTS.md).
THREAD_ACCESS_SQL = f"""
SELECT {rows.columns(Thread, "t")} FROM {THREAD} AS t
JOIN {PARTICIPANT} AS p ON p.thread_id = t.id AND p.user_id = %s
WHERE t.id = %s
"""  # noqa: S608


def thread_if_participant(*, user_id: int, thread_id: int) -> Thread | None:
    return rows.instance(Thread, THREAD_ACCESS_SQL, [user_id, thread_id])


MESSAGE_ACCESS_SQL = f"""
SELECT m.*, {has_files_column("m")} AS has_files FROM {MESSAGE} AS m
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
        return with_attachments([message_from_row(row) for row in rows])


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


# An attachment as `user` may fetch it: their own upload, or one attached to a message of a thread
# they take part in that they have not hidden for themselves. Parameters: the attachment, the
# user twice.
ATTACHMENT_ACCESS_SQL = f"""
SELECT a.* FROM {ATTACHMENT} AS a
WHERE a.id = %s AND (
    a.uploader_id = %s
    OR EXISTS (SELECT 1 FROM {MESSAGE} AS m
               JOIN {PARTICIPANT} AS p ON p.thread_id = m.thread_id AND p.user_id = %s
               WHERE m.id = a.message_id AND NOT m.deleted AND {visible_to_participant("m")})
)
"""  # noqa: S608


def attachment_if_allowed(*, user_id: int, attachment_id: int) -> Attachment | None:
    return next(
        iter(Attachment.objects.raw(ATTACHMENT_ACCESS_SQL, [attachment_id, user_id, user_id])),
        None,
    )
