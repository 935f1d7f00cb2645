"""What the database keeps by itself, whoever writes the rows: triggers for SQLite and PostgreSQL.

- `chat_thread_message_count` (`ThreadMessageCount`): each thread's number of messages, counted
  on every insert, delete and move of a message, so that message pages never count the rows of a
  long thread and never report a count that a fixture, the admin or raw SQL left behind.
- `chat_participant.thread_updated`: the copy of `chat_thread.updated` that the thread list's
  index sorts by, written by the database whenever either side changes.
- The search index (`chat.search`): every message not deleted for everyone, indexed by its text
  and by its participants and thread, so a search finds only the caller's messages inside the
  index itself: SQLite's FTS5 table `chat_message_fts` (its content read through the view
  `chat_message_search_source`), PostgreSQL's `chat_message_search` (a tsvector with a GIN index).
- `chat_message.recipient_id`, stored so that unread counts read one small index, must be the
  participant who is not the sender, and the sender one of the thread's two: a row that says
  otherwise is refused.

They are installed after every `migrate` (`post_migrate`), with the counts and copies recomputed
in the same transaction, and dropped before it (`pre_migrate`): SQLite drops a table's triggers
when a migration rebuilds the table, and refuses to rebuild a table that another table's trigger
names. So no migration has to know about them, and none can leave them out.
"""

from django.db import transaction

PAIR_ERROR = "chat_message: the sender must be in the thread and the recipient the other one"

# The participant of the thread who is not the sender; NULL if the sender is not in the thread.
SQLITE_OTHER_PARTICIPANT = """(
    SELECT CASE NEW.sender_id WHEN t.user_low_id THEN t.user_high_id
                              WHEN t.user_high_id THEN t.user_low_id END
    FROM chat_thread AS t WHERE t.id = NEW.thread_id
)"""

SQLITE = [
    f"""
    CREATE TRIGGER chat_message_pair_checked_insert BEFORE INSERT ON chat_message
    WHEN NEW.recipient_id IS NOT {SQLITE_OTHER_PARTICIPANT} BEGIN
        SELECT RAISE(ABORT, '{PAIR_ERROR}');
    END
    """,
    f"""
    CREATE TRIGGER chat_message_pair_checked_update
    BEFORE UPDATE OF thread_id, sender_id, recipient_id ON chat_message
    WHEN NEW.recipient_id IS NOT {SQLITE_OTHER_PARTICIPANT} BEGIN
        SELECT RAISE(ABORT, '{PAIR_ERROR}');
    END
    """,
    """
    CREATE TRIGGER chat_message_counted_insert AFTER INSERT ON chat_message BEGIN
        INSERT INTO chat_thread_message_count (thread_id, messages) VALUES (NEW.thread_id, 1)
        ON CONFLICT (thread_id) DO UPDATE SET messages = messages + 1;
    END
    """,
    """
    CREATE TRIGGER chat_message_counted_delete AFTER DELETE ON chat_message BEGIN
        UPDATE chat_thread_message_count SET messages = messages - 1
        WHERE thread_id = OLD.thread_id;
    END
    """,
    """
    CREATE TRIGGER chat_message_counted_move AFTER UPDATE OF thread_id ON chat_message
    WHEN OLD.thread_id <> NEW.thread_id BEGIN
        UPDATE chat_thread_message_count SET messages = messages - 1
        WHERE thread_id = OLD.thread_id;
        INSERT INTO chat_thread_message_count (thread_id, messages) VALUES (NEW.thread_id, 1)
        ON CONFLICT (thread_id) DO UPDATE SET messages = messages + 1;
    END
    """,
    """
    CREATE TRIGGER chat_thread_count_deleted AFTER DELETE ON chat_thread BEGIN
        DELETE FROM chat_thread_message_count WHERE thread_id = OLD.id;
    END
    """,
    """
    CREATE TRIGGER chat_thread_updated_mirrored AFTER UPDATE OF updated ON chat_thread BEGIN
        UPDATE chat_participant SET thread_updated = NEW.updated
        WHERE thread_id = NEW.id AND thread_updated IS NOT NEW.updated;
    END
    """,
    # SQLite's triggers cannot change the row being written, so a participant row written with
    # another time is corrected right after; a row written before its thread keeps its own time
    # until the thread arrives (the trigger above does not fire on insert, the one below does).
    """
    CREATE TRIGGER chat_participant_updated_mirrored
    AFTER INSERT ON chat_participant BEGIN
        UPDATE chat_participant SET thread_updated = (
            SELECT updated FROM chat_thread WHERE id = NEW.thread_id
        ) WHERE id = NEW.id AND EXISTS (SELECT 1 FROM chat_thread WHERE id = NEW.thread_id);
    END
    """,
    """
    CREATE TRIGGER chat_participant_updated_kept
    AFTER UPDATE OF thread_updated ON chat_participant BEGIN
        UPDATE chat_participant SET thread_updated = (
            SELECT updated FROM chat_thread WHERE id = NEW.thread_id
        ) WHERE id = NEW.id AND EXISTS (
            SELECT 1 FROM chat_thread WHERE id = NEW.thread_id AND updated IS NOT NEW.thread_updated
        );
    END
    """,
    """
    CREATE TRIGGER chat_thread_inserted_mirrored AFTER INSERT ON chat_thread BEGIN
        UPDATE chat_participant SET thread_updated = NEW.updated
        WHERE thread_id = NEW.id AND thread_updated IS NOT NEW.updated;
    END
    """,
]

