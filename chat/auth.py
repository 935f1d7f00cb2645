"""WebSocket authentication: the `?token=<access>` query parameter, checked by Simple JWT."""

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.contrib.auth.models import AnonymousUser
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError


@database_sync_to_async
def user_for_token(raw_token: str):
    """The active user an access token names, with the token's expiry; anonymous if invalid.

    Simple JWT does all the checking (signature, algorithm, expiry, token type, active user),
    exactly as for a REST request's Authorization header.
    """
    authentication = JWTAuthentication()
    try:
        token = authentication.get_validated_token(raw_token.encode())
        return authentication.get_user(token), token["exp"]
    except (InvalidToken, TokenError, AuthenticationFailed, KeyError):
        return AnonymousUser(), 0


class JWTQueryAuthMiddleware(BaseMiddleware):
    async def __call__(self, scope, receive, send):
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        raw_token = (query.get("token") or [""])[0]
        user, expires_at = await user_for_token(raw_token) if raw_token else (AnonymousUser(), 0)
        scope = dict(scope, user=user, token_expires_at=expires_at)
        return await super().__call__(scope, receive, send)
