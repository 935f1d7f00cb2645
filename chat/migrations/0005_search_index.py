"""The search index of messages (`chat.search`), filled from the messages there are.

SQLite: an FTS5 table whose content is read through the view `chat_message_search_source`
(installed with the triggers, chat/triggers.py), tokens folded for case and accents
(`unicode61 remove_diacritics 2`), prefixes of 2 and 3 characters indexed for prefix queries.
Its `who` column holds `u<sender> u<recipient> t<thread>`, so a search is limited to the caller's
messages (or one thread) inside the index.
PostgreSQL: `chat_message_search` (message_id, document), a tsvector of the text folded by
`unaccent` plus lexemes `u~<id>` and `t~<id>` that no word of a search can spell, with a GIN index.
"""

from django.db import migrations

SQLITE = [
    """
    CREATE VIRTUAL TABLE chat_message_fts USING fts5(
        text, who,
        content='chat_message_search_source', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2', prefix='2 3'
    )
    """,
    # The triggers' view does not exist yet during migrations: fill from the table itself.
    """
    INSERT INTO chat_message_fts (rowid, text, who)
    SELECT id, text, 'u' || sender_id || ' u' || recipient_id || ' t' || thread_id
    FROM chat_message WHERE NOT deleted
    """,
]
SQLITE_REVERSE = [
    "DROP VIEW IF EXISTS chat_message_search_source",
    "DROP TABLE chat_message_fts",
]

POSTGRESQL = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    # unaccent() is STABLE (it reads its dictionary); naming the dictionary makes it safe to
    # call from an immutable function, as PostgreSQL's documentation suggests for indexes.
    """
    CREATE OR REPLACE FUNCTION chat_fold(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, value) $$
    """,
    """
    CREATE OR REPLACE FUNCTION chat_search_document(
        text text, sender_id bigint, recipient_id bigint, thread_id bigint
    ) RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT to_tsvector('simple', chat_fold(text)) || array_to_tsvector(ARRAY[
        'u~' || sender_id, 'u~' || recipient_id, 't~' || thread_id]) $$
    """,
    """
    CREATE TABLE chat_message_search (
        message_id bigint PRIMARY KEY,
        document tsvector NOT NULL
    )
    """,
    """
    INSERT INTO chat_message_search (message_id, document)
    SELECT id, chat_search_document(text, sender_id, recipient_id, thread_id)
    FROM chat_message WHERE NOT deleted
    """,
    "CREATE INDEX chat_message_search_document ON chat_message_search USING gin (document)",
]
POSTGRESQL_REVERSE = [
    "DROP TABLE chat_message_search",
    "DROP FUNCTION chat_search_document",
    "DROP FUNCTION chat_fold",
]


def run(statements_by_vendor: dict):
    def apply(apps, schema_editor):
        for statement in statements_by_vendor[schema_editor.connection.vendor]:
            schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0004_messages_people_can_change"),
    ]

    operations = [
        migrations.RunPython(
            run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
            run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRESQL_REVERSE}),
        ),
    ]
