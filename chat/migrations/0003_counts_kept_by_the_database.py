"""The message count of each thread gets a table of its own, kept by the database.

`Thread.stored_message_count` was kept by the services alone: a fixture, the admin or raw SQL
that wrote messages left it wrong, and message pages reported the wrong `count`. It goes. Its
successor, `chat_thread_message_count`, is filled and kept by triggers (`chat/triggers.py`,
installed after every `migrate`). It is a table of its own, not a column of `chat_thread`, so
that a dump of threads cannot carry a stale count into a database whose triggers count the
dump's messages again; and it has no foreign key, which PostgreSQL's TRUNCATE of `chat_thread`
(test teardown) would refuse: its triggers empty it instead.
"""

from django.db import migrations, models

# Migrating back to 0002 brings its column back: fill it, as 0002 did.
FILL_STORED_COUNT = """
UPDATE chat_thread SET stored_message_count = (
    SELECT COUNT(*) FROM chat_message WHERE chat_message.thread_id = chat_thread.id
)
"""

CREATE_COUNT_TABLE = """
CREATE TABLE chat_thread_message_count (
    thread_id bigint NOT NULL PRIMARY KEY,
    messages integer NOT NULL CHECK (messages >= 0)
)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0002_thread_stored_message_count"),
    ]

    operations = [
        migrations.RunSQL(migrations.RunSQL.noop, reverse_sql=FILL_STORED_COUNT),
        migrations.RemoveField(model_name="thread", name="stored_message_count"),
        migrations.RunSQL(CREATE_COUNT_TABLE, reverse_sql="DROP TABLE chat_thread_message_count"),
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
