"""The database itself keeps a conversation's shape: two distinct participants, one per pair."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from chat.models import Message, Participant, Thread
from chat.services import thread_get_or_create
from chat.tests.factories import UserFactory, make_message


def test_a_third_participant_is_refused_by_the_database(thread):
    carol = UserFactory(username="carol")

    with pytest.raises(IntegrityError), transaction.atomic():
        Participant.objects.create(thread=thread, user=carol, position=1)


def test_a_participant_position_other_than_the_two_seats_is_refused(thread):
    carol = UserFactory(username="carol")

    with pytest.raises(IntegrityError), transaction.atomic():
        Participant.objects.create(thread=thread, user=carol, position=2)


def test_the_same_user_cannot_take_both_seats(alice, bob):
    thread = Thread.objects.create(user_low=alice, user_high=bob)
    Participant.objects.create(thread=thread, user=alice, position=0)

    with pytest.raises(IntegrityError), transaction.atomic():
        Participant.objects.create(thread=thread, user=alice, position=1)


@pytest.mark.parametrize("order", ["same", "swapped"])
def test_a_second_thread_for_a_pair_is_refused_by_the_database(alice, bob, thread, order):
    low, high = (alice, bob) if alice.pk < bob.pk else (bob, alice)
    if order == "swapped":
        low, high = high, low

    with pytest.raises(IntegrityError), transaction.atomic():
        Thread.objects.create(user_low=low, user_high=high)

    assert Thread.objects.count() == 1


def test_a_thread_with_oneself_is_refused_by_the_database(alice):
    with pytest.raises(IntegrityError), transaction.atomic():
        Thread.objects.create(user_low=alice, user_high=alice)


def test_model_validation_refuses_a_thread_with_oneself(alice):
    with pytest.raises(ValidationError, match="two different participants"):
        Thread(user_low=alice, user_high=alice).full_clean()


def test_the_service_stores_the_pair_in_canonical_order(alice, bob):
    thread, created = thread_get_or_create(user=bob, other=alice)

    assert created
    assert thread.user_low_id < thread.user_high_id
    assert list(
        Participant.objects.filter(thread=thread)
        .order_by("position")
        .values_list("user_id", "position")
    ) == [(thread.user_low_id, 0), (thread.user_high_id, 1)]


def test_a_message_is_addressed_to_the_other_participant(alice, bob, thread):
    assert make_message(thread, alice).recipient == bob
    assert make_message(thread, bob).recipient == alice


def test_the_same_idempotency_key_twice_from_one_sender_is_refused(alice, bob, thread):
    fields = {"thread": thread, "sender": alice, "recipient": bob, "text": "x"}
    Message.objects.create(**fields, idempotency_key="k")

    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(**fields, idempotency_key="k")

    Message.objects.create(**fields)
    Message.objects.create(**fields)
    assert Message.objects.count() == 3


def test_sending_keeps_every_copy_of_the_activity_time_in_step(alice, bob, thread):
    message = make_message(thread, alice)

    thread.refresh_from_db()
    assert thread.updated == message.created
    assert set(
        Participant.objects.filter(thread=thread).values_list("thread_updated", flat=True)
    ) == {message.created}


def test_deleting_a_thread_deletes_its_messages_and_seats(alice, bob, thread):
    make_message(thread, alice)

    thread.delete()

    assert not Message.objects.exists()
    assert not Participant.objects.exists()


def test_timestamps_are_aware(alice, bob, thread):
    message = make_message(thread, alice)

    assert timezone.is_aware(thread.created)
    assert timezone.is_aware(message.created)


def test_string_forms_name_the_people(alice, bob, thread):
    message = make_message(thread, alice, "hello there")

    assert str(thread) == "alice ↔ bob"
    assert str(message) == f"#{message.pk} alice: hello there"
    assert "alice" in str(Participant.objects.filter(user=alice).get())