POSTGRESQL = [
    f"""
    CREATE OR REPLACE FUNCTION chat_message_pair_check() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.recipient_id IS DISTINCT FROM (
            SELECT CASE NEW.sender_id WHEN t.user_low_id THEN t.user_high_id
                                      WHEN t.user_high_id THEN t.user_low_id END
            FROM chat_thread AS t WHERE t.id = NEW.thread_id
        ) THEN
            RAISE EXCEPTION '{PAIR_ERROR}' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER chat_message_pair_checked
    BEFORE INSERT OR UPDATE OF thread_id, sender_id, recipient_id ON chat_message
    FOR EACH ROW EXECUTE FUNCTION chat_message_pair_check()
    """,
    """
    CREATE OR REPLACE FUNCTION chat_message_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
            UPDATE chat_thread_message_count SET messages = messages - 1
            WHERE thread_id = OLD.thread_id;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            INSERT INTO chat_thread_message_count AS c (thread_id, messages)
            VALUES (NEW.thread_id, 1)
            ON CONFLICT (thread_id) DO UPDATE SET messages = c.messages + 1;
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER chat_message_counted AFTER INSERT OR DELETE ON chat_message
    FOR EACH ROW EXECUTE FUNCTION chat_message_count_change()
    """,
    """
    CREATE TRIGGER chat_message_counted_move AFTER UPDATE OF thread_id ON chat_message
    FOR EACH ROW WHEN (OLD.thread_id IS DISTINCT FROM NEW.thread_id)
    EXECUTE FUNCTION chat_message_count_change()
    """,
    """
    CREATE OR REPLACE FUNCTION chat_message_count_forget() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            DELETE FROM chat_thread_message_count WHERE thread_id = OLD.id;
        ELSE
            TRUNCATE chat_thread_message_count;
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER chat_thread_count_deleted AFTER DELETE ON chat_thread
    FOR EACH ROW EXECUTE FUNCTION chat_message_count_forget()
    """,
    # TRUNCATE fires no row triggers: emptying either table empties the counts with it.
    """
    CREATE TRIGGER chat_thread_count_truncated AFTER TRUNCATE ON chat_thread
    FOR EACH STATEMENT EXECUTE FUNCTION chat_message_count_forget()
    """,
    """
    CREATE TRIGGER chat_message_count_truncated AFTER TRUNCATE ON chat_message
    FOR EACH STATEMENT EXECUTE FUNCTION chat_message_count_forget()
    """,
    """
    CREATE OR REPLACE FUNCTION chat_thread_updated_mirror() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE chat_participant SET thread_updated = NEW.updated
        WHERE thread_id = NEW.id AND thread_updated IS DISTINCT FROM NEW.updated;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER chat_thread_updated_mirrored AFTER INSERT OR UPDATE OF updated ON chat_thread
    FOR EACH ROW EXECUTE FUNCTION chat_thread_updated_mirror()
    """,
    """
    CREATE OR REPLACE FUNCTION chat_participant_updated_copy()
    RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.thread_updated := COALESCE(
            (SELECT updated FROM chat_thread WHERE id = NEW.thread_id), NEW.thread_updated
        );
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER chat_participant_updated_mirrored
    BEFORE INSERT OR UPDATE OF thread_updated ON chat_participant
    FOR EACH ROW EXECUTE FUNCTION chat_participant_updated_copy()
    """,
]

