"""Thread.stored_message_count: the number of messages of each thread, filled from the data."""

from django.db import migrations, models

FILL = """
UPDATE chat_thread SET stored_message_count = (
    SELECT COUNT(*) FROM chat_message WHERE chat_message.thread_id = chat_thread.id
)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="thread",
            name="stored_message_count",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.RunSQL(FILL, reverse_sql=migrations.RunSQL.noop),
    ]
