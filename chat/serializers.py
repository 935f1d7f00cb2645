"""Representations of threads and messages, and the input serializers of the chat API.

The output serializers are the only ones: REST responses and WebSocket events both use them, so
a client sees one `Message` and one `Thread` shape everywhere. Their declared fields are both
the OpenAPI schema and the output (`common.representation.OutputSerializer`).
"""

from django.contrib.auth import get_user_model
from rest_framework import serializers

from accounts.serializers import UserSerializer
from chat.models import EMPTY_TEXT, Report
from chat.search import MAX_QUERY_LENGTH as MAX_SEARCH_LENGTH
from chat.search import words_of
from common.fields import MAX_ID, PlainIntegerField, StringField
from common.representation import OutputSerializer

User = get_user_model()

MAX_TEXT_LENGTH = 4096
MAX_ATTACHMENTS = 10


class AttachmentSerializer(OutputSerializer):
    """An `Attachment`."""

    id = serializers.IntegerField()
    name = serializers.CharField(help_text="The file name (its extension agrees with its type).")
    size = serializers.IntegerField(help_text="Bytes, as stored (images re-encoded).")
    content_type = serializers.CharField(
        help_text="Judged from the content: image/jpeg, image/png, image/gif, image/webp, "
        "application/pdf or text/plain."
    )
    width = serializers.IntegerField(allow_null=True, help_text="Pixels; null unless an image.")
    height = serializers.IntegerField(allow_null=True, help_text="Pixels; null unless an image.")
    url = serializers.CharField(
        help_text="A signed path to the file, to resolve against the API's origin: it works "
        "without an Authorization header until it expires (ATTACHMENT_URL_TTL)."
    )
    thumbnail_url = serializers.CharField(
        allow_null=True,
        help_text="The same for a thumbnail of at most 320 px; null unless an image.",
    )


class MessageSerializer(OutputSerializer):
    """A `Message`, or a `chat.queries.MessageView`: the same attributes."""

    id = serializers.IntegerField()
    thread = serializers.IntegerField(source="thread_id")
    sender = serializers.IntegerField(source="sender_id", help_text="The sender's user id.")
    text = serializers.CharField()
    created = serializers.DateTimeField()
    is_read = serializers.BooleanField(
        help_text="Whether the recipient (the participant who did not send it) has read it."
    )
    edited = serializers.DateTimeField(
        allow_null=True, help_text="When its text was last edited; null if never."
    )
    deleted = serializers.BooleanField(
        help_text="Deleted for everyone: a tombstone with an empty text, never unread."
    )
    attachments = AttachmentSerializer(many=True, help_text="Its files; none for a tombstone.")


class PresenceSerializer(OutputSerializer):
    """A `chat.queries.PresenceView` (or a participant): a user's presence as the caller may
    see it."""

    online = serializers.BooleanField(
        help_text="Whether the user has the service open (a live socket, or one closed less "
        "than the grace period ago). Always false across a block, or when the user does not "
        "show their presence."
    )
    last_seen = serializers.DateTimeField(
        allow_null=True,
        help_text="When the user was last online, to the minute; null while online, when never "
        "seen, across a block, or when the user does not show their presence.",
    )


class ParticipantSerializer(UserSerializer, PresenceSerializer):
    """A `chat.queries.ParticipantView`: the User, with their presence as the caller may see
    it."""


class ThreadSerializer(OutputSerializer):
    """A `chat.queries.ThreadView`: a thread as one of its participants sees it."""

    id = serializers.IntegerField()
    participants = ParticipantSerializer(many=True)
    created = serializers.DateTimeField()
    updated = serializers.DateTimeField(help_text="The time of the newest message, or created.")
    last_message = MessageSerializer(allow_null=True)
    unread_count = serializers.IntegerField(
        min_value=0, help_text="Messages of this thread sent to the caller and not yet read."
    )
    muted = serializers.BooleanField(
        help_text="Whether the caller muted it: no notifications, live events as ever."
    )
    muted_until = serializers.DateTimeField(
        allow_null=True, help_text="When the caller's mute ends; null if muted until unmuted."
    )


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