# The search index, kept like the rest; installed only once migration 0005 has made its table.
# The view is dropped and made again with the triggers: a view naming chat_message would stop
# SQLite from rebuilding that table in a migration, as a trigger would.
SQLITE_WHO = "'u' || {m}.sender_id || ' u' || {m}.recipient_id || ' t' || {m}.thread_id"

SQLITE_SEARCH = [
    f"""
    CREATE VIEW chat_message_search_source AS
    SELECT id, text, {SQLITE_WHO.format(m="chat_message")} AS who
    FROM chat_message WHERE NOT deleted
    """,
    f"""
    CREATE TRIGGER chat_message_searched_insert AFTER INSERT ON chat_message
    WHEN NOT NEW.deleted BEGIN
        INSERT INTO chat_message_fts (rowid, text, who)
        VALUES (NEW.id, NEW.text, {SQLITE_WHO.format(m="NEW")});
    END
    """,
    f"""
    CREATE TRIGGER chat_message_searched_delete AFTER DELETE ON chat_message
    WHEN NOT OLD.deleted BEGIN
        INSERT INTO chat_message_fts (chat_message_fts, rowid, text, who)
        VALUES ('delete', OLD.id, OLD.text, {SQLITE_WHO.format(m="OLD")});
    END
    """,
    f"""
    CREATE TRIGGER chat_message_searched_update
    AFTER UPDATE OF text, deleted, sender_id, recipient_id, thread_id ON chat_message BEGIN
        INSERT INTO chat_message_fts (chat_message_fts, rowid, text, who)
        SELECT 'delete', OLD.id, OLD.text, {SQLITE_WHO.format(m="OLD")} WHERE NOT OLD.deleted;
        INSERT INTO chat_message_fts (rowid, text, who)
        SELECT NEW.id, NEW.text, {SQLITE_WHO.format(m="NEW")} WHERE NOT NEW.deleted;
    END
    """,
]

POSTGRESQL_SEARCH = [
    """
    CREATE OR REPLACE FUNCTION chat_message_search_change()
    RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
            DELETE FROM chat_message_search WHERE message_id = OLD.id;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') AND NOT NEW.deleted THEN
            INSERT INTO chat_message_search (message_id, document)
            VALUES (NEW.id, chat_search_document(
                NEW.text, NEW.sender_id, NEW.recipient_id, NEW.thread_id));
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER chat_message_searched AFTER INSERT OR DELETE ON chat_message
    FOR EACH ROW EXECUTE FUNCTION chat_message_search_change()
    """,
    """
    CREATE TRIGGER chat_message_searched_update
    AFTER UPDATE OF text, deleted, sender_id, recipient_id, thread_id ON chat_message
    FOR EACH ROW EXECUTE FUNCTION chat_message_search_change()
    """,
    """
    CREATE OR REPLACE FUNCTION chat_message_search_forget()
    RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        TRUNCATE chat_message_search;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER chat_message_search_truncated AFTER TRUNCATE ON chat_message
    FOR EACH STATEMENT EXECUTE FUNCTION chat_message_search_forget()
    """,
]

