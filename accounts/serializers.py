"""The User representation, and the input serializers of the account endpoints."""

from collections.abc import Mapping

from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt import serializers as jwt_serializers
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import UntypedToken

from common.fields import StrictBooleanField, StringField
from common.representation import OutputSerializer

User = get_user_model()


class UserSerializer(OutputSerializer):
    """A user as everyone sees them: `{"id", "username"}`."""

    id = serializers.IntegerField()
    username = serializers.CharField()


class MeSerializer(UserSerializer):
    """The caller as they see themselves (`GET/PATCH /api/users/me/`): the User, and their
    settings."""

    show_presence = serializers.BooleanField(
        help_text="Whether the users who share a thread with you see you online and when you "
        "were last seen; false: always offline with last_seen null, to everyone."
    )


class MeUpdateSerializer(serializers.Serializer):
    """What `PATCH /api/users/me/` may change. Any other field is a 400 naming it: a client that
    believes it changed something it cannot change has a bug it should hear about."""

    show_presence = StrictBooleanField(required=False)

    def to_internal_value(self, data):
        unknown = {}
        if isinstance(data, Mapping):
            unknown = {
                str(name): ["Unknown field; only show_presence can be changed."]
                for name in data
                if name not in self.fields
            }
        try:
            attrs = super().to_internal_value(data)
        except serializers.ValidationError as error:
            raise serializers.ValidationError({**unknown, **error.detail}) from None
        if unknown:
            raise serializers.ValidationError(unknown)
        return attrs


class RegisterSerializer(serializers.Serializer):
    username = StringField(
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text="Letters, digits and @/./+/-/_ only; 150 characters at most.",
    )
    password = StringField(
        max_length=128,
        trim_whitespace=False,
        write_only=True,
        style={"input_type": "password"},
    )


class LogoutSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=4096)


class UserSearchQuerySerializer(serializers.Serializer):
    search = serializers.CharField(required=False, allow_blank=True, max_length=150)


class TokenRefreshSerializer(jwt_serializers.TokenRefreshSerializer):
    """Simple JWT's, but a refresh token whose user was deleted is a 401, not a 500."""

    def validate(self, attrs):
        try:
            return super().validate(attrs)
        except User.DoesNotExist:
            raise AuthenticationFailed(
                self.error_messages["no_active_account"], "no_active_account"
            ) from None


class TokenVerifySerializer(jwt_serializers.TokenVerifySerializer):
    """Simple JWT's, but a blacklisted token is a 401 like any other bad token (docs/API.md), where
    Simple JWT answers 400."""

    def validate(self, attrs):
        token = UntypedToken(attrs["token"])
        if BlacklistedToken.objects.filter(token__jti=token.get(jwt_settings.JTI_CLAIM)).exists():
            raise InvalidToken("Token is blacklisted")
        return {}