class SearchResultSerializer(OutputSerializer):
    message = MessageSerializer()
    highlights = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField(min_value=0)),
        help_text="[start, end] character offsets into message.text of each word that matched: "
        "no markup, so no client renders HTML taken from a message.",
    )


class SearchQuerySerializer(serializers.Serializer):
    q = StringField(
        max_length=MAX_SEARCH_LENGTH,
        trim_whitespace=False,
        help_text="Words to find, each as the start of a word, ignoring case and accents.",
    )
    thread = PlainIntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Only in this thread."
    )
    before = PlainIntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Older than this message id."
    )
    after = PlainIntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="Newer than this message id (oldest first).",
    )

    def validate(self, attrs):
        if "before" in attrs and "after" in attrs:
            raise serializers.ValidationError({"before": ["Use either before or after, not both."]})
        return attrs

    def validate_q(self, query: str) -> list[str]:
        words = words_of(query)
        if not words:
            raise serializers.ValidationError("Search for at least one word (letters or digits).")
        return words


class MuteSerializer(serializers.Serializer):
    until = serializers.DateTimeField(
        allow_null=True,
        required=False,
        default=None,
        help_text="When the mute ends (in the future); null or absent: until unmuted.",
    )


class ReportCreateSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=Report.Reason.choices)
    comment = StringField(
        required=False, allow_blank=True, max_length=1000, help_text="At most 1000 characters."
    )


class ReportSerializer(OutputSerializer):
    id = serializers.IntegerField()
    reason = serializers.CharField()
    created = serializers.DateTimeField()


class MessageEditSerializer(OutputSerializer):
    """An earlier text of a message, and until when it was its text."""

    text = serializers.CharField()
    until = serializers.DateTimeField()


class MessageCreateSerializer(serializers.Serializer):
    text = StringField(
        max_length=MAX_TEXT_LENGTH,
        trim_whitespace=False,
        allow_blank=True,
        default="",
        help_text="Up to 4096 characters, not only white space; may be empty (or left out) when "
        "files are attached.",
    )
    attachments = serializers.ListField(
        child=PlainIntegerField(min_value=1, max_value=MAX_ID),
        max_length=MAX_ATTACHMENTS,
        default=list,
        help_text=f"Up to {MAX_ATTACHMENTS} ids of files the caller uploaded "
        "(`POST /api/attachments/`) and has not sent yet.",
    )

    def validate_attachments(self, ids: list[int]) -> list[int]:
        if len(set(ids)) != len(ids):
            raise serializers.ValidationError("Each file can be attached once.")
        return ids

    def validate(self, attrs):
        if not attrs["text"].strip() and not attrs["attachments"]:
            raise serializers.ValidationError({"text": [EMPTY_TEXT]})
        return attrs


class MessageTextSerializer(serializers.Serializer):
    """An edit's new text (the service refuses an empty one for a message without files)."""

    text = StringField(
        max_length=MAX_TEXT_LENGTH,
        trim_whitespace=False,
        allow_blank=True,
        help_text="Up to 4096 characters, not only white space; may be empty when the message "
        "has files.",
    )


class MessageDeleteQuerySerializer(serializers.Serializer):
    scope = serializers.ChoiceField(
        choices=["everyone", "me"],
        default="everyone",
        help_text="everyone (the sender, within the edit window: a tombstone for both) or me "
        "(any participant: hidden for the caller alone).",
    )


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


class ClearedSerializer(serializers.Serializer):
    cleared = serializers.IntegerField(min_value=0)


class UnreadCountSerializer(serializers.Serializer):
    unread_count = serializers.IntegerField(min_value=0)


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="JPEG, PNG, GIF, WebP, PDF or plain text (UTF-8), judged from the content; up "
        "to ATTACHMENT_MAX_BYTES (10 MiB unless configured)."
    )


class AttachmentLinkQuerySerializer(serializers.Serializer):
    expires = serializers.CharField(max_length=20, help_text="As the signed link gives it.")
    signature = serializers.CharField(max_length=100, help_text="As the signed link gives it.")