SEARCH_TRIGGERS = {
    "sqlite": [
        ("chat_message_searched_insert", "chat_message"),
        ("chat_message_searched_delete", "chat_message"),
        ("chat_message_searched_update", "chat_message"),
    ],
    "postgresql": [
        ("chat_message_searched", "chat_message"),
        ("chat_message_searched_update", "chat_message"),
        ("chat_message_search_truncated", "chat_message"),
    ],
}
SEARCH_TABLE = {"sqlite": "chat_message_fts", "postgresql": "chat_message_search"}

TRIGGERS = {
    "sqlite": [
        ("chat_message_pair_checked_insert", "chat_message"),
        ("chat_message_pair_checked_update", "chat_message"),
        ("chat_message_counted_insert", "chat_message"),
        ("chat_message_counted_delete", "chat_message"),
        ("chat_message_counted_move", "chat_message"),
        ("chat_thread_count_deleted", "chat_thread"),
        ("chat_thread_updated_mirrored", "chat_thread"),
        ("chat_participant_updated_mirrored", "chat_participant"),
        ("chat_participant_updated_kept", "chat_participant"),
        ("chat_thread_inserted_mirrored", "chat_thread"),
    ],
    "postgresql": [
        ("chat_message_pair_checked", "chat_message"),
        ("chat_message_counted", "chat_message"),
        ("chat_message_counted_move", "chat_message"),
        ("chat_thread_count_deleted", "chat_thread"),
        ("chat_thread_count_truncated", "chat_thread"),
        ("chat_message_count_truncated", "chat_message"),
        ("chat_thread_updated_mirrored", "chat_thread"),
        ("chat_participant_updated_mirrored", "chat_participant"),
    ],
}

# What the triggers keep, computed from the rows: run with the triggers installed, in the same
# transaction, so that nothing written meanwhile is missed or counted twice.
RECOMPUTE = [
    "DELETE FROM chat_thread_message_count",
    """
    INSERT INTO chat_thread_message_count (thread_id, messages)
    SELECT thread_id, COUNT(*) FROM chat_message GROUP BY thread_id
    """,
    """
    UPDATE chat_participant SET thread_updated = (
        SELECT updated FROM chat_thread WHERE chat_thread.id = chat_participant.thread_id
    )
    WHERE thread_updated <> (
        SELECT updated FROM chat_thread WHERE chat_thread.id = chat_participant.thread_id
    )
    """,
]

TABLES = {"chat_message", "chat_thread", "chat_participant", "chat_thread_message_count"}


def _supported(connection) -> bool:
    if connection.vendor not in TRIGGERS:
        raise NotImplementedError(
            f"No triggers written for {connection.vendor}: the chat service supports SQLite and "
            "PostgreSQL."
        )
    # Before the chat app's tables exist, or after migrating back past them, there is nothing to
    # keep.
    return set(connection.introspection.table_names()) >= TABLES


def _drop(cursor, vendor: str) -> None:
    for name, table in TRIGGERS[vendor] + SEARCH_TRIGGERS[vendor]:
        on = f" ON {table}" if vendor == "postgresql" else ""
        cursor.execute(f"DROP TRIGGER IF EXISTS {name}{on}")
    if vendor == "sqlite":
        cursor.execute("DROP VIEW IF EXISTS chat_message_search_source")


def drop(connection) -> None:
    if not _supported(connection):
        return
    with connection.cursor() as cursor:
        _drop(cursor, connection.vendor)


def install(connection) -> None:
    """(Re)create every trigger and recompute what they keep, in one transaction. The search
    index is not rebuilt here (minutes at a million messages): its migration fills it, and no
    migration since rewrites texts."""
    if not _supported(connection):
        return
    vendor = connection.vendor
    statements = {"sqlite": SQLITE, "postgresql": POSTGRESQL}[vendor]
    if SEARCH_TABLE[vendor] in connection.introspection.table_names():
        statements = statements + {"sqlite": SQLITE_SEARCH, "postgresql": POSTGRESQL_SEARCH}[vendor]
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        _drop(cursor, vendor)
        for statement in statements:
            cursor.execute(statement)
        for statement in RECOMPUTE:
            cursor.execute(statement)
