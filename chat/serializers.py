"""Representations of users, threads and messages, and the input serializers of the chat API.

The output serializers are the only ones: REST responses and WebSocket events both use them, so
a client sees one `Message` shape everywhere.
"""

import re

from django.contrib.auth import get_user_model
from django.db.models.manager import BaseManager
from django.utils import timezone
from rest_framework import serializers

from chat.models import MAX_ID, Message, Thread

User = get_user_model()

PLAIN_INTEGER = re.compile(r"-?[0-9]+")
MAX_TEXT_LENGTH = 4096


class PlainIntegerField(serializers.IntegerField):
    """An integer written plainly: a JSON number, or ASCII digits (in a query string). DRF's own
    field also reads "1.0", " 7", "1_0" (as 10) and other scripts' digits as integers, so that
    one id could be spelt many ways; here those are a 400."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            if not PLAIN_INTEGER.fullmatch(data):
                self.fail("invalid")
        elif isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StringField(serializers.CharField):
    """Text that must arrive as a JSON string: DRF's own field turns `3.9e-217` into the message
    "3.9e-217", so a client's bug would become a message no one wrote."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


# The output serializers below write their representation directly (`to_representation`):
# DRF's generic path rebuilds every field from the model on each instance, which cost more than
# all the queries of a page (bench/RESULTS.md). The declared fields still define the OpenAPI
# schema, and chat/tests/test_serializers.py holds each fast path equal to DRF's generic one.
def datetime_representation(value, zone) -> str:
    """What DRF's `DateTimeField` writes: ISO 8601 in the current time zone (`zone`, looked up
    once per object by the caller: the lookup costs more than the formatting), UTC as `Z`."""
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def user_representation(user) -> dict:
    return {"id": user.pk, "username": user.username}


def message_representation(message, zone=None) -> dict:
    zone = zone or timezone.get_current_timezone()
    return {
        "id": message.pk,
        "thread": message.thread_id,
        "sender": message.sender_id,
        "text": message.text,
        "created": datetime_representation(message.created, zone),
        "is_read": bool(message.is_read),
    }


class OneZoneListSerializer(serializers.ListSerializer):
    """A list of messages or threads: the current time zone is looked up once for the list."""

    def to_representation(self, data):
        zone = timezone.get_current_timezone()
        items = data.all() if isinstance(data, BaseManager) else data
        return [self.child.represent(item, zone) for item in items]


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username"]

    def to_representation(self, user):
        return user_representation(user)


class MessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = ["id", "thread", "sender", "text", "created", "is_read"]
        read_only_fields = fields
        list_serializer_class = OneZoneListSerializer

    def to_representation(self, message):
        return message_representation(message)

    def represent(self, message, zone):
        return message_representation(message, zone)


class ThreadSerializer(serializers.ModelSerializer):
    """A thread as its participant sees it: `last_message` and `unread_count` come from
    `chat.selectors` (`thread_summaries_page`, `thread_with_summary`), which set them on the
    instance."""

    participants = UserSerializer(source="pair", many=True)
    last_message = MessageSerializer(allow_null=True)
    unread_count = serializers.IntegerField(min_value=0)

    class Meta:
        model = Thread
        fields = ["id", "participants", "created", "updated", "last_message", "unread_count"]
        read_only_fields = fields
        list_serializer_class = OneZoneListSerializer

    def to_representation(self, thread):
        return self.represent(thread, timezone.get_current_timezone())

    def represent(self, thread, zone):
        last_message = thread.last_message
        return {
            "id": thread.pk,
            "participants": [user_representation(user) for user in thread.pair],
            "created": datetime_representation(thread.created, zone),
            "updated": datetime_representation(thread.updated, zone),
            "last_message": None
            if last_message is None
            else message_representation(last_message, zone),
            "unread_count": int(thread.unread_count),
        }


class ThreadCreateSerializer(serializers.Serializer):
    participants = serializers.ListField(
        child=PlainIntegerField(min_value=1, max_value=MAX_ID),
        min_length=1,
        max_length=2,
        help_text="One user id (the caller is added), or two ids that include the caller.",
    )

    def validate_participants(self, ids: list[int]) -> list[int]:
        me = self.context["request"].user.pk
        if len(ids) == 2 and me not in ids:
            raise serializers.ValidationError("The participants must include you.")
        others = {pk for pk in ids if pk != me}
        if not others:
            raise serializers.ValidationError("You cannot start a thread with yourself.")
        return ids

    def validate(self, attrs):
        me = self.context["request"].user.pk
        other_id = next(pk for pk in attrs["participants"] if pk != me)
        other = User.objects.filter(pk=other_id, is_active=True).first()
        if other is None:
            raise serializers.ValidationError(
                {"participants": [f"No active user has id {other_id}."]}
            )
        attrs["other"] = other
        return attrs


class MessageCreateSerializer(serializers.Serializer):
    text = StringField(
        max_length=MAX_TEXT_LENGTH,
        trim_whitespace=False,
        help_text="1 to 4096 characters, not only white space.",
    )

    def validate_text(self, text: str) -> str:
        if not text.strip():
            raise serializers.ValidationError("The message cannot be empty or only white space.")
        return text


class SubjectUserQuerySerializer(serializers.Serializer):
    user = PlainIntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="Whose threads or count: staff may name anyone, others only themselves.",
    )


class MessagePageQuerySerializer(serializers.Serializer):
    before = PlainIntegerField(required=False, min_value=1, max_value=MAX_ID)
    after = PlainIntegerField(required=False, min_value=1, max_value=MAX_ID)

    def validate(self, attrs):
        if "before" in attrs and "after" in attrs:
            raise serializers.ValidationError({"before": ["Use either before or after, not both."]})
        return attrs


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(min_value=0)


class UnreadCountSerializer(serializers.Serializer):
    unread_count = serializers.IntegerField(min_value=0)
