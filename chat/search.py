"""Search in one's own messages: the query, its results and their highlights.

Words are runs of letters and digits; every word must match the start of a word of the message,
ignoring case and accents. Whatever else a query holds (quotes, `*`, `-`, `NEAR`, `OR`, ...) is
plain text: only the words reach the database, each quoted, so no search syntax can be written.

The index (chat/triggers.py, migration 0005) holds, beside each message's text, its two
participants and its thread, so the caller's own messages are selected inside the index itself;
the rest of what the caller may see (not hidden for them, not deleted) is checked in the same
query, so a page is never filtered, and never short, after its LIMIT. Results come newest first,
the order both indexes can deliver without sorting every match.
"""

import re
import unicodedata
from dataclasses import dataclass

from django.db import connection

from chat.queries import (
    HIDDEN,
    MESSAGE,
    PARTICIPANT,
    MessageView,
    fetch_rows,
    fetch_value,
    message_columns,
    message_from_row,
    visible_to_participant,
    with_attachments,
)

MAX_QUERY_LENGTH = 200
WORD = re.compile(r"[^\W_]+")


def words_of(query: str) -> list[str]:
    return WORD.findall(query)


def fold(text: str) -> str:
    """Lower case without accents, as the indexes fold what they store."""
    if text.isascii():  # most words: nothing to decompose, and casefold() is lower() there
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def highlights(text: str, prefixes: tuple[str, ...]) -> list[list[int]]:
    """[start, end] character offsets of each word of `text` that begins with one of the
    (folded) `prefixes`."""
    return [
        [found.start(), found.end()]
        for found in WORD.finditer(text)
        if fold(found.group()).startswith(prefixes)
    ]


@dataclass(slots=True, frozen=True)
class SearchResult:
    message: MessageView
    highlights: list[list[int]]

    @property
    def id(self) -> int:
        """The key of keyset pages."""
        return self.message.id


SQLITE_FROM = f"""
FROM chat_message_fts AS f
JOIN {MESSAGE} AS m ON m.id = f.rowid
JOIN {PARTICIPANT} AS p ON p.thread_id = m.thread_id AND p.user_id = %s
WHERE chat_message_fts MATCH %s AND NOT m.deleted AND {visible_to_participant("m")}
"""

# How many of the caller's messages match, counted in the index alone, less the matches the
# caller no longer sees. The index holds no deleted message and names both participants, so its
# own count is right but for messages hidden one by one (after the participant's clear bound) and
# for those at or below a clear bound: both are few and reached by their own indexes, so a count
# costs one pass over the index's doclists instead of joining every match to its message and
# participant row (39 ms → 9 ms for a common word of a user in 3,741 threads, at 1M messages).
SQLITE_COUNT = f"""
SELECT (SELECT COUNT(*) FROM chat_message_fts WHERE chat_message_fts MATCH %s)
     - (SELECT COUNT(*) FROM {HIDDEN} AS h
        JOIN {MESSAGE} AS m ON m.id = h.message_id
        JOIN {PARTICIPANT} AS p ON p.thread_id = m.thread_id AND p.user_id = h.user_id
        JOIN chat_message_fts AS f ON f.rowid = h.message_id
        WHERE h.user_id = %s AND h.message_id > p.cleared_through
          AND chat_message_fts MATCH %s)
     - (SELECT COUNT(*) FROM {PARTICIPANT} AS p
        JOIN chat_message_fts AS f ON f.rowid <= p.cleared_through
        WHERE p.user_id = %s AND p.cleared_through > 0
          AND chat_message_fts MATCH (%s || ' AND who : "t' || p.thread_id || '"'))
"""  # noqa: S608

POSTGRESQL_FROM = f"""
FROM chat_message_search AS s
JOIN {MESSAGE} AS m ON m.id = s.message_id
JOIN {PARTICIPANT} AS p ON p.thread_id = m.thread_id AND p.user_id = %s
WHERE s.document @@ (to_tsquery('simple', chat_fold(%s)) && %s::tsquery)
  AND NOT m.deleted AND {visible_to_participant("m")}
"""


@dataclass(slots=True)
class MessageSearch:
    """The caller's messages matching every word, newest first, as `MessagePagination` reads
    them: `count()`, slices (offset pages), `older_than` and `newer_than` (keyset pages by
    `before`, newest first, and `after`, oldest first, as message lists have)."""

    user_id: int
    words: list[str]
    thread_id: int | None = None

    @staticmethod
    def _key() -> str:
        """The message id as the index knows it: FTS5 walks its matches in rowid order (newest
        first without sorting them all) when the query orders and bounds by its own rowid."""
        return "m.id" if connection.vendor == "postgresql" else "f.rowid"

    def _from(self) -> tuple[str, list]:
        if connection.vendor == "postgresql":
            text = " & ".join(f"{word}:*" for word in self.words)
            who = f"'u~{self.user_id}'" + (
                f" & 't~{self.thread_id}'" if self.thread_id is not None else ""
            )
            return POSTGRESQL_FROM, [self.user_id, text, who]
        # One thread (its access checked already) is named by its own token: adding the
        # caller's would only make the index intersect one more list.
        scope = f"t{self.thread_id}" if self.thread_id is not None else f"u{self.user_id}"
        match = " AND ".join([f'who : "{scope}"'] + [f'text : "{word}"*' for word in self.words])
        return SQLITE_FROM, [self.user_id, match]

    def count(self) -> int:
        sql, params = self._from()
        if connection.vendor == "postgresql":
            return fetch_value(f"SELECT COUNT(*) {sql}", params)
        return fetch_value(
            SQLITE_COUNT, [params[1], self.user_id, params[1], self.user_id, params[1]]
        )

    def __getitem__(self, window: slice) -> list[SearchResult]:
        key = self._key()
        return self._page(f"ORDER BY {key} DESC", [], window.stop - window.start, window.start)

    def older_than(self, message_id: int, limit: int) -> list[SearchResult]:
        key = self._key()
        return self._page(f"AND {key} < %s ORDER BY {key} DESC", [message_id], limit, 0)

    def newer_than(self, message_id: int, limit: int) -> list[SearchResult]:
        key = self._key()
        return self._page(f"AND {key} > %s ORDER BY {key} ASC", [message_id], limit, 0)

    def _page(self, tail: str, params: list, limit: int, offset: int) -> list[SearchResult]:
        sql, from_params = self._from()
        rows = fetch_rows(
            f"SELECT {message_columns('m')} {sql} {tail} LIMIT %s OFFSET %s",
            [*from_params, *params, limit, offset],
        )
        prefixes = tuple(fold(word) for word in self.words)
        return [
            SearchResult(message, highlights(message.text, prefixes))
            for message in with_attachments([message_from_row(row) for row in rows])
        ]
