"""Access tokens that must open nothing, one for each way a JWT can be wrong.

Both doors take them: the REST authentication (config/tests/test_authentication.py) and the
WebSocket's (chat/tests/test_realtime_consumer.py).
"""

import base64
import json
import warnings
from datetime import timedelta

import jwt
from django.conf import settings
from django.utils import timezone
from jwt.warnings import InsecureKeyLengthWarning
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

BAD_TOKENS = [
    "expired",
    "tampered payload",
    "tampered signature",
    "alg none",
    "HS256 with another key",
    "HS512 with another key",
    "HS512 with the right key",
    "refresh token",
]


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _signed(claims: dict, key: str, algorithm: str) -> str:
    # The signing key of the test settings is shorter than HS512 asks for; the warning is noise.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return jwt.encode(claims, key, algorithm=algorithm)


def bad_token(kind: str, user, other) -> str:
    """A token of `kind` for `user`; "tampered payload" claims to be `other` instead."""
    token = AccessToken.for_user(user)
    claims = dict(token.payload)
    if kind == "expired":
        token.set_exp(from_time=timezone.now() - timedelta(hours=1), lifetime=timedelta(minutes=1))
        return str(token)
    if kind == "tampered payload":
        header, _, signature = str(token).split(".")
        return f"{header}.{b64({**claims, 'user_id': str(other.pk)})}.{signature}"
    if kind == "tampered signature":
        text = str(token)
        return text[:-2] + ("A" if text[-2] != "A" else "B") + text[-1]
    if kind == "alg none":
        return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
    if kind == "HS256 with another key":
        return _signed(claims, "another-key-entirely-another-key-entirely", "HS256")
    if kind == "HS512 with another key":
        return _signed(claims, "another-key-entirely-" * 4, "HS512")
    if kind == "HS512 with the right key":
        return _signed(claims, settings.SIMPLE_JWT["SIGNING_KEY"], "HS512")
    if kind == "refresh token":
        return str(RefreshToken.for_user(user))
    raise AssertionError(kind)
