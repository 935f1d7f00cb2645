"""Simple JWT's authentication, with the user read by one written-out query.

Every authenticated request starts here, so its cost is paid by every endpoint: building the
ORM's `User.objects.get(pk=...)` cost more than running it (bench/RESULTS.md), so the user is
read with a written-out query (`common.rows`). Everything else, the checks and their messages,
is Simple JWT's own `get_user`, unchanged.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from common import rows


class JWTAuthentication(authentication.JWTAuthentication):
    def get_user(self, validated_token):
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as error:
            raise InvalidToken(_("Token contained no recognizable user identification")) from error

        user = rows.instance(self.user_model, self._user_sql(), [user_id])
        if user is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")

        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")

        if api_settings.CHECK_REVOKE_TOKEN and validated_token.get(
            api_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            raise AuthenticationFailed(
                _("The user's password has been changed."), code="password_changed"
            )
        return user

    def _user_sql(self) -> str:
        meta = self.user_model._meta
        column = meta.get_field(api_settings.USER_ID_FIELD).column
        selected = rows.columns(self.user_model, "u")
        return f'SELECT {selected} FROM "{meta.db_table}" AS u WHERE u."{column}" = %s'  # noqa: S608


class JWTScheme(SimpleJWTScheme):
    """The OpenAPI security scheme of the class above: Simple JWT's (`jwtAuth`)."""

    target_class = "config.authentication.JWTAuthentication"
