"""Thread.stored_message_count follows every write: message pages report it as their count."""

from chat import services
from chat.models import Message, Thread
from chat.tests.factories import make_message, make_thread


def stored(thread) -> int:
    return Thread.objects.get(pk=thread.pk).stored_message_count


def test_each_message_sent_counts_once_and_a_retry_with_its_key_does_not(thread, alice, bob):
    assert stored(thread) == 0
    make_message(thread, alice)
    make_message(thread, bob)
    services.message_send(thread=thread, sender=alice, text="x", idempotency_key="k")
    services.message_send(thread=thread, sender=alice, text="x", idempotency_key="k")

    assert stored(thread) == 3 == Message.objects.filter(thread=thread).count()


def test_deleting_messages_recounts_only_the_threads_they_were_in(thread, alice, bob, outsider):
    other = make_thread(alice, outsider)
    messages = [make_message(thread, alice) for _ in range(4)]
    make_message(other, outsider)

    services.messages_delete(messages=Message.objects.filter(pk__in=[m.pk for m in messages[:3]]))

    assert stored(thread) == 1
    assert stored(other) == 1
    services.messages_delete(messages=Message.objects.filter(thread=thread))
    assert stored(thread) == 0


def test_the_message_list_reports_it(client_for, thread, alice):
    for _ in range(3):
        make_message(thread, alice)
    Thread.objects.filter(pk=thread.pk).update(stored_message_count=42)

    body = client_for(alice).get(f"/api/threads/{thread.pk}/messages/?limit=1").json()

    assert body["count"] == 42  # read from the column, not counted
    assert len(body["results"]) == 1
