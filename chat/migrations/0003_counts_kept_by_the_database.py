"""Counts and mirrors kept by the database itself, so that no writer can make them drift.

`Thread.stored_message_count` was kept by the services alone: a fixture, the admin or raw SQL
that wrote messages left it wrong, and message pages reported the wrong `count`. It goes, and
triggers keep two things right whoever writes the rows (services, `loaddata`, the admin, raw SQL,
a restored dump):

- `chat_thread_message_count` (thread_id, messages): each thread's number of messages, counted
  on every insert, delete and move of a message. It is a table of its own, not a column of
  `chat_thread`, so that a dump of threads cannot carry a stale count into a database where the
  triggers count the dump's messages again. It has no foreign key: PostgreSQL's TRUNCATE of
  `chat_thread` (test teardown) would refuse one; its own triggers empty it instead.
- `chat_participant.thread_updated`: a copy of `chat_thread.updated` for the thread list's index,
  now written by the database whenever either side changes.

And `chat_message.recipient_id`, stored so that unread counts read one small index, must be the
participant who is not the sender, and the sender one of the thread's two: a row that says
otherwise is refused, whoever writes it.
"""

from django.db import migrations, models

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
    CREATE TABLE chat_thread_message_count (
        thread_id integer NOT NULL PRIMARY KEY,
        messages integer NOT NULL CHECK (messages >= 0)
    )
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

SQLITE_REVERSE = [
    "DROP TRIGGER chat_message_pair_checked_insert",
    "DROP TRIGGER chat_message_pair_checked_update",
    "DROP TRIGGER chat_thread_inserted_mirrored",
    "DROP TRIGGER chat_participant_updated_kept",
    "DROP TRIGGER chat_participant_updated_mirrored",
    "DROP TRIGGER chat_thread_updated_mirrored",
    "DROP TRIGGER chat_thread_count_deleted",
    "DROP TRIGGER chat_message_counted_move",
    "DROP TRIGGER chat_message_counted_delete",
    "DROP TRIGGER chat_message_counted_insert",
    "DROP TABLE chat_thread_message_count",
]

POSTGRESQL = [
    f"""
    CREATE FUNCTION chat_message_pair_check() RETURNS trigger LANGUAGE plpgsql AS $$
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
    """,  # noqa: S608 - a constant of this module, no input
    """
    CREATE TRIGGER chat_message_pair_checked
    BEFORE INSERT OR UPDATE OF thread_id, sender_id, recipient_id ON chat_message
    FOR EACH ROW EXECUTE FUNCTION chat_message_pair_check()
    """,
    """
    CREATE TABLE chat_thread_message_count (
        thread_id bigint NOT NULL PRIMARY KEY,
        messages integer NOT NULL CHECK (messages >= 0)
    )
    """,
    """
    CREATE FUNCTION chat_message_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
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
    CREATE FUNCTION chat_message_count_forget() RETURNS trigger LANGUAGE plpgsql AS $$
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
    CREATE FUNCTION chat_thread_updated_mirror() RETURNS trigger LANGUAGE plpgsql AS $$
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
    CREATE FUNCTION chat_participant_updated_copy() RETURNS trigger LANGUAGE plpgsql AS $$
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

POSTGRESQL_REVERSE = [
    "DROP TRIGGER chat_message_pair_checked ON chat_message",
    "DROP FUNCTION chat_message_pair_check",
    "DROP TABLE chat_thread_message_count",
    "DROP TRIGGER chat_participant_updated_mirrored ON chat_participant",
    "DROP FUNCTION chat_participant_updated_copy",
    "DROP TRIGGER chat_thread_updated_mirrored ON chat_thread",
    "DROP FUNCTION chat_thread_updated_mirror",
    "DROP TRIGGER chat_message_count_truncated ON chat_message",
    "DROP TRIGGER chat_thread_count_truncated ON chat_thread",
    "DROP TRIGGER chat_thread_count_deleted ON chat_thread",
    "DROP FUNCTION chat_message_count_forget",
    "DROP TRIGGER chat_message_counted_move ON chat_message",
    "DROP TRIGGER chat_message_counted ON chat_message",
    "DROP FUNCTION chat_message_count_change",
]

COUNT_EXISTING = """
INSERT INTO chat_thread_message_count (thread_id, messages)
SELECT thread_id, COUNT(*) FROM chat_message GROUP BY thread_id
"""

# Migrating back to 0002 brings its column back: fill it, as 0002 did.
FILL_STORED_COUNT = """
UPDATE chat_thread SET stored_message_count = (
    SELECT COUNT(*) FROM chat_message WHERE chat_message.thread_id = chat_thread.id
)
"""

MIRROR_EXISTING = """
UPDATE chat_participant SET thread_updated = (
    SELECT updated FROM chat_thread WHERE chat_thread.id = chat_participant.thread_id
)
"""


def run(statements_by_vendor: dict):
    def apply(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            raise NotImplementedError(
                f"No triggers written for {schema_editor.connection.vendor}; "
                "the chat service supports SQLite and PostgreSQL."
            )
        for statement in statements:
            schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0002_thread_stored_message_count"),
    ]

    operations = [
        migrations.RunSQL(migrations.RunSQL.noop, reverse_sql=FILL_STORED_COUNT),
        migrations.RemoveField(model_name="thread", name="stored_message_count"),
        migrations.RunPython(
            run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
            run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRESQL_REVERSE}),
        ),
        migrations.RunSQL(COUNT_EXISTING, reverse_sql=migrations.RunSQL.noop),
        migrations.RunSQL(MIRROR_EXISTING, reverse_sql=migrations.RunSQL.noop),
        migrations.CreateModel(
            name="ThreadMessageCount",
            fields=[
                (
                    "thread",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=models.DO_NOTHING,
                        primary_key=True,
                        related_name="message_counter",
                        serialize=False,
                        to="chat.thread",
                    ),
                ),
                ("messages", models.PositiveIntegerField()),
            ],
            options={"db_table": "chat_thread_message_count", "managed": False},
        ),
    ]
