"""An `OutputSerializer` writes exactly what DRF's generic `Serializer.to_representation` writes
from the same declared fields: its compiled writers are a faster path, not another contract."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.utils import timezone as django_timezone
from rest_framework import serializers

from accounts.serializers import UserSerializer
from chat import selectors
from chat.serializers import MessageSerializer, ThreadSerializer
from chat.tests.factories import make_message
from common.representation import OutputSerializer


def generic(serializer_class, instance):
    """What DRF's own Serializer writes for `instance` from the same fields."""
    return serializers.Serializer.to_representation(serializer_class(), instance)


def test_a_user(alice):
    assert UserSerializer(alice).data == generic(UserSerializer, alice)


@pytest.mark.parametrize(
    "created",
    [
        datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),  # no microseconds
        datetime(2026, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=2))),  # not UTC
    ],
)
def test_a_message_read_or_not(thread, alice, created):
    message = make_message(thread, alice, "héllo ✓")
    message.created = created
    for is_read in (False, True):
        message.is_read = is_read
        expected = generic(MessageSerializer, message)
        assert MessageSerializer(message).data == expected
        assert MessageSerializer([message], many=True).data == [expected]


def test_under_another_active_time_zone(thread, alice):
    message = make_message(thread, alice)
    with django_timezone.override("Europe/Paris"):
        data = MessageSerializer(message).data
        assert data == generic(MessageSerializer, message)
    assert not data["created"].endswith("Z")


def test_a_message_as_sent_and_as_listed(thread, alice):
    sent = make_message(thread, alice, "the same")
    (listed,) = selectors.messages_for_thread(thread=thread, user=alice)[0:20]

    assert MessageSerializer(listed).data == MessageSerializer(sent).data


def test_a_thread_as_detail_and_as_a_list_entry(thread, alice, bob):
    make_message(thread, alice, "first")
    make_message(thread, bob, "last")
    detail = selectors.thread_view(thread_id=thread.pk, user_id=alice.pk)
    (entry,) = selectors.threads_for_user(user=alice)[0:20]

    expected = generic(ThreadSerializer, detail)
    assert ThreadSerializer(detail).data == expected
    assert ThreadSerializer(entry).data == expected
    assert ThreadSerializer([entry, detail], many=True).data == [expected, expected]
    assert expected["last_message"]["text"] == "last"
    assert expected["unread_count"] == 1


def test_a_thread_without_messages(thread, alice):
    detail = selectors.thread_view(thread_id=thread.pk, user_id=alice.pk)

    assert ThreadSerializer(detail).data == generic(ThreadSerializer, detail)
    assert ThreadSerializer(detail).data["last_message"] is None


def test_every_field_is_read_only_in_the_schema():
    assert all(field.read_only for field in ThreadSerializer().fields.values())


def test_a_field_without_a_writer_is_refused_when_first_used():
    class WithAChoice(OutputSerializer):
        kind = serializers.ChoiceField(choices=["a"])

    with pytest.raises(TypeError, match="ChoiceField"):
        WithAChoice().to_representation({"kind": "a"})
