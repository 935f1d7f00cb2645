"""The output serializers' direct `to_representation` says exactly what DRF's generic one says.

They write their dicts by hand for speed (bench/RESULTS.md); DRF's `ModelSerializer` path, which
they override, stays the reference for the API contract.
"""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.utils import timezone as django_timezone
from rest_framework import serializers

from chat import selectors
from chat.serializers import MessageSerializer, ThreadSerializer, UserSerializer
from chat.tests.factories import make_message


def generic(serializer_class, instance):
    """What DRF's ModelSerializer would write for `instance`, without the fast path."""
    return serializers.ModelSerializer.to_representation(serializer_class(), instance)


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


def test_a_thread_as_detail_and_as_a_list_entry(thread, alice, bob):
    make_message(thread, alice, "first")
    make_message(thread, bob, "last")
    detail = selectors.thread_with_summary(
        thread=selectors.thread_for_participant(user=alice, thread_id=thread.pk), user=alice
    )
    (entry,) = selectors.thread_summaries_for_user(user=alice)[0:20]

    expected = generic(ThreadSerializer, detail)
    assert ThreadSerializer(detail).data == expected
    assert ThreadSerializer(entry).data == expected
    assert ThreadSerializer([entry, detail], many=True).data == [expected, expected]
    assert expected["last_message"]["text"] == "last"
    assert expected["unread_count"] == 1


def test_a_thread_without_messages(thread, alice):
    detail = selectors.thread_with_summary(thread=thread, user=alice)
    (entry,) = selectors.thread_summaries_for_user(user=alice)[0:20]

    assert ThreadSerializer(detail).data == generic(ThreadSerializer, detail)
    assert ThreadSerializer(entry).data == generic(ThreadSerializer, detail)
    assert ThreadSerializer(entry).data["last_message"] is None
