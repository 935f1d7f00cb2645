"""What is stored for speed stays right however rows are written (migration 0003's triggers).

Message pages report the count the database keeps; the thread list is ordered by a copy of
`Thread.updated`; unread counts trust `Message.recipient`. Each is written here behind the
services' back (the ORM, raw SQL, `loaddata`) and the API must still answer what the rows say.
"""

import io

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from chat import services
from chat.models import Message, Participant, Thread, ThreadMessageCount
from chat.tests.factories import make_message, make_thread
from chat.tests.paging import assert_pages_match

MESSAGE = Message._meta.db_table
THREAD = Thread._meta.db_table
PARTICIPANT = Participant._meta.db_table


def kept_count(thread) -> int:
    row = ThreadMessageCount.objects.filter(thread=thread).first()
    return 0 if row is None else row.messages


def ids_of(thread) -> list[int]:
    return list(Message.objects.filter(thread=thread).values_list("id", flat=True))


def insert_raw(thread, sender, recipient, text="raw") -> None:
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {MESSAGE} (thread_id, sender_id, recipient_id, text, created, "  # noqa: S608
            "is_read, idempotency_key) VALUES (%s, %s, %s, %s, %s, %s, '')",
            [thread.pk, sender.pk, recipient.pk, text, now, False],
        )


def test_each_message_sent_counts_once_and_a_retry_with_its_key_does_not(thread, alice, bob):
    assert kept_count(thread) == 0
    make_message(thread, alice)
    make_message(thread, bob)
    services.message_send(thread=thread, sender=alice, text="x", idempotency_key="k")
    services.message_send(thread=thread, sender=alice, text="x", idempotency_key="k")

    assert kept_count(thread) == 3 == Message.objects.filter(thread=thread).count()


def test_messages_written_behind_the_services_back_are_counted_and_paged(
    client_for, thread, alice, bob, outsider
):
    other = make_thread(alice, outsider)
    make_message(thread, alice)
    Message.objects.bulk_create(
        [Message(thread=thread, sender=bob, recipient=alice, text=f"bulk {n}") for n in range(4)]
    )
    for _ in range(3):
        insert_raw(thread, alice, bob)
    insert_raw(other, outsider, alice)

    assert kept_count(thread) == 8
    assert kept_count(other) == 1
    assert_pages_match(client_for(alice), thread.pk, ids_of(thread))
    assert_pages_match(client_for(bob), thread.pk, ids_of(thread))


def test_messages_deleted_anyhow_are_uncounted_only_in_their_own_thread(
    client_for, thread, alice, bob, outsider
):
    other = make_thread(alice, outsider)
    messages = [make_message(thread, alice) for _ in range(6)]
    make_message(other, outsider)

    Message.objects.filter(pk__in=[m.pk for m in messages[:3]]).delete()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {MESSAGE} WHERE id = %s", [messages[3].pk])  # noqa: S608

    assert kept_count(thread) == 2
    assert kept_count(other) == 1
    assert_pages_match(client_for(bob), thread.pk, ids_of(thread))


def test_a_message_moved_to_another_thread_is_counted_there(client_for, thread, alice, outsider):
    other = make_thread(alice, outsider)
    moved = make_message(thread, alice)
    make_message(thread, alice)

    Message.objects.filter(pk=moved.pk).update(thread=other, recipient=outsider)

    assert (kept_count(thread), kept_count(other)) == (1, 1)
    assert_pages_match(client_for(alice), other.pk, [moved.pk])


def test_a_dump_restored_with_loaddata_pages_like_the_original(
    client_for, tmp_path, thread, alice, bob
):
    for n in range(7):
        make_message(thread, alice if n % 2 else bob, f"message {n}")
    dump = tmp_path / "dump.json"
    call_command("dumpdata", "auth.user", "chat", output=str(dump), stdout=io.StringIO())
    Thread.objects.all().delete()
    assert kept_count(thread) == 0

    call_command("loaddata", str(dump), stdout=io.StringIO())

    assert kept_count(thread) == 7
    assert_pages_match(client_for(alice), thread.pk, ids_of(thread))


def test_loading_a_dump_over_the_same_rows_counts_nothing_twice(thread, alice, tmp_path):
    make_message(thread, alice)
    dump = tmp_path / "dump.json"
    call_command("dumpdata", "chat", output=str(dump), stdout=io.StringIO())

    # Rows that exist are updated in place, not inserted again.
    call_command("loaddata", str(dump), stdout=io.StringIO())

    assert kept_count(thread) == 1


def test_deleting_a_thread_forgets_its_count(thread, alice):
    make_message(thread, alice)
    services.thread_delete(thread=thread)

    assert not ThreadMessageCount.objects.filter(thread_id=thread.pk).exists()


def test_the_thread_list_follows_updated_however_it_is_written(client_for, alice, bob, outsider):
    older = make_thread(alice, bob)
    newer = make_thread(alice, outsider)
    client = client_for(alice)
    listed = lambda: [t["id"] for t in client.get("/api/threads/").json()["results"]]  # noqa: E731
    assert listed() == [newer.pk, older.pk]

    Thread.objects.filter(pk=older.pk).update(updated=timezone.now())
    assert listed() == [older.pk, newer.pk]

    # A copy written wrong on its own is put back to the thread's time.
    Participant.objects.filter(thread=older).update(
        thread_updated=timezone.now().replace(year=2000)
    )
    assert listed() == [older.pk, newer.pk]
    assert {p.thread_updated for p in Participant.objects.filter(thread=older)} == {
        Thread.objects.get(pk=older.pk).updated
    }


@pytest.mark.parametrize(
    "who",
    ["sender outside the thread", "recipient is the sender", "recipient outside the thread"],
)
def test_a_message_between_the_wrong_people_is_refused(thread, alice, bob, outsider, who):
    sender, recipient = {
        "sender outside the thread": (outsider, alice),
        "recipient is the sender": (alice, alice),
        "recipient outside the thread": (alice, outsider),
    }[who]

    with pytest.raises(IntegrityError), transaction.atomic():
        insert_raw(thread, sender, recipient)
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(thread=thread, sender=sender, recipient=recipient, text="x")
    message = make_message(thread, alice)
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.filter(pk=message.pk).update(sender=sender, recipient=recipient)

    assert kept_count(thread) == 1


def test_the_admin_shows_the_count_of_messages_written_anyhow(admin_client, thread, alice, bob):
    make_message(thread, alice)
    insert_raw(thread, bob, alice)

    changelist = admin_client.get("/admin/chat/thread/").content.decode()
    detail = admin_client.get(f"/admin/chat/thread/{thread.pk}/change/").content.decode()

    assert '<td class="field-message_count">2</td>' in changelist
    assert "All 2 messages" in detail
