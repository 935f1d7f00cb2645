"""Input and output of the push API (docs/API.md, "Notifications")."""

from rest_framework import serializers

from common.fields import StringField
from common.representation import OutputSerializer

MAX_ENDPOINT_LENGTH = 2048


class PushKeySerializer(OutputSerializer):
    public_key = serializers.CharField(
        help_text="The VAPID application server key (base64url of the uncompressed P-256 point): "
        "pass it to PushManager.subscribe as applicationServerKey."
    )


class PushKeysSerializer(serializers.Serializer):
    p256dh = StringField(max_length=100)
    auth = StringField(max_length=50)


class PushSubscriptionSerializer(serializers.Serializer):
    """A browser's `PushSubscription.toJSON()` (other fields it carries are ignored)."""

    endpoint = StringField(max_length=MAX_ENDPOINT_LENGTH)
    keys = PushKeysSerializer()


class PushEndpointQuerySerializer(serializers.Serializer):
    endpoint = StringField(max_length=MAX_ENDPOINT_LENGTH)
